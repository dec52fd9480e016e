//! PNG probing: the size from `IHDR`, after walking every chunk to `IEND` by its length (so a
//! truncated file is refused) and looking for markup in every chunk except the image data.

use super::{
    budget::Budget,
    markup::{scan_range, MarkupScan, MARKUP},
    source::ByteSource,
};

const SIGNATURE: &[u8; 8] = b"\x89PNG\r\n\x1a\n";
/// Largest chunk length the format allows (2^31 − 1).
const MAX_CHUNK_LENGTH: u32 = 0x7FFF_FFFF;

/// The size could not be read.
pub const DAMAGED: &str = "The image is damaged: its size could not be read.";
/// The chunks do not lead to the end marker.
pub const TRUNCATED: &str =
    "The PNG image is truncated or damaged: it could not be read to its end.";

/// Width and height from the `IHDR` chunk of the PNG in `source`, within `budget`.
pub fn size(source: &mut dyn ByteSource, budget: &Budget) -> Result<(u32, u32), String> {
    budget.settle(size_within(source, budget))
}

fn size_within(source: &mut dyn ByteSource, budget: &Budget) -> Result<(u32, u32), String> {
    let mut head = [0u8; 24];
    source.read_exact_at(0, &mut head).map_err(|_| DAMAGED)?;
    if head.get(..8) != Some(&SIGNATURE[..]) || head.get(8..16) != Some(b"\0\0\0\x0dIHDR") {
        return Err(DAMAGED.into());
    }
    let width = u32::from_be_bytes([head[16], head[17], head[18], head[19]]);
    let height = u32::from_be_bytes([head[20], head[21], head[22], head[23]]);
    let valid_side = |side: u32| (1..=MAX_CHUNK_LENGTH).contains(&side);
    if !valid_side(width) || !valid_side(height) {
        return Err(DAMAGED.into());
    }
    let mut scan = MarkupScan::default();
    let end = walk_chunks(source, budget, &mut scan)?;
    let length = source.len();
    scan_range(source, end, length, budget, &mut scan).map_err(|_| TRUNCATED)?;
    if scan.found() {
        return Err(MARKUP.into());
    }
    Ok((width, height))
}

/// Walks the chunks from the signature to `IEND`, scanning all but `IDAT` for markup; returns
/// where `IEND` ends.
fn walk_chunks(
    source: &mut dyn ByteSource,
    budget: &Budget,
    scan: &mut MarkupScan,
) -> Result<u64, String> {
    let length = source.len();
    let mut position = 8u64;
    let mut seen_data = false;
    loop {
        if !budget.part() {
            return Err(TRUNCATED.into());
        }
        let mut header = [0u8; 8];
        source
            .read_exact_at(position, &mut header)
            .map_err(|_| TRUNCATED)?;
        let data_length = u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
        let kind = [header[4], header[5], header[6], header[7]];
        if data_length > MAX_CHUNK_LENGTH || !kind.iter().all(u8::is_ascii_alphabetic) {
            return Err(TRUNCATED.into());
        }
        let data_start = position.checked_add(8).ok_or(TRUNCATED)?;
        let data_end = data_start
            .checked_add(u64::from(data_length))
            .ok_or(TRUNCATED)?;
        // Four bytes of CRC follow the data.
        let chunk_end = data_end.checked_add(4).ok_or(TRUNCATED)?;
        if chunk_end > length {
            return Err(TRUNCATED.into());
        }
        match &kind {
            b"IDAT" => seen_data = true,
            b"IEND" if seen_data => return Ok(chunk_end),
            b"IEND" => return Err(TRUNCATED.into()),
            _ => scan_range(source, data_start, data_end, budget, scan).map_err(|_| TRUNCATED)?,
        }
        position = chunk_end;
    }
}

#[cfg(test)]
#[path = "png_tests.rs"]
mod tests;
