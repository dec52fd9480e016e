//! The motion studio: character image, motion video, options, the exact cost, Generate.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api::motion::{get_task, get_upload, SubmitMotion};
use crate::browser;
use crate::components::{
    credits::UsdRate, error_note::ErrorNote, signed_in::SignedIn, upload_field::UploadField,
};
use crate::model::{UploadPurpose, UploadView};
use crate::rules::{
    motion_inputs::{check_video, VideoFacts, VideoFormat, PROMPT_MAX_CHARS},
    pricing::{format_credits, format_usd, motion_cost, Orientation, Quality},
};

/// The studio; signed-in members only.
#[component]
pub fn StudioPage() -> impl IntoView {
    view! {
        <Title text="Motion studio · Kinema" />
        <SignedIn children=|_user| view! { <Studio /> } />
    }
}

fn orientation_of(value: &str) -> Orientation {
    if value == "video" {
        Orientation::Video
    } else {
        Orientation::Image
    }
}

fn quality_of(value: &str) -> Quality {
    if value == "1080p" {
        Quality::P1080
    } else {
        Quality::P720
    }
}

#[component]
fn Studio() -> impl IntoView {
    let image = RwSignal::new(None::<UploadView>);
    let video = RwSignal::new(None::<UploadView>);
    let quality = RwSignal::new("720p".to_string());
    let orientation = RwSignal::new("image".to_string());
    let keep_sound = RwSignal::new(true);
    let prompt = RwSignal::new(String::new());
    let key = RwSignal::new(String::new());
    let submit = ServerAction::<SubmitMotion>::new();
    let navigate = use_navigate();

    // "Run again": prefill from an earlier task.
    let query = use_query_map();
    let again = Resource::new(
        move || query.with(|q| q.get("again")),
        |again| async move {
            let id = again?;
            let task = get_task(id).await.ok()?;
            let image = match &task.image_upload_id {
                Some(id) => get_upload(id.clone()).await.ok(),
                None => None,
            };
            let video = match &task.video_upload_id {
                Some(id) => get_upload(id.clone()).await.ok(),
                None => None,
            };
            Some((task, image, video))
        },
    );
    Effect::new(move |_| {
        if let Some(Some((task, prefill_image, prefill_video))) = again.get() {
            quality.set(task.quality);
            orientation.set(task.orientation);
            keep_sound.set(task.keep_sound);
            prompt.set(task.prompt);
            image.set(prefill_image);
            video.set(prefill_video);
        }
    });

    // Any change of inputs makes the next Generate a new task; repeats of the same do not.
    Effect::new(move |_| {
        image.track();
        video.track();
        quality.track();
        orientation.track();
        keep_sound.track();
        prompt.track();
        key.set(String::new());
    });

    let orientation_problems = move || {
        video
            .get()
            .map(|v| {
                let facts = VideoFacts {
                    format: if v.format == "mov" {
                        VideoFormat::Mov
                    } else {
                        VideoFormat::Mp4
                    },
                    bytes: v.bytes,
                    width: v.width,
                    height: v.height,
                    duration_ms: v.duration_ms.unwrap_or(0),
                };
                check_video(&facts, orientation_of(&orientation.get()))
            })
            .unwrap_or_default()
    };
    let cost = move || {
        video.get().and_then(|v| v.duration_ms).map(|ms| {
            motion_cost(
                quality_of(&quality.get()),
                orientation_of(&orientation.get()),
                ms,
            )
        })
    };
    let ready = move || {
        image.get().is_some()
            && video.get().is_some()
            && orientation_problems().is_empty()
            && prompt.with(|p| p.chars().count() <= PROMPT_MAX_CHARS)
    };
    let usd_rate = use_context::<UsdRate>().and_then(|rate| rate.0);
    let button_label = move || match cost() {
        Some(cost) => match usd_rate {
            Some(rate) => format!(
                "Generate · {} credits ({})",
                format_credits(cost),
                format_usd(cost, rate)
            ),
            None => format!("Generate · {} credits", format_credits(cost)),
        },
        None => "Generate".to_string(),
    };

    let generate = move |event: web_sys::SubmitEvent| {
        event.prevent_default();
        let (Some(image), Some(video)) = (image.get_untracked(), video.get_untracked()) else {
            return;
        };
        if key.get_untracked().is_empty() {
            key.set(browser::new_idempotency_key());
        }
        submit.dispatch(SubmitMotion {
            image_upload_id: image.id,
            video_upload_id: video.id,
            quality: quality.get_untracked(),
            orientation: orientation.get_untracked(),
            keep_sound: keep_sound.get_untracked(),
            prompt: prompt.get_untracked(),
            idempotency_key: key.get_untracked(),
        });
    };
    Effect::new(move |_| {
        if let Some(Ok(task)) = submit.value().get() {
            navigate(&format!("/tasks/{}", task.id), Default::default());
        }
    });

    view! {
        <section class="card">
            <h1>"Motion studio"</h1>
            <p class="hint">
                "Your character performs the motion of the video. Files are checked before they upload."
            </p>
            <form class="studio" on:submit=generate>
                <div class="inputs">
                    <UploadField
                        label="Character image"
                        purpose=UploadPurpose::CharacterImage
                        accept="image/jpeg,image/png,.jpg,.jpeg,.png"
                        hint="JPG or PNG, up to 10 MB, both sides at least 300 px, aspect between 1:2.5 and 2.5:1."
                        value=image
                    />
                    <UploadField
                        label="Motion video"
                        purpose=UploadPurpose::MotionVideo
                        accept="video/mp4,video/quicktime,.mp4,.mov"
                        hint="MP4 or MOV, up to 100 MB, 3–30 s, each side 340–3850 px."
                        value=video
                    />
                </div>
                <fieldset>
                    <legend>"Quality"</legend>
                    <label class="choice">
                        <input
                            type="radio"
                            name="quality"
                            value="720p"
                            prop:checked=move || quality.get() == "720p"
                            on:change=move |_| quality.set("720p".into())
                        />
                        "720p"
                    </label>
                    <label class="choice">
                        <input
                            type="radio"
                            name="quality"
                            value="1080p"
                            prop:checked=move || quality.get() == "1080p"
                            on:change=move |_| quality.set("1080p".into())
                        />
                        "1080p"
                    </label>
                </fieldset>
                <fieldset>
                    <legend>"Character orientation"</legend>
                    <label class="choice">
                        <input
                            type="radio"
                            name="orientation"
                            value="image"
                            prop:checked=move || orientation.get() == "image"
                            on:change=move |_| orientation.set("image".into())
                        />
                        "Match image"
                        <small>" — faces the way the image does; video up to 10 s."</small>
                    </label>
                    <label class="choice">
                        <input
                            type="radio"
                            name="orientation"
                            value="video"
                            prop:checked=move || orientation.get() == "video"
                            on:change=move |_| orientation.set("video".into())
                        />
                        "Match video"
                        <small>" — faces the way the video does; video up to 30 s."</small>
                    </label>
                </fieldset>
                <label class="choice">
                    <input
                        type="checkbox"
                        prop:checked=move || keep_sound.get()
                        on:change=move |event| keep_sound.set(event_target_checked(&event))
                    />
                    "Keep original sound"
                </label>
                <div class="field">
                    <label for="prompt">"Prompt (optional)"</label>
                    <textarea
                        id="prompt"
                        rows="3"
                        maxlength=PROMPT_MAX_CHARS
                        prop:value=move || prompt.get()
                        on:input=move |event| prompt.set(event_target_value(&event))
                    ></textarea>
                    <small>
                        {move || {
                            format!("{} / {PROMPT_MAX_CHARS}", prompt.with(|p| p.chars().count()))
                        }}
                    </small>
                </div>
                {move || {
                    let problems = orientation_problems();
                    (!problems.is_empty())
                        .then(|| {
                            view! {
                                <ul class="error" role="alert">
                                    {problems
                                        .into_iter()
                                        .map(|p| view! { <li>{p}</li> })
                                        .collect_view()}
                                </ul>
                            }
                        })
                }}
                <ErrorNote value=submit.value() />
                <button
                    type="submit"
                    class="generate"
                    disabled=move || !ready() || submit.pending().get()
                >
                    {button_label}
                </button>
            </form>
        </section>
    }
}
