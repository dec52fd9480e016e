//! `POST /v1/videos/generations`: EvoLink's create body, validated with the studio's rules,
//! its inputs turned into the member's uploads, then submitted through the studio's own path
//! (one transaction: budget check, reservation, task row), so the task joins the engine like
//! any other. An `Idempotency-Key` makes a retry return the first task without new downloads.

use serde_json::Value;

use crate::backend::{
    accounts::random_token,
    audit::{Actor, Origin},
    elements::create_element as create_library_element,
    evolink::wire,
    tasks::submit_motion,
    AppState,
};
use crate::model::{ElementForm, MotionForm, UploadPurpose};
use crate::rules::{
    element_inputs::{check_text, check_voice_id, ReferenceType},
    motion_inputs::check_prompt,
    vocab::{Orientation, Quality},
};

use super::{input_upload, task_json, Caller, Gateway, GatewayError};

/// The longest `Idempotency-Key` accepted.
pub const IDEMPOTENCY_KEY_MAX: usize = 80;

fn invalid(message: impl Into<String>, param: &'static str) -> GatewayError {
    GatewayError::invalid_param(message, param)
}

/// The one URL in the list field `field`.
fn one_url<'a>(body: &'a Value, field: &'static str) -> Result<&'a str, GatewayError> {
    let list = body
        .get(field)
        .and_then(Value::as_array)
        .ok_or_else(|| invalid(format!("{field} is required: a list with one URL."), field))?;
    match list.as_slice() {
        [Value::String(url)] => Ok(url),
        [_] => Err(invalid(format!("{field} must hold a URL string."), field)),
        _ => Err(invalid(
            format!("{field} must contain exactly 1 item, got {}.", list.len()),
            field,
        )),
    }
}

/// The text field `field` of `params`, empty when absent.
fn text<'a>(params: &'a Value, field: &'static str) -> Result<&'a str, GatewayError> {
    match params.get(field) {
        None | Some(Value::Null) => Ok(""),
        Some(Value::String(text)) => Ok(text),
        Some(_) => Err(invalid(format!("{field} must be a string."), field)),
    }
}

/// Creates the task the body asks for and answers it in EvoLink's task shape. The task and its
/// audit entry (from `origin`) keep the caller's API token.
pub async fn create(
    state: &AppState,
    gateway: &Gateway,
    caller: &Caller,
    origin: &Origin,
    idempotency_key: Option<&str>,
    body: &[u8],
) -> Result<Value, GatewayError> {
    let body: Value = serde_json::from_slice(body)
        .map_err(|_| GatewayError::invalid("The request body must be a JSON object."))?;
    let model = body
        .get("model")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("model is required.", "model"))?;
    let scope = caller.token.scope;
    let allowed = match model {
        wire::MOTION_MODEL => scope.allows_motion(),
        wire::ELEMENT_MODEL => scope.allows_elements(),
        other => {
            return Err(invalid(
                format!(
                    "Unsupported model: {other}. Kinema offers {} and {}.",
                    wire::MOTION_MODEL,
                    wire::ELEMENT_MODEL
                ),
                "model",
            ))
        }
    };
    if !allowed {
        return Err(GatewayError::scope(format!(
            "This API token ({}) may not use model {model}.",
            scope.label().to_lowercase()
        )));
    }
    let key = match idempotency_key.map(str::trim) {
        None | Some("") => format!("api:{}", &random_token()[..24]),
        Some(key) if key.len() > IDEMPOTENCY_KEY_MAX || key.chars().any(char::is_control) => {
            return Err(GatewayError::invalid(format!(
                "The Idempotency-Key header must be at most {IDEMPOTENCY_KEY_MAX} characters of plain text."
            )))
        }
        Some(key) => format!("api:{key}"),
    };
    // A retried create returns the first task at once, before anything is downloaded again.
    let stored_key = if model == wire::ELEMENT_MODEL {
        format!("element:{key}")
    } else {
        key.clone()
    };
    if let Some(task) = state
        .store()
        .task_by_idempotency_key(caller.user.id, &stored_key)
        .await?
    {
        let element = state.store().element_id_of_task(&task.id).await?;
        return Ok(task_json(state, &task, element.as_deref()));
    }
    let actor = caller.actor(origin);
    if model == wire::MOTION_MODEL {
        create_motion(state, gateway, caller, &actor, &body, key).await
    } else {
        create_element(state, gateway, caller, &actor, &body, key).await
    }
}

async fn create_motion(
    state: &AppState,
    gateway: &Gateway,
    caller: &Caller,
    actor: &Actor,
    body: &Value,
    key: String,
) -> Result<Value, GatewayError> {
    let image_url = one_url(body, "image_urls")?;
    let video_url = one_url(body, "video_urls")?;
    let prompt = text(body, "prompt")?;
    if let Some(problem) = check_prompt(prompt) {
        return Err(invalid(problem, "prompt"));
    }
    let quality = match body.get("quality") {
        None | Some(Value::Null) => Quality::P720,
        Some(Value::String(word)) => Quality::parse(word)
            .ok_or_else(|| invalid("quality must be 720p or 1080p.", "quality"))?,
        Some(_) => return Err(invalid("quality must be 720p or 1080p.", "quality")),
    };
    let params = body
        .get("model_params")
        .filter(|params| params.is_object())
        .ok_or_else(|| invalid("model_params is required.", "model_params"))?;
    let orientation = text(params, "character_orientation")?;
    if Orientation::parse(orientation).is_none() {
        return Err(invalid(
            "model_params.character_orientation must be image or video.",
            "character_orientation",
        ));
    }
    let keep_sound = match params.get("keep_sound") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(keep)) => *keep,
        Some(_) => return Err(invalid("keep_sound must be a boolean.", "keep_sound")),
    };
    let element_id = match params.get("element_list") {
        None | Some(Value::Null) => String::new(),
        Some(Value::Array(list)) if list.is_empty() => String::new(),
        Some(Value::Array(list)) if list.len() == 1 => list[0]
            .get("element_id")
            .and_then(|id| match id {
                Value::String(id) => Some(id.clone()),
                Value::Number(id) => Some(id.to_string()),
                _ => None,
            })
            .ok_or_else(|| invalid("element_list items need an element_id.", "element_list"))?,
        Some(_) => {
            return Err(invalid(
                "element_list holds at most one { \"element_id\": … }.",
                "element_list",
            ))
        }
    };
    let image_upload_id = input_upload(
        state,
        gateway,
        caller,
        image_url,
        UploadPurpose::CharacterImage,
        "image_urls",
    )
    .await?;
    let video_upload_id = input_upload(
        state,
        gateway,
        caller,
        video_url,
        UploadPurpose::MotionVideo,
        "video_urls",
    )
    .await?;
    let form = MotionForm {
        image_upload_id,
        video_upload_id,
        quality: quality.as_str().to_string(),
        orientation: orientation.to_string(),
        keep_sound,
        prompt: prompt.to_string(),
        idempotency_key: key,
        element_id,
    };
    let view = submit_motion(state, actor, &caller.user, form).await?;
    let task = state
        .store()
        .task_of_owner(&view.id, caller.user.id)
        .await?
        .ok_or_else(|| GatewayError::internal("reading a new task", "it vanished"))?;
    Ok(task_json(state, &task, None))
}

async fn create_element(
    state: &AppState,
    gateway: &Gateway,
    caller: &Caller,
    actor: &Actor,
    body: &Value,
    key: String,
) -> Result<Value, GatewayError> {
    let params = body
        .get("model_params")
        .filter(|params| params.is_object())
        .ok_or_else(|| invalid("model_params is required.", "model_params"))?;
    let name = text(params, "element_name")?;
    let description = text(params, "element_description")?;
    let voice_id = text(params, "element_voice_id")?;
    let reference = match text(params, "reference_type")? {
        "video_refer" => ReferenceType::Video,
        "image_refer" => ReferenceType::Images,
        _ => {
            return Err(invalid(
                "model_params.reference_type must be video_refer or image_refer.",
                "reference_type",
            ))
        }
    };
    let mut problems = check_text(name, description);
    problems.extend(check_voice_id(voice_id, reference));
    if !problems.is_empty() {
        return Err(GatewayError::invalid(problems.join(" ")));
    }
    let mut form = ElementForm {
        name: name.to_string(),
        description: description.to_string(),
        reference_type: reference.as_str().to_string(),
        video_upload_id: String::new(),
        frontal_upload_id: String::new(),
        refer_upload_ids: String::new(),
        voice_id: voice_id.to_string(),
        idempotency_key: key,
    };
    match reference {
        ReferenceType::Video => {
            let url = params
                .pointer("/element_video_list/refer_videos/0/video_url")
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    invalid(
                        "element_video_list.refer_videos needs one { \"video_url\": … }.",
                        "element_video_list",
                    )
                })?;
            form.video_upload_id = input_upload(
                state,
                gateway,
                caller,
                url,
                UploadPurpose::ElementVideo,
                "element_video_list",
            )
            .await?;
        }
        ReferenceType::Images => {
            let list = params.get("element_image_list");
            let frontal = list
                .and_then(|list| list.get("frontal_image"))
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    invalid(
                        "element_image_list.frontal_image is required.",
                        "element_image_list",
                    )
                })?;
            let refer: Vec<&str> = list
                .and_then(|list| list.get("refer_images"))
                .and_then(Value::as_array)
                .map(|images| {
                    images
                        .iter()
                        .filter_map(|image| image.get("image_url").and_then(Value::as_str))
                        .collect()
                })
                .unwrap_or_default();
            if let Some(problem) = crate::rules::element_inputs::check_refer_count(refer.len()) {
                return Err(invalid(problem, "element_image_list"));
            }
            form.frontal_upload_id = input_upload(
                state,
                gateway,
                caller,
                frontal,
                UploadPurpose::ElementImage,
                "element_image_list",
            )
            .await?;
            let mut ids = Vec::new();
            for url in refer {
                ids.push(
                    input_upload(
                        state,
                        gateway,
                        caller,
                        url,
                        UploadPurpose::ElementImage,
                        "element_image_list",
                    )
                    .await?,
                );
            }
            form.refer_upload_ids = ids.join(",");
        }
    }
    let (element, task) = create_library_element(state, actor, &caller.user, form).await?;
    Ok(task_json(state, &task, Some(&element.id)))
}
