//! Unit tests of the JPEG probe, including hostile shapes.

use std::time::{Duration, Instant};

use super::*;
use crate::backend::media::{budget::TOO_COMPLEX, source::SliceSource};

fn segment(marker: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![0xFF, marker];
    out.extend(u16::try_from(body.len() + 2).unwrap().to_be_bytes());
    out.extend_from_slice(body);
    out
}

fn start_of_frame(width: u16, height: u16) -> Vec<u8> {
    let mut body = vec![8];
    body.extend(height.to_be_bytes());
    body.extend(width.to_be_bytes());
    body.extend([1, 1, 0x11, 0]);
    segment(0xC0, &body)
}

/// A JPEG of `width`×`height` with `extra` segments after APP0 and compressed data that has
/// stuffed bytes and restart markers in it.
pub(crate) fn jpeg(width: u16, height: u16, extra: &[Vec<u8>]) -> Vec<u8> {
    let mut out = vec![0xFF, 0xD8];
    out.extend(segment(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"));
    out.extend(extra.concat());
    out.extend(segment(0xDB, &[0; 65]));
    out.extend(start_of_frame(width, height));
    out.extend(segment(0xC4, &[0; 20]));
    out.extend(segment(0xDA, &[1, 1, 0, 0, 0x3F, 0]));
    out.extend([
        0x12, 0x34, 0xFF, 0x00, 0x56, 0xFF, 0xD0, 0x78, 0xFF, 0x00, 0x9A,
    ]);
    out.extend([0xFF, 0xD9]);
    out
}

fn size_of(bytes: &[u8]) -> Result<(u32, u32), String> {
    let started = Instant::now();
    let outcome = size(&mut SliceSource::new(bytes), &Budget::default());
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "took {:?}",
        started.elapsed()
    );
    outcome
}

fn fixture(name: &str) -> Vec<u8> {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../server/tests/fixtures/media");
    std::fs::read(dir.join(name)).unwrap()
}

#[test]
fn the_size_comes_from_the_first_frame_header() {
    assert_eq!(size_of(&jpeg(768, 1024, &[])), Ok((768, 1024)));
    assert_eq!(size_of(&fixture("valid.jpg")), Ok((768, 1024)));
    assert_eq!(size_of(&fixture("bad-aspect.jpg")), Ok((300, 900)));
    // Data after the end marker (a phone's motion clip, say) is left alone.
    let mut trailer = jpeg(768, 1024, &[]);
    trailer.extend(b"\0\0\0\x18ftypmp42 <html> whatever");
    assert_eq!(size_of(&trailer), Ok((768, 1024)));
}

#[test]
fn every_truncation_is_refused() {
    let bytes = jpeg(768, 1024, &[segment(0xFE, b"a comment")]);
    for cut in 0..bytes.len() {
        assert!(size_of(&bytes[..cut]).is_err(), "cut at {cut}");
    }
    let photo = fixture("valid.jpg");
    for cut in [photo.len() / 3, photo.len() / 2, photo.len() - 2] {
        assert_eq!(
            size_of(&photo[..cut]),
            Err(TRUNCATED.into()),
            "cut at {cut}"
        );
    }
}

#[test]
fn bad_lengths_and_frames_are_refused() {
    for length in [0u16, 1] {
        let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE1];
        bytes.extend(length.to_be_bytes());
        bytes.extend([0u8; 32]);
        assert_eq!(size_of(&bytes), Err(DAMAGED.into()), "length {length}");
    }
    let mut past_the_end = vec![0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xFF];
    past_the_end.extend([0u8; 32]);
    assert_eq!(size_of(&past_the_end), Err(TRUNCATED.into()));
    assert_eq!(size_of(&jpeg(0, 1024, &[])), Err(DAMAGED.into()));
    assert_eq!(size_of(&jpeg(768, 0, &[])), Err(DAMAGED.into()));
    let short_frame = [
        vec![0xFF, 0xD8],
        segment(0xC0, &[8, 0, 1]),
        vec![0xFF, 0xD9],
    ]
    .concat();
    assert_eq!(size_of(&short_frame), Err(DAMAGED.into()));
    let no_frame = [vec![0xFF, 0xD8], segment(0xFE, b"hi"), vec![0xFF, 0xD9]].concat();
    assert_eq!(size_of(&no_frame), Err(DAMAGED.into()));
}

#[test]
fn html_in_a_comment_or_metadata_is_refused() {
    let page = b"<html><body><script>alert(1)</script></body></html>";
    assert_eq!(
        size_of(&jpeg(768, 1024, &[segment(0xFE, page)])),
        Err(MARKUP.into())
    );
    let mut exif = b"Exif\0\0".to_vec();
    exif.extend_from_slice(page);
    assert_eq!(
        size_of(&jpeg(768, 1024, &[segment(0xE1, &exif)])),
        Err(MARKUP.into())
    );
}

#[test]
fn a_million_markers_exhaust_the_budget() {
    let mut bytes = vec![0xFF, 0xD8];
    bytes.extend([0xFF, 0xD0].repeat(1_000_000));
    assert_eq!(size_of(&bytes), Err(TOO_COMPLEX.into()));
    let mut comments = vec![0xFF, 0xD8];
    comments.extend(segment(0xFE, &[]).repeat(1_000_000));
    assert_eq!(size_of(&comments), Err(TOO_COMPLEX.into()));
}
