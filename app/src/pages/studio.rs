//! The motion studio: character image, motion video, options, the exact cost, Generate.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api::{
    elements::list_elements,
    motion::{get_task, get_upload, SubmitMotion},
};
use crate::browser;
use crate::components::{
    credits::usd_rate, error_note::ErrorNote, radio_choice::RadioChoice, signed_in::SignedIn,
    upload_field::UploadField,
};
use crate::model::{AppError, ElementView, UploadPurpose, UploadView};
use crate::rules::{
    element_inputs::ReferenceType,
    motion_inputs::{
        check_video, image_hint, video_hint, VideoFacts, VideoFormat, IMAGE_ACCEPT,
        PROMPT_MAX_CHARS, VIDEO_ACCEPT,
    },
    pricing::{credits_with_usd, motion_cost},
    vocab::{Orientation, Quality},
};

/// The studio; signed-in members only.
#[component]
pub fn StudioPage() -> impl IntoView {
    view! {
        <Title text="Motion studio · Kinema" />
        <SignedIn children=|_user| view! { <Studio /> } />
    }
}

#[component]
fn Studio() -> impl IntoView {
    let image = RwSignal::new(None::<UploadView>);
    let video = RwSignal::new(None::<UploadView>);
    let quality = RwSignal::new(Quality::P720);
    let orientation = RwSignal::new(Orientation::Image);
    let keep_sound = RwSignal::new(true);
    let prompt = RwSignal::new(String::new());
    let element = RwSignal::new(String::new());
    let key = RwSignal::new(String::new());
    let library = Resource::new(|| (), |_| list_elements(None));
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
            if let Some(chosen) = task.quality {
                quality.set(chosen);
            }
            if let Some(chosen) = task.orientation {
                orientation.set(chosen);
            }
            keep_sound.set(task.keep_sound);
            prompt.set(task.prompt);
            element.set(task.element.map(|(id, _)| id).unwrap_or_default());
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
        element.track();
        key.set(String::new());
    });
    // An element chosen earlier (Run again) that is gone or no longer usable is dropped.
    Effect::new(move |_| {
        if let Some(Ok(list)) = library.get() {
            let chosen = element.get();
            if !chosen.is_empty() && !list.iter().any(|e| e.id == chosen && e.usable_for_motion()) {
                element.set(String::new());
            }
        }
    });
    // An element decides the look; the video must decide the orientation.
    Effect::new(move |_| {
        if !element.get().is_empty() {
            orientation.set(Orientation::Video);
        }
    });

    let orientation_problems = move || {
        video
            .get()
            .map(|v| {
                let facts = VideoFacts {
                    format: VideoFormat::parse(&v.format).unwrap_or(VideoFormat::Other),
                    bytes: v.bytes,
                    width: v.width,
                    height: v.height,
                    duration_ms: v.duration_ms.unwrap_or(0),
                };
                check_video(&facts, orientation.get())
            })
            .unwrap_or_default()
    };
    let cost = move || {
        video
            .get()
            .and_then(|v| v.duration_ms)
            .map(|ms| motion_cost(quality.get(), orientation.get(), ms))
    };
    let ready = move || {
        image.get().is_some()
            && video.get().is_some()
            && orientation_problems().is_empty()
            && prompt.with(|p| p.chars().count() <= PROMPT_MAX_CHARS)
    };
    // Read once here: the label is recomputed in the browser as the inputs change.
    let rate = usd_rate();
    let button_label = move || match cost() {
        Some(cost) => format!("Generate · {}", credits_with_usd(cost, rate)),
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
            quality: quality.get_untracked().as_str().into(),
            orientation: orientation.get_untracked().as_str().into(),
            keep_sound: keep_sound.get_untracked(),
            prompt: prompt.get_untracked(),
            idempotency_key: key.get_untracked(),
            element_id: element.get_untracked(),
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
                        accept=IMAGE_ACCEPT
                        hint=image_hint()
                        value=image
                    />
                    <UploadField
                        label="Motion video"
                        purpose=UploadPurpose::MotionVideo
                        accept=VIDEO_ACCEPT
                        hint=video_hint()
                        value=video
                    />
                </div>
                <fieldset>
                    <legend>"Quality"</legend>
                    <RadioChoice name="quality" value=Quality::P720 label="720p" selected=quality />
                    <RadioChoice
                        name="quality"
                        value=Quality::P1080
                        label="1080p"
                        selected=quality
                    />
                </fieldset>
                <fieldset>
                    <legend>"Character orientation"</legend>
                    <RadioChoice
                        name="orientation"
                        value=Orientation::Image
                        label=Orientation::Image.label()
                        hint=format!(" — {}", Orientation::Image.hint())
                        selected=orientation
                        disabled=Signal::derive(move || !element.get().is_empty())
                    />
                    <RadioChoice
                        name="orientation"
                        value=Orientation::Video
                        label=Orientation::Video.label()
                        hint=format!(" — {}", Orientation::Video.hint())
                        selected=orientation
                    />
                    <Show when=move || !element.get().is_empty()>
                        <p class="hint locked-note">
                            "Locked to \"Match video\": with a character element, the element keeps the character's look and the video drives the motion."
                        </p>
                    </Show>
                </fieldset>
                <ElementPicker library element />
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

/// The optional "Character element" choice: ready elements of the team's library made from a
/// video.
#[component]
fn ElementPicker(
    library: Resource<Result<Vec<ElementView>, AppError>>,
    element: RwSignal<String>,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for="element">"Character element (optional)"</label>
            <Transition fallback=|| {
                view! { <p class="hint">"Loading the element library…"</p> }
            }>
                {move || Suspend::new(async move {
                    let all = library.await.unwrap_or_default();
                    let image_made = all
                        .iter()
                        .filter(|e| e.reference_type == ReferenceType::Images)
                        .count();
                    let usable: Vec<ElementView> = all
                        .into_iter()
                        .filter(ElementView::usable_for_motion)
                        .collect();
                    view! {
                        <select
                            id="element"
                            prop:value=move || element.get()
                            on:change=move |event| element.set(event_target_value(&event))
                        >
                            <option value="">"None"</option>
                            {usable
                                .into_iter()
                                .map(|e| {
                                    let selected = element.get_untracked() == e.id;
                                    view! {
                                        <option value=e.id.clone() selected=selected>
                                            {format!("{} — {}", e.name, e.creator)}
                                        </option>
                                    }
                                })
                                .collect_view()}
                        </select>
                        <small>
                            "Keeps one character's identity across generations. Only ready elements made from a video work with Motion Control"
                            {(image_made > 0)
                                .then(|| {
                                    format!(
                                        "; {image_made} made from images {} not offered here",
                                        if image_made == 1 { "is" } else { "are" },
                                    )
                                })} "."
                        </small>
                    }
                })}
            </Transition>
        </div>
    }
}
