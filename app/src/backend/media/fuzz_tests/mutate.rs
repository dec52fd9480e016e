//! The fuzzer's mutations: byte flips, inserts, deletes, truncation, repeats, and rewrites of the
//! length fields the probes follow (ISO BMFF box and PNG chunk sizes, JPEG segment lengths, EBML
//! element sizes) to edge values.

use rand::{rngs::StdRng, Rng};

/// Applies one to four random mutations to `bytes`.
pub fn mutate(bytes: &mut Vec<u8>, rng: &mut StdRng) {
    for _ in 0..rng.gen_range(1..=4) {
        match rng.gen_range(0..100) {
            0..=14 => flip_bits(bytes, rng),
            15..=24 => set_byte(bytes, rng),
            25..=32 => insert_bytes(bytes, rng),
            33..=40 => delete_range(bytes, rng),
            41..=45 => truncate(bytes, rng),
            46..=50 => duplicate_range(bytes, rng),
            51..=52 => repeat_small_piece(bytes, rng),
            53..=72 => rewrite_box_size(bytes, rng),
            73..=84 => rewrite_jpeg_length(bytes, rng),
            _ => rewrite_ebml_size(bytes, rng),
        }
    }
}

fn position(bytes: &[u8], rng: &mut StdRng) -> usize {
    rng.gen_range(0..=bytes.len())
}

fn flip_bits(bytes: &mut [u8], rng: &mut StdRng) {
    if bytes.is_empty() {
        return;
    }
    for _ in 0..rng.gen_range(1..=8) {
        let at = rng.gen_range(0..bytes.len());
        bytes[at] ^= 1 << rng.gen_range(0..8);
    }
}

fn set_byte(bytes: &mut [u8], rng: &mut StdRng) {
    if bytes.is_empty() {
        return;
    }
    let at = rng.gen_range(0..bytes.len());
    bytes[at] = match rng.gen_range(0..6) {
        0 => 0,
        1 => 0xFF,
        2 => 0x7F,
        3 => 0x80,
        4 => 1,
        _ => rng.gen(),
    };
}

fn insert_bytes(bytes: &mut Vec<u8>, rng: &mut StdRng) {
    let at = position(bytes, rng);
    let count = rng.gen_range(1..=16);
    let fill: Vec<u8> = (0..count).map(|_| rng.gen()).collect();
    bytes.splice(at..at, fill);
}

fn delete_range(bytes: &mut Vec<u8>, rng: &mut StdRng) {
    let at = position(bytes, rng);
    let end = (at + rng.gen_range(1..=64)).min(bytes.len());
    bytes.drain(at..end);
}

fn truncate(bytes: &mut Vec<u8>, rng: &mut StdRng) {
    let at = position(bytes, rng);
    bytes.truncate(at);
}

fn duplicate_range(bytes: &mut Vec<u8>, rng: &mut StdRng) {
    if bytes.is_empty() {
        return;
    }
    let from = rng.gen_range(0..bytes.len());
    let end = (from + rng.gen_range(1..=256)).min(bytes.len());
    let piece = bytes[from..end].to_vec();
    let at = position(bytes, rng);
    bytes.splice(at..at, piece);
}

/// Many copies of a few bytes: grows the file into thousands of tiny boxes or elements.
fn repeat_small_piece(bytes: &mut Vec<u8>, rng: &mut StdRng) {
    if bytes.is_empty() {
        return;
    }
    let from = rng.gen_range(0..bytes.len());
    let end = (from + rng.gen_range(2..=16)).min(bytes.len());
    let piece = bytes[from..end].repeat(rng.gen_range(100..=20_000));
    let at = position(bytes, rng);
    bytes.splice(at..at, piece);
}

/// Positions `i` where a 4-byte size is followed by a 4-letter type, as in ISO BMFF boxes and
/// PNG chunks.
fn box_headers(bytes: &[u8]) -> Vec<usize> {
    let is_type_byte = |byte: &u8| byte.is_ascii_alphanumeric() || *byte == b' ';
    (0..bytes.len().saturating_sub(7))
        .filter(|at| bytes[at + 4..at + 8].iter().all(is_type_byte))
        .collect()
}

fn pick(candidates: &[usize], rng: &mut StdRng) -> Option<usize> {
    (!candidates.is_empty()).then(|| candidates[rng.gen_range(0..candidates.len())])
}

fn rewrite_box_size(bytes: &mut Vec<u8>, rng: &mut StdRng) {
    let Some(at) = pick(&box_headers(bytes), rng) else {
        return flip_bits(bytes, rng);
    };
    let remaining = (bytes.len() - at) as u64;
    if rng.gen_bool(0.35) {
        // A 64-bit size: size field 1, the size after the type.
        let sizes = [
            0,
            1,
            7,
            8,
            15,
            16,
            remaining,
            remaining + 1,
            remaining + 1_000_000,
            u64::from(u32::MAX) + 1,
            u64::MAX - 15,
            u64::MAX - 7,
            u64::MAX,
        ];
        bytes[at..at + 4].copy_from_slice(&1u32.to_be_bytes());
        let size = sizes[rng.gen_range(0..sizes.len())];
        let large_at = at + 8;
        if rng.gen_bool(0.5) || large_at + 8 > bytes.len() {
            bytes.splice(large_at..large_at, size.to_be_bytes());
        } else {
            bytes[large_at..large_at + 8].copy_from_slice(&size.to_be_bytes());
        }
    } else {
        let remaining = u32::try_from(remaining).unwrap_or(u32::MAX);
        let sizes = [
            0,
            1,
            7,
            8,
            9,
            16,
            remaining,
            remaining.saturating_add(1),
            remaining.saturating_add(1000),
            0x7FFF_FFFF,
            0x8000_0000,
            u32::MAX - 1,
            u32::MAX,
        ];
        let size = sizes[rng.gen_range(0..sizes.len())];
        bytes[at..at + 4].copy_from_slice(&size.to_be_bytes());
    }
}

fn rewrite_jpeg_length(bytes: &mut [u8], rng: &mut StdRng) {
    let candidates: Vec<usize> = (0..bytes.len().saturating_sub(3))
        .filter(|at| bytes[*at] == 0xFF && matches!(bytes[at + 1], 0xC0..=0xCF | 0xDA..=0xFE))
        .collect();
    let Some(at) = pick(&candidates, rng) else {
        return flip_bits(bytes, rng);
    };
    let remaining = u16::try_from(bytes.len() - at).unwrap_or(u16::MAX);
    let lengths = [
        0,
        1,
        2,
        3,
        5,
        remaining,
        remaining.saturating_add(1),
        u16::MAX,
    ];
    let length = lengths[rng.gen_range(0..lengths.len())];
    bytes[at + 2..at + 4].copy_from_slice(&length.to_be_bytes());
}

/// First bytes of the EBML IDs the WEBM probe reads.
const EBML_ID_STARTS: [u8; 14] = [
    0x1A, 0x18, 0x15, 0x16, 0x1F, 0x42, 0x44, 0x2A, 0xAE, 0x83, 0xE0, 0xB0, 0xBA, 0xEC,
];

fn rewrite_ebml_size(bytes: &mut Vec<u8>, rng: &mut StdRng) {
    let candidates: Vec<usize> = (0..bytes.len().saturating_sub(2))
        .filter(|at| EBML_ID_STARTS.contains(&bytes[*at]))
        .collect();
    let Some(at) = pick(&candidates, rng) else {
        return flip_bits(bytes, rng);
    };
    let id_len = bytes[at].leading_zeros() as usize + 1;
    let size_at = at + id_len;
    let Some(first) = bytes.get(size_at) else {
        return;
    };
    let old_len = (first.leading_zeros() as usize + 1).min(8);
    let end = (size_at + old_len).min(bytes.len());
    let sizes: [&[u8]; 9] = [
        &[0x80],
        &[0xFF],
        &[0x00],
        &[0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF],
        &[0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE],
        &[0x01, 0, 0, 0, 0, 0, 0, 0],
        &[0x08, 0xFF, 0xFF, 0xFF, 0xFE],
        &[0x10, 0xFF, 0xFF, 0xFE],
        &[0x40, 0x02],
    ];
    let size = sizes[rng.gen_range(0..sizes.len())];
    bytes.splice(size_at..end, size.iter().copied());
}
