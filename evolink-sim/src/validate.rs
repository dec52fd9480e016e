//! Request validation with the documented error bodies (`docs/upstream.md` §2, §7, §9).

use serde_json::Value;

use crate::state::error_body;

/// A refused request: the status and the body to answer with.
pub type Refusal = (u16, Value);

/// A validated motion-control request.
pub struct MotionInput {
    pub image_url: String,
    pub video_url: String,
    pub quality: String,
    pub orientation: String,
    pub callback_url: Option<String>,
}

/// A validated custom-element request.
pub struct ElementInput {
    pub input_urls: Vec<(String, &'static str)>,
    pub callback_url: Option<String>,
}

fn invalid(message: impl Into<String>, param: &str) -> Refusal {
    (
        400,
        error_body(
            "invalid_request",
            &message.into(),
            "invalid_request_error",
            Some(param),
        ),
    )
}

fn uri(value: &Value, param: &str) -> Result<String, Refusal> {
    let text = value
        .as_str()
        .ok_or_else(|| invalid(format!("{param} must be a URL string"), param))?;
    if !(text.starts_with("http://") || text.starts_with("https://")) {
        return Err(invalid(format!("{param} must be an http(s) URL"), param));
    }
    Ok(text.to_string())
}

fn one_url(body: &Value, field: &str) -> Result<String, Refusal> {
    let list = body
        .get(field)
        .and_then(Value::as_array)
        .ok_or_else(|| invalid(format!("{field} is required"), field))?;
    if list.len() != 1 {
        return Err(invalid(
            format!("{field} must contain exactly 1 item, got {}", list.len()),
            field,
        ));
    }
    uri(&list[0], field)
}

fn callback(body: &Value) -> Result<Option<String>, Refusal> {
    match body.get("callback_url") {
        None | Some(Value::Null) => Ok(None),
        Some(value) => {
            let url = uri(value, "callback_url")?;
            if url.len() > 2048 {
                return Err(invalid(
                    "callback_url must be at most 2048 characters",
                    "callback_url",
                ));
            }
            let loopback = url.starts_with("http://127.") || url.starts_with("http://localhost");
            if !url.starts_with("https://") && !loopback {
                return Err(invalid("callback_url must use HTTPS", "callback_url"));
            }
            Ok(Some(url))
        }
    }
}

fn text_field<'a>(params: &'a Value, field: &str, max: usize) -> Result<&'a str, Refusal> {
    let value = params
        .get(field)
        .and_then(Value::as_str)
        .ok_or_else(|| invalid(format!("model_params.{field} is required"), field))?;
    if value.trim().is_empty() {
        return Err(invalid(format!("model_params.{field} is required"), field));
    }
    if value.chars().count() > max {
        return Err(invalid(
            format!("model_params.{field} must be at most {max} characters"),
            field,
        ));
    }
    Ok(value)
}

/// Validates a `kling-v3-motion-control` body.
pub fn motion(body: &Value) -> Result<MotionInput, Refusal> {
    let image_url = one_url(body, "image_urls")?;
    let video_url = one_url(body, "video_urls")?;
    if let Some(prompt) = body.get("prompt").filter(|p| !p.is_null()) {
        let prompt = prompt
            .as_str()
            .ok_or_else(|| invalid("prompt must be a string", "prompt"))?;
        if prompt.chars().count() > 2500 {
            return Err(invalid("prompt must be at most 2500 characters", "prompt"));
        }
    }
    let quality = match body.get("quality") {
        None | Some(Value::Null) => "720p".to_string(),
        Some(Value::String(q)) if q == "720p" || q == "1080p" => q.clone(),
        Some(_) => return Err(invalid("quality must be 720p or 1080p", "quality")),
    };
    let params = body
        .get("model_params")
        .filter(|p| p.is_object())
        .ok_or_else(|| invalid("model_params is required", "model_params"))?;
    let orientation = match params.get("character_orientation").and_then(Value::as_str) {
        Some(o @ ("image" | "video")) => o.to_string(),
        Some(_) => {
            return Err(invalid(
                "character_orientation must be image or video",
                "character_orientation",
            ))
        }
        None => {
            return Err(invalid(
                "model_params.character_orientation is required",
                "character_orientation",
            ))
        }
    };
    if let Some(keep) = params.get("keep_sound") {
        if !keep.is_boolean() {
            return Err(invalid("keep_sound must be a boolean", "keep_sound"));
        }
    }
    if let Some(list) = params.get("element_list").filter(|l| !l.is_null()) {
        let list = list
            .as_array()
            .ok_or_else(|| invalid("element_list must be an array", "element_list"))?;
        if list.len() > 1 {
            return Err(invalid(
                "element_list supports at most 1 element",
                "element_list",
            ));
        }
        if let Some(item) = list.first() {
            if !item.get("element_id").is_some_and(Value::is_string) {
                return Err(invalid(
                    "element_list[0].element_id must be a string",
                    "element_list",
                ));
            }
            if orientation != "video" {
                return Err(invalid(
                    "element_list requires character_orientation video",
                    "character_orientation",
                ));
            }
        }
    }
    if let Some(watermark) = params.get("watermark_info").filter(|w| !w.is_null()) {
        if !watermark.get("enabled").is_some_and(Value::is_boolean) {
            return Err(invalid(
                "watermark_info.enabled must be a boolean",
                "watermark_info",
            ));
        }
    }
    Ok(MotionInput {
        image_url,
        video_url,
        quality,
        orientation,
        callback_url: callback(body)?,
    })
}

/// Validates a `kling-custom-element` body.
pub fn element(body: &Value) -> Result<ElementInput, Refusal> {
    for field in ["prompt", "duration", "quality", "aspect_ratio"] {
        if body.get(field).is_some() {
            return Err(invalid(
                format!("{field} is not supported by kling-custom-element"),
                field,
            ));
        }
    }
    let params = body
        .get("model_params")
        .filter(|p| p.is_object())
        .ok_or_else(|| invalid("model_params is required", "model_params"))?;
    text_field(params, "element_name", 20)?;
    text_field(params, "element_description", 100)?;
    let reference = params.get("reference_type").and_then(Value::as_str);
    let mut input_urls = Vec::new();
    match reference {
        Some("image_refer") => {
            if params.get("element_voice_id").is_some_and(|v| !v.is_null()) {
                return Err(invalid(
                    "element_voice_id is only supported with reference_type video_refer",
                    "element_voice_id",
                ));
            }
            let list = params.get("element_image_list").ok_or_else(|| {
                invalid(
                    "element_image_list is required for image_refer",
                    "element_image_list",
                )
            })?;
            let frontal = list.get("frontal_image").ok_or_else(|| {
                invalid(
                    "element_image_list.frontal_image is required",
                    "frontal_image",
                )
            })?;
            input_urls.push((uri(frontal, "frontal_image")?, "image"));
            let refer = list
                .get("refer_images")
                .and_then(Value::as_array)
                .ok_or_else(|| {
                    invalid(
                        "element_image_list.refer_images is required",
                        "refer_images",
                    )
                })?;
            if refer.is_empty() || refer.len() > 3 {
                return Err(invalid(
                    format!(
                        "refer_images must contain 1 to 3 items, got {}",
                        refer.len()
                    ),
                    "refer_images",
                ));
            }
            for item in refer {
                let url = item
                    .get("image_url")
                    .ok_or_else(|| invalid("refer_images items need image_url", "refer_images"))?;
                input_urls.push((uri(url, "refer_images")?, "image"));
            }
        }
        Some("video_refer") => {
            let list = params.get("element_video_list").ok_or_else(|| {
                invalid(
                    "element_video_list is required for video_refer",
                    "element_video_list",
                )
            })?;
            let videos = list
                .get("refer_videos")
                .and_then(Value::as_array)
                .ok_or_else(|| {
                    invalid(
                        "element_video_list.refer_videos is required",
                        "refer_videos",
                    )
                })?;
            if videos.len() != 1 {
                return Err(invalid(
                    format!(
                        "refer_videos must contain exactly 1 item, got {}",
                        videos.len()
                    ),
                    "refer_videos",
                ));
            }
            let url = videos[0]
                .get("video_url")
                .ok_or_else(|| invalid("refer_videos items need video_url", "refer_videos"))?;
            input_urls.push((uri(url, "refer_videos")?, "video"));
            if let Some(voice) = params.get("element_voice_id").filter(|v| !v.is_null()) {
                if !voice.is_string() {
                    return Err(invalid(
                        "element_voice_id must be a string",
                        "element_voice_id",
                    ));
                }
            }
        }
        _ => {
            return Err(invalid(
                "reference_type must be image_refer or video_refer",
                "reference_type",
            ))
        }
    }
    Ok(ElementInput {
        input_urls,
        callback_url: callback(body)?,
    })
}
