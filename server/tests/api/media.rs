//! Every committed media fixture (made by scripts/make-fixtures.sh) gets its expected verdict from
//! the server's probe plus the shared rules.

use std::path::PathBuf;

use app::backend::media::{probe_file, Probed};
use app::rules::{
    motion_inputs::{check_image, check_video, ImageFormat, VideoFormat},
    pricing::Orientation,
};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/media")
        .join(name)
}

fn image(name: &str) -> app::rules::motion_inputs::ImageFacts {
    match probe_file(&fixture(name)) {
        Ok(Probed::Image(facts)) => facts,
        other => panic!("{name}: expected an image, got {other:?}"),
    }
}

fn video(name: &str) -> app::rules::motion_inputs::VideoFacts {
    match probe_file(&fixture(name)) {
        Ok(Probed::Video(facts)) => facts,
        other => panic!("{name}: expected a video, got {other:?}"),
    }
}

#[test]
fn images_are_probed_and_judged() {
    let jpg = image("valid.jpg");
    assert_eq!(
        (jpg.format, jpg.width, jpg.height),
        (ImageFormat::Jpeg, 768, 1024)
    );
    assert!(check_image(&jpg).is_empty());
    let png = image("valid.png");
    assert_eq!(
        (png.format, png.width, png.height),
        (ImageFormat::Png, 600, 800)
    );
    assert!(check_image(&png).is_empty());
    assert_eq!(
        check_image(&image("too-small.png")),
        vec!["Character image is 200×200 px; both sides must be at least 300 px."]
    );
    assert_eq!(
        check_image(&image("bad-aspect.jpg")),
        vec!["Character image is 300×900 px (aspect 3.00:1); it must be between 1:2.5 and 2.5:1."]
    );
}

#[test]
fn videos_are_probed_wherever_their_index_is() {
    for name in ["valid-index-at-end.mp4", "valid-index-at-start.mp4"] {
        let facts = video(name);
        assert_eq!(
            (facts.format, facts.width, facts.height, facts.duration_ms),
            (VideoFormat::Mp4, 360, 640, 5_000),
            "{name}"
        );
        assert!(check_video(&facts, Orientation::Image).is_empty(), "{name}");
    }
    let mov = video("valid.mov");
    assert_eq!(
        (mov.format, mov.width, mov.height, mov.duration_ms),
        (VideoFormat::Mov, 640, 360, 4_000)
    );
    assert!(check_video(&mov, Orientation::Image).is_empty());
    let fragmented = video("fragmented.mp4");
    assert_eq!(
        (fragmented.width, fragmented.height, fragmented.duration_ms),
        (360, 640, 6_000)
    );
    assert!(check_video(&fragmented, Orientation::Video).is_empty());
}

#[test]
fn a_rotated_phone_video_is_portrait() {
    let rotated = video("rotated.mp4");
    assert_eq!(
        (rotated.width, rotated.height),
        (360, 640),
        "stored 640×360 with a 90° rotation"
    );
    assert_eq!(rotated.duration_ms, 4_000);
}

#[test]
fn video_limits_give_their_messages() {
    assert_eq!(
        check_video(&video("too-short.mp4"), Orientation::Video),
        vec!["Video is 2.0 s; it must be at least 3 s."]
    );
    let long = video("too-long-for-match-image.mp4");
    assert_eq!(long.duration_ms, 12_000);
    let refused = check_video(&long, Orientation::Image);
    assert_eq!(refused.len(), 1);
    assert!(refused[0].starts_with("Video is 12.0 s; it must be at most 10 s with \"Match image\""));
    assert!(check_video(&long, Orientation::Video).is_empty());
    assert_eq!(
        check_video(&video("too-small.mp4"), Orientation::Video),
        vec![
            "Motion video is 320 px wide; each side must be 340–3850 px.",
            "Motion video is 240 px high; each side must be 340–3850 px."
        ]
    );
}

#[test]
fn custom_element_reference_videos_are_probed() {
    let webm = video("element-face.webm");
    assert_eq!(
        (webm.format, webm.width, webm.height),
        (VideoFormat::Webm, 720, 1280)
    );
    assert!(
        webm.duration_ms.abs_diff(5_000) <= 300,
        "element-face.webm is {} ms",
        webm.duration_ms
    );
    for (name, width, height, duration_ms) in [
        ("element-face.mp4", 720, 1280, 5_000),
        ("element-too-long.mp4", 720, 1280, 10_000),
        ("element-too-narrow.mp4", 640, 960, 5_000),
    ] {
        let facts = video(name);
        assert_eq!(
            (facts.format, facts.width, facts.height),
            (VideoFormat::Mp4, width, height),
            "{name}"
        );
        assert!(
            facts.duration_ms.abs_diff(duration_ms) <= 300,
            "{name} is {} ms",
            facts.duration_ms
        );
    }
}

#[test]
fn damaged_and_disguised_files_are_refused_by_their_bytes() {
    let truncated = probe_file(&fixture("truncated.mp4")).unwrap_err();
    assert!(truncated.0.contains("truncated or damaged"), "{truncated}");
    for name in ["archive-named-video.mp4", "page-named-image.png"] {
        let err = probe_file(&fixture(name)).unwrap_err();
        assert!(
            err.0
                .contains("neither a JPG/PNG image nor an MP4/MOV video"),
            "{name}: {err}"
        );
    }
}
