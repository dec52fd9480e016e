//! MP4/MOV (ISO BMFF) probing: walks the top-level boxes by offset (never reading `mdat`), reads
//! `moov` wherever it is, and for fragmented files the `moof` boxes one at a time. Every size is
//! checked against the bytes that remain before it is used, and every box visited and sample
//! summed is charged to the probe's [`Budget`].

use super::{budget::Budget, source::ByteSource};

/// Largest `moov` or `moof` box read into memory.
const MAX_INDEX_BYTES: u64 = 64 * 1024 * 1024;
/// Most `moof` boxes looked at in a fragmented file.
const MAX_FRAGMENTS: usize = 100_000;

/// What the probe found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VideoInfo {
    pub duration_ms: u64,
    /// Width as displayed (after rotation).
    pub display_width: u32,
    /// Height as displayed (after rotation).
    pub display_height: u32,
}

const DAMAGED: &str = "The video is truncated or damaged: its index could not be read.";
const INDEX_TOO_LARGE: &str = "The video's index is unreasonably large.";
const NO_VIDEO_TRACK: &str = "The file has no video track.";

fn be_u32(data: &[u8], at: usize) -> Option<u32> {
    let bytes = data.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes(bytes.try_into().ok()?))
}

fn be_i32(data: &[u8], at: usize) -> Option<i32> {
    let bytes = data.get(at..at.checked_add(4)?)?;
    Some(i32::from_be_bytes(bytes.try_into().ok()?))
}

fn be_u64(data: &[u8], at: usize) -> Option<u64> {
    let bytes = data.get(at..at.checked_add(8)?)?;
    Some(u64::from_be_bytes(bytes.try_into().ok()?))
}

/// The child boxes of an in-memory box body, as (type, body). Stops at the first box that does
/// not fit what remains, and once the budget is spent.
struct Boxes<'a> {
    data: &'a [u8],
    budget: &'a Budget,
}

impl<'a> Iterator for Boxes<'a> {
    type Item = ([u8; 4], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let data = self.data;
        if data.len() < 8 || !self.budget.part() {
            return None;
        }
        let kind: [u8; 4] = data.get(4..8)?.try_into().ok()?;
        let (header, size) = match be_u32(data, 0)? {
            0 => (8, data.len()),
            1 => (16, usize::try_from(be_u64(data, 8)?).ok()?),
            n => (8, usize::try_from(n).ok()?),
        };
        let Some(body) = (size >= header).then(|| data.get(header..size)).flatten() else {
            self.data = &[];
            return None;
        };
        self.data = data.get(size..).unwrap_or_default();
        Some((kind, body))
    }
}

fn boxes<'a>(data: &'a [u8], budget: &'a Budget) -> Boxes<'a> {
    Boxes { data, budget }
}

fn child<'a>(data: &'a [u8], kind: &[u8; 4], budget: &'a Budget) -> Option<&'a [u8]> {
    boxes(data, budget)
        .find(|(k, _)| k == kind)
        .map(|(_, body)| body)
}

/// (timescale, duration) of an `mvhd` or `mdhd` body.
fn timescale_and_duration(body: &[u8]) -> Option<(u32, u64)> {
    if body.first()? == &1 {
        Some((be_u32(body, 20)?, be_u64(body, 24)?))
    } else {
        Some((be_u32(body, 12)?, u64::from(be_u32(body, 16)?)))
    }
}

struct Track {
    id: u32,
    timescale: u32,
    duration: u64,
    width: u32,
    height: u32,
    quarter_turns: u8,
}

fn video_track(trak: &[u8], budget: &Budget) -> Option<Track> {
    let mdia = child(trak, b"mdia", budget)?;
    let hdlr = child(mdia, b"hdlr", budget)?;
    if hdlr.get(8..12)? != b"vide" {
        return None;
    }
    let (timescale, duration) = timescale_and_duration(child(mdia, b"mdhd", budget)?)?;
    let tkhd = child(trak, b"tkhd", budget)?;
    let (id_at, matrix_at) = if tkhd.first()? == &1 {
        (20, 52)
    } else {
        (12, 40)
    };
    let id = be_u32(tkhd, id_at)?;
    let matrix = tkhd.get(matrix_at..)?;
    let (a, b, c, d) = (
        be_i32(matrix, 0)?,
        be_i32(matrix, 4)?,
        be_i32(matrix, 12)?,
        be_i32(matrix, 16)?,
    );
    let quarter_turns = match (a, b, c, d) {
        (0, 0x10000, -0x10000, 0) => 1,
        (-0x10000, 0, 0, -0x10000) => 2,
        (0, -0x10000, 0x10000, 0) => 3,
        _ => 0,
    };
    // Width and height follow the matrix, as 16.16 fixed point.
    let width = be_u32(matrix, 36)? >> 16;
    let height = be_u32(matrix, 40)? >> 16;
    Some(Track {
        id,
        timescale,
        duration,
        width,
        height,
        quarter_turns,
    })
}

/// Where a box's body is in the source.
#[derive(Debug, Clone, Copy)]
struct Body {
    offset: u64,
    length: u64,
}

/// Reads a box body, refusing one larger than [`MAX_INDEX_BYTES`]. The body is known to lie
/// within the source, so the allocation is bounded by both the file and the fixed maximum.
fn read_body(source: &mut dyn ByteSource, body: Body, buffer: &mut Vec<u8>) -> Result<(), String> {
    if body.length > MAX_INDEX_BYTES {
        return Err(INDEX_TOO_LARGE.into());
    }
    let length = usize::try_from(body.length).map_err(|_| INDEX_TOO_LARGE)?;
    buffer.clear();
    buffer.resize(length, 0);
    source
        .read_exact_at(body.offset, buffer)
        .map_err(|_| DAMAGED.into())
}

/// The top-level boxes that matter: `moov` (the first) and the `moof`s, by position.
struct TopLevel {
    moov: Option<Body>,
    moofs: Vec<Body>,
}

/// Walks the top-level boxes with positioned reads. Every size is checked against the bytes
/// left before it is added, so the walk always moves forward and stays inside the file.
fn walk_top_level(source: &mut dyn ByteSource, budget: &Budget) -> Result<TopLevel, String> {
    let length = source.len();
    let mut found = TopLevel {
        moov: None,
        moofs: Vec::new(),
    };
    let mut position = 0u64;
    loop {
        let left = length.checked_sub(position).ok_or(DAMAGED)?;
        if left < 8 {
            return Ok(found);
        }
        if !budget.part() {
            return Err(DAMAGED.into());
        }
        let mut header = [0u8; 16];
        source
            .read_exact_at(position, &mut header[..8])
            .map_err(|_| DAMAGED)?;
        let kind: [u8; 4] = [header[4], header[5], header[6], header[7]];
        let (header_len, size) = match be_u32(&header, 0).ok_or(DAMAGED)? {
            0 => (8u64, left),
            1 => {
                let at = position.checked_add(8).ok_or(DAMAGED)?;
                source
                    .read_exact_at(at, &mut header[8..16])
                    .map_err(|_| DAMAGED)?;
                (16, be_u64(&header, 8).ok_or(DAMAGED)?)
            }
            n => (8, u64::from(n)),
        };
        if size < header_len || size > left {
            return Err(DAMAGED.into());
        }
        let body = Body {
            offset: position.checked_add(header_len).ok_or(DAMAGED)?,
            length: size.checked_sub(header_len).ok_or(DAMAGED)?,
        };
        match &kind {
            b"moov" if found.moov.is_none() => found.moov = Some(body),
            b"moof" if found.moofs.len() < MAX_FRAGMENTS => found.moofs.push(body),
            _ => {}
        }
        position = position.checked_add(size).ok_or(DAMAGED)?;
    }
}

/// Offset of the default sample duration in a `tfhd` body with `flags`.
fn tfhd_default_duration_at(flags: u32) -> usize {
    // After the track ID: an 8-byte base data offset, then a 4-byte sample description index,
    // each only when its flag is set.
    match (flags & 0x01 != 0, flags & 0x02 != 0) {
        (false, false) => 8,
        (false, true) => 12,
        (true, false) => 16,
        (true, true) => 20,
    }
}

/// Sum of the sample durations in one `trun` body, `default` where samples carry none. The
/// sample count is checked against the bytes the box holds before anything is summed.
fn trun_duration(trun: &[u8], default: u32, budget: &Budget) -> Result<u64, String> {
    let flags = be_u32(trun, 0).ok_or(DAMAGED)? & 0x00FF_FFFF;
    let count = u64::from(be_u32(trun, 4).ok_or(DAMAGED)?);
    // After the count: a 4-byte data offset and 4-byte first sample flags, when flagged.
    let first_sample_at: usize = [8, 4, 4]
        .into_iter()
        .zip([true, flags & 0x01 != 0, flags & 0x04 != 0])
        .filter_map(|(bytes, present)| present.then_some(bytes))
        .sum();
    // Per sample: duration, size, flags and composition offset, 4 bytes each when flagged.
    let per_sample: usize = [0x100, 0x200, 0x400, 0x800]
        .into_iter()
        .filter(|field| flags & field != 0)
        .map(|_| 4)
        .sum();
    let samples = trun.get(first_sample_at..).ok_or(DAMAGED)?;
    // Every sample's fields must be in the box: a count larger than the box can hold is damage,
    // not a reason to loop.
    let fits = match samples.len().checked_div(per_sample) {
        Some(fits) => u64::try_from(fits).map_err(|_| DAMAGED)?,
        None => u64::MAX,
    };
    if count > fits {
        return Err(DAMAGED.into());
    }
    if flags & 0x100 == 0 {
        return Ok(u64::from(default).saturating_mul(count));
    }
    if !budget.steps(count) {
        return Err(DAMAGED.into());
    }
    Ok(samples
        .chunks_exact(per_sample)
        .filter_map(|sample| be_u32(sample, 0))
        .map(u64::from)
        .fold(0u64, u64::saturating_add))
}

/// Sum of the sample durations of `track` in the fragments, with `trex_default` from `trex`.
/// The fragments are read one at a time.
fn fragmented_duration(
    source: &mut dyn ByteSource,
    moofs: &[Body],
    track: u32,
    trex_default: u32,
    budget: &Budget,
) -> Result<u64, String> {
    let mut total = 0u64;
    let mut moof = Vec::new();
    for body in moofs {
        read_body(source, *body, &mut moof)?;
        for (kind, traf) in boxes(&moof, budget) {
            if &kind != b"traf" {
                continue;
            }
            let Some(tfhd) = child(traf, b"tfhd", budget) else {
                continue;
            };
            let flags = be_u32(tfhd, 0).unwrap_or(0) & 0x00FF_FFFF;
            if be_u32(tfhd, 4) != Some(track) {
                continue;
            }
            let default = if flags & 0x08 != 0 {
                be_u32(tfhd, tfhd_default_duration_at(flags)).unwrap_or(trex_default)
            } else {
                trex_default
            };
            for (kind, trun) in boxes(traf, budget) {
                if &kind == b"trun" {
                    total = total.saturating_add(trun_duration(trun, default, budget)?);
                }
            }
        }
    }
    Ok(total)
}

/// Reads the index of the MP4/MOV in `source`, within `budget`.
pub fn probe(source: &mut dyn ByteSource, budget: &Budget) -> Result<VideoInfo, String> {
    budget.settle(probe_within(source, budget))
}

fn probe_within(source: &mut dyn ByteSource, budget: &Budget) -> Result<VideoInfo, String> {
    let top = walk_top_level(source, budget)?;
    let mut moov = Vec::new();
    read_body(source, top.moov.ok_or(DAMAGED)?, &mut moov)?;
    let (movie_timescale, movie_duration) = child(&moov, b"mvhd", budget)
        .and_then(timescale_and_duration)
        .ok_or(DAMAGED)?;
    let track = boxes(&moov, budget)
        .filter(|(kind, _)| kind == b"trak")
        .find_map(|(_, trak)| video_track(trak, budget))
        .ok_or(NO_VIDEO_TRACK)?;
    let mvex = child(&moov, b"mvex", budget);
    let fragment_duration = mvex
        .and_then(|mvex| child(mvex, b"mehd", budget))
        .and_then(|mehd| {
            if mehd.first()? == &1 {
                be_u64(mehd, 4)
            } else {
                be_u32(mehd, 4).map(u64::from)
            }
        });
    let trex_default = mvex
        .and_then(|mvex| {
            boxes(mvex, budget)
                .filter(|(kind, _)| kind == b"trex")
                .find(|(_, trex)| be_u32(trex, 4) == Some(track.id))
        })
        .and_then(|(_, trex)| be_u32(trex, 12))
        .unwrap_or(0);
    let ms = |duration: u64, timescale: u32| {
        duration
            .saturating_mul(1000)
            .checked_div(u64::from(timescale))
            .unwrap_or(0)
    };
    let duration_ms = if movie_duration > 0
        && movie_duration != u64::from(u32::MAX)
        && movie_duration != u64::MAX
    {
        ms(movie_duration, movie_timescale)
    } else if let Some(fragment) = fragment_duration.filter(|d| *d > 0) {
        ms(fragment, movie_timescale)
    } else if track.duration > 0 {
        ms(track.duration, track.timescale)
    } else {
        let total = fragmented_duration(source, &top.moofs, track.id, trex_default, budget)?;
        ms(total, track.timescale)
    };
    let (display_width, display_height) = if track.quarter_turns % 2 == 1 {
        (track.height, track.width)
    } else {
        (track.width, track.height)
    };
    Ok(VideoInfo {
        duration_ms,
        display_width,
        display_height,
    })
}

#[cfg(test)]
#[path = "isobmff_tests.rs"]
mod tests;
