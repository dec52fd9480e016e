//! "API tokens": create a personal token for scripts that speak EvoLink's API (shown once),
//! see one's tokens (admins: everyone's) and revoke them.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::tokens::{list_api_tokens, CreateApiToken, RevokeApiToken};
use crate::components::{error_note::ErrorNote, signed_in::SignedIn};
use crate::model::ApiTokenView;
use crate::rules::{format::utc_datetime, vocab::TokenScope};

/// The member's API tokens.
#[component]
pub fn TokensPage() -> impl IntoView {
    view! {
        <Title text="API tokens · Kinema" />
        <SignedIn children=|_| view! { <TokenPanels /> } />
    }
}

#[component]
fn TokenPanels() -> impl IntoView {
    let create = ServerAction::<CreateApiToken>::new();
    let revoke = ServerAction::<RevokeApiToken>::new();
    let tokens = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| list_api_tokens(),
    );
    view! {
        <section class="card">
            <h1>"API tokens"</h1>
            <p>
                "A token lets a script or notebook use Kinema like EvoLink's API: point an EvoLink client at this site's address and send "
                <code>"Authorization: Bearer kin_…"</code>
                ". Its tasks count against your budget and appear in your history."
            </p>
            <ActionForm action=create>
                <label>"Name" <input name="name" required maxlength="60" /></label>
                <label>
                    "Scope"
                    <select name="scope">
                        {TokenScope::ALL
                            .iter()
                            .map(|scope| {
                                view! { <option value=scope.as_str()>{scope.label()}</option> }
                            })
                            .collect_view()}
                    </select>
                </label>
                <label>
                    "Expires after (days, empty for never)"
                    <input name="expires_in_days" type="number" min="1" max="3650" />
                </label>
                <ErrorNote value=create.value() />
                <button type="submit">"Create token"</button>
            </ActionForm>
            {move || {
                create
                    .value()
                    .get()
                    .and_then(Result::ok)
                    .map(|created| {
                        view! {
                            <div class="success" role="status">
                                <p>
                                    "Copy this token now: it is shown only once and cannot be recovered."
                                </p>
                                <code class="new-token">{created.token}</code>
                            </div>
                        }
                    })
            }}
        </section>
        <section class="card">
            <h2>"Your tokens"</h2>
            <ErrorNote value=revoke.value() />
            <Suspense fallback=|| {
                view! { <p>"Loading tokens…"</p> }
            }>
                {move || Suspend::new(async move {
                    match tokens.await {
                        Ok(list) if list.is_empty() => view! { <p>"No tokens yet."</p> }.into_any(),
                        Ok(list) => view! { <TokenTable tokens=list action=revoke /> }.into_any(),
                        Err(err) => view! { <p class="error">{err.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn TokenTable(tokens: Vec<ApiTokenView>, action: ServerAction<RevokeApiToken>) -> impl IntoView {
    view! {
        <table>
            <thead>
                <tr>
                    <th>"Name"</th>
                    <th>"Owner"</th>
                    <th>"Token"</th>
                    <th>"Scope"</th>
                    <th>"Created"</th>
                    <th>"Last used"</th>
                    <th>"Expires"</th>
                    <th></th>
                </tr>
            </thead>
            <tbody>
                {tokens
                    .into_iter()
                    .map(|token| {
                        let aria = format!("Revoke {}", token.name);
                        let status = match token.revoked_at {
                            Some(at) => Some(format!("Revoked {}", utc_datetime(at))),
                            None if !token.usable => Some("Expired".to_string()),
                            None => None,
                        };
                        view! {
                            <tr>
                                <td>{token.name.clone()}</td>
                                <td>{token.owner.clone()}</td>
                                <td>
                                    <code>{format!("{}…", token.prefix)}</code>
                                </td>
                                <td>{token.scope.label()}</td>
                                <td>{utc_datetime(token.created_at)}</td>
                                <td>
                                    {token
                                        .last_used_at
                                        .map(utc_datetime)
                                        .unwrap_or_else(|| "never".into())}
                                </td>
                                <td>
                                    {token
                                        .expires_at
                                        .map(utc_datetime)
                                        .unwrap_or_else(|| "never".into())}
                                </td>
                                <td>
                                    {match status {
                                        Some(status) => view! { <span>{status}</span> }.into_any(),
                                        None => {
                                            view! {
                                                <ActionForm action>
                                                    <input type="hidden" name="id" value=token.id />
                                                    <button type="submit" class="small" aria-label=aria>
                                                        "Revoke"
                                                    </button>
                                                </ActionForm>
                                            }
                                                .into_any()
                                        }
                                    }}
                                </td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}
