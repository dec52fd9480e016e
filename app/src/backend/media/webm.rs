//! WEBM (Matroska/EBML) probing: checks the EBML header's DocType, then walks the Segment's
//! children with seeks (never reading Clusters) and reads Info (duration) and Tracks (the video
//! track's picture size). Only the small Info, Tracks and EBML header elements are read into memory.
//! Every element visited, on disk or in memory, is charged to the probe's [`Budget`], and every
//! size is checked against the bytes that remain before it is used.

use super::{budget::Budget, source::ByteSource};

/// What the probe found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebmInfo {
    pub width: u32,
    pub height: u32,
    pub duration_ms: u64,
}

const EBML_ID: u32 = 0x1A45_DFA3;
const DOC_TYPE_ID: u32 = 0x4282;
const SEGMENT_ID: u32 = 0x1853_8067;
const INFO_ID: u32 = 0x1549_A966;
const TIMECODE_SCALE_ID: u32 = 0x2A_D7B1;
const DURATION_ID: u32 = 0x4489;
const TRACKS_ID: u32 = 0x1654_AE6B;
const TRACK_ENTRY_ID: u32 = 0xAE;
const TRACK_TYPE_ID: u32 = 0x83;
const VIDEO_ID: u32 = 0xE0;
const PIXEL_WIDTH_ID: u32 = 0xB0;
const PIXEL_HEIGHT_ID: u32 = 0xBA;
const CLUSTER_ID: u32 = 0x1F43_B675;

/// TrackType of a video track.
const VIDEO_TRACK_TYPE: u64 = 1;
/// TimecodeScale when Info does not give one: 1 ms, in nanoseconds.
const DEFAULT_TIMECODE_SCALE_NS: u64 = 1_000_000;
/// Largest EBML header, Info or Tracks element read into memory.
const MAX_READ_ELEMENT_BYTES: u64 = 16 * 1024 * 1024;
/// Longest element header: a 4-byte ID and an 8-byte size.
const MAX_HEADER_BYTES: usize = 12;

const TRUNCATED: &str = "The WEBM video is truncated or damaged: its structure could not be read.";
const DAMAGED_INFO: &str = "The WEBM video is damaged: its duration could not be read.";
const DAMAGED_TRACKS: &str = "The WEBM video is damaged: its picture size could not be read.";
const NO_VIDEO_TRACK: &str = "The WEBM file has no video track.";
const MISSING_DURATION: &str = "The WEBM video does not say how long it is (browsers recording \
with MediaRecorder sometimes leave this out). Re-save it as an MP4 and upload that instead.";

/// An element header: its ID (with the length marker kept, as IDs are written in the spec),
/// where its data starts and its data size (`None` for "unknown size").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ElementHeader {
    id: u32,
    header_len: usize,
    size: Option<u64>,
}

/// The length of the variable-size integer whose first byte is `first` (over 8 if invalid).
fn vint_len(first: u8) -> usize {
    usize::try_from(first.leading_zeros()).map_or(9, |zeros| zeros.saturating_add(1))
}

/// Decodes an element header from the start of `bytes`; `None` if it is invalid or cut short.
fn decode_header(bytes: &[u8]) -> Option<ElementHeader> {
    let id_len = vint_len(*bytes.first()?);
    if id_len > 4 {
        return None;
    }
    let id = bytes
        .get(..id_len)?
        .iter()
        .fold(0u32, |id, byte| (id << 8) | u32::from(*byte));
    let size_bytes = bytes.get(id_len..)?;
    let size_len = vint_len(*size_bytes.first()?);
    if size_len > 8 {
        return None;
    }
    let raw = size_bytes
        .get(..size_len)?
        .iter()
        .fold(0u64, |size, byte| (size << 8) | u64::from(*byte));
    // The size's data bits follow the length marker; all of them set means "unknown size".
    let data_bits = u32::try_from(size_len).ok()?.checked_mul(7)?;
    let data_mask = u64::MAX.checked_shr(64u32.checked_sub(data_bits)?)?;
    let value = raw & data_mask;
    let all_ones = value == data_mask;
    Some(ElementHeader {
        id,
        header_len: id_len.checked_add(size_len)?,
        size: (!all_ones).then_some(value),
    })
}

/// The children of an in-memory element body as (ID, body); `None` if they do not fit it or the
/// budget runs out (so the list is never longer than the budget's parts).
fn children<'a>(mut body: &'a [u8], budget: &Budget) -> Option<Vec<(u32, &'a [u8])>> {
    let mut out = Vec::new();
    while !body.is_empty() {
        if !budget.part() {
            return None;
        }
        let header = decode_header(body)?;
        let size = usize::try_from(header.size?).ok()?;
        let end = header.header_len.checked_add(size)?;
        out.push((header.id, body.get(header.header_len..end)?));
        body = body.get(end..)?;
    }
    Some(out)
}

/// The body of the first child `id` of an in-memory body (inner `None` if there is none);
/// `None` if the children do not fit the body.
fn child<'a>(body: &'a [u8], id: u32, budget: &Budget) -> Option<Option<&'a [u8]>> {
    Some(
        children(body, budget)?
            .into_iter()
            .find(|(child_id, _)| *child_id == id)
            .map(|(_, body)| body),
    )
}

/// An unsigned integer element's value (0 to 8 bytes, big-endian).
fn read_uint(body: &[u8]) -> Option<u64> {
    (body.len() <= 8).then(|| {
        body.iter()
            .fold(0u64, |value, byte| (value << 8) | u64::from(*byte))
    })
}

/// A float element's value (4 or 8 bytes, big-endian).
fn read_float(body: &[u8]) -> Option<f64> {
    match body.len() {
        4 => Some(f64::from(f32::from_be_bytes(body.try_into().ok()?))),
        8 => Some(f64::from_be_bytes(body.try_into().ok()?)),
        _ => None,
    }
}

/// Refuses EBML files that are not WEBM or Matroska.
fn check_doc_type(ebml_header: &[u8], budget: &Budget) -> Result<(), String> {
    // RFC 8794: DocType defaults to "matroska" when it is absent.
    let doc_type = match child(ebml_header, DOC_TYPE_ID, budget).ok_or(TRUNCATED)? {
        Some(bytes) => String::from_utf8_lossy(bytes)
            .trim_end_matches('\0')
            .to_owned(),
        None => "matroska".to_owned(),
    };
    if doc_type == "webm" || doc_type == "matroska" {
        Ok(())
    } else {
        Err(format!(
            "This file is not a WEBM video (it is an EBML file of type \"{doc_type}\")."
        ))
    }
}

/// What Info says: the duration in milliseconds, if it is there.
fn parse_info(info: &[u8], budget: &Budget) -> Result<Option<u64>, String> {
    let children = children(info, budget).ok_or(DAMAGED_INFO)?;
    let find = |id: u32| {
        children
            .iter()
            .find(|(child_id, _)| *child_id == id)
            .map(|(_, body)| *body)
    };
    let timecode_scale_ns = match find(TIMECODE_SCALE_ID) {
        Some(body) => read_uint(body)
            .filter(|scale| *scale > 0)
            .ok_or(DAMAGED_INFO)?,
        None => DEFAULT_TIMECODE_SCALE_NS,
    };
    let Some(duration) = find(DURATION_ID) else {
        return Ok(None);
    };
    let ticks = read_float(duration)
        .filter(|ticks| ticks.is_finite() && *ticks > 0.0)
        .ok_or(DAMAGED_INFO)?;
    // Float-to-integer `as` saturates, so an absurd duration cannot wrap around.
    #[allow(clippy::cast_possible_truncation)]
    let duration_ms = (ticks * timecode_scale_ns as f64 / 1_000_000.0).round() as u64;
    Ok(Some(duration_ms))
}

/// The picture size of the first video track in Tracks, if there is one.
fn parse_tracks(tracks: &[u8], budget: &Budget) -> Result<Option<(u32, u32)>, String> {
    for (id, entry) in children(tracks, budget).ok_or(DAMAGED_TRACKS)? {
        if id != TRACK_ENTRY_ID {
            continue;
        }
        let entry_children = children(entry, budget).ok_or(DAMAGED_TRACKS)?;
        let find = |id: u32| {
            entry_children
                .iter()
                .find(|(child_id, _)| *child_id == id)
                .map(|(_, body)| *body)
        };
        let track_type = find(TRACK_TYPE_ID).and_then(read_uint);
        let Some(video) = find(VIDEO_ID) else {
            continue;
        };
        if track_type.is_some_and(|kind| kind != VIDEO_TRACK_TYPE) {
            continue;
        }
        let pixels = |id: u32| {
            child(video, id, budget)
                .flatten()
                .and_then(read_uint)
                .and_then(|value| u32::try_from(value).ok())
                .filter(|value| *value > 0)
        };
        let width = pixels(PIXEL_WIDTH_ID).ok_or(DAMAGED_TRACKS)?;
        let height = pixels(PIXEL_HEIGHT_ID).ok_or(DAMAGED_TRACKS)?;
        return Ok(Some((width, height)));
    }
    Ok(None)
}

/// Reads element headers and small bodies from a source of known length.
struct ElementReader<'a> {
    source: &'a mut dyn ByteSource,
    length: u64,
}

impl ElementReader<'_> {
    /// The header of the element at `position`, which must fit before `end`.
    fn header_at(&mut self, position: u64, end: u64) -> Result<ElementHeader, String> {
        let mut buffer = [0u8; MAX_HEADER_BYTES];
        let available = usize::try_from(end.saturating_sub(position))
            .unwrap_or(MAX_HEADER_BYTES)
            .min(MAX_HEADER_BYTES);
        let mut filled = 0;
        while filled < available {
            let at = u64::try_from(filled)
                .ok()
                .and_then(|filled| position.checked_add(filled))
                .ok_or(TRUNCATED)?;
            let rest = buffer.get_mut(filled..available).unwrap_or_default();
            match self.source.read_at(at, rest) {
                Ok(0) => break,
                Ok(read) => filled = filled.saturating_add(read),
                Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => return Err(TRUNCATED.into()),
            }
        }
        decode_header(buffer.get(..filled).unwrap_or_default()).ok_or_else(|| TRUNCATED.into())
    }

    /// The body of a known-size element whose header is at `position`; it must lie within the
    /// source, so the allocation is bounded by both the file and the fixed maximum.
    fn body(&mut self, position: u64, header: &ElementHeader) -> Result<Vec<u8>, String> {
        let end = known_end(position, header, self.length)?;
        let size = header.size.ok_or(TRUNCATED)?;
        if size > MAX_READ_ELEMENT_BYTES {
            return Err("The WEBM video's header is unreasonably large.".into());
        }
        let start = end.checked_sub(size).ok_or(TRUNCATED)?;
        let mut body = vec![0u8; usize::try_from(size).map_err(|_| TRUNCATED)?];
        self.source
            .read_exact_at(start, &mut body)
            .map_err(|_| TRUNCATED)?;
        Ok(body)
    }
}

/// Where the element's data starts, for its header at `position`.
fn data_start(position: u64, header: &ElementHeader) -> Result<u64, String> {
    u64::try_from(header.header_len)
        .ok()
        .and_then(|header_len| position.checked_add(header_len))
        .ok_or_else(|| TRUNCATED.into())
}

/// Where the element at `position` ends, if it has a known size and fits before `end`.
fn known_end(position: u64, header: &ElementHeader, end: u64) -> Result<u64, String> {
    let element_end = header
        .size
        .and_then(|size| data_start(position, header).ok()?.checked_add(size))
        .ok_or(TRUNCATED)?;
    if element_end > end {
        return Err(TRUNCATED.into());
    }
    Ok(element_end)
}

/// Reads the EBML header, Info and Tracks from `source`, within `budget`.
pub fn probe(source: &mut dyn ByteSource, budget: &Budget) -> Result<WebmInfo, String> {
    budget.settle(probe_within(source, budget))
}

fn probe_within(source: &mut dyn ByteSource, budget: &Budget) -> Result<WebmInfo, String> {
    let length = source.len();
    let mut reader = ElementReader { source, length };
    let ebml = reader
        .header_at(0, length)
        .ok()
        .filter(|header| header.id == EBML_ID)
        .ok_or("This file is not a WEBM video.")?;
    check_doc_type(&reader.body(0, &ebml)?, budget)?;

    // Find the Segment; anything else at the top level (such as Void) is skipped.
    let mut position = known_end(0, &ebml, length)?;
    let segment = loop {
        if position >= length || !budget.part() {
            return Err(TRUNCATED.into());
        }
        let header = reader.header_at(position, length)?;
        if header.id == SEGMENT_ID {
            break header;
        }
        position = known_end(position, &header, length)?;
    };
    let segment_unknown_size = segment.size.is_none();
    let segment_end = if segment_unknown_size {
        length
    } else {
        known_end(position, &segment, length)?
    };

    let mut duration_ms: Option<Option<u64>> = None;
    let mut picture_size: Option<Option<(u32, u32)>> = None;
    let mut position = data_start(position, &segment)?;
    while position < segment_end && (duration_ms.is_none() || picture_size.is_none()) {
        if !budget.part() {
            return Err(TRUNCATED.into());
        }
        let header = reader.header_at(position, segment_end)?;
        match header.id {
            // An unknown-size Cluster runs until the next Segment-level element: step into it and
            // skip its children one by one (none of them is Info or Tracks).
            CLUSTER_ID if header.size.is_none() => {
                position = data_start(position, &header)?;
                continue;
            }
            // A second EBML header or Segment ends an unknown-size Segment (chained files).
            EBML_ID | SEGMENT_ID if segment_unknown_size => break,
            INFO_ID => duration_ms = Some(parse_info(&reader.body(position, &header)?, budget)?),
            TRACKS_ID => {
                picture_size = Some(parse_tracks(&reader.body(position, &header)?, budget)?)
            }
            _ => {}
        }
        position = known_end(position, &header, segment_end)?;
    }

    let (width, height) = picture_size.flatten().ok_or(NO_VIDEO_TRACK)?;
    let duration_ms = duration_ms.flatten().ok_or(MISSING_DURATION)?;
    Ok(WebmInfo {
        width,
        height,
        duration_ms,
    })
}

#[cfg(test)]
#[path = "webm_tests.rs"]
mod tests;
