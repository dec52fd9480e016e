//! Browser-only helpers, called from event handlers (which never run on the server): reading a
//! chosen file's facts, uploading with progress and cancel, idempotency keys, live task events.

use std::{cell::RefCell, collections::HashMap, rc::Rc};

use wasm_bindgen::{closure::Closure, JsCast};
use web_sys::{
    Event, EventSource, File, HtmlImageElement, HtmlInputElement, HtmlVideoElement, MessageEvent,
    ProgressEvent, Url, XmlHttpRequest,
};

use crate::model::{UploadPurpose, UploadView};
use crate::rules::motion_inputs::{ImageFacts, ImageFormat, VideoFacts, VideoFormat};

/// The file chosen in an `<input type=file>` change event.
pub fn chosen_file(event: &Event) -> Option<File> {
    let input: HtmlInputElement = event.target()?.dyn_into().ok()?;
    input.files()?.get(0)
}

/// The file dropped on an element.
pub fn dropped_file(event: &web_sys::DragEvent) -> Option<File> {
    event.data_transfer()?.files()?.get(0)
}

/// A preview URL for a file (revoke it when done).
pub fn preview_url(file: &File) -> Option<String> {
    Url::create_object_url_with_blob(file).ok()
}

fn lower_name(file: &File) -> String {
    file.name().to_lowercase()
}

/// Waits for one of two events on `target`; true for the first.
async fn first_of(target: &web_sys::EventTarget, ok: &str, err: &str) -> bool {
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        let on_ok = {
            let resolve = resolve.clone();
            Closure::once_into_js(move || {
                let _ = resolve.call1(&wasm_bindgen::JsValue::NULL, &wasm_bindgen::JsValue::TRUE);
            })
        };
        let on_err = Closure::once_into_js(move || {
            let _ = resolve.call1(&wasm_bindgen::JsValue::NULL, &wasm_bindgen::JsValue::FALSE);
        });
        let _ = target.add_event_listener_with_callback(ok, on_ok.unchecked_ref());
        let _ = target.add_event_listener_with_callback(err, on_err.unchecked_ref());
    });
    wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .map(|v| v.as_bool().unwrap_or(false))
        .unwrap_or(false)
}

/// Reads an image's format (from its type), size and pixel dimensions in the browser.
pub async fn image_facts(file: &File, preview: &str) -> Result<ImageFacts, String> {
    let name = lower_name(file);
    let format = match file.type_().as_str() {
        "image/png" => ImageFormat::Png,
        "image/jpeg" => ImageFormat::Jpeg,
        _ if name.ends_with(".png") => ImageFormat::Png,
        _ if name.ends_with(".jpg") || name.ends_with(".jpeg") => ImageFormat::Jpeg,
        _ => ImageFormat::Other,
    };
    if format == ImageFormat::Other {
        return Ok(ImageFacts {
            format,
            bytes: file.size() as u64,
            width: 0,
            height: 0,
        });
    }
    let image =
        HtmlImageElement::new().map_err(|_| "This browser cannot read images.".to_string())?;
    image.set_src(preview);
    if !first_of(&image, "load", "error").await {
        return Err("This image cannot be read; it may be damaged.".into());
    }
    Ok(ImageFacts {
        format,
        bytes: file.size() as u64,
        width: image.natural_width(),
        height: image.natural_height(),
    })
}

/// Reads a video's format (from its type), size, duration and dimensions in the browser.
pub async fn video_facts(file: &File, preview: &str) -> Result<VideoFacts, String> {
    let name = lower_name(file);
    let format = match file.type_().as_str() {
        "video/mp4" => VideoFormat::Mp4,
        "video/quicktime" => VideoFormat::Mov,
        "video/webm" => VideoFormat::Webm,
        _ if name.ends_with(".mp4") || name.ends_with(".m4v") => VideoFormat::Mp4,
        _ if name.ends_with(".mov") => VideoFormat::Mov,
        _ if name.ends_with(".webm") => VideoFormat::Webm,
        _ => VideoFormat::Other,
    };
    if format == VideoFormat::Other {
        return Ok(VideoFacts {
            format,
            bytes: file.size() as u64,
            width: 0,
            height: 0,
            duration_ms: 0,
        });
    }
    let document = leptos::prelude::document();
    let video: HtmlVideoElement = document
        .create_element("video")
        .map_err(|_| "This browser cannot read videos.".to_string())?
        .dyn_into()
        .map_err(|_| "This browser cannot read videos.".to_string())?;
    video.set_preload("metadata");
    video.set_muted(true);
    video.set_src(preview);
    if !first_of(&video, "loadedmetadata", "error").await {
        return Err(
            "This video cannot be read by the browser; it may be damaged or use an unusual codec."
                .into(),
        );
    }
    let duration = video.duration();
    Ok(VideoFacts {
        format,
        bytes: file.size() as u64,
        width: video.video_width(),
        height: video.video_height(),
        duration_ms: if duration.is_finite() {
            (duration * 1000.0).round() as u64
        } else {
            0
        },
    })
}

thread_local! {
    /// Uploads in progress, by field. Non-`Send` browser objects live here, never in reactive
    /// storage, which the server would also create (and drop on another thread).
    static UPLOADS: RefCell<HashMap<&'static str, UploadHandle>> = RefCell::new(HashMap::new());
    /// Open live-event subscriptions, by id.
    static SUBSCRIPTIONS: RefCell<HashMap<u64, TaskEvents>> = RefCell::new(HashMap::new());
    static NEXT_SUBSCRIPTION: RefCell<u64> = const { RefCell::new(0) };
}

/// Remembers the upload in progress for a field, so it can be cancelled.
pub fn remember_upload(field: &'static str, handle: UploadHandle) {
    UPLOADS.with(|uploads| uploads.borrow_mut().insert(field, handle));
}

/// Cancels the field's upload in progress, if any.
pub fn cancel_upload(field: &'static str) {
    if let Some(handle) = UPLOADS.with(|uploads| uploads.borrow_mut().remove(field)) {
        handle.cancel();
    }
}

/// An upload in progress; [`UploadHandle::cancel`] aborts it.
#[derive(Clone)]
pub struct UploadHandle(XmlHttpRequest);

impl UploadHandle {
    /// Aborts the upload; the server discards what it received.
    pub fn cancel(&self) {
        let _ = self.0.abort();
    }
}

/// How an upload ended.
pub enum UploadOutcome {
    Done(UploadView),
    Failed(String),
    Cancelled,
}

/// Starts streaming `file` to the upload route; `on_progress` gets percentages.
pub fn start_upload(
    file: &File,
    purpose: UploadPurpose,
    on_progress: impl Fn(u8) + 'static,
    on_end: impl FnOnce(UploadOutcome) + 'static,
) -> Result<UploadHandle, String> {
    let xhr = XmlHttpRequest::new().map_err(|_| "This browser cannot upload.".to_string())?;
    let url = format!(
        "/api/uploads?purpose={}&name={}",
        purpose.as_str(),
        js_sys::encode_uri_component(&file.name())
    );
    xhr.open("POST", &url)
        .map_err(|_| "The upload could not start.".to_string())?;
    let progress = Closure::<dyn Fn(ProgressEvent)>::new(move |event: ProgressEvent| {
        if event.length_computable() && event.total() > 0.0 {
            on_progress(((event.loaded() / event.total()) * 100.0).clamp(0.0, 100.0) as u8);
        }
    });
    if let Ok(upload) = xhr.upload() {
        upload.set_onprogress(Some(progress.as_ref().unchecked_ref()));
    }
    progress.forget();
    let on_end = Rc::new(RefCell::new(Some(on_end)));
    let finish = {
        let xhr = xhr.clone();
        let on_end = on_end.clone();
        Closure::<dyn Fn()>::new(move || {
            let Some(on_end) = on_end.borrow_mut().take() else {
                return;
            };
            let status = xhr.status().unwrap_or(0);
            let text = xhr.response_text().ok().flatten().unwrap_or_default();
            if status == 201 {
                match serde_json::from_str::<UploadView>(&text) {
                    Ok(view) => on_end(UploadOutcome::Done(view)),
                    Err(_) => on_end(UploadOutcome::Failed(
                        "The server's answer could not be read.".into(),
                    )),
                }
            } else if status == 0 {
                on_end(UploadOutcome::Failed(
                    "The upload stopped: the connection was lost.".into(),
                ))
            } else {
                let message = serde_json::from_str::<serde_json::Value>(&text)
                    .ok()
                    .and_then(|v| v["error"].as_str().map(str::to_string))
                    .unwrap_or_else(|| format!("The upload failed (HTTP {status})."));
                on_end(UploadOutcome::Failed(message))
            }
        })
    };
    xhr.set_onloadend(Some(finish.as_ref().unchecked_ref()));
    finish.forget();
    let aborted = Closure::<dyn Fn()>::new(move || {
        if let Some(on_end) = on_end.borrow_mut().take() {
            on_end(UploadOutcome::Cancelled);
        }
    });
    xhr.set_onabort(Some(aborted.as_ref().unchecked_ref()));
    aborted.forget();
    xhr.send_with_opt_blob(Some(file))
        .map_err(|_| "The upload could not start.".to_string())?;
    Ok(UploadHandle(xhr))
}

/// A fresh random idempotency key.
pub fn new_idempotency_key() -> String {
    (0..4)
        .map(|_| format!("{:08x}", (js_sys::Math::random() * u32::MAX as f64) as u32))
        .collect()
}

/// Live task events; closing happens on drop.
pub struct TaskEvents(EventSource);

impl Drop for TaskEvents {
    fn drop(&mut self) {
        self.0.close();
    }
}

/// Calls `on_event` with a task id (or `*`) whenever one of the member's tasks changes; returns
/// the subscription's id for [`unsubscribe`].
pub fn subscribe_task_events(on_event: impl Fn(String) + 'static) -> Option<u64> {
    let source = EventSource::new("/api/events").ok()?;
    let on_event = Rc::new(on_event);
    let on_task = on_event.clone();
    let listener = Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| {
        on_task(event.data().as_string().unwrap_or_default());
    });
    let _ = source.add_event_listener_with_callback("task", listener.as_ref().unchecked_ref());
    listener.forget();
    // After a reconnect (a restart, another instance behind the proxy), changes made while the
    // stream was down were never sent: refresh everything then.
    let opened = std::cell::Cell::new(0u32);
    let on_open = Closure::<dyn Fn(Event)>::new(move |_: Event| {
        opened.set(opened.get() + 1);
        if opened.get() > 1 {
            on_event("*".to_string());
        }
    });
    let _ = source.add_event_listener_with_callback("open", on_open.as_ref().unchecked_ref());
    on_open.forget();
    let id = NEXT_SUBSCRIPTION.with(|next| {
        let mut next = next.borrow_mut();
        *next += 1;
        *next
    });
    SUBSCRIPTIONS.with(|subs| subs.borrow_mut().insert(id, TaskEvents(source)));
    Some(id)
}

/// Closes a live-event subscription.
pub fn unsubscribe(id: u64) {
    SUBSCRIPTIONS.with(|subs| subs.borrow_mut().remove(&id));
}
