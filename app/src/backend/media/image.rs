//! Image dimensions from PNG and JPEG headers, reading only what is needed.

use std::{
    fs::File,
    io::{BufReader, Read},
    path::Path,
};

/// Width and height from the PNG IHDR chunk.
pub fn png_size(path: &Path) -> Option<(u32, u32)> {
    let mut head = [0u8; 24];
    File::open(path).ok()?.read_exact(&mut head).ok()?;
    if &head[12..16] != b"IHDR" {
        return None;
    }
    let width = u32::from_be_bytes(head[16..20].try_into().ok()?);
    let height = u32::from_be_bytes(head[20..24].try_into().ok()?);
    (width > 0 && height > 0).then_some((width, height))
}

/// Width and height from the first JPEG start-of-frame marker.
pub fn jpeg_size(path: &Path) -> Option<(u32, u32)> {
    let mut reader = BufReader::new(File::open(path).ok()?);
    let mut byte = [0u8; 1];
    let mut two = [0u8; 2];
    reader.read_exact(&mut two).ok()?;
    if two != [0xFF, 0xD8] {
        return None;
    }
    loop {
        // Find the next marker (skipping fill bytes).
        reader.read_exact(&mut byte).ok()?;
        if byte[0] != 0xFF {
            continue;
        }
        let mut marker = 0xFF;
        while marker == 0xFF {
            reader.read_exact(&mut byte).ok()?;
            marker = byte[0];
        }
        if marker == 0xD8 || marker == 0x01 || (0xD0..=0xD7).contains(&marker) {
            continue;
        }
        if marker == 0xD9 || marker == 0xDA {
            return None;
        }
        reader.read_exact(&mut two).ok()?;
        let length = u16::from_be_bytes(two) as usize;
        if length < 2 {
            return None;
        }
        let mut segment = vec![0u8; length - 2];
        reader.read_exact(&mut segment).ok()?;
        let is_sof = matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
        if is_sof && segment.len() >= 5 {
            let height = u16::from_be_bytes([segment[1], segment[2]]) as u32;
            let width = u16::from_be_bytes([segment[3], segment[4]]) as u32;
            return (width > 0 && height > 0).then_some((width, height));
        }
    }
}
