//! Unit tests of the WEBM probe: small files built here, including hostile shapes.

use std::time::{Duration, Instant};

use super::*;
use crate::backend::media::{
    budget::{TOO_COMPLEX, TOO_SLOW},
    source::{FileSource, SliceSource},
};

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
    probe(&mut SliceSource::new(bytes), &Budget::default())
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
    bytes_read: u64,
}

impl ByteSource for Sparse {
    fn len(&self) -> u64 {
        self.length
    }

    fn read_at(&mut self, offset: u64, buffer: &mut [u8]) -> std::io::Result<usize> {
        let tail_start = self.length - self.tail.len() as u64;
        let count = buffer
            .len()
            .min(self.length.saturating_sub(offset) as usize);
        for (index, byte) in buffer[..count].iter_mut().enumerate() {
            let at = offset + index as u64;
            *byte = if at < self.head.len() as u64 {
                self.head[at as usize]
            } else if at >= tail_start {
                self.tail[(at - tail_start) as usize]
            } else {
                0
            };
        }
        self.bytes_read += count as u64;
        Ok(count)
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
        bytes_read: 0,
    };
    assert_eq!(probe(&mut source, &Budget::default()), Ok(FACE));
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
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../server/tests/fixtures/media")
        .join(name)
}

#[test]
fn the_face_fixture_is_read_from_disk() {
    let file = std::fs::File::open(fixture("element-face.webm")).expect("fixture exists");
    let mut source = FileSource::new(file).expect("fixture has a length");
    let info = probe(&mut source, &Budget::default()).expect("element-face.webm probes");
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
    let mp4 = std::fs::read(fixture("element-face.mp4")).expect("fixture exists");
    let err = probe_bytes(&mp4).unwrap_err();
    assert!(err.contains("not a WEBM video"), "{err}");
}

/// Probes `bytes` and checks it finished within a second.
fn probe_quickly(bytes: &[u8]) -> Result<WebmInfo, String> {
    let started = Instant::now();
    let outcome = probe_bytes(bytes);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "took {:?}",
        started.elapsed()
    );
    outcome
}

#[test]
fn millions_of_two_byte_voids_exhaust_the_budget() {
    // Void elements of size 0 are two bytes each: 8 MB of them before the Segment…
    let mut top_level = ebml_header("webm");
    top_level.extend([0xEC, 0x80].repeat(4_000_000));
    top_level.extend(segment(&[
        info(None, Some(&five_seconds())),
        tracks(&[video_track(720, 1280)]),
    ]));
    assert_eq!(probe_quickly(&top_level), Err(TOO_COMPLEX.into()));
    // …inside the Segment before Info and Tracks…
    let mut inside = ebml_header("webm");
    inside.extend(unknown_size_header(SEGMENT_ID));
    inside.extend([0xEC, 0x80].repeat(4_000_000));
    inside.extend(info(None, Some(&five_seconds())));
    assert_eq!(probe_quickly(&inside), Err(TOO_COMPLEX.into()));
    // …and inside Tracks, which is read into memory.
    let voids = [0xEC, 0x80].repeat(4_000_000);
    let in_memory = file(&[
        ebml_header("webm"),
        segment(&[
            info(None, Some(&five_seconds())),
            element_with_size_len(TRACKS_ID, &voids, 8),
        ]),
    ]);
    assert_eq!(probe_quickly(&in_memory), Err(TOO_COMPLEX.into()));
}

#[test]
fn a_spent_clock_ends_the_probe() {
    let mut bytes = ebml_header("webm");
    bytes.extend([0xEC, 0x80].repeat(10_000));
    let budget = Budget::new(u64::MAX, u64::MAX, Duration::ZERO);
    assert_eq!(
        probe(&mut SliceSource::new(&bytes), &budget),
        Err(TOO_SLOW.into())
    );
}

#[test]
fn sizes_that_would_overflow_are_refused() {
    // An 8-byte size of 2^56 − 2 (the largest known size) on elements at every level.
    let huge = [0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE];
    let mut top_level = ebml_header("webm");
    top_level.push(0xEC);
    top_level.extend(huge);
    assert_eq!(probe_quickly(&top_level), Err(TRUNCATED.into()));
    let mut inside = ebml_header("webm");
    inside.extend(unknown_size_header(SEGMENT_ID));
    inside.extend(id_bytes(INFO_ID));
    inside.extend(huge);
    assert_eq!(probe_quickly(&inside), Err(TRUNCATED.into()));
    let mut header = id_bytes(EBML_ID);
    header.extend(huge);
    assert!(probe_quickly(&header).is_err());
}
