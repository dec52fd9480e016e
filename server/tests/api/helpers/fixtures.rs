//! Tiny media made in code for the simulator tests: a PNG and an MP4 whose `mvhd` gives its
//! duration.

/// PNG signature plus an IHDR chunk header: enough for type sniffing.
pub fn png() -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend_from_slice(&[0, 0, 0, 13]);
    bytes.extend_from_slice(b"IHDR");
    bytes.extend_from_slice(&768u32.to_be_bytes());
    bytes.extend_from_slice(&1024u32.to_be_bytes());
    bytes.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
    bytes
}

fn boxed(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
    let mut out = ((payload.len() + 8) as u32).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(payload);
    out
}

/// An ISO BMFF file (`ftyp` + `moov/mvhd`) lasting `duration_ms`.
pub fn mp4(duration_ms: u32) -> Vec<u8> {
    let mut ftyp = b"isom".to_vec();
    ftyp.extend_from_slice(&512u32.to_be_bytes());
    ftyp.extend_from_slice(b"isomiso2mp41");
    let mut mvhd = vec![0u8; 4]; // version 0, flags
    mvhd.extend_from_slice(&0u32.to_be_bytes()); // creation
    mvhd.extend_from_slice(&0u32.to_be_bytes()); // modification
    mvhd.extend_from_slice(&1000u32.to_be_bytes()); // timescale
    mvhd.extend_from_slice(&duration_ms.to_be_bytes()); // duration
    mvhd.extend_from_slice(&[0u8; 80]);
    let mut file = boxed(b"ftyp", &ftyp);
    file.extend(boxed(b"moov", &boxed(b"mvhd", &mvhd)));
    file
}

/// The bytes of a committed fixture in `tests/fixtures/media`.
pub fn file(name: &str) -> Vec<u8> {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/media")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|err| panic!("fixture {}: {err}", path.display()))
}
