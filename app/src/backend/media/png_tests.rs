//! Unit tests of the PNG probe, including hostile shapes.

use std::time::{Duration, Instant};

use super::*;
use crate::backend::media::{budget::TOO_COMPLEX, source::SliceSource};

/// A chunk (the CRC is not checked, so it is left zero).
fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = u32::try_from(data.len()).unwrap().to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    out.extend([0u8; 4]);
    out
}

fn ihdr(width: u32, height: u32) -> Vec<u8> {
    let mut data = width.to_be_bytes().to_vec();
    data.extend(height.to_be_bytes());
    data.extend([8, 2, 0, 0, 0]);
    chunk(b"IHDR", &data)
}

/// A PNG whose header says `width`×`height`, with `extra` chunks before the data.
pub(crate) fn png(width: u32, height: u32, extra: &[Vec<u8>]) -> Vec<u8> {
    let mut out = SIGNATURE.to_vec();
    out.extend(ihdr(width, height));
    out.extend(extra.concat());
    out.extend(chunk(b"IDAT", &[0x78, 0x9C, 1, 2, 3, 4]));
    out.extend(chunk(b"IEND", &[]));
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

#[test]
fn the_size_comes_from_the_header_whatever_it_claims() {
    assert_eq!(size_of(&png(600, 800, &[])), Ok((600, 800)));
    // Nothing is decoded, so a huge claim costs nothing here; the shared rules refuse it.
    assert_eq!(size_of(&png(60_000, 60_000, &[])), Ok((60_000, 60_000)));
    for (width, height) in [(0, 10), (10, 0), (0x8000_0000, 10), (10, u32::MAX)] {
        assert_eq!(size_of(&png(width, height, &[])), Err(DAMAGED.into()));
    }
}

#[test]
fn every_truncation_is_refused() {
    let bytes = png(600, 800, &[chunk(b"tEXt", b"Comment\0made by a test")]);
    for cut in 0..bytes.len() {
        assert!(size_of(&bytes[..cut]).is_err(), "cut at {cut}");
    }
}

#[test]
fn chunk_lengths_past_the_end_or_odd_types_are_refused() {
    for length in [0x10u32, 0x7FFF_FFFF, 0x8000_0000, u32::MAX] {
        let mut bytes = SIGNATURE.to_vec();
        bytes.extend(ihdr(600, 800));
        bytes.extend(length.to_be_bytes());
        bytes.extend(b"IDAT\0\0\0\0");
        assert_eq!(size_of(&bytes), Err(TRUNCATED.into()), "length {length}");
    }
    let odd_type = png(600, 800, &[chunk(b"t<Xt", b"")]);
    assert_eq!(size_of(&odd_type), Err(TRUNCATED.into()));
    let mut no_data = SIGNATURE.to_vec();
    no_data.extend(ihdr(600, 800));
    no_data.extend(chunk(b"IEND", &[]));
    assert_eq!(size_of(&no_data), Err(TRUNCATED.into()));
}

#[test]
fn html_in_a_text_chunk_or_after_the_end_is_refused() {
    let page = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>";
    let mut text = b"Comment\0".to_vec();
    text.extend_from_slice(page);
    assert_eq!(
        size_of(&png(600, 800, &[chunk(b"tEXt", &text)])),
        Err(MARKUP.into())
    );
    let mut private = b"x".to_vec();
    private.extend_from_slice(&page[15..]);
    assert_eq!(
        size_of(&png(600, 800, &[chunk(b"htMl", &private)])),
        Err(MARKUP.into())
    );
    let mut after = png(600, 800, &[]);
    after.extend_from_slice(page);
    assert_eq!(size_of(&after), Err(MARKUP.into()));
    // Metadata that merely uses angle brackets (XMP) is fine.
    let xmp = chunk(
        b"iTXt",
        b"XML:com.adobe.xmp\0\0\0\0\0<x:xmpmeta xmlns:x='adobe:ns:meta/'/>",
    );
    assert_eq!(size_of(&png(600, 800, &[xmp])), Ok((600, 800)));
}

#[test]
fn a_million_empty_chunks_exhaust_the_budget() {
    let empty = chunk(b"teXt", &[]);
    let bytes = png(600, 800, &[empty.repeat(1_000_000)]);
    assert_eq!(size_of(&bytes), Err(TOO_COMPLEX.into()));
}

#[test]
fn the_fixtures_are_read() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../server/tests/fixtures/media");
    let bytes = std::fs::read(dir.join("valid.png")).unwrap();
    assert_eq!(size_of(&bytes), Ok((600, 800)));
    assert_eq!(size_of(&bytes[..bytes.len() / 2]), Err(TRUNCATED.into()));
}
