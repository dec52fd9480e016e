//! The upstream's task error codes (`docs/upstream.md` §7.2) in plain words, with what to do.

/// A message for a failed task's code; the upstream's own words are appended when useful.
pub fn failure_message(code: &str, upstream_message: &str) -> String {
    let advice = match code {
        "content_policy_violation" => {
            "EvoLink's safety filters blocked this task (real faces, celebrities, brands, nudity, violence or minors). Change the image, video or prompt and try again."
        }
        "invalid_parameters" => {
            "EvoLink refused the inputs as out of range (size, format, duration or prompt length). Check them and try again."
        }
        "image_processing_error" => {
            "EvoLink could not read the character image. Try another JPG or PNG."
        }
        "image_dimension_mismatch" => {
            "The image's size does not suit the request. Try an image with a less extreme aspect ratio."
        }
        "request_cancelled" => "The task was cancelled upstream. Submit it again.",
        "generation_failed_no_content" => {
            "The model returned nothing. Try again, perhaps with a different prompt."
        }
        "service_error" => "EvoLink had an internal error. Try again in a minute.",
        "generation_timeout" => "Generation took too long upstream. Try again later.",
        "resource_exhausted" => "EvoLink is out of capacity right now. Try again in a few minutes.",
        "quota_exceeded" => "The team hit an EvoLink rate or quota limit. Wait a little and try again.",
        "service_unavailable" => "EvoLink is unavailable. Try again in a few minutes.",
        "resource_not_found" => "EvoLink no longer knows this task.",
        _ => "The task failed upstream for an unknown reason. Try again; if it keeps failing, tell your admin.",
    };
    let upstream = upstream_message.trim().replace('\n', " ");
    if upstream.is_empty() {
        advice.to_string()
    } else {
        format!("{advice} (EvoLink said: {upstream})")
    }
}

#[cfg(test)]
mod tests {
    use super::failure_message;

    #[test]
    fn codes_become_advice() {
        assert!(
            failure_message("content_policy_violation", "").starts_with("EvoLink's safety filters")
        );
        assert!(failure_message("resource_exhausted", "busy").ends_with("(EvoLink said: busy)"));
        assert!(failure_message("something_new", "").contains("unknown reason"));
    }
}
