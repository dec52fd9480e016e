//! Finds web page or script markup hidden in an image's text parts (PNG text chunks, JPEG
//! comments and metadata, bytes after the image's end), which is how an image is made to double
//! as an HTML page (a "polyglot"). Kinema serves uploads with their image type and `nosniff`, so
//! such a file is harmless when served by Kinema; refusing it keeps it from being passed on.
//!
//! Only tags of five or more characters are looked for, so compressed bytes (an embedded
//! thumbnail, a colour profile) practically never match by chance (about 1 in 10^12 per byte).

use super::{budget::Budget, source::ByteSource};

/// Piece size for reading ranges that are scanned.
const SCAN_PIECE: usize = 64 * 1024;

/// What is looked for, lower case; matched without regard to case.
const PATTERNS: [&[u8]; 6] = [
    b"<!doctype",
    b"<html",
    b"<head",
    b"<body",
    b"<script",
    b"<iframe",
];
/// The longest pattern's length.
const LONGEST: usize = 9;

/// The plain words for a refused polyglot.
pub const MARKUP: &str = "This image also carries web page or script code (a disguised file), so \
it was not accepted. Open the picture in an image editor, export it again and upload that.";

/// True if `bytes` contains one of the patterns.
pub fn contains_markup(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .enumerate()
        .filter(|(_, byte)| **byte == b'<')
        .any(|(at, _)| {
            let rest = bytes.get(at..).unwrap_or_default();
            PATTERNS.iter().any(|pattern| {
                rest.get(..pattern.len())
                    .is_some_and(|start| start.eq_ignore_ascii_case(pattern))
            })
        })
}

/// Looks for markup in a run of bytes given in pieces; a pattern split between two pieces is
/// found too.
#[derive(Debug, Default)]
pub struct MarkupScan {
    carry: Vec<u8>,
    found: bool,
}

impl MarkupScan {
    /// Looks at the next piece.
    pub fn feed(&mut self, piece: &[u8]) {
        if self.found {
            return;
        }
        let head = piece.get(..LONGEST.min(piece.len())).unwrap_or_default();
        let mut joint = std::mem::take(&mut self.carry);
        joint.extend_from_slice(head);
        self.found = contains_markup(&joint) || contains_markup(piece);
        let keep = LONGEST.saturating_sub(1);
        let tail_from = piece.len().saturating_sub(keep);
        if piece.len() >= keep {
            self.carry = piece.get(tail_from..).unwrap_or_default().to_vec();
        } else {
            let joint_from = joint.len().saturating_sub(keep);
            self.carry = joint.get(joint_from..).unwrap_or_default().to_vec();
        }
    }

    /// True once markup was seen.
    pub fn found(&self) -> bool {
        self.found
    }
}

/// Feeds the bytes from `start` to `end` to `scan`, in pieces, charging a step per byte.
/// Fails (with nothing to say: the caller knows what was being read) if the source ends first or
/// the budget is spent.
pub(super) fn scan_range(
    source: &mut dyn ByteSource,
    start: u64,
    end: u64,
    budget: &Budget,
    scan: &mut MarkupScan,
) -> Result<(), ()> {
    // Sized by the range, so many small ranges cost no more than their bytes.
    let range = usize::try_from(end.saturating_sub(start)).unwrap_or(SCAN_PIECE);
    let mut piece = vec![0u8; range.min(SCAN_PIECE)];
    let mut position = start;
    while position < end && !scan.found() {
        let left = end.checked_sub(position).ok_or(())?;
        let count = usize::try_from(left).unwrap_or(SCAN_PIECE).min(SCAN_PIECE);
        let piece = piece.get_mut(..count).ok_or(())?;
        if !budget.steps(u64::try_from(count).map_err(|_| ())?) {
            return Err(());
        }
        source.read_exact_at(position, piece).map_err(|_| ())?;
        scan.feed(piece);
        position = position
            .checked_add(u64::try_from(count).map_err(|_| ())?)
            .ok_or(())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_found_in_any_case() {
        assert!(contains_markup(b"xx<HTML>yy"));
        assert!(contains_markup(b"<!DocType html>"));
        assert!(contains_markup(b"\0\0<script>alert(1)</script>"));
        assert!(!contains_markup(b"<x:xmpmeta xmlns:x='adobe:ns:meta/'>"));
        assert!(!contains_markup(b"a < b and <htm"));
        assert!(!contains_markup(b""));
    }

    #[test]
    fn a_tag_split_across_pieces_is_found() {
        let text = b"....some text <script>alert(1)</script> more";
        for split in 0..text.len() {
            for second in split..text.len() {
                let mut scan = MarkupScan::default();
                scan.feed(&text[..split]);
                scan.feed(&text[split..second]);
                scan.feed(&text[second..]);
                assert!(scan.found(), "split at {split} and {second}");
            }
        }
        for (text, markup) in [(&b"<!doctype html>"[..], true), (b"<scrip t>", false)] {
            let mut scan = MarkupScan::default();
            for byte in text {
                scan.feed(&[*byte]);
            }
            assert_eq!(scan.found(), markup, "{text:?} byte by byte");
        }
    }
}
