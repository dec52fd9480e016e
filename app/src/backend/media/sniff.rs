//! The type of a file from its first bytes.

/// What the first bytes say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniffed {
    Jpeg,
    Png,
    Mp4,
    Mov,
    Webm,
    Unknown,
}

/// Decides the type from at least the first 12 bytes.
pub fn sniff(head: &[u8]) -> Sniffed {
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Sniffed::Jpeg;
    }
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Sniffed::Png;
    }
    if head.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
        return Sniffed::Webm;
    }
    if head.len() < 12 {
        return Sniffed::Unknown;
    }
    match head.get(4..8).unwrap_or_default() {
        b"ftyp" if head.get(8..12) == Some(b"qt  ") => Sniffed::Mov,
        b"ftyp" => Sniffed::Mp4,
        b"moov" | b"wide" | b"mdat" | b"free" | b"skip" => Sniffed::Mov,
        _ => Sniffed::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_come_from_the_bytes() {
        assert_eq!(
            sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0, 0, 0, 0, 0, 0, 0]),
            Sniffed::Jpeg
        );
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\x0d"), Sniffed::Png);
        assert_eq!(sniff(b"\0\0\0\x20ftypisom\0\0\x02\0"), Sniffed::Mp4);
        assert_eq!(sniff(b"\0\0\0\x14ftypqt  \0\0\0\0"), Sniffed::Mov);
        assert_eq!(sniff(b"PK\x03\x04\x14\0\0\0\0\0\0\0"), Sniffed::Unknown);
        assert_eq!(sniff(b"<!DOCTYPE html><html>"), Sniffed::Unknown);
    }
}
