//! A hostile corpus, built here, uploaded over HTTP on both databases: each file is refused with
//! a 4xx and plain words within 5 s, the server's CPU use is back to idle afterwards (measured
//! from /proc), and nothing is left in storage.
//!
//! The CPU check reads the whole test process's CPU time, so the test runs alone in a process of
//! its own (this binary started again for it).

use std::time::{Duration, Instant};

use crate::helpers::{
    eventually, fixtures::file as fixture, holds, in_own_process, run_in_own_process, setup_admin,
    Db, TestApp,
};

/// A box with a 32-bit size.
fn mp4_box(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut out = u32::try_from(8 + body.len())
        .unwrap()
        .to_be_bytes()
        .to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(body);
    out
}

fn full_box(kind: &[u8; 4], version_and_flags: u32, rest: &[u8]) -> Vec<u8> {
    let mut body = version_and_flags.to_be_bytes().to_vec();
    body.extend_from_slice(rest);
    mp4_box(kind, &body)
}

fn ftyp() -> Vec<u8> {
    mp4_box(b"ftyp", b"isom\0\0\x02\0")
}

/// 32 bytes: `ftyp`, then a box whose 64-bit size (2^64 − 16) wraps position + size to 0.
fn wrapping_box_size() -> Vec<u8> {
    let mut bytes = ftyp();
    bytes.extend(1u32.to_be_bytes());
    bytes.extend(b"free");
    bytes.extend((u64::MAX - 15).to_be_bytes());
    bytes
}

/// A fragmented MP4 (no `mehd`, no durations in the index) whose `trun` claims 0xFFFFFFFF
/// samples, all with zero duration.
fn four_billion_sample_trun() -> Vec<u8> {
    let mut mvhd = vec![0u8; 8];
    mvhd.extend(1000u32.to_be_bytes());
    mvhd.resize(96, 0);
    let mut tkhd = vec![0u8; 8];
    tkhd.extend(1u32.to_be_bytes());
    tkhd.resize(36, 0);
    for value in [0x10000i32, 0, 0, 0, 0x10000, 0, 0, 0, 0x4000_0000] {
        tkhd.extend(value.to_be_bytes());
    }
    tkhd.extend((720u32 << 16).to_be_bytes());
    tkhd.extend((1280u32 << 16).to_be_bytes());
    let mut mdhd = vec![0u8; 8];
    mdhd.extend(1000u32.to_be_bytes());
    mdhd.extend([0u8; 8]);
    let mut hdlr = vec![0u8; 4];
    hdlr.extend(b"vide");
    hdlr.extend([0u8; 13]);
    let trak = mp4_box(
        b"trak",
        &[
            full_box(b"tkhd", 0, &tkhd),
            mp4_box(
                b"mdia",
                &[full_box(b"mdhd", 0, &mdhd), full_box(b"hdlr", 0, &hdlr)].concat(),
            ),
        ]
        .concat(),
    );
    let mut trex = 1u32.to_be_bytes().to_vec();
    trex.extend([0u8; 12]);
    let moov = mp4_box(
        b"moov",
        &[
            full_box(b"mvhd", 0, &mvhd),
            trak,
            mp4_box(b"mvex", &full_box(b"trex", 0, &trex)),
        ]
        .concat(),
    );
    let tfhd = full_box(b"tfhd", 0, &1u32.to_be_bytes());
    let mut samples = u32::MAX.to_be_bytes().to_vec();
    samples.extend([0u8; 4096]);
    let trun = full_box(b"trun", 0x100, &samples);
    let moof = mp4_box(b"moof", &mp4_box(b"traf", &[tfhd, trun].concat()));
    [ftyp(), moov, moof, mp4_box(b"mdat", &[0u8; 16])].concat()
}

/// `ftyp` and a million 8-byte `free` boxes (8 MB).
fn a_million_tiny_boxes() -> Vec<u8> {
    let mut bytes = ftyp();
    bytes.extend([0, 0, 0, 8, b'f', b'r', b'e', b'e'].repeat(1_000_000));
    bytes
}

/// A WEBM header, then four million 2-byte Void elements (8 MB) before any Segment.
fn webm_of_voids() -> Vec<u8> {
    let doc_type = [&[0x42, 0x82, 0x84][..], b"webm"].concat();
    let mut bytes = vec![
        0x1A,
        0x45,
        0xDF,
        0xA3,
        0x80 | u8::try_from(doc_type.len()).unwrap(),
    ];
    bytes.extend(doc_type);
    bytes.extend([0xEC, 0x80].repeat(4_000_000));
    bytes
}

fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = u32::try_from(data.len()).unwrap().to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    out.extend([0u8; 4]);
    out
}

/// A small PNG whose header claims 60,000 × 60,000 pixels.
fn huge_png() -> Vec<u8> {
    let mut ihdr = 60_000u32.to_be_bytes().to_vec();
    ihdr.extend(60_000u32.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]);
    [
        b"\x89PNG\r\n\x1a\n".to_vec(),
        png_chunk(b"IHDR", &ihdr),
        png_chunk(b"IDAT", &[0x78, 0x9C, 0, 0, 0, 0]),
        png_chunk(b"IEND", &[]),
    ]
    .concat()
}

/// The valid fixture JPEG cut in half (its size header survives, its picture does not).
fn truncated_jpeg() -> Vec<u8> {
    let bytes = fixture("valid.jpg");
    bytes[..bytes.len() / 2].to_vec()
}

/// The valid fixture PNG carrying a web page in a text chunk right after its header.
fn html_png_polyglot() -> Vec<u8> {
    let png = fixture("valid.png");
    let after_header = 8 + 25;
    let page =
        b"Comment\0<!DOCTYPE html><html><body><script>fetch('/api/whoami')</script></body></html>";
    [
        &png[..after_header],
        &png_chunk(b"tEXt", page)[..],
        &png[after_header..],
    ]
    .concat()
}

fn svg() -> Vec<u8> {
    br#"<svg xmlns="http://www.w3.org/2000/svg" width="800" height="800"><script>alert(1)</script></svg>"#.to_vec()
}

/// Uploads in progress, stored objects, and upload rows.
async fn leftovers(app: &TestApp, _db: Db) -> (usize, usize, i64) {
    app.leftovers().await
}

/// CPU time (user + system) the whole process has used. /proc reports it in clock ticks of
/// 1/100 s (USER_HZ, fixed at 100 by the kernel's ABI on every mainstream architecture).
fn process_cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    // Fields after the command name (which is in parentheses and may hold spaces).
    let after_name = &stat[stat.rfind(')').expect("a command name") + 2..];
    let fields: Vec<&str> = after_name.split(' ').collect();
    let ticks = |index: usize| fields[index].parse::<u64>().expect("a tick count");
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

async fn hostile_uploads_are_refused_quickly_and_leave_nothing(db: Db) {
    let app = TestApp::spawn(db).await;
    let client = app.client();
    assert_eq!(setup_admin(&app, &client, "ada").await.status(), 200);
    let corpus: [(&str, &str, Vec<u8>, &str); 8] = [
        (
            "motion_video",
            "wrap.mp4",
            wrapping_box_size(),
            "truncated or damaged",
        ),
        (
            "motion_video",
            "trun.mp4",
            four_billion_sample_trun(),
            "truncated or damaged",
        ),
        (
            "motion_video",
            "boxes.mp4",
            a_million_tiny_boxes(),
            "too complex to read",
        ),
        (
            "element_video",
            "voids.webm",
            webm_of_voids(),
            "too complex to read",
        ),
        (
            "character_image",
            "huge.png",
            huge_png(),
            "60000×60000 px (3600 megapixels); it must be at most 100 megapixels",
        ),
        (
            "character_image",
            "cut.jpg",
            truncated_jpeg(),
            "truncated or damaged",
        ),
        (
            "character_image",
            "page.png",
            html_png_polyglot(),
            "web page or script code",
        ),
        (
            "character_image",
            "drawing.png",
            svg(),
            "neither a JPG/PNG image nor an MP4/MOV video",
        ),
    ];
    for (purpose, name, bytes, expected) in corpus {
        let started = Instant::now();
        let response = client
            .post(app.url(&format!("/api/uploads?purpose={purpose}&name={name}")))
            .header("Origin", &app.base)
            .body(bytes)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body: serde_json::Value = response.json().await.unwrap();
        let took = started.elapsed();
        let message = body["error"].as_str().unwrap_or_default();
        println!("{db:?} {name}: {status} in {took:?}: {message}");
        assert!(
            status.is_client_error(),
            "{db:?} {name}: {status} {message}"
        );
        assert!(took < Duration::from_secs(5), "{db:?} {name} took {took:?}");
        assert!(message.contains(expected), "{db:?} {name}: {message}");
        // Plain words: a sentence, not a stack trace or an internal error.
        assert!(
            message.ends_with('.') && !message.contains("panic") && !message.contains("::"),
            "{db:?} {name}: {message}"
        );
    }

    // No probe is left running, and the process is idle again.
    let what = format!("{db:?}: no probe to be running");
    eventually(&what, Duration::from_secs(5), || async {
        let running = app::backend::media::probes_running();
        holds(running == 0, running)
    })
    .await;
    let before = process_cpu_time();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let used = process_cpu_time().saturating_sub(before);
    println!("{db:?}: {used:?} of CPU in the second after the uploads");
    assert!(
        used < Duration::from_millis(200),
        "{db:?}: {used:?} of CPU in the second after the uploads"
    );

    assert_eq!(leftovers(&app, db).await, (0, 0, 0), "{db:?}");
    app.stop().await;
}

#[tokio::test]
async fn hostile_uploads_are_refused_on_both_databases() {
    // Every other area's tests share this process and its CPU time.
    if !in_own_process() {
        run_in_own_process("hostile_uploads::hostile_uploads_are_refused_on_both_databases");
        return;
    }
    // One after the other: the CPU check would see the other database's uploads otherwise.
    hostile_uploads_are_refused_quickly_and_leave_nothing(Db::Sqlite).await;
    hostile_uploads_are_refused_quickly_and_leave_nothing(Db::Postgres).await;
}
