//! WEBM (Matroska/EBML) probing: checks the EBML header's DocType, then walks the Segment's
//! children with seeks (never reading Clusters) and reads Info (duration) and Tracks (the video
//! track's picture size). Only the small Info, Tracks and EBML header elements are read into memory.

use std::{
    fs::File,
    io::{Read, Seek, SeekFrom},
    path::Path,
};

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
/// Most Segment children (or children of unknown-size Clusters) looked at before giving up.
const MAX_WALKED_ELEMENTS: usize = 1_000_000;
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
    first.leading_zeros() as usize + 1
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
    let data_mask = u64::MAX >> (64 - 7 * size_len as u32);
    let value = raw & data_mask;
    let all_ones = value == data_mask;
    Some(ElementHeader {
        id,
        header_len: id_len + size_len,
        size: (!all_ones).then_some(value),
    })
}

/// The children of an in-memory element body as (ID, body); `None` if they do not fit it.
fn children(mut body: &[u8]) -> Option<Vec<(u32, &[u8])>> {
    let mut out = Vec::new();
    while !body.is_empty() {
        let header = decode_header(body)?;
        let size = usize::try_from(header.size?).ok()?;
        let end = header.header_len.checked_add(size)?;
        out.push((header.id, body.get(header.header_len..end)?));
        body = &body[end..];
    }
    Some(out)
}

/// The body of the first child `id` of an in-memory body (inner `None` if there is none);
/// `None` if the children do not fit the body.
fn child(body: &[u8], id: u32) -> Option<Option<&[u8]>> {
    Some(
        children(body)?
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
fn check_doc_type(ebml_header: &[u8]) -> Result<(), String> {
    // RFC 8794: DocType defaults to "matroska" when it is absent.
    let doc_type = match child(ebml_header, DOC_TYPE_ID).ok_or(TRUNCATED)? {
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
fn parse_info(info: &[u8]) -> Result<Option<u64>, String> {
    let children = children(info).ok_or(DAMAGED_INFO)?;
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
    let duration_ms = (ticks * timecode_scale_ns as f64 / 1_000_000.0).round() as u64;
    Ok(Some(duration_ms))
}

/// The picture size of the first video track in Tracks, if there is one.
fn parse_tracks(tracks: &[u8]) -> Result<Option<(u32, u32)>, String> {
    for (id, entry) in children(tracks).ok_or(DAMAGED_TRACKS)? {
        if id != TRACK_ENTRY_ID {
            continue;
        }
        let entry_children = children(entry).ok_or(DAMAGED_TRACKS)?;
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
            child(video, id)
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

/// Reads element headers and small bodies from a seekable source of known length.
struct ElementReader<R> {
    source: R,
    length: u64,
}

impl<R: Read + Seek> ElementReader<R> {
    /// The header of the element at `position`, which must fit before `end`.
    fn header_at(&mut self, position: u64, end: u64) -> Result<ElementHeader, String> {
        self.source
            .seek(SeekFrom::Start(position))
            .map_err(|_| TRUNCATED)?;
        let mut buffer = [0u8; MAX_HEADER_BYTES];
        let available = usize::try_from(end.saturating_sub(position))
            .unwrap_or(MAX_HEADER_BYTES)
            .min(MAX_HEADER_BYTES);
        let mut filled = 0;
        while filled < available {
            match self.source.read(&mut buffer[filled..available]) {
                Ok(0) => break,
                Ok(read) => filled += read,
                Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => return Err(TRUNCATED.into()),
            }
        }
        decode_header(&buffer[..filled]).ok_or_else(|| TRUNCATED.into())
    }

    /// The body of a known-size element whose header is at `position`.
    fn body(&mut self, position: u64, header: &ElementHeader) -> Result<Vec<u8>, String> {
        let size = header.size.ok_or(TRUNCATED)?;
        if size > MAX_READ_ELEMENT_BYTES {
            return Err("The WEBM video's header is unreasonably large.".into());
        }
        self.source
            .seek(SeekFrom::Start(position + header.header_len as u64))
            .map_err(|_| TRUNCATED)?;
        let mut body = vec![0u8; size as usize];
        self.source.read_exact(&mut body).map_err(|_| TRUNCATED)?;
        Ok(body)
    }
}

/// Where the element at `position` ends, if it has a known size and fits before `end`.
fn known_end(position: u64, header: &ElementHeader, end: u64) -> Result<u64, String> {
    let element_end = header
        .size
        .and_then(|size| (position + header.header_len as u64).checked_add(size))
        .ok_or(TRUNCATED)?;
    if element_end > end {
        return Err(TRUNCATED.into());
    }
    Ok(element_end)
}

/// Reads the EBML header, Info and Tracks of the WEBM file at `path`.
pub fn probe(path: &Path) -> Result<WebmInfo, String> {
    let file = File::open(path).map_err(|err| format!("The video could not be read: {err}."))?;
    let length = file
        .metadata()
        .map_err(|err| format!("The video could not be read: {err}."))?
        .len();
    probe_source(file, length)
}

/// Reads the EBML header, Info and Tracks from `source`, which is `length` bytes long.
fn probe_source<R: Read + Seek>(source: R, length: u64) -> Result<WebmInfo, String> {
    let mut reader = ElementReader { source, length };
    let ebml = reader
        .header_at(0, reader.length)
        .ok()
        .filter(|header| header.id == EBML_ID)
        .ok_or("This file is not a WEBM video.")?;
    known_end(0, &ebml, reader.length)?;
    check_doc_type(&reader.body(0, &ebml)?)?;

    // Find the Segment; anything else at the top level (such as Void) is skipped.
    let mut position = known_end(0, &ebml, reader.length)?;
    let segment = loop {
        if position >= reader.length {
            return Err(TRUNCATED.into());
        }
        let header = reader.header_at(position, reader.length)?;
        if header.id == SEGMENT_ID {
            break header;
        }
        position = known_end(position, &header, reader.length)?;
    };
    let segment_unknown_size = segment.size.is_none();
    let segment_end = if segment_unknown_size {
        reader.length
    } else {
        known_end(position, &segment, reader.length)?
    };

    let mut duration_ms: Option<Option<u64>> = None;
    let mut picture_size: Option<Option<(u32, u32)>> = None;
    let mut position = position + segment.header_len as u64;
    let mut walked = 0;
    while position < segment_end && (duration_ms.is_none() || picture_size.is_none()) {
        walked += 1;
        if walked > MAX_WALKED_ELEMENTS {
            return Err(TRUNCATED.into());
        }
        let header = reader.header_at(position, segment_end)?;
        match header.id {
            // An unknown-size Cluster runs until the next Segment-level element: step into it and
            // skip its children one by one (none of them is Info or Tracks).
            CLUSTER_ID if header.size.is_none() => {
                position += header.header_len as u64;
                continue;
            }
            // A second EBML header or Segment ends an unknown-size Segment (chained files).
            EBML_ID | SEGMENT_ID if segment_unknown_size => break,
            INFO_ID => duration_ms = Some(parse_info(&reader.body(position, &header)?)?),
            TRACKS_ID => picture_size = Some(parse_tracks(&reader.body(position, &header)?)?),
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
mod tests {
    use super::*;
    use std::io::Cursor;

    /// The ID's bytes as written (its length marker is part of the value).
    fn id_bytes(id: u32) -> Vec<u8> {
        let bytes = id.to_be_bytes();
        let skip = bytes.iter().take_while(|byte| **byte == 0).count();
        bytes[skip..].to_vec()
    }

    /// `size` as a vint of `size_len` bytes.
    fn size_bytes(size: u64, size_len: usize) -> Vec<u8> {
        assert!(size < (1u64 << (7 * size_len)) - 1, "size does not fit");
        let marked = size | (1u64 << (7 * size_len));
        marked.to_be_bytes()[8 - size_len..].to_vec()
    }

    fn element_with_size_len(id: u32, body: &[u8], size_len: usize) -> Vec<u8> {
        let mut out = id_bytes(id);
        out.extend(size_bytes(body.len() as u64, size_len));
        out.extend_from_slice(body);
        out
    }

    fn element(id: u32, body: &[u8]) -> Vec<u8> {
        element_with_size_len(id, body, if body.len() < 127 { 1 } else { 4 })
    }

    /// An element header with "unknown size" (eight bytes, all data bits set).
    fn unknown_size_header(id: u32) -> Vec<u8> {
        let mut out = id_bytes(id);
        out.extend([0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]);
        out
    }

    fn uint(id: u32, value: u64) -> Vec<u8> {
        element(id, &value.to_be_bytes())
    }

    fn ebml_header(doc_type: &str) -> Vec<u8> {
        let mut body = uint(0x4286, 1); // EBMLVersion
        body.extend(element(DOC_TYPE_ID, doc_type.as_bytes()));
        element(EBML_ID, &body)
    }

    fn info(timecode_scale: Option<u64>, duration: Option<&[u8]>) -> Vec<u8> {
        let mut body = Vec::new();
        if let Some(scale) = timecode_scale {
            body.extend(uint(TIMECODE_SCALE_ID, scale));
        }
        body.extend(element(0x4D80, b"test muxer")); // MuxingApp
        if let Some(duration) = duration {
            body.extend(element(DURATION_ID, duration));
        }
        element(INFO_ID, &body)
    }

    fn video_track(width: u64, height: u64) -> Vec<u8> {
        let mut video = uint(PIXEL_WIDTH_ID, width);
        video.extend(uint(PIXEL_HEIGHT_ID, height));
        let mut entry = uint(0xD7, 1); // TrackNumber
        entry.extend(uint(TRACK_TYPE_ID, VIDEO_TRACK_TYPE));
        entry.extend(element(0x86, b"V_VP9")); // CodecID
        entry.extend(element(VIDEO_ID, &video));
        element(TRACK_ENTRY_ID, &entry)
    }

    fn audio_track() -> Vec<u8> {
        let mut entry = uint(0xD7, 2);
        entry.extend(uint(TRACK_TYPE_ID, 2));
        entry.extend(element(0x86, b"A_OPUS"));
        entry.extend(element(0xE1, &uint(0xB5, 48_000))); // Audio > SamplingFrequency
        element(TRACK_ENTRY_ID, &entry)
    }

    fn tracks(entries: &[Vec<u8>]) -> Vec<u8> {
        element(TRACKS_ID, &entries.concat())
    }

    fn cluster() -> Vec<u8> {
        let mut body = uint(0xE7, 0); // Timecode
        body.extend(element(0xA3, &[0x81, 0, 0, 0x80, 1, 2, 3, 4])); // SimpleBlock
        element(CLUSTER_ID, &body)
    }

    fn segment(children: &[Vec<u8>]) -> Vec<u8> {
        element_with_size_len(SEGMENT_ID, &children.concat(), 8)
    }

    fn file(parts: &[Vec<u8>]) -> Vec<u8> {
        parts.concat()
    }

    fn probe_bytes(bytes: &[u8]) -> Result<WebmInfo, String> {
        probe_source(Cursor::new(bytes), bytes.len() as u64)
    }

    fn five_seconds() -> Vec<u8> {
        5_000f64.to_be_bytes().to_vec()
    }

    fn valid_file() -> Vec<u8> {
        file(&[
            ebml_header("webm"),
            segment(&[
                info(Some(1_000_000), Some(&five_seconds())),
                tracks(&[video_track(720, 1280)]),
                cluster(),
            ]),
        ])
    }

    const FACE: WebmInfo = WebmInfo {
        width: 720,
        height: 1280,
        duration_ms: 5_000,
    };

    #[test]
    fn a_plain_file_gives_its_size_and_duration() {
        assert_eq!(probe_bytes(&valid_file()), Ok(FACE));
    }

    #[test]
    fn sizes_of_every_vint_length_are_read() {
        for size_len in 1..=8 {
            let info_body = [
                element_with_size_len(TIMECODE_SCALE_ID, &1_000_000u32.to_be_bytes(), size_len),
                element_with_size_len(DURATION_ID, &five_seconds(), size_len),
            ]
            .concat();
            let video = [
                element_with_size_len(PIXEL_WIDTH_ID, &720u16.to_be_bytes(), size_len),
                element_with_size_len(PIXEL_HEIGHT_ID, &1280u16.to_be_bytes(), size_len),
            ]
            .concat();
            let entry = [
                element_with_size_len(TRACK_TYPE_ID, &[1], size_len),
                element_with_size_len(VIDEO_ID, &video, size_len),
            ]
            .concat();
            let entry = element_with_size_len(TRACK_ENTRY_ID, &entry, size_len);
            let segment_body = [
                element_with_size_len(INFO_ID, &info_body, size_len),
                element_with_size_len(TRACKS_ID, &entry, size_len),
            ]
            .concat();
            let bytes = file(&[
                element_with_size_len(
                    EBML_ID,
                    &element_with_size_len(DOC_TYPE_ID, b"webm", size_len),
                    size_len,
                ),
                element_with_size_len(SEGMENT_ID, &segment_body, size_len),
            ]);
            assert_eq!(probe_bytes(&bytes), Ok(FACE), "{size_len}-byte sizes");
        }
    }

    #[test]
    fn four_byte_durations_and_other_timecode_scales_are_read() {
        let four_bytes = 5_000f32.to_be_bytes();
        for (scale, duration, expected_ms) in [
            (None, &four_bytes[..], 5_000),
            (Some(1_000_000), &four_bytes[..], 5_000),
            // Ticks of 0.1 ms: 50 000 ticks is 5 s.
            (Some(100_000), &50_000f64.to_be_bytes()[..], 5_000),
            // Ticks of 1 µs, with a fractional millisecond that rounds.
            (Some(1_000), &4_999_600f32.to_be_bytes()[..], 5_000),
        ] {
            let bytes = file(&[
                ebml_header("webm"),
                segment(&[
                    info(scale, Some(duration)),
                    tracks(&[video_track(720, 1280)]),
                ]),
            ]);
            assert_eq!(
                probe_bytes(&bytes).map(|info| info.duration_ms),
                Ok(expected_ms),
                "scale {scale:?}"
            );
        }
    }

    #[test]
    fn matroska_doc_type_is_accepted_and_others_are_not() {
        let matroska = file(&[
            ebml_header("matroska"),
            segment(&[
                info(None, Some(&five_seconds())),
                tracks(&[video_track(720, 1280)]),
            ]),
        ]);
        assert_eq!(probe_bytes(&matroska), Ok(FACE));
        let padded = file(&[
            ebml_header("webm\0\0"),
            segment(&[
                info(None, Some(&five_seconds())),
                tracks(&[video_track(720, 1280)]),
            ]),
        ]);
        assert_eq!(probe_bytes(&padded), Ok(FACE));
        let other = file(&[
            ebml_header("mka-ish"),
            segment(&[info(None, Some(&five_seconds()))]),
        ]);
        let err = probe_bytes(&other).unwrap_err();
        assert!(err.contains("not a WEBM video"), "{err}");
    }

    #[test]
    fn unknown_size_segment_and_clusters_are_walked() {
        // Info and Tracks before the first (unknown-size) Cluster, as MediaRecorder writes them
        // but with a Duration; the probe stops there.
        let live = file(&[
            ebml_header("webm"),
            unknown_size_header(SEGMENT_ID),
            info(None, Some(&five_seconds())),
            tracks(&[video_track(720, 1280)]),
            unknown_size_header(CLUSTER_ID),
            uint(0xE7, 0),
            vec![0xA3, 0x88], // a SimpleBlock cut short by the end of the file
        ]);
        assert_eq!(probe_bytes(&live), Ok(FACE));
        // Tracks after an unknown-size Cluster: its children are skipped until Tracks.
        let late_tracks = file(&[
            ebml_header("webm"),
            unknown_size_header(SEGMENT_ID),
            element(0xEC, &[0; 20]), // Void
            info(None, Some(&five_seconds())),
            unknown_size_header(CLUSTER_ID),
            uint(0xE7, 0),
            element(0xA3, &[0x81, 0, 0, 0x80, 9, 9]),
            tracks(&[video_track(720, 1280)]),
        ]);
        assert_eq!(probe_bytes(&late_tracks), Ok(FACE));
    }

    #[test]
    fn known_size_clusters_before_info_and_tracks_are_skipped() {
        let bytes = file(&[
            ebml_header("webm"),
            element(0xEC, &[0; 3]), // Void at the top level
            segment(&[
                element(0xBF, &[1, 2, 3, 4]), // CRC-32
                cluster(),
                cluster(),
                tracks(&[audio_track(), video_track(1080, 1920)]),
                info(None, Some(&7_250f64.to_be_bytes())),
            ]),
        ]);
        assert_eq!(
            probe_bytes(&bytes),
            Ok(WebmInfo {
                width: 1080,
                height: 1920,
                duration_ms: 7_250
            })
        );
    }

    /// A sparse source: `head`, zeros, then `tail`, counting the bytes actually read.
    struct Sparse {
        head: Vec<u8>,
        tail: Vec<u8>,
        length: u64,
        position: u64,
        bytes_read: u64,
    }

    impl Read for Sparse {
        fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
            let tail_start = self.length - self.tail.len() as u64;
            let count = buffer
                .len()
                .min(self.length.saturating_sub(self.position) as usize);
            for (offset, byte) in buffer[..count].iter_mut().enumerate() {
                let at = self.position + offset as u64;
                *byte = if at < self.head.len() as u64 {
                    self.head[at as usize]
                } else if at >= tail_start {
                    self.tail[(at - tail_start) as usize]
                } else {
                    0
                };
            }
            self.position += count as u64;
            self.bytes_read += count as u64;
            Ok(count)
        }
    }

    impl Seek for Sparse {
        fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
            self.position = match to {
                SeekFrom::Start(at) => at,
                SeekFrom::End(back) => self.length.saturating_add_signed(back),
                SeekFrom::Current(by) => self.position.saturating_add_signed(by),
            };
            Ok(self.position)
        }
    }

    #[test]
    fn a_large_cluster_is_seeked_past_not_read() {
        let cluster_size: u64 = 90 * 1024 * 1024;
        let tail = [
            info(None, Some(&five_seconds())),
            tracks(&[video_track(720, 1280)]),
        ]
        .concat();
        let mut head = ebml_header("webm");
        let mut cluster_header = id_bytes(CLUSTER_ID);
        cluster_header.extend(size_bytes(cluster_size, 8));
        let segment_size = cluster_header.len() as u64 + cluster_size + tail.len() as u64;
        head.extend(id_bytes(SEGMENT_ID));
        head.extend(size_bytes(segment_size, 8));
        head.extend(cluster_header);
        let length = head.len() as u64 + cluster_size + tail.len() as u64;
        let mut source = Sparse {
            head,
            tail,
            length,
            position: 0,
            bytes_read: 0,
        };
        assert_eq!(probe_source(&mut source, length), Ok(FACE));
        assert!(
            source.bytes_read < 1_000,
            "read {} bytes",
            source.bytes_read
        );
    }

    #[test]
    fn a_missing_duration_is_explained() {
        let bytes = file(&[
            ebml_header("webm"),
            unknown_size_header(SEGMENT_ID),
            info(None, None),
            tracks(&[video_track(720, 1280)]),
            unknown_size_header(CLUSTER_ID),
        ]);
        let err = probe_bytes(&bytes).unwrap_err();
        assert_eq!(err, MISSING_DURATION);
        assert!(
            err.contains("MediaRecorder") && err.contains("MP4"),
            "{err}"
        );
    }

    #[test]
    fn a_damaged_duration_is_refused() {
        for duration in [
            vec![0x40, 0x00, 0x00],               // 3 bytes
            f64::NAN.to_be_bytes().to_vec(),      // not a number
            (-5_000f64).to_be_bytes().to_vec(),   // negative
            0f32.to_be_bytes().to_vec(),          // zero
            f64::INFINITY.to_be_bytes().to_vec(), // infinite
        ] {
            let bytes = file(&[
                ebml_header("webm"),
                segment(&[
                    info(None, Some(&duration)),
                    tracks(&[video_track(720, 1280)]),
                ]),
            ]);
            assert_eq!(
                probe_bytes(&bytes),
                Err(DAMAGED_INFO.into()),
                "{duration:?}"
            );
        }
    }

    #[test]
    fn a_file_without_a_video_track_is_refused() {
        for track_list in [vec![audio_track()], vec![]] {
            let bytes = file(&[
                ebml_header("webm"),
                segment(&[info(None, Some(&five_seconds())), tracks(&track_list)]),
            ]);
            assert_eq!(probe_bytes(&bytes), Err(NO_VIDEO_TRACK.into()));
        }
        let no_tracks = file(&[
            ebml_header("webm"),
            segment(&[info(None, Some(&five_seconds())), cluster()]),
        ]);
        assert_eq!(probe_bytes(&no_tracks), Err(NO_VIDEO_TRACK.into()));
    }

    #[test]
    fn a_video_track_without_a_size_is_refused() {
        let entry = element(
            TRACK_ENTRY_ID,
            &[
                uint(TRACK_TYPE_ID, 1),
                element(VIDEO_ID, &uint(PIXEL_WIDTH_ID, 720)),
            ]
            .concat(),
        );
        let bytes = file(&[
            ebml_header("webm"),
            segment(&[info(None, Some(&five_seconds())), tracks(&[entry])]),
        ]);
        assert_eq!(probe_bytes(&bytes), Err(DAMAGED_TRACKS.into()));
    }

    #[test]
    fn every_truncation_is_refused() {
        let bytes = valid_file();
        for cut in 0..bytes.len() {
            assert!(probe_bytes(&bytes[..cut]).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn junk_and_overrunning_elements_are_refused() {
        assert!(probe_bytes(b"not a webm at all").is_err());
        // An ID with no length marker in its first byte.
        let mut bytes = ebml_header("webm");
        bytes.extend([0x00, 0x81, 0x00]);
        assert_eq!(probe_bytes(&bytes), Err(TRUNCATED.into()));
        // An element that claims more bytes than the Segment holds.
        let mut inside = info(None, Some(&five_seconds()));
        inside.extend(id_bytes(TRACKS_ID));
        inside.extend(size_bytes(10_000, 4));
        let bytes = file(&[ebml_header("webm"), segment(&[inside])]);
        assert_eq!(probe_bytes(&bytes), Err(TRUNCATED.into()));
        // An unknown size on an element that may not have one.
        let bytes = file(&[
            ebml_header("webm"),
            unknown_size_header(SEGMENT_ID),
            unknown_size_header(INFO_ID),
        ]);
        assert_eq!(probe_bytes(&bytes), Err(TRUNCATED.into()));
    }

    fn fixture(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../server/tests/fixtures/media")
            .join(name)
    }

    #[test]
    fn the_face_fixture_is_read_from_disk() {
        let info = probe(&fixture("element-face.webm")).expect("element-face.webm probes");
        assert_eq!((info.width, info.height), (720, 1280));
        assert!(
            info.duration_ms.abs_diff(5_000) <= 300,
            "{} ms",
            info.duration_ms
        );
    }

    #[test]
    fn a_cut_fixture_is_refused() {
        let bytes = std::fs::read(fixture("element-face.webm")).expect("fixture exists");
        for cut in [0, 3, 40, 200, bytes.len() / 2, bytes.len() - 1] {
            assert!(probe_bytes(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let err = probe(&fixture("no-such-file.webm")).unwrap_err();
        assert!(err.starts_with("The video could not be read"), "{err}");
        let err = probe(&fixture("element-face.mp4")).unwrap_err();
        assert!(err.contains("not a WEBM video"), "{err}");
    }
}
