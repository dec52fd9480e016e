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
    path, Lazy, SsrMode,
};

use components::frame::Frame;
use pages::{
    lazy::{
        AccountRoute, AdminAuditRoute, AdminRoute, AdminSignInRoute, AdminUsageRoute,
        ElementsRoute, HistoryRoute, InviteRoute, PricingRoute, SetupRoute, TaskRoute, TokensRoute,
        UsageRoute,
    },
    login::LoginPage,
    not_found::NotFound,
    studio::StudioPage,
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
    // Pages other than the studio load their browser code when first visited (see pages::lazy).
    let history_route = Lazy::<HistoryRoute>::new();
    let task_route = Lazy::<TaskRoute>::new();
    let elements_route = Lazy::<ElementsRoute>::new();
    let usage_route = Lazy::<UsageRoute>::new();
    let pricing_route = Lazy::<PricingRoute>::new();
    let admin_route = Lazy::<AdminRoute>::new();
    let admin_usage_route = Lazy::<AdminUsageRoute>::new();
    let setup_route = Lazy::<SetupRoute>::new();
    let invite_route = Lazy::<InviteRoute>::new();
    let tokens_route = Lazy::<TokensRoute>::new();
    let admin_audit_route = Lazy::<AdminAuditRoute>::new();
    let admin_sign_in_route = Lazy::<AdminSignInRoute>::new();
    let account_route = Lazy::<AccountRoute>::new();
    view! {
        <Title text="Kinema" />
        <Router>
            <Frame>
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=StudioPage ssr=SsrMode::InOrder />
                    <Route path=path!("/history") view=history_route ssr=SsrMode::InOrder />
                    <Route path=path!("/tasks/:id") view=task_route ssr=SsrMode::InOrder />
                    <Route path=path!("/elements") view=elements_route ssr=SsrMode::InOrder />
                    <Route path=path!("/usage") view=usage_route ssr=SsrMode::InOrder />
                    <Route path=path!("/pricing") view=pricing_route ssr=SsrMode::InOrder />
                    <Route path=path!("/tokens") view=tokens_route ssr=SsrMode::InOrder />
                    <Route path=path!("/admin") view=admin_route ssr=SsrMode::InOrder />
                    <Route path=path!("/admin/usage") view=admin_usage_route ssr=SsrMode::InOrder />
                    <Route path=path!("/admin/audit") view=admin_audit_route ssr=SsrMode::InOrder />
                    <Route
                        path=path!("/admin/sign-in")
                        view=admin_sign_in_route
                        ssr=SsrMode::InOrder
                    />
                    <Route path=path!("/account") view=account_route ssr=SsrMode::InOrder />
                    <Route path=path!("/login") view=LoginPage ssr=SsrMode::InOrder />
                    <Route path=path!("/setup") view=setup_route ssr=SsrMode::InOrder />
                    <Route path=path!("/invite/:token") view=invite_route ssr=SsrMode::InOrder />
                </Routes>
            </Frame>
        </Router>
    }
}
