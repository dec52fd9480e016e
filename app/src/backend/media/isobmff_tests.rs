//! Unit tests of the MP4/MOV probe: small files built here, including every hostile shape the
//! probe must finish on.

use std::time::{Duration, Instant};

use super::*;
use crate::backend::media::{
    budget::{TOO_COMPLEX, TOO_SLOW},
    source::SliceSource,
};

/// A box with a 32-bit size.
pub(crate) fn mp4_box(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let size = u32::try_from(8 + body.len()).expect("test boxes are small");
    let mut out = size.to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(body);
    out
}

fn full_box(kind: &[u8; 4], version: u8, rest: &[u8]) -> Vec<u8> {
    let mut body = vec![version, 0, 0, 0];
    body.extend_from_slice(rest);
    mp4_box(kind, &body)
}

fn with_flags(kind: &[u8; 4], flags: u32, rest: &[u8]) -> Vec<u8> {
    let mut body = flags.to_be_bytes().to_vec();
    body.extend_from_slice(rest);
    mp4_box(kind, &body)
}

fn ftyp() -> Vec<u8> {
    mp4_box(b"ftyp", b"isom\0\0\x02\0")
}

fn mvhd(timescale: u32, duration: u32) -> Vec<u8> {
    let mut rest = vec![0u8; 8]; // creation and modification times
    rest.extend(timescale.to_be_bytes());
    rest.extend(duration.to_be_bytes());
    rest.resize(96, 0);
    full_box(b"mvhd", 0, &rest)
}

fn trak(id: u32, width: u32, height: u32, duration: u32) -> Vec<u8> {
    let mut tkhd = vec![0u8; 8];
    tkhd.extend(id.to_be_bytes());
    tkhd.resize(36, 0);
    for value in [0x10000i32, 0, 0, 0, 0x10000, 0, 0, 0, 0x4000_0000] {
        tkhd.extend(value.to_be_bytes());
    }
    tkhd.extend((width << 16).to_be_bytes());
    tkhd.extend((height << 16).to_be_bytes());
    let mut mdhd = vec![0u8; 8];
    mdhd.extend(1000u32.to_be_bytes());
    mdhd.extend(duration.to_be_bytes());
    mdhd.extend([0u8; 4]);
    let mut hdlr = vec![0u8; 4];
    hdlr.extend(b"vide");
    hdlr.extend([0u8; 13]);
    let mdia = [full_box(b"mdhd", 0, &mdhd), full_box(b"hdlr", 0, &hdlr)].concat();
    mp4_box(
        b"trak",
        &[full_box(b"tkhd", 0, &tkhd), mp4_box(b"mdia", &mdia)].concat(),
    )
}

/// A plain 5 s, 360×640 file with its index first.
fn plain() -> Vec<u8> {
    [
        ftyp(),
        mp4_box(
            b"moov",
            &[mvhd(1000, 5000), trak(1, 360, 640, 5000)].concat(),
        ),
        mp4_box(b"mdat", &[0u8; 64]),
    ]
    .concat()
}

/// A fragmented file without `mehd` or durations in the index, whose one `trun` is `trun`.
fn fragmented(trun: Vec<u8>) -> Vec<u8> {
    let mut trex = 1u32.to_be_bytes().to_vec();
    trex.extend([0u8; 12]);
    let moov = mp4_box(
        b"moov",
        &[
            mvhd(1000, 0),
            trak(1, 360, 640, 0),
            mp4_box(b"mvex", &full_box(b"trex", 0, &trex)),
        ]
        .concat(),
    );
    let tfhd = with_flags(b"tfhd", 0, &1u32.to_be_bytes());
    let moof = mp4_box(b"moof", &mp4_box(b"traf", &[tfhd, trun].concat()));
    [ftyp(), moov, moof, mp4_box(b"mdat", &[0u8; 16])].concat()
}

/// A `trun` with per-sample durations that claims `count` samples and holds `durations`.
fn trun(count: u32, durations: &[u32]) -> Vec<u8> {
    let mut rest = count.to_be_bytes().to_vec();
    for duration in durations {
        rest.extend(duration.to_be_bytes());
    }
    with_flags(b"trun", 0x100, &rest)
}

fn probe_bytes(bytes: &[u8]) -> Result<VideoInfo, String> {
    probe(&mut SliceSource::new(bytes), &Budget::default())
}

/// Probes `bytes` and checks it finished within a second.
fn probe_quickly(bytes: &[u8]) -> Result<VideoInfo, String> {
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
fn a_plain_and_a_fragmented_file_are_read() {
    let info = VideoInfo {
        duration_ms: 5000,
        display_width: 360,
        display_height: 640,
    };
    assert_eq!(probe_bytes(&plain()), Ok(info));
    let five_samples = fragmented(trun(5, &[1000; 5]));
    assert_eq!(probe_bytes(&five_samples), Ok(info));
}

#[test]
fn every_truncation_is_refused() {
    let bytes = plain();
    let moov_end = bytes.len() - 72;
    for cut in 0..moov_end {
        assert!(probe_quickly(&bytes[..cut]).is_err(), "cut at {cut}");
    }
}

#[test]
fn a_64_bit_size_that_would_wrap_the_walk_is_refused() {
    // 32 bytes: `ftyp`, then a box whose 64-bit size is 2^64 − 16. Added to its position (16)
    // it wraps to 0, which once sent the walk back to the start for ever.
    let mut bytes = ftyp();
    bytes.extend(1u32.to_be_bytes());
    bytes.extend(b"free");
    bytes.extend((u64::MAX - 15).to_be_bytes());
    assert_eq!(bytes.len(), 32);
    assert_eq!(probe_quickly(&bytes), Err(DAMAGED.into()));
    for size in [0u64, 1, 7, 8, 15, 33, u64::from(u32::MAX), u64::MAX] {
        let mut bytes = ftyp();
        bytes.extend(1u32.to_be_bytes());
        bytes.extend(b"free");
        bytes.extend(size.to_be_bytes());
        assert!(probe_quickly(&bytes).is_err(), "size {size}");
    }
}

#[test]
fn small_and_overlong_32_bit_sizes_are_refused() {
    for size in [1u32, 7, 9, 1000, u32::MAX] {
        let mut bytes = ftyp();
        bytes.extend(size.to_be_bytes());
        bytes.extend(b"free");
        assert_eq!(probe_quickly(&bytes), Err(DAMAGED.into()), "size {size}");
    }
    // Size 0 runs to the end of the file: here it swallows the index, so none is found.
    let mut bytes = ftyp();
    bytes.extend(0u32.to_be_bytes());
    bytes.extend(b"free");
    bytes.extend(plain());
    assert_eq!(probe_quickly(&bytes), Err(DAMAGED.into()));
}

#[test]
fn a_four_billion_sample_trun_is_refused_at_once() {
    // Durations all zero and no `mehd`, so the duration comes from the samples; the count is
    // far more than the box holds.
    let bytes = fragmented(trun(u32::MAX, &[0; 1024]));
    assert_eq!(probe_quickly(&bytes), Err(DAMAGED.into()));
    // Without per-sample durations the count is multiplied, never looped over.
    let mut rest = u32::MAX.to_be_bytes().to_vec();
    rest.extend([0u8; 16]);
    let bytes = fragmented(with_flags(b"trun", 0, &rest));
    assert_eq!(probe_quickly(&bytes).map(|info| info.duration_ms), Ok(0));
    // Per-sample sizes but no durations: the sizes must be there too.
    let bytes = fragmented(with_flags(b"trun", 0x200, &rest));
    assert_eq!(probe_quickly(&bytes), Err(DAMAGED.into()));
}

#[test]
fn a_million_tiny_boxes_exhaust_the_budget() {
    let mut bytes = ftyp();
    for _ in 0..1_000_000 {
        bytes.extend(8u32.to_be_bytes());
        bytes.extend(b"free");
    }
    assert_eq!(probe_quickly(&bytes), Err(TOO_COMPLEX.into()));
    // The same inside the index.
    let mut moov = mvhd(1000, 5000);
    for _ in 0..1_000_000 {
        moov.extend(8u32.to_be_bytes());
        moov.extend(b"skip");
    }
    moov.extend(trak(1, 360, 640, 5000));
    let bytes = [ftyp(), mp4_box(b"moov", &moov)].concat();
    assert_eq!(probe_quickly(&bytes), Err(TOO_COMPLEX.into()));
}

#[test]
fn a_spent_clock_ends_the_probe() {
    let budget = Budget::new(u64::MAX, u64::MAX, Duration::ZERO);
    let mut bytes = ftyp();
    for _ in 0..10_000 {
        bytes.extend(8u32.to_be_bytes());
        bytes.extend(b"free");
    }
    assert_eq!(
        probe(&mut SliceSource::new(&bytes), &budget),
        Err(TOO_SLOW.into())
    );
}

#[test]
fn nested_sizes_past_their_parent_are_ignored_not_followed() {
    // A `trak` whose child claims more bytes than the `trak` has: no video track is found.
    let mut moov = mvhd(1000, 5000);
    let mut bad_trak = u32::MAX.to_be_bytes().to_vec();
    bad_trak.extend(b"mdia");
    bad_trak.extend([0u8; 32]);
    moov.extend(mp4_box(b"trak", &bad_trak));
    let bytes = [ftyp(), mp4_box(b"moov", &moov)].concat();
    assert_eq!(probe_quickly(&bytes), Err(NO_VIDEO_TRACK.into()));
}
