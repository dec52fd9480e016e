//! The form that creates an element from a video or from images.

use leptos::prelude::*;

use crate::api::elements::CreateElement;
use crate::browser;
use crate::components::{
    error_note::ErrorNote, radio_choice::RadioChoice, upload_field::UploadField,
};
use crate::model::{UploadPurpose, UploadView};
use crate::rules::{
    element_inputs::{
        check_description, check_name, check_refer_count, check_text, check_voice_id, video_hint,
        ReferenceType, DESCRIPTION_MAX_CHARS, NAME_MAX_CHARS, VIDEO_ACCEPT,
    },
    motion_inputs::{image_hint, IMAGE_ACCEPT},
    pricing::{credits_in_words, ELEMENT_MICRO_CREDITS},
};

/// A text field's `12 / 20` counter.
fn counter(text: RwSignal<String>, max: usize) -> impl Fn() -> String {
    move || format!("{} / {max}", text.with(|t| t.trim().chars().count()))
}

/// Name, description, the inputs it is made from, and Create.
#[component]
pub(super) fn CreateForm(action: ServerAction<CreateElement>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let reference = RwSignal::new(ReferenceType::Video);
    let voice_id = RwSignal::new(String::new());
    let video = RwSignal::new(None::<UploadView>);
    let frontal = RwSignal::new(None::<UploadView>);
    let others = [
        RwSignal::new(None::<UploadView>),
        RwSignal::new(None::<UploadView>),
        RwSignal::new(None::<UploadView>),
    ];
    let key = RwSignal::new(String::new());
    let reference_type = move || reference.get();
    let refer_ids = move || {
        others
            .iter()
            .filter_map(|field| field.get().map(|upload| upload.id))
            .collect::<Vec<_>>()
    };
    // Problems worth saying while typing (missing things only disable the button).
    let problems = move || {
        let mut problems = Vec::new();
        if name.with(|n| n.trim().chars().count() > NAME_MAX_CHARS) {
            problems.extend(check_name(&name.get()));
        }
        if description.with(|d| d.trim().chars().count() > DESCRIPTION_MAX_CHARS) {
            problems.extend(check_description(&description.get()));
        }
        // The voice field shows only for a video; its value is not sent otherwise.
        if reference_type() == ReferenceType::Video {
            problems.extend(check_voice_id(&voice_id.get(), ReferenceType::Video));
        }
        problems
    };
    let ready = move || {
        let text_ok = check_text(&name.get(), &description.get()).is_empty();
        let inputs_ok = match reference_type() {
            ReferenceType::Video => video.get().is_some(),
            ReferenceType::Images => {
                frontal.get().is_some() && check_refer_count(refer_ids().len()).is_none()
            }
        };
        text_ok && inputs_ok && problems().is_empty()
    };
    // Any change makes the next press a new element; repeats of the same press do not.
    Effect::new(move |_| {
        name.track();
        description.track();
        reference.track();
        voice_id.track();
        video.track();
        frontal.track();
        for field in others {
            field.track();
        }
        key.set(String::new());
    });
    let submit = move |event: web_sys::SubmitEvent| {
        event.prevent_default();
        if key.get_untracked().is_empty() {
            key.set(browser::new_idempotency_key());
        }
        let from_video = reference_type() == ReferenceType::Video;
        action.dispatch(CreateElement {
            name: name.get_untracked(),
            description: description.get_untracked(),
            reference_type: reference.get_untracked().as_str().into(),
            video_upload_id: video
                .get_untracked()
                .filter(|_| from_video)
                .map(|u| u.id)
                .unwrap_or_default(),
            frontal_upload_id: frontal
                .get_untracked()
                .filter(|_| !from_video)
                .map(|u| u.id)
                .unwrap_or_default(),
            refer_upload_ids: if from_video {
                String::new()
            } else {
                others
                    .iter()
                    .filter_map(|field| field.get_untracked().map(|upload| upload.id))
                    .collect::<Vec<_>>()
                    .join(",")
            },
            voice_id: if from_video {
                voice_id.get_untracked()
            } else {
                String::new()
            },
            idempotency_key: key.get_untracked(),
        });
    };
    view! {
        <section class="card">
            <h1>"Elements"</h1>
            <p class="hint">
                "An element is a reusable character: made once from a short video or a few photos, it keeps the same identity across many generations."
            </p>
            <form class="element-form" on:submit=submit>
                <div class="field">
                    <label for="element-name">"Name"</label>
                    <input
                        id="element-name"
                        prop:value=move || name.get()
                        on:input=move |event| name.set(event_target_value(&event))
                    />
                    <small>{counter(name, NAME_MAX_CHARS)}</small>
                </div>
                <div class="field">
                    <label for="element-description">"Description"</label>
                    <textarea
                        id="element-description"
                        rows="2"
                        prop:value=move || description.get()
                        on:input=move |event| description.set(event_target_value(&event))
                    ></textarea>
                    <small>{counter(description, DESCRIPTION_MAX_CHARS)}</small>
                </div>
                <fieldset>
                    <legend>"Made from"</legend>
                    <RadioChoice
                        name="reference_type"
                        value=ReferenceType::Video
                        label="From video"
                        selected=reference
                    />
                    <RadioChoice
                        name="reference_type"
                        value=ReferenceType::Images
                        label="From images"
                        selected=reference
                    />
                </fieldset>
                <Show
                    when=move || reference.get() == ReferenceType::Video
                    fallback=move || {
                        view! {
                            <div class="inputs">
                                <UploadField
                                    label="Frontal image"
                                    purpose=UploadPurpose::ElementImage
                                    accept=IMAGE_ACCEPT
                                    hint=image_hint()
                                    value=frontal
                                    field_id="frontal-image"
                                />
                                <UploadField
                                    label="Other angle 1"
                                    purpose=UploadPurpose::ElementImage
                                    accept=IMAGE_ACCEPT
                                    hint="Required: the same person from another angle."
                                    value=others[0]
                                    field_id="other-angle-1"
                                />
                                <UploadField
                                    label="Other angle 2"
                                    purpose=UploadPurpose::ElementImage
                                    accept=IMAGE_ACCEPT
                                    hint="Optional."
                                    value=others[1]
                                    field_id="other-angle-2"
                                />
                                <UploadField
                                    label="Other angle 3"
                                    purpose=UploadPurpose::ElementImage
                                    accept=IMAGE_ACCEPT
                                    hint="Optional."
                                    value=others[2]
                                    field_id="other-angle-3"
                                />
                            </div>
                            <p class="hint">
                                "Elements made from images cannot be used with Motion Control (it takes elements made from a video)."
                            </p>
                        }
                    }
                >
                    <UploadField
                        label="Reference video"
                        purpose=UploadPurpose::ElementVideo
                        accept=VIDEO_ACCEPT
                        hint=video_hint()
                        value=video
                    />
                    <div class="field">
                        <label for="voice-id">"Voice ID (optional)"</label>
                        <input
                            id="voice-id"
                            inputmode="numeric"
                            prop:value=move || voice_id.get()
                            on:input=move |event| voice_id.set(event_target_value(&event))
                        />
                        <small>
                            "Binds an EvoLink voice to the element, so videos made with it can speak in that voice. Digits only."
                        </small>
                    </div>
                </Show>
                {move || {
                    let problems = problems();
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
                <ErrorNote value=action.value() />
                {move || {
                    action
                        .value()
                        .get()
                        .and_then(Result::ok)
                        .map(|element| {
                            view! {
                                <p class="success" role="status">
                                    {format!(
                                        "\"{}\" is being created; it shows as ready in the library below when EvoLink is done.",
                                        element.name,
                                    )}
                                </p>
                            }
                        })
                }}
                <button
                    type="submit"
                    class="generate"
                    disabled=move || !ready() || action.pending().get()
                >
                    {format!(
                        "Create element · {} · about 10 minutes",
                        credits_in_words(ELEMENT_MICRO_CREDITS),
                    )}
                </button>
            </form>
        </section>
    }
}
