//! The admin's audit log: who did what to the team, filtered by member, action and dates
//! (whole days in the billing time zone), paged, and exported as CSV with the same filters.
//! The filter form is a plain GET form, so the page works without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::{admin::list_members, audit::audit_log};
use crate::components::{audit_table::AuditTable, signed_in::SignedIn};
use crate::rules::audit::{filter_query, AuditAction};

/// The audit log; admins only (the server answers 403 to everyone else).
#[component]
pub fn AdminAuditPage() -> impl IntoView {
    view! {
        <Title text="Audit log · Kinema" />
        <SignedIn children=|user| {
            if user.is_admin() {
                view! { <AuditLog /> }.into_any()
            } else {
                view! {
                    <section class="card">
                        <h1>"Admins only"</h1>
                        <p>"Your own entries are on your account page."</p>
                    </section>
                }
                    .into_any()
            }
        } />
    }
}

/// The filters from the URL: member id, action, from, to, and the page.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Filters {
    member: String,
    action: String,
    from: String,
    to: String,
    page: i64,
}

impl Filters {
    fn query(&self) -> String {
        filter_query(&self.member, &self.action, &self.from, &self.to)
    }

    fn link(&self, page: i64) -> String {
        let query = self.query();
        if query.is_empty() {
            format!("/admin/audit?page={page}")
        } else {
            format!("/admin/audit?{query}&page={page}")
        }
    }
}

#[component]
fn AuditLog() -> impl IntoView {
    let query = use_query_map();
    let filters = move || {
        query.with(|q| Filters {
            member: q.get("member").unwrap_or_default(),
            action: q.get("action").unwrap_or_default(),
            from: q.get("from").unwrap_or_default(),
            to: q.get("to").unwrap_or_default(),
            page: q
                .get("page")
                .and_then(|p| p.parse::<i64>().ok())
                .unwrap_or(1)
                .max(1),
        })
    };
    let entries = Resource::new(filters, |f| {
        audit_log(f.page, f.member, f.action, f.from, f.to)
    });
    let members = Resource::new(|| (), |_| list_members());
    view! {
        <section class="card">
            <div class="row-between">
                <h1>"Audit log"</h1>
                <a
                    href=move || format!("/api/admin/audit.csv?{}", filters().query())
                    download
                    class="button secondary"
                >
                    "Download CSV"
                </a>
            </div>
            <p class="hint">
                "Every action that used the team's EvoLink key or changed the team, with who, when and from where. Entries are never changed or removed."
            </p>
            <Transition fallback=|| {
                view! { <p>"Loading…"</p> }
            }>
                {move || Suspend::new(async move {
                    let current = filters();
                    let members = members.await.unwrap_or_default();
                    view! {
                        <form method="get" action="/admin/audit" class="inline-form filters">
                            <label>
                                "Member" <select name="member">
                                    <option value="" selected=current.member.is_empty()>
                                        "Anyone"
                                    </option>
                                    {members
                                        .into_iter()
                                        .map(|m| {
                                            let id = m.id.to_string();
                                            let selected = id == current.member;
                                            view! {
                                                <option value=id selected=selected>
                                                    {m.username}
                                                </option>
                                            }
                                        })
                                        .collect_view()}
                                </select>
                            </label>
                            <label>
                                "Action" <select name="action">
                                    <option value="" selected=current.action.is_empty()>
                                        "Any action"
                                    </option>
                                    {AuditAction::ALL
                                        .iter()
                                        .map(|action| {
                                            let selected = action.as_str() == current.action;
                                            view! {
                                                <option value=action.as_str() selected=selected>
                                                    {action.label()}
                                                </option>
                                            }
                                        })
                                        .collect_view()}
                                </select>
                            </label>
                            <label>
                                "From" <input type="date" name="from" value=current.from.clone() />
                            </label>
                            <label>
                                "To" <input type="date" name="to" value=current.to.clone() />
                            </label>
                            <button type="submit" class="small">
                                "Filter"
                            </button>
                        </form>
                    }
                })}
            </Transition>
            <Transition fallback=|| {
                view! { <p>"Loading…"</p> }
            }>
                {move || Suspend::new(async move {
                    let current = filters();
                    match entries.await {
                        Ok(page) => {
                            view! { <AuditTable page link=move |n| current.link(n) /> }.into_any()
                        }
                        Err(err) => view! { <p class="error">{err.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}
