//! Limits on custom-element inputs (`docs/upstream.md` §2.2, §9): name, description, voice ID, the
//! reference video or the frontal and other-angle images. The browser checks with these before
//! uploading and before creating; the server checks again with the same functions.

pub use super::motion_inputs::check_image_as as check_image;
use super::motion_inputs::{
    megabytes, seconds, whole_megabytes, whole_seconds, VideoFacts, VideoFormat, VIDEO_MAX_BYTES,
};

/// Longest element name.
pub const NAME_MAX_CHARS: usize = 20;
/// Longest element description.
pub const DESCRIPTION_MAX_CHARS: usize = 100;
/// Longest reference video.
pub const VIDEO_MAX_MS: u64 = 8_000;
/// Width limits of a reference video.
pub const VIDEO_MIN_WIDTH: u32 = 720;
pub const VIDEO_MAX_WIDTH: u32 = 2160;
/// How many images from other angles go with the frontal image.
pub const REFER_IMAGES_MIN: usize = 1;
pub const REFER_IMAGES_MAX: usize = 3;
/// Longest voice ID accepted.
pub const VOICE_ID_MAX_CHARS: usize = 64;
/// What the file picker offers for a reference video (the formats `check_video` accepts).
pub const VIDEO_ACCEPT: &str = "video/mp4,video/quicktime,video/webm,.mp4,.mov,.webm";

/// What the reference video field tells people before they choose a file.
pub fn video_hint() -> String {
    format!(
        "MP4, MOV or WEBM, up to {}, at most {}, {VIDEO_MIN_WIDTH}–{VIDEO_MAX_WIDTH} px wide. It \
         must show one person with a clearly visible face throughout.",
        whole_megabytes(VIDEO_MAX_BYTES),
        whole_seconds(VIDEO_MAX_MS)
    )
}

super::vocab::text_enum! {
    /// How an element is made (as stored and sent by forms).
    pub enum ReferenceType {
        /// From one short face-visible video.
        Video = "video",
        /// From a frontal image plus 1–3 other angles.
        Images = "images",
    }
}

/// Problems with the name and description; empty when both are acceptable.
pub fn check_text(name: &str, description: &str) -> Vec<String> {
    check_name(name)
        .into_iter()
        .chain(check_description(description))
        .collect()
}

/// A problem with the name, if any.
pub fn check_name(name: &str) -> Option<String> {
    let chars = name.trim().chars().count();
    if chars == 0 {
        Some("Give the element a name.".to_string())
    } else if chars > NAME_MAX_CHARS {
        Some(format!(
            "Name is {chars} characters; it must be at most {NAME_MAX_CHARS}."
        ))
    } else {
        None
    }
}

/// A problem with the description, if any.
pub fn check_description(description: &str) -> Option<String> {
    let chars = description.trim().chars().count();
    if chars == 0 {
        Some("Describe the element (who it is, what they look like).".to_string())
    } else if chars > DESCRIPTION_MAX_CHARS {
        Some(format!(
            "Description is {chars} characters; it must be at most {DESCRIPTION_MAX_CHARS}."
        ))
    } else {
        None
    }
}

/// A problem with the voice ID for the reference type, if any (empty is fine).
pub fn check_voice_id(voice_id: &str, reference: ReferenceType) -> Option<String> {
    let voice_id = voice_id.trim();
    if voice_id.is_empty() {
        return None;
    }
    if reference == ReferenceType::Images {
        return Some(
            "A voice ID can only be bound to an element made from a video; clear it or choose \"From video\"."
                .into(),
        );
    }
    if !voice_id.chars().all(|c| c.is_ascii_digit()) || voice_id.len() > VOICE_ID_MAX_CHARS {
        return Some("Voice ID must be digits only, like 829824295735410756.".into());
    }
    None
}

/// Every problem with a reference video; empty when it is acceptable.
pub fn check_video(facts: &VideoFacts) -> Vec<String> {
    let mut problems = Vec::new();
    if !matches!(
        facts.format,
        VideoFormat::Mp4 | VideoFormat::Mov | VideoFormat::Webm
    ) {
        problems.push("Element video must be an MP4, MOV or WEBM file.".to_string());
        return problems;
    }
    if facts.bytes > VIDEO_MAX_BYTES {
        problems.push(format!(
            "Element video is {}; it must be at most {}.",
            megabytes(facts.bytes),
            whole_megabytes(VIDEO_MAX_BYTES)
        ));
    }
    if !(VIDEO_MIN_WIDTH..=VIDEO_MAX_WIDTH).contains(&facts.width) {
        problems.push(format!(
            "Element video is {} px wide; it must be {VIDEO_MIN_WIDTH}–{VIDEO_MAX_WIDTH} px wide.",
            facts.width
        ));
    }
    if facts.duration_ms > VIDEO_MAX_MS {
        problems.push(format!(
            "Element video is {}; it must be at most {}.",
            seconds(facts.duration_ms),
            whole_seconds(VIDEO_MAX_MS)
        ));
    }
    problems
}

/// A problem with the number of other-angle images, if any.
pub fn check_refer_count(count: usize) -> Option<String> {
    (!(REFER_IMAGES_MIN..=REFER_IMAGES_MAX).contains(&count)).then(|| {
        format!(
            "Add {REFER_IMAGES_MIN}–{REFER_IMAGES_MAX} images from other angles (you have {count})."
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::motion_inputs::{ImageFacts, ImageFormat};

    fn video(width: u32, duration_ms: u64) -> VideoFacts {
        VideoFacts {
            format: VideoFormat::Webm,
            bytes: 3_000_000,
            width,
            height: 1280,
            duration_ms,
        }
    }

    #[test]
    fn text_limits_name_the_count() {
        assert!(check_text("Mia", "A dancer in a red dress").is_empty());
        assert_eq!(
            check_text("An extremely long name", "ok"),
            vec!["Name is 22 characters; it must be at most 20."]
        );
        assert_eq!(
            check_text("Mia", &"x".repeat(101)),
            vec!["Description is 101 characters; it must be at most 100."]
        );
        assert_eq!(check_text(" ", " ").len(), 2);
        assert_eq!(
            check_name("An extremely long name").as_deref(),
            Some("Name is 22 characters; it must be at most 20.")
        );
        assert_eq!(
            check_name("  ").as_deref(),
            Some("Give the element a name.")
        );
        assert_eq!(check_name("Mia"), None);
        // Characters, not bytes.
        assert!(check_text("Zoë Ångström Ñoño", "café").is_empty());
    }

    #[test]
    fn voice_ids_are_digits_and_only_for_video_elements() {
        assert_eq!(check_voice_id("", ReferenceType::Images), None);
        assert_eq!(
            check_voice_id("829824295735410756", ReferenceType::Video),
            None
        );
        assert!(check_voice_id("abc", ReferenceType::Video)
            .unwrap()
            .contains("digits only"));
        assert!(check_voice_id("123", ReferenceType::Images)
            .unwrap()
            .contains("only be bound to an element made from a video"));
    }

    #[test]
    fn videos_are_checked_for_width_and_length() {
        assert!(check_video(&video(720, 5_000)).is_empty());
        assert_eq!(
            check_video(&video(640, 5_000)),
            vec!["Element video is 640 px wide; it must be 720–2160 px wide."]
        );
        assert_eq!(
            check_video(&video(720, 10_000)),
            vec!["Element video is 10.0 s; it must be at most 8 s."]
        );
        assert_eq!(
            check_video(&VideoFacts {
                format: VideoFormat::Other,
                ..video(720, 5_000)
            }),
            vec!["Element video must be an MP4, MOV or WEBM file."]
        );
    }

    #[test]
    fn the_video_hint_and_size_limit_name_the_limits() {
        assert_eq!(
            video_hint(),
            "MP4, MOV or WEBM, up to 100 MB, at most 8 s, 720–2160 px wide. It must show one \
             person with a clearly visible face throughout."
        );
        assert_eq!(
            check_video(&VideoFacts {
                bytes: 101 * 1024 * 1024,
                ..video(720, 5_000)
            }),
            vec!["Element video is 101.0 MB; it must be at most 100 MB."]
        );
    }

    #[test]
    fn images_and_their_count() {
        let facts = ImageFacts {
            format: ImageFormat::Png,
            bytes: 1000,
            width: 200,
            height: 400,
        };
        assert_eq!(
            check_image("Frontal image", &facts),
            vec!["Frontal image is 200×400 px; both sides must be at least 300 px."]
        );
        assert_eq!(check_refer_count(1), None);
        assert_eq!(check_refer_count(3), None);
        assert_eq!(
            check_refer_count(0).unwrap(),
            "Add 1–3 images from other angles (you have 0)."
        );
        assert!(check_refer_count(4).is_some());
    }
}
