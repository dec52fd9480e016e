//! JPEG probing: the size from the first start-of-frame segment, after walking every segment
//! and the compressed data to the end marker (so a truncated file is refused) and looking for
//! markup in comments and metadata segments. Bytes after the end marker are not looked at:
//! phone cameras put a motion clip or their own data there.

use super::{
    budget::Budget,
    markup::{scan_range, MarkupScan, MARKUP},
    source::ByteSource,
};

/// Piece size for reading the compressed data.
const PIECE: usize = 64 * 1024;

/// The size could not be read.
pub const DAMAGED: &str = "The image is damaged: its size could not be read.";
/// The segments and data do not lead to the end marker.
pub const TRUNCATED: &str =
    "The JPEG image is truncated or damaged: it could not be read to its end.";

/// Reads forward through a source in pieces, charging the budget a step per byte fetched.
struct Reader<'a> {
    source: &'a mut dyn ByteSource,
    budget: &'a Budget,
    piece: Vec<u8>,
    piece_start: u64,
    position: u64,
}

impl Reader<'_> {
    /// The unread bytes of the current piece, fetching the next piece when it is used up.
    fn available(&mut self) -> Result<&[u8], String> {
        let offset = self.position.checked_sub(self.piece_start);
        let in_piece = offset
            .and_then(|offset| usize::try_from(offset).ok())
            .filter(|offset| *offset < self.piece.len());
        let from = match in_piece {
            Some(offset) => offset,
            None => {
                self.piece.resize(PIECE, 0);
                let read = self
                    .source
                    .read_at(self.position, &mut self.piece)
                    .map_err(|_| TRUNCATED)?;
                self.piece.truncate(read);
                self.piece_start = self.position;
                if read == 0 || !self.budget.steps(u64::try_from(read).unwrap_or(u64::MAX)) {
                    return Err(TRUNCATED.into());
                }
                0
            }
        };
        Ok(self.piece.get(from..).unwrap_or_default())
    }

    fn advance(&mut self, count: usize) -> Result<(), String> {
        self.position = u64::try_from(count)
            .ok()
            .and_then(|count| self.position.checked_add(count))
            .ok_or(TRUNCATED)?;
        Ok(())
    }

    fn byte(&mut self) -> Result<u8, String> {
        let byte = *self.available()?.first().ok_or(TRUNCATED)?;
        self.advance(1)?;
        Ok(byte)
    }

    fn u16(&mut self) -> Result<u16, String> {
        Ok(u16::from_be_bytes([self.byte()?, self.byte()?]))
    }

    /// Moves past bytes up to the next 0xFF (which is not consumed).
    fn skip_to_marker_byte(&mut self) -> Result<(), String> {
        loop {
            let available = self.available()?;
            match available.iter().position(|byte| *byte == 0xFF) {
                Some(at) => return self.advance(at),
                None => {
                    let count = available.len();
                    self.advance(count)?;
                }
            }
        }
    }

    /// The next marker: skips to 0xFF, then past fill bytes (more 0xFF).
    fn marker(&mut self) -> Result<u8, String> {
        self.skip_to_marker_byte()?;
        let mut marker = 0xFF;
        while marker == 0xFF {
            marker = self.byte()?;
        }
        Ok(marker)
    }

    /// Moves past the compressed data after a start-of-scan header, to the next marker that is
    /// not stuffing (0xFF00) or a restart marker; returns it.
    fn after_scan(&mut self) -> Result<u8, String> {
        loop {
            // Each round consumes at least two bytes, and bytes are charged as they are fetched.
            match self.marker()? {
                0x00 | 0xD0..=0xD7 => {}
                marker => return Ok(marker),
            }
        }
    }
}

fn is_start_of_frame(marker: u8) -> bool {
    matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC)
}

fn is_text_or_metadata(marker: u8) -> bool {
    matches!(marker, 0xE0..=0xEF | 0xFE)
}

/// Width and height of the JPEG in `source`, within `budget`.
pub fn size(source: &mut dyn ByteSource, budget: &Budget) -> Result<(u32, u32), String> {
    budget.settle(size_within(source, budget))
}

fn size_within(source: &mut dyn ByteSource, budget: &Budget) -> Result<(u32, u32), String> {
    let mut reader = Reader {
        source,
        budget,
        piece: Vec::new(),
        piece_start: 0,
        position: 0,
    };
    if reader.u16().map_err(|_| DAMAGED)? != 0xFFD8 {
        return Err(DAMAGED.into());
    }
    let mut size = None;
    let mut scan = MarkupScan::default();
    let mut next_marker = None;
    loop {
        if !budget.part() {
            return Err(TRUNCATED.into());
        }
        let marker = match next_marker.take() {
            Some(marker) => marker,
            None => reader.marker()?,
        };
        match marker {
            0xD8 | 0x01 | 0xD0..=0xD7 => continue,
            0xD9 => return size.ok_or_else(|| DAMAGED.into()),
            _ => {}
        }
        let length = reader.u16()?;
        let body_length = length.checked_sub(2).ok_or(DAMAGED)?;
        let body_start = reader.position;
        let body_end = body_start
            .checked_add(u64::from(body_length))
            .ok_or(TRUNCATED)?;
        if is_start_of_frame(marker) && size.is_none() {
            if body_length < 5 {
                return Err(DAMAGED.into());
            }
            let _precision = reader.byte()?;
            let height = u32::from(reader.u16()?);
            let width = u32::from(reader.u16()?);
            if width == 0 || height == 0 {
                return Err(DAMAGED.into());
            }
            size = Some((width, height));
        } else if is_text_or_metadata(marker) {
            scan_range(reader.source, body_start, body_end, budget, &mut scan)
                .map_err(|_| TRUNCATED)?;
            if scan.found() {
                return Err(MARKUP.into());
            }
        }
        reader.position = body_end;
        if marker == 0xDA {
            next_marker = Some(reader.after_scan()?);
        }
    }
}

#[cfg(test)]
#[path = "jpeg_tests.rs"]
mod tests;
