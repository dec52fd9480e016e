//! Limits on the motion studio's inputs (`docs/upstream.md` §9), with messages that name the
//! limit and the actual value. The browser checks with these before uploading; the server checks
//! again with the same functions, and its word is final.

use serde::{Deserialize, Serialize};

use super::format::thousands;
use super::pricing::Orientation;

/// Largest character image.
pub const IMAGE_MAX_BYTES: u64 = 10 * 1024 * 1024;
/// Smallest side of a character image.
pub const IMAGE_MIN_SIDE: u32 = 300;
/// Longest side of an image the upstream accepts (`docs/upstream.md` §9, from Kling's own docs).
pub const IMAGE_MAX_SIDE: u32 = 65_536;
/// Most pixels in an image. The upstream states no pixel limit, but a 100-megapixel picture
/// already takes 400 MB of memory to decode (in the browser's preview and upstream), far more
/// detail than a 1080p video can show, and a 10 MB file with more pixels than this is almost
/// always a crafted "decompression bomb" rather than a photo. Scaling down loses nothing here.
pub const IMAGE_MAX_PIXELS: u64 = 100_000_000;
/// Most extreme aspect ratio either way (2.5:1 or 1:2.5).
pub const ASPECT_MAX: f64 = 2.5;
/// Largest motion video.
pub const VIDEO_MAX_BYTES: u64 = 100 * 1024 * 1024;
/// Side limits of a motion video.
pub const VIDEO_MIN_SIDE: u32 = 340;
pub const VIDEO_MAX_SIDE: u32 = 3850;
/// Shortest motion video.
pub const VIDEO_MIN_MS: u64 = 3_000;
/// Longest prompt.
pub const PROMPT_MAX_CHARS: usize = 2500;
/// What the file picker offers for an image (the formats `check_image_as` accepts).
pub const IMAGE_ACCEPT: &str = "image/jpeg,image/png,.jpg,.jpeg,.png";
/// What the file picker offers for a motion video (the formats `check_video` accepts).
pub const VIDEO_ACCEPT: &str = "video/mp4,video/quicktime,.mp4,.mov";

super::vocab::text_enum! {
    /// Image formats, as decided from the bytes.
    pub enum ImageFormat {
        Jpeg = "jpeg",
        Png = "png",
        Other = "other",
    }
}

super::vocab::text_enum! {
    /// Video containers, as decided from the bytes.
    pub enum VideoFormat {
        Mp4 = "mp4",
        Mov = "mov",
        Webm = "webm",
        Other = "other",
    }
}

impl ImageFormat {
    /// The content type a stored image of this format is served with.
    pub fn mime_type(self) -> &'static str {
        match self {
            ImageFormat::Png => "image/png",
            ImageFormat::Jpeg => "image/jpeg",
            ImageFormat::Other => "application/octet-stream",
        }
    }
}

impl VideoFormat {
    /// The content type a stored video of this format is served with.
    pub fn mime_type(self) -> &'static str {
        match self {
            VideoFormat::Mp4 => "video/mp4",
            VideoFormat::Mov => "video/quicktime",
            VideoFormat::Webm => "video/webm",
            VideoFormat::Other => "application/octet-stream",
        }
    }
}

/// What is known about a character image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageFacts {
    pub format: ImageFormat,
    pub bytes: u64,
    pub width: u32,
    pub height: u32,
}

/// What is known about a motion video (width and height as displayed, after rotation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct VideoFacts {
    pub format: VideoFormat,
    pub bytes: u64,
    pub width: u32,
    pub height: u32,
    pub duration_ms: u64,
}

/// `12.3 MB`.
pub fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
}

/// `5.0 s`.
pub fn seconds(ms: u64) -> String {
    format!("{:.1} s", ms as f64 / 1000.0)
}

/// A size limit in whole megabytes: `10 MB`.
pub fn whole_megabytes(bytes: u64) -> String {
    format!("{} MB", bytes / (1024 * 1024))
}

/// A length limit in whole seconds: `8 s`.
pub fn whole_seconds(ms: u64) -> String {
    format!("{} s", ms / 1000)
}

/// The accepted aspect ratios: `between 1:2.5 and 2.5:1`.
pub fn aspect_range() -> String {
    format!("between 1:{ASPECT_MAX} and {ASPECT_MAX}:1")
}

/// What an image field tells people before they choose a file.
pub fn image_hint() -> String {
    format!(
        "JPG or PNG, up to {}, both sides at least {IMAGE_MIN_SIDE} px, aspect {}.",
        whole_megabytes(IMAGE_MAX_BYTES),
        aspect_range()
    )
}

/// What the motion video field tells people before they choose a file; the longest length is
/// the one the roomiest orientation allows.
pub fn video_hint() -> String {
    let longest = Orientation::ALL
        .iter()
        .map(|o| o.max_seconds())
        .max()
        .unwrap_or(0);
    format!(
        "MP4 or MOV, up to {}, {}–{longest} s, each side {VIDEO_MIN_SIDE}–{VIDEO_MAX_SIDE} px.",
        whole_megabytes(VIDEO_MAX_BYTES),
        VIDEO_MIN_MS / 1000
    )
}

fn aspect_problem(what: &str, width: u32, height: u32) -> Option<String> {
    let (long, short) = (width.max(height) as f64, width.min(height).max(1) as f64);
    (long / short > ASPECT_MAX).then(|| {
        format!(
            "{what} is {width}×{height} px (aspect {:.2}:1); it must be {}.",
            long / short,
            aspect_range()
        )
    })
}

/// Every problem with a character image; empty when it is acceptable.
pub fn check_image(facts: &ImageFacts) -> Vec<String> {
    check_image_as("Character image", facts)
}

/// Every problem with an image used as `what` (JPG/PNG, ≤ 10 MB, sides 300–65,536 px, at most
/// 100 megapixels, aspect 1:2.5–2.5:1); empty when it is acceptable.
pub fn check_image_as(what: &str, facts: &ImageFacts) -> Vec<String> {
    let mut problems = Vec::new();
    if facts.format == ImageFormat::Other {
        problems.push(format!("{what} must be a JPG or PNG file."));
        return problems;
    }
    if facts.bytes > IMAGE_MAX_BYTES {
        problems.push(format!(
            "{what} is {}; it must be at most {}.",
            megabytes(facts.bytes),
            whole_megabytes(IMAGE_MAX_BYTES)
        ));
    }
    if facts.width < IMAGE_MIN_SIDE || facts.height < IMAGE_MIN_SIDE {
        problems.push(format!(
            "{what} is {}×{} px; both sides must be at least {IMAGE_MIN_SIDE} px.",
            facts.width, facts.height
        ));
    }
    if facts.width > IMAGE_MAX_SIDE || facts.height > IMAGE_MAX_SIDE {
        problems.push(format!(
            "{what} is {}×{} px; each side must be at most {} px.",
            facts.width,
            facts.height,
            thousands(u64::from(IMAGE_MAX_SIDE))
        ));
    } else {
        let pixels = u64::from(facts.width) * u64::from(facts.height);
        if pixels > IMAGE_MAX_PIXELS {
            problems.push(format!(
                "{what} is {}×{} px ({} megapixels); it must be at most {} megapixels. Scale it \
                 down and upload it again.",
                facts.width,
                facts.height,
                pixels / 1_000_000,
                IMAGE_MAX_PIXELS / 1_000_000
            ));
        }
    }
    problems.extend(aspect_problem(what, facts.width, facts.height));
    problems
}

/// Every problem with a motion video for the chosen orientation; empty when it is acceptable.
pub fn check_video(facts: &VideoFacts, orientation: Orientation) -> Vec<String> {
    let mut problems = Vec::new();
    if !matches!(facts.format, VideoFormat::Mp4 | VideoFormat::Mov) {
        problems.push("Motion video must be an MP4 or MOV file.".to_string());
        return problems;
    }
    if facts.bytes > VIDEO_MAX_BYTES {
        problems.push(format!(
            "Motion video is {}; it must be at most {}.",
            megabytes(facts.bytes),
            whole_megabytes(VIDEO_MAX_BYTES)
        ));
    }
    for (side, value) in [("wide", facts.width), ("high", facts.height)] {
        if !(VIDEO_MIN_SIDE..=VIDEO_MAX_SIDE).contains(&value) {
            problems.push(format!(
                "Motion video is {value} px {side}; each side must be {VIDEO_MIN_SIDE}–{VIDEO_MAX_SIDE} px."
            ));
        }
    }
    if facts.duration_ms < VIDEO_MIN_MS {
        problems.push(format!(
            "Video is {}; it must be at least {}.",
            seconds(facts.duration_ms),
            whole_seconds(VIDEO_MIN_MS)
        ));
    }
    let max_ms = u64::from(orientation.max_seconds()) * 1000;
    if facts.duration_ms > max_ms {
        let hint = match orientation {
            Orientation::Image => format!(
                " with \"{}\"; choose \"{}\" (up to {} s) or trim it",
                Orientation::Image.label(),
                Orientation::Video.label(),
                Orientation::Video.max_seconds()
            ),
            Orientation::Video => String::new(),
        };
        problems.push(format!(
            "Video is {}; it must be at most {} s{hint}.",
            seconds(facts.duration_ms),
            orientation.max_seconds()
        ));
    }
    problems
}

/// A problem with the prompt, if any.
pub fn check_prompt(prompt: &str) -> Option<String> {
    let count = prompt.chars().count();
    (count > PROMPT_MAX_CHARS)
        .then(|| format!("Prompt is {count} characters; it must be at most {PROMPT_MAX_CHARS}."))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(width: u32, height: u32) -> ImageFacts {
        ImageFacts {
            format: ImageFormat::Png,
            bytes: 200_000,
            width,
            height,
        }
    }

    fn video(width: u32, height: u32, duration_ms: u64) -> VideoFacts {
        VideoFacts {
            format: VideoFormat::Mp4,
            bytes: 2_000_000,
            width,
            height,
            duration_ms,
        }
    }

    #[test]
    fn images_are_checked_for_type_size_sides_and_aspect() {
        assert!(check_image(&image(768, 1024)).is_empty());
        assert_eq!(
            check_image(&image(200, 400)),
            vec!["Character image is 200×400 px; both sides must be at least 300 px."]
        );
        assert!(check_image(&image(300, 1000))[0].contains("aspect 3.33:1"));
        assert!(check_image(&ImageFacts {
            bytes: 11 * 1024 * 1024,
            ..image(800, 800)
        })[0]
            .contains("11.0 MB"));
        assert_eq!(
            check_image(&ImageFacts {
                format: ImageFormat::Other,
                ..image(800, 800)
            }),
            vec!["Character image must be a JPG or PNG file."]
        );
    }

    #[test]
    fn images_with_more_pixels_than_decodable_are_refused() {
        assert!(
            check_image(&image(10_000, 10_000)).is_empty(),
            "exactly 100 megapixels"
        );
        assert_eq!(
            check_image(&image(60_000, 60_000)),
            vec![
                "Character image is 60000×60000 px (3600 megapixels); it must be at most 100 \
                 megapixels. Scale it down and upload it again."
            ]
        );
        assert_eq!(
            check_image(&image(10_001, 10_000)).len(),
            1,
            "one pixel row over"
        );
        let wide = check_image(&image(65_537, 65_536));
        assert_eq!(
            wide,
            vec!["Character image is 65537×65536 px; each side must be at most 65,536 px."]
        );
        let widest = check_image(&image(u32::MAX, u32::MAX));
        assert_eq!(widest.len(), 1, "{widest:?}");
    }

    #[test]
    fn videos_are_checked_against_the_orientation() {
        assert!(check_video(&video(720, 1280, 8_000), Orientation::Image).is_empty());
        assert_eq!(
            check_video(&video(720, 1280, 2_000), Orientation::Video),
            vec!["Video is 2.0 s; it must be at least 3 s."]
        );
        let long = check_video(&video(720, 1280, 12_000), Orientation::Image);
        assert_eq!(long.len(), 1);
        assert!(
            long[0].starts_with("Video is 12.0 s; it must be at most 10 s with \"Match image\"")
        );
        assert!(check_video(&video(720, 1280, 12_000), Orientation::Video).is_empty());
        assert!(
            check_video(&video(720, 1280, 31_000), Orientation::Video)[0].contains("at most 30 s")
        );
        assert_eq!(
            check_video(&video(320, 640, 5_000), Orientation::Video),
            vec!["Motion video is 320 px wide; each side must be 340–3850 px."]
        );
        assert_eq!(
            check_video(
                &VideoFacts {
                    format: VideoFormat::Webm,
                    ..video(720, 720, 5_000)
                },
                Orientation::Video
            ),
            vec!["Motion video must be an MP4 or MOV file."]
        );
    }

    /// The hints are built from the limits; these are the words people have always read.
    #[test]
    fn hints_name_the_limits() {
        assert_eq!(
            image_hint(),
            "JPG or PNG, up to 10 MB, both sides at least 300 px, aspect between 1:2.5 and 2.5:1."
        );
        assert_eq!(
            video_hint(),
            "MP4 or MOV, up to 100 MB, 3–30 s, each side 340–3850 px."
        );
        assert_eq!(
            check_image(&ImageFacts {
                bytes: 11 * 1024 * 1024,
                ..image(800, 800)
            }),
            vec!["Character image is 11.0 MB; it must be at most 10 MB."]
        );
        assert_eq!(
            check_image(&image(300, 1000)),
            vec!["Character image is 300×1000 px (aspect 3.33:1); it must be between 1:2.5 and 2.5:1."]
        );
        assert_eq!(
            check_video(
                &VideoFacts {
                    bytes: 101 * 1024 * 1024,
                    ..video(720, 1280, 12_000)
                },
                Orientation::Image
            ),
            vec![
                "Motion video is 101.0 MB; it must be at most 100 MB.",
                "Video is 12.0 s; it must be at most 10 s with \"Match image\"; choose \"Match video\" (up to 30 s) or trim it."
            ]
        );
    }

    #[test]
    fn prompts_have_a_length_limit() {
        assert_eq!(check_prompt(&"a".repeat(2500)), None);
        assert_eq!(
            check_prompt(&"a".repeat(2501)).as_deref(),
            Some("Prompt is 2501 characters; it must be at most 2500.")
        );
    }

    /// The facts the server probes from the committed fixtures, judged here as pure Rust: the
    /// browser reaches the same verdicts from the same facts.
    #[test]
    fn fixture_facts_get_the_same_verdicts_as_on_the_server() {
        let png = |w, h| ImageFacts {
            format: ImageFormat::Png,
            bytes: 20_000,
            width: w,
            height: h,
        };
        let jpg = |w, h| ImageFacts {
            format: ImageFormat::Jpeg,
            bytes: 20_000,
            width: w,
            height: h,
        };
        assert!(check_image(&jpg(768, 1024)).is_empty()); // valid.jpg
        assert!(check_image(&png(600, 800)).is_empty()); // valid.png
        assert_eq!(check_image(&png(200, 200)).len(), 1); // too-small.png
        assert!(check_image(&jpg(300, 900))[0].contains("aspect 3.00:1")); // bad-aspect.jpg
        let mp4 = |w, h, ms| VideoFacts {
            format: VideoFormat::Mp4,
            bytes: 15_000,
            width: w,
            height: h,
            duration_ms: ms,
        };
        for ok in [
            mp4(360, 640, 5_000),
            mp4(360, 640, 6_000),
            mp4(360, 640, 4_000),
        ] {
            assert!(check_video(&ok, Orientation::Image).is_empty());
        }
        let mov = VideoFacts {
            format: VideoFormat::Mov,
            ..mp4(640, 360, 4_000)
        };
        assert!(check_video(&mov, Orientation::Image).is_empty()); // valid.mov
        assert_eq!(
            check_video(&mp4(360, 640, 2_000), Orientation::Video),
            vec!["Video is 2.0 s; it must be at least 3 s."]
        ); // too-short.mp4
        assert_eq!(
            check_video(&mp4(360, 640, 12_000), Orientation::Image).len(),
            1
        );
        assert!(check_video(&mp4(360, 640, 12_000), Orientation::Video).is_empty());
        assert_eq!(
            check_video(&mp4(320, 240, 4_000), Orientation::Video).len(),
            2
        ); // too-small.mp4
    }
}
