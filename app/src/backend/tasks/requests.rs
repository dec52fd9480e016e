//! The upstream create request of a task, built from its stored parameters and published inputs.

use super::{ElementParamsRecord, MotionParamsRecord, TaskParams};
use crate::backend::{
    evolink::wire::{
        ElementImageList, ElementParams, ElementRef, ElementRequest, ElementVideoList, ImageUrl,
        MotionParams, MotionRequest, VideoUrl, ELEMENT_MODEL, MOTION_MODEL,
    },
    store::TaskRecord,
};
use crate::rules::{element_inputs::ReferenceType, vocab::Quality};

/// The upstream request for a task, ready to send.
#[derive(Debug, Clone)]
pub enum CreateRequest {
    Motion(MotionRequest),
    Element(ElementRequest),
}

/// The uploads a task sends, in request order: motion (image, video); element from a video
/// (video); element from images (frontal, then the other angles).
pub fn input_upload_ids(task: &TaskRecord) -> Vec<Option<String>> {
    match &task.params {
        TaskParams::Motion(_) => vec![task.image_upload_id.clone(), task.video_upload_id.clone()],
        TaskParams::Element(params) => match params.reference_type {
            ReferenceType::Video => vec![task.video_upload_id.clone()],
            ReferenceType::Images => {
                let mut ids = vec![task.image_upload_id.clone()];
                ids.extend(params.refer_upload_ids.iter().cloned().map(Some));
                ids
            }
        },
    }
}

/// The create request for `task`, whose inputs were published as `urls` (in the order of
/// [`input_upload_ids`]).
pub fn create_request(
    task: &TaskRecord,
    urls: &[String],
    callback_url: Option<String>,
) -> CreateRequest {
    match &task.params {
        TaskParams::Motion(params) => CreateRequest::Motion(motion_request(
            params,
            task.quality.unwrap_or(Quality::P720),
            urls,
            callback_url,
        )),
        TaskParams::Element(params) => {
            CreateRequest::Element(element_request(params, urls, callback_url))
        }
    }
}

fn motion_request(
    params: &MotionParamsRecord,
    quality: Quality,
    urls: &[String],
    callback_url: Option<String>,
) -> MotionRequest {
    MotionRequest {
        model: MOTION_MODEL.into(),
        image_urls: urls.first().cloned().into_iter().collect(),
        video_urls: urls.get(1).cloned().into_iter().collect(),
        prompt: Some(params.prompt.clone()).filter(|p| !p.is_empty()),
        quality: Some(quality.as_str().into()),
        model_params: MotionParams {
            character_orientation: params.orientation.as_str().into(),
            keep_sound: Some(params.keep_sound),
            element_list: params.element.as_ref().map(|element| {
                vec![ElementRef {
                    element_id: element.upstream_id.clone(),
                }]
            }),
            watermark_info: None,
        },
        callback_url,
    }
}

fn element_request(
    params: &ElementParamsRecord,
    urls: &[String],
    callback_url: Option<String>,
) -> ElementRequest {
    let from_video = params.reference_type == ReferenceType::Video;
    ElementRequest {
        model: ELEMENT_MODEL.into(),
        model_params: ElementParams {
            element_name: params.name.clone(),
            element_description: params.description.clone(),
            reference_type: if from_video {
                "video_refer"
            } else {
                "image_refer"
            }
            .into(),
            element_image_list: (!from_video).then(|| ElementImageList {
                frontal_image: urls.first().cloned().unwrap_or_default(),
                refer_images: urls
                    .iter()
                    .skip(1)
                    .map(|url| ImageUrl {
                        image_url: url.clone(),
                    })
                    .collect(),
            }),
            element_video_list: from_video.then(|| ElementVideoList {
                refer_videos: urls
                    .first()
                    .map(|url| VideoUrl {
                        video_url: url.clone(),
                    })
                    .into_iter()
                    .collect(),
            }),
            element_voice_id: params.voice_id.clone().filter(|_| from_video),
        },
        callback_url,
    }
}
