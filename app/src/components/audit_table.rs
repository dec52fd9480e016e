//! A page of audit entries as a table, with links to the neighbouring pages.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::model::AuditPage;

/// The entries of `page`, and "Newer"/"Older" links made by `link(page_number)`.
#[component]
pub fn AuditTable(page: AuditPage, link: impl Fn(i64) -> String + 'static) -> impl IntoView {
    let number = page.page;
    let newer = (number > 1).then(|| link(number - 1));
    let older = (number < page.pages).then(|| link(number + 1));
    view! {
        <p class="hint">
            {format!(
                "{} entries · page {} of {} · times in {}",
                page.total,
                page.page,
                page.pages,
                page.time_zone,
            )}
        </p>
        {if page.entries.is_empty() {
            view! { <p>"No entries match."</p> }.into_any()
        } else {
            view! {
                <div class="table-scroll">
                    <table class="audit">
                        <thead>
                            <tr>
                                <th scope="col">"Time"</th>
                                <th scope="col">"Member"</th>
                                <th scope="col">"Action"</th>
                                <th scope="col">"Target"</th>
                                <th scope="col">"Detail"</th>
                                <th scope="col">"Address"</th>
                                <th scope="col">"Request"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {page
                                .entries
                                .into_iter()
                                .map(|entry| {
                                    view! {
                                        <tr data-action=entry.action.as_str()>
                                            <td>{entry.local_time}</td>
                                            <td>{entry.actor}</td>
                                            <td>{entry.action.label()}</td>
                                            <td>{entry.target}</td>
                                            <td>
                                                {entry.detail}
                                                {entry.token_id.map(|id| format!(" (API token {id})"))}
                                            </td>
                                            <td>{entry.client_address}</td>
                                            <td>{entry.request_id}</td>
                                        </tr>
                                    }
                                })
                                .collect_view()}
                        </tbody>
                    </table>
                </div>
            }
                .into_any()
        }}
        <nav class="pages" aria-label="Pages">
            {newer.map(|href| view! { <A href=href>"Newer"</A> })}
            {older.map(|href| view! { <A href=href>"Older"</A> })}
        </nav>
    }
}
