//! Kinema's app crate: the UI shared by the server (SSR) and the browser (hydrate), the server
//! functions, the pure rules, and (behind `ssr`) the server-side domain.

pub mod api;
#[cfg(feature = "ssr")]
pub mod backend;
pub mod browser;
pub mod components;
pub mod model;
pub mod pages;
pub mod rules;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path, SsrMode,
};

use components::frame::Frame;
use pages::{
    account::AccountPage, admin::AdminPage, admin_audit::AdminAuditPage,
    admin_usage::AdminUsagePage, elements::ElementsPage, history::HistoryPage, invite::InvitePage,
    login::LoginPage, not_found::NotFound, pricing::PricingPage, setup::SetupPage,
    studio::StudioPage, task::TaskPage, tokens::TokensPage, usage::UsagePage,
};

/// The HTML document around the app, rendered on the server (with its Content-Security-Policy).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    backend::page_policy::send_page_policy();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <AutoReload options=options.clone() />
                // The browser files live under their version (`site_pkg_dir`), cached for good.
                <link
                    rel="stylesheet"
                    id="leptos"
                    href=format!("/{}/kinema.css", options.site_pkg_dir)
                />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The app: styles, title and routes. Pages stream in order, so they read completely without
/// JavaScript (out-of-order streaming needs a script to put late parts in place).
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title text="Kinema" />
        <Router>
            <Frame>
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=StudioPage ssr=SsrMode::InOrder />
                    <Route path=path!("/history") view=HistoryPage ssr=SsrMode::InOrder />
                    <Route path=path!("/tasks/:id") view=TaskPage ssr=SsrMode::InOrder />
                    <Route path=path!("/elements") view=ElementsPage ssr=SsrMode::InOrder />
                    <Route path=path!("/usage") view=UsagePage ssr=SsrMode::InOrder />
                    <Route path=path!("/pricing") view=PricingPage ssr=SsrMode::InOrder />
                    <Route path=path!("/tokens") view=TokensPage ssr=SsrMode::InOrder />
                    <Route path=path!("/admin") view=AdminPage ssr=SsrMode::InOrder />
                    <Route path=path!("/admin/usage") view=AdminUsagePage ssr=SsrMode::InOrder />
                    <Route path=path!("/admin/audit") view=AdminAuditPage ssr=SsrMode::InOrder />
                    <Route path=path!("/account") view=AccountPage ssr=SsrMode::InOrder />
                    <Route path=path!("/login") view=LoginPage ssr=SsrMode::InOrder />
                    <Route path=path!("/setup") view=SetupPage ssr=SsrMode::InOrder />
                    <Route path=path!("/invite/:token") view=InvitePage ssr=SsrMode::InOrder />
                </Routes>
            </Frame>
        </Router>
    }
}
