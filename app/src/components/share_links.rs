//! Share links in the UI: the "Share" control of a completed task (choose how long, get the
//! link with a copy button) and the table of links with Revoke, for one task or for all of a
//! member's (admins: everyone's) links.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::api::share::{list_share_links, CreateShareLink, RevokeShareLink};
use crate::components::error_note::ErrorNote;
use crate::model::ShareLinkView;
use crate::rules::{
    format::utc_datetime,
    share::{ShareExpiry, ShareStatus},
};

/// The page's origin (`https://host:port`), as the browser sees it (behind a proxy too).
/// Browser only: call it from code that runs after an action, never while rendering on the
/// server.
fn page_origin() -> String {
    web_sys::window()
        .and_then(|window| window.location().origin().ok())
        .unwrap_or_default()
}

/// Puts `text` on the clipboard; false when the browser refused (e.g. not a secure context).
/// `navigator.clipboard` is reached by name, so web-sys needs no further features for it.
async fn copy_text(text: String) -> bool {
    use wasm_bindgen::{JsCast, JsValue};
    let get = |target: &JsValue, name: &str| js_sys::Reflect::get(target, &JsValue::from_str(name));
    let written = (|| {
        let navigator = get(&js_sys::global(), "navigator")?;
        let clipboard = get(&navigator, "clipboard")?;
        let write: js_sys::Function = get(&clipboard, "writeText")?.dyn_into()?;
        write
            .call1(&clipboard, &JsValue::from_str(&text))?
            .dyn_into::<js_sys::Promise>()
    })();
    match written {
        Ok(promise) => wasm_bindgen_futures::JsFuture::from(promise).await.is_ok(),
        Err(_) => false,
    }
}

/// "Share" for one completed task, and the task's links.
#[component]
pub fn ShareTask(task_id: String) -> impl IntoView {
    let create = ServerAction::<CreateShareLink>::new();
    let revoke = ServerAction::<RevokeShareLink>::new();
    let list_task = task_id.clone();
    let links = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        move |_| list_share_links(Some(list_task.clone())),
    );
    view! {
        <section class="share" aria-labelledby="share-heading">
            <h2 id="share-heading">"Share"</h2>
            <p class="hint">
                "Anyone with the link can watch and download this video without signing in, until it expires or you revoke it. The link does not name you."
            </p>
            <ActionForm action=create>
                <input type="hidden" name="task_id" value=task_id />
                <label>
                    "Link works for"
                    <select name="expiry">
                        {ShareExpiry::ALL
                            .iter()
                            .map(|choice| {
                                view! {
                                    <option
                                        value=choice.as_str()
                                        selected=*choice == ShareExpiry::DEFAULT
                                    >
                                        {choice.label()}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                </label>
                <button type="submit">"Create share link"</button>
                <ErrorNote value=create.value() />
            </ActionForm>
            {move || {
                create
                    .value()
                    .get()
                    .and_then(Result::ok)
                    .map(|created| {
                        view! { <NewLink url=format!("{}{}", page_origin(), created.path) /> }
                    })
            }}
            <ErrorNote value=revoke.value() />
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match links.await {
                        Ok(list) if list.is_empty() => ().into_any(),
                        Ok(list) => {
                            view! { <ShareTable links=list action=revoke whole_list=false /> }
                                .into_any()
                        }
                        Err(err) => view! { <p class="error">{err.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// A link just made, with a copy button (it is shown only now).
#[component]
fn NewLink(url: String) -> impl IntoView {
    let copied = RwSignal::new(None::<bool>);
    let text = url.clone();
    let copy = move |_| {
        let text = text.clone();
        leptos::task::spawn_local(async move { copied.set(Some(copy_text(text).await)) });
    };
    view! {
        <div class="success" role="status">
            <p>"Share link (copy it now: it is shown only once)"</p>
            <input
                class="share-url"
                readonly
                value=url
                aria-label="Share link"
                on:focus=|event| {
                    use wasm_bindgen::JsCast;
                    if let Some(input) = event
                        .target()
                        .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
                    {
                        input.select();
                    }
                }
            />
            <button type="button" class="small" on:click=copy>
                "Copy link"
            </button>
            {move || match copied.get() {
                Some(true) => Some(view! { <span>" Copied."</span> }.into_any()),
                Some(false) => {
                    Some(view! { <span>" Select the link and copy it."</span> }.into_any())
                }
                None => None,
            }}
        </div>
    }
}

/// All share links the member manages (admins: everyone's), with their tasks.
#[component]
pub fn ShareList() -> impl IntoView {
    let revoke = ServerAction::<RevokeShareLink>::new();
    let links = Resource::new(move || revoke.version().get(), |_| list_share_links(None));
    view! {
        <ErrorNote value=revoke.value() />
        <Suspense fallback=|| {
            view! { <p>"Loading links…"</p> }
        }>
            {move || Suspend::new(async move {
                match links.await {
                    Ok(list) if list.is_empty() => {
                        view! { <p>"No share links yet. Share a finished task from its page."</p> }
                            .into_any()
                    }
                    Ok(list) => {
                        view! { <ShareTable links=list action=revoke whole_list=true /> }.into_any()
                    }
                    Err(err) => view! { <p class="error">{err.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Links with their times and status; active ones get a Revoke button. `whole_list` adds the
/// task and owner columns.
#[component]
fn ShareTable(
    links: Vec<ShareLinkView>,
    action: ServerAction<RevokeShareLink>,
    whole_list: bool,
) -> impl IntoView {
    view! {
        <table class="share-links">
            <thead>
                <tr>
                    {whole_list
                        .then(|| {
                            view! {
                                <th>"Task"</th>
                                <th>"Owner"</th>
                            }
                        })} <th>"Created"</th> <th>"Works until"</th> <th>"Status"</th> <th></th>
                </tr>
            </thead>
            <tbody>
                {links
                    .into_iter()
                    .map(|link| {
                        let aria = format!(
                            "Revoke the link made {}",
                            utc_datetime(link.created_at),
                        );
                        let task_href = format!("/tasks/{}", link.task_id);
                        view! {
                            <tr>
                                {whole_list
                                    .then(|| {
                                        view! {
                                            <td>
                                                <A href=task_href>"Task"</A>
                                            </td>
                                            <td>{link.owner.clone()}</td>
                                        }
                                    })} <td>{utc_datetime(link.created_at)}</td>
                                <td>
                                    {link
                                        .expires_at
                                        .map(utc_datetime)
                                        .unwrap_or_else(|| "revoked".into())}
                                </td> <td>{link.status.label()}</td>
                                <td>
                                    {(link.status == ShareStatus::Active)
                                        .then(|| {
                                            view! {
                                                <ActionForm action>
                                                    <input type="hidden" name="id" value=link.id />
                                                    <button type="submit" class="small" aria-label=aria>
                                                        "Revoke"
                                                    </button>
                                                </ActionForm>
                                            }
                                        })}
                                </td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}
