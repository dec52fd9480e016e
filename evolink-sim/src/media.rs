//! Just enough media sniffing for the simulator to tell a real image or video from junk, and to
//! read a video's duration from its `mvhd` box.

/// True for JPEG, PNG, GIF and WEBP bytes.
pub fn is_image(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0xFF, 0xD8, 0xFF])
        || bytes.starts_with(b"\x89PNG\r\n\x1a\n")
        || bytes.starts_with(b"GIF8")
        || (bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP")
}

/// True for MP4/MOV (ISO BMFF) and WEBM bytes.
pub fn is_video(bytes: &[u8]) -> bool {
    (bytes.len() >= 12
        && matches!(
            &bytes[4..8],
            b"ftyp" | b"moov" | b"mdat" | b"wide" | b"free"
        ))
        || bytes.starts_with(&[0x1A, 0x45, 0xDF, 0xA3])
}

/// The duration in milliseconds from the first `mvhd` box, if there is one.
pub fn mp4_duration_ms(bytes: &[u8]) -> Option<u64> {
    let at = bytes.windows(4).position(|w| w == b"mvhd")? + 4;
    let version = *bytes.get(at)?;
    let read_u32 = |offset: usize| -> Option<u64> {
        bytes
            .get(offset..offset + 4)
            .map(|b| u64::from(u32::from_be_bytes([b[0], b[1], b[2], b[3]])))
    };
    let read_u64 = |offset: usize| -> Option<u64> {
        bytes
            .get(offset..offset + 8)
            .map(|b| u64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
    };
    let (timescale, duration) = if version == 1 {
        (read_u32(at + 20)?, read_u64(at + 24)?)
    } else {
        (read_u32(at + 12)?, read_u32(at + 16)?)
    };
    (timescale > 0).then(|| duration.saturating_mul(1000) / timescale)
}
