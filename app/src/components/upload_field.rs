//! A file field with drag-and-drop, preview, checks before upload (the shared rules), an upload
//! progress bar with cancel, and the server's final verdict.

use leptos::{prelude::*, task::spawn_local};

use crate::browser::{self, UploadOutcome};
use crate::model::{UploadPurpose, UploadView};
use crate::rules::{
    element_inputs,
    format::human_bytes,
    motion_inputs::{check_image, check_video, seconds},
    pricing::Orientation,
};

/// Where the field is.
#[derive(Clone, Debug, PartialEq)]
enum Phase {
    Empty,
    Checking,
    Uploading(u8),
    Ready,
    Refused(Vec<String>),
}

/// One upload field bound to `value` (the stored upload, once the server accepted it).
#[component]
pub fn UploadField(
    label: &'static str,
    purpose: UploadPurpose,
    accept: &'static str,
    #[prop(into)] hint: String,
    value: RwSignal<Option<UploadView>>,
    /// The input's DOM id, when one page has several fields of the same purpose.
    #[prop(optional)]
    field_id: Option<&'static str>,
) -> impl IntoView {
    let id = field_id.unwrap_or(purpose.as_str());
    let phase = RwSignal::new(Phase::Empty);
    let preview = RwSignal::new(None::<String>);
    let dragging = RwSignal::new(false);

    // A prefilled value (Run again) shows its stored file.
    Effect::new(move |_| {
        if let Some(upload) = value.get() {
            if preview.get_untracked().is_none() {
                preview.set(Some(format!("/api/uploads/{}/file", upload.id)));
                phase.set(Phase::Ready);
            }
        }
    });

    let take_file = move |file: web_sys::File| {
        value.set(None);
        phase.set(Phase::Checking);
        let url = browser::preview_url(&file);
        preview.set(url.clone());
        spawn_local(async move {
            let url = url.unwrap_or_default();
            let problems = match purpose {
                UploadPurpose::CharacterImage => browser::image_facts(&file, &url)
                    .await
                    .map(|facts| check_image(&facts)),
                UploadPurpose::MotionVideo => browser::video_facts(&file, &url)
                    .await
                    .map(|facts| check_video(&facts, Orientation::Video)),
                UploadPurpose::ElementImage => browser::image_facts(&file, &url)
                    .await
                    .map(|facts| element_inputs::check_image(label, &facts)),
                UploadPurpose::ElementVideo => browser::video_facts(&file, &url)
                    .await
                    .map(|facts| element_inputs::check_video(&facts)),
            };
            match problems {
                Err(problem) => phase.set(Phase::Refused(vec![problem])),
                Ok(problems) if !problems.is_empty() => phase.set(Phase::Refused(problems)),
                Ok(_) => {
                    phase.set(Phase::Uploading(0));
                    let started = browser::start_upload(
                        &file,
                        purpose,
                        move |percent| phase.set(Phase::Uploading(percent)),
                        move |outcome| match outcome {
                            UploadOutcome::Done(view) => {
                                value.set(Some(view));
                                phase.set(Phase::Ready);
                            }
                            UploadOutcome::Failed(message) => {
                                phase.set(Phase::Refused(vec![message]))
                            }
                            UploadOutcome::Cancelled => {
                                phase.set(Phase::Refused(vec!["Upload cancelled.".into()]))
                            }
                        },
                    );
                    match started {
                        Ok(started) => browser::remember_upload(id, started),
                        Err(message) => phase.set(Phase::Refused(vec![message])),
                    }
                }
            }
        });
    };

    let on_change = move |event: web_sys::Event| {
        if let Some(file) = browser::chosen_file(&event) {
            take_file(file);
        }
    };
    let on_drop = move |event: web_sys::DragEvent| {
        event.prevent_default();
        dragging.set(false);
        if let Some(file) = browser::dropped_file(&event) {
            take_file(file);
        }
    };
    let cancel = move |_| browser::cancel_upload(id);
    let is_video = matches!(
        purpose,
        UploadPurpose::MotionVideo | UploadPurpose::ElementVideo
    );
    let facts = move || {
        value.get().map(|upload| {
            let size = human_bytes(upload.bytes);
            match upload.duration_ms {
                Some(ms) => format!(
                    "{}×{} px · {} · {size}",
                    upload.width,
                    upload.height,
                    seconds(ms)
                ),
                None => format!("{}×{} px · {size}", upload.width, upload.height),
            }
        })
    };

    view! {
        <div
            class="upload-field"
            class:dragging=move || dragging.get()
            on:dragover=move |event: web_sys::DragEvent| {
                event.prevent_default();
                dragging.set(true);
            }
            on:dragleave=move |_| dragging.set(false)
            on:drop=on_drop
        >
            <label for=id>{label}</label>
            <input
                id=id
                type="file"
                accept=accept
                on:change=on_change
                aria-describedby=format!("{id}-hint")
            />
            <small id=format!("{id}-hint")>{hint} " Drop a file here or choose one."</small>
            {move || {
                preview
                    .get()
                    .map(|src| {
                        if is_video {
                            view! {
                                <video
                                    class="preview"
                                    src=src
                                    controls
                                    muted
                                    preload="metadata"
                                ></video>
                            }
                                .into_any()
                        } else {
                            view! { <img class="preview" src=src alt=format!("{label} preview") /> }
                                .into_any()
                        }
                    })
            }}
            {move || match phase.get() {
                Phase::Empty => ().into_any(),
                Phase::Checking => view! { <p class="hint">"Checking…"</p> }.into_any(),
                Phase::Uploading(percent) => {
                    view! {
                        <div class="progress-row">
                            <progress
                                max="100"
                                value=percent
                                aria-label=format!("{label} upload")
                            ></progress>
                            <span>{format!("{percent}%")}</span>
                            <button type="button" class="small" on:click=cancel>
                                "Cancel upload"
                            </button>
                        </div>
                    }
                        .into_any()
                }
                Phase::Ready => view! { <p class="success">"Uploaded · " {facts}</p> }.into_any(),
                Phase::Refused(problems) => {
                    view! {
                        <ul class="error" role="alert">
                            {problems.into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}
                        </ul>
                    }
                        .into_any()
                }
            }}
        </div>
    }
}
