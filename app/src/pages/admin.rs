//! Admin page: members and invite links.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::admin::{
    list_invites, list_members, CheckEvolink, CreateInvite, RevokeInvite, SetMemberDisabled,
};
use crate::components::{
    connection_result::ConnectionResult, error_note::ErrorNote, signed_in::SignedIn,
};
use crate::model::{InviteView, MemberView};
use crate::rules::{
    accounts::{INVITE_HOURS_DEFAULT, INVITE_HOURS_MAX, INVITE_HOURS_MIN},
    format::utc_datetime,
};

/// Members and invites; admins only (the server answers 403 to everyone else).
#[component]
pub fn AdminPage() -> impl IntoView {
    view! {
        <Title text="Admin · Kinema" />
        <SignedIn children=|user| {
            if user.is_admin() {
                view! { <AdminPanels /> }.into_any()
            } else {
                view! {
                    <section class="card">
                        <h1>"Admins only"</h1>
                        <p>
                            "This page is for admins. Ask an admin of your team if you need something changed."
                        </p>
                    </section>
                }
                    .into_any()
            }
        } />
    }
}

#[component]
fn AdminPanels() -> impl IntoView {
    let create_invite = ServerAction::<CreateInvite>::new();
    let set_disabled = ServerAction::<SetMemberDisabled>::new();
    let members = Resource::new(move || set_disabled.version().get(), |_| list_members());
    let revoke = ServerAction::<RevokeInvite>::new();
    let invites = Resource::new(
        move || {
            (
                create_invite.version().get(),
                revoke.version().get(),
                set_disabled.version().get(),
            )
        },
        |_| list_invites(),
    );
    view! {
        <p>
            <a href="/admin/usage">"Team usage, budgets and adjustments →"</a>
            " · "
            <a href="/admin/audit">"Audit log →"</a>
            " · "
            <a href="/admin/sign-in">"Sign-in settings →"</a>
        </p>
        <section class="card">
            <h1>"Members"</h1>
            <ErrorNote value=set_disabled.value() />
            <Suspense fallback=|| {
                view! { <p>"Loading members…"</p> }
            }>
                {move || Suspend::new(async move {
                    match members.await {
                        Ok(list) => {
                            view! { <MemberTable members=list action=set_disabled /> }.into_any()
                        }
                        Err(err) => view! { <p class="error">{err.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
        <section class="card">
            <h2>"Invite someone"</h2>
            <ActionForm action=create_invite>
                <label>
                    "Role" <select name="role">
                        <option value="member" selected>
                            "Member"
                        </option>
                        <option value="admin">"Admin"</option>
                    </select>
                </label>
                <label>
                    "Link works for (hours)"
                    <input
                        name="hours"
                        type="number"
                        min=INVITE_HOURS_MIN
                        max=INVITE_HOURS_MAX
                        value=INVITE_HOURS_DEFAULT
                    />
                </label>
                <label>
                    "For email (optional: lets them join by single sign-on)"
                    <input name="email" type="email" autocomplete="off" />
                </label>
                <ErrorNote value=create_invite.value() />
                <button type="submit">"Create invite link"</button>
            </ActionForm>
            {move || {
                create_invite
                    .value()
                    .get()
                    .and_then(Result::ok)
                    .and_then(|invite| invite.link)
                    .map(|link| {
                        view! {
                            <p class="success" role="status">
                                "Send this link to the person you invite (it works once): "
                                <code class="invite-link">{link}</code>
                            </p>
                        }
                    })
            }}
            <ErrorNote value=revoke.value() />
            <Suspense>
                {move || Suspend::new(async move {
                    invites
                        .await
                        .ok()
                        .map(|list| view! { <InviteTable invites=list action=revoke /> })
                })}
            </Suspense>
        </section>
        <ConnectionPanel />
    }
}

#[component]
fn MemberTable(members: Vec<MemberView>, action: ServerAction<SetMemberDisabled>) -> impl IntoView {
    view! {
        <table>
            <thead>
                <tr>
                    <th>"Name"</th>
                    <th>"Username"</th>
                    <th>"Role"</th>
                    <th>"Status"</th>
                    <th></th>
                </tr>
            </thead>
            <tbody>
                {members
                    .into_iter()
                    .map(|member| {
                        let label = if member.disabled { "Enable" } else { "Disable" };
                        let aria = format!("{label} {}", member.display_name);
                        view! {
                            <tr>
                                <td>{member.display_name.clone()}</td>
                                <td>{member.username.clone()}</td>
                                <td>{member.role.label()}</td>
                                <td>{if member.disabled { "Disabled" } else { "Active" }}</td>
                                <td>
                                    <ActionForm action>
                                        <input type="hidden" name="user_id" value=member.id />
                                        <input
                                            type="hidden"
                                            name="disabled"
                                            value=(!member.disabled).to_string()
                                        />
                                        <button type="submit" class="small" aria-label=aria>
                                            {label}
                                        </button>
                                    </ActionForm>
                                </td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}

#[component]
fn InviteTable(invites: Vec<InviteView>, action: ServerAction<RevokeInvite>) -> impl IntoView {
    view! {
        <table>
            <thead>
                <tr>
                    <th>"Role"</th>
                    <th>"Expires"</th>
                    <th>"Used by"</th>
                    <th></th>
                </tr>
            </thead>
            <tbody>
                {invites
                    .into_iter()
                    .map(|invite| {
                        let expires = utc_datetime(invite.expires_at);
                        let open = invite.used_by.is_none() && !invite.revoked;
                        let aria = format!(
                            "Revoke the {} invite expiring {expires}",
                            invite.role.label().to_lowercase(),
                        );
                        let used_by = match (invite.used_by, invite.revoked) {
                            (Some(name), _) => name,
                            (None, true) => "Revoked".into(),
                            (None, false) => "—".into(),
                        };
                        view! {
                            <tr>
                                <td>{invite.role.label()}</td>
                                <td>{expires}</td>
                                <td>{used_by}</td>
                                <td>
                                    {open
                                        .then(|| {
                                            view! {
                                                <ActionForm action>
                                                    <input type="hidden" name="invite_id" value=invite.id />
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

#[component]
fn ConnectionPanel() -> impl IntoView {
    let check = ServerAction::<CheckEvolink>::new();
    view! {
        <section class="card">
            <h2>"EvoLink connection"</h2>
            <p class="hint">"Asks EvoLink for the team's balance; this spends no credits."</p>
            <ActionForm action=check>
                <button type="submit" disabled=move || check.pending().get()>
                    "Check EvoLink connection"
                </button>
            </ActionForm>
            <ErrorNote value=check.value() />
            {move || {
                check
                    .value()
                    .get()
                    .and_then(Result::ok)
                    .map(|status| view! { <ConnectionResult status /> })
            }}
        </section>
    }
}
