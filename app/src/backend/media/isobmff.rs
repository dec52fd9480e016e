//! MP4/MOV (ISO BMFF) probing: walks the top-level boxes with seeks (never reading `mdat`),
//! reads `moov` wherever it is, and for fragmented files the `moof` boxes.

use std::{
    fs::File,
    io::{Read, Seek, SeekFrom},
    path::Path,
};

/// Largest `moov` or `moof` box read into memory.
const MAX_INDEX_BYTES: u64 = 64 * 1024 * 1024;
/// Most `moof` boxes read from a fragmented file.
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

fn be_u32(data: &[u8], at: usize) -> Option<u32> {
    data.get(at..at + 4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

fn be_u64(data: &[u8], at: usize) -> Option<u64> {
    data.get(at..at + 8)
        .map(|b| u64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
}

/// The child boxes of a box body: (type, body).
fn children(mut data: &[u8]) -> Vec<([u8; 4], &[u8])> {
    let mut out = Vec::new();
    while data.len() >= 8 {
        let size32 = be_u32(data, 0).unwrap_or(0) as u64;
        let kind: [u8; 4] = data[4..8].try_into().unwrap_or([0; 4]);
        let (header, size) = match size32 {
            0 => (8, data.len() as u64),
            1 => (16, be_u64(data, 8).unwrap_or(0)),
            n => (8, n),
        };
        if size < header as u64 || size > data.len() as u64 {
            break;
        }
        out.push((kind, &data[header..size as usize]));
        data = &data[size as usize..];
    }
    out
}

fn child<'a>(data: &'a [u8], kind: &[u8; 4]) -> Option<&'a [u8]> {
    children(data)
        .into_iter()
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

fn video_track(trak: &[u8]) -> Option<Track> {
    let mdia = child(trak, b"mdia")?;
    let hdlr = child(mdia, b"hdlr")?;
    if hdlr.get(8..12)? != b"vide" {
        return None;
    }
    let (timescale, duration) = timescale_and_duration(child(mdia, b"mdhd")?)?;
    let tkhd = child(trak, b"tkhd")?;
    let (id_at, matrix_at) = if tkhd.first()? == &1 {
        (20, 52)
    } else {
        (12, 40)
    };
    let id = be_u32(tkhd, id_at)?;
    let m = |i: usize| be_u32(tkhd, matrix_at + 4 * i).map(|v| v as i32);
    let (a, b, c, d) = (m(0)?, m(1)?, m(3)?, m(4)?);
    let quarter_turns = match (a, b, c, d) {
        (0, 0x10000, -0x10000, 0) => 1,
        (-0x10000, 0, 0, -0x10000) => 2,
        (0, -0x10000, 0x10000, 0) => 3,
        _ => 0,
    };
    let width = be_u32(tkhd, matrix_at + 36)? >> 16;
    let height = be_u32(tkhd, matrix_at + 40)? >> 16;
    Some(Track {
        id,
        timescale,
        duration,
        width,
        height,
        quarter_turns,
    })
}

/// Sum of the sample durations of `track` in the fragments, with `default` from `trex`.
fn fragmented_duration(moofs: &[Vec<u8>], track: u32, trex_default: u32) -> u64 {
    let mut total = 0u64;
    for moof in moofs {
        for (kind, traf) in children(moof) {
            if &kind != b"traf" {
                continue;
            }
            let Some(tfhd) = child(traf, b"tfhd") else {
                continue;
            };
            let flags = be_u32(tfhd, 0).unwrap_or(0) & 0x00FF_FFFF;
            if be_u32(tfhd, 4) != Some(track) {
                continue;
            }
            let mut at = 8;
            if flags & 0x01 != 0 {
                at += 8;
            }
            if flags & 0x02 != 0 {
                at += 4;
            }
            let default = if flags & 0x08 != 0 {
                be_u32(tfhd, at).unwrap_or(trex_default)
            } else {
                trex_default
            };
            for (kind, trun) in children(traf) {
                if &kind != b"trun" {
                    continue;
                }
                let flags = be_u32(trun, 0).unwrap_or(0) & 0x00FF_FFFF;
                let count = be_u32(trun, 4).unwrap_or(0) as usize;
                if flags & 0x100 == 0 {
                    total += u64::from(default) * count as u64;
                    continue;
                }
                let mut at = 8
                    + if flags & 0x01 != 0 { 4 } else { 0 }
                    + if flags & 0x04 != 0 { 4 } else { 0 };
                let per_sample = 4 * [0x100, 0x200, 0x400, 0x800]
                    .iter()
                    .filter(|f| flags & **f != 0)
                    .count();
                for _ in 0..count {
                    total += u64::from(be_u32(trun, at).unwrap_or(0));
                    at += per_sample;
                }
            }
        }
    }
    total
}

/// Reads the index of the MP4/MOV file at `path`.
pub fn probe(path: &Path) -> Result<VideoInfo, String> {
    let mut file =
        File::open(path).map_err(|err| format!("The video could not be read: {err}."))?;
    let length = file.metadata().map_err(|err| err.to_string())?.len();
    let mut position = 0u64;
    let mut moov = None;
    let mut moofs = Vec::new();
    while position + 8 <= length {
        file.seek(SeekFrom::Start(position)).map_err(|_| DAMAGED)?;
        let mut header = [0u8; 16];
        file.read_exact(&mut header[..8]).map_err(|_| DAMAGED)?;
        let kind: [u8; 4] = header[4..8].try_into().unwrap_or([0; 4]);
        let (header_len, size) = match be_u32(&header, 0).unwrap_or(0) {
            0 => (8u64, length - position),
            1 => {
                file.read_exact(&mut header[8..16]).map_err(|_| DAMAGED)?;
                (16, be_u64(&header, 8).unwrap_or(0))
            }
            n => (8, u64::from(n)),
        };
        if size < header_len || position + size > length {
            return Err(DAMAGED.into());
        }
        if &kind == b"moov" || (&kind == b"moof" && moofs.len() < MAX_FRAGMENTS) {
            let body_len = size - header_len;
            if body_len > MAX_INDEX_BYTES {
                return Err("The video's index is unreasonably large.".into());
            }
            let mut body = vec![0u8; body_len as usize];
            file.read_exact(&mut body).map_err(|_| DAMAGED)?;
            if &kind == b"moov" {
                moov = Some(body);
            } else {
                moofs.push(body);
            }
        }
        position += size;
    }
    let moov = moov.ok_or(DAMAGED)?;
    let (movie_timescale, movie_duration) = child(&moov, b"mvhd")
        .and_then(timescale_and_duration)
        .ok_or(DAMAGED)?;
    let track = children(&moov)
        .into_iter()
        .filter(|(kind, _)| kind == b"trak")
        .find_map(|(_, trak)| video_track(trak))
        .ok_or("The file has no video track.")?;
    let mvex = child(&moov, b"mvex");
    let fragment_duration = mvex.and_then(|mvex| child(mvex, b"mehd")).and_then(|mehd| {
        if mehd.first()? == &1 {
            be_u64(mehd, 4)
        } else {
            be_u32(mehd, 4).map(u64::from)
        }
    });
    let trex_default = mvex
        .map(children)
        .unwrap_or_default()
        .into_iter()
        .filter(|(kind, _)| kind == b"trex")
        .find(|(_, trex)| be_u32(trex, 4) == Some(track.id))
        .and_then(|(_, trex)| be_u32(trex, 12))
        .unwrap_or(0);
    let ms =
        |duration: u64, timescale: u32| duration.saturating_mul(1000) / u64::from(timescale.max(1));
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
        ms(
            fragmented_duration(&moofs, track.id, trex_default),
            track.timescale,
        )
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
