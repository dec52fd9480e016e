//! The pages that load their browser code only when visited (route-level code splitting).
//!
//! The studio, the first page a member sees, ships in the main bundle; every other page is a
//! [`LazyRoute`] whose view is split into its own WASM chunk by `cargo leptos build --split`.
//! On the server they render like any page.

use leptos::prelude::*;
use leptos_router::{lazy_route, LazyRoute};

/// Declares a lazily loaded route for a page component.
macro_rules! lazy_page {
    ($(#[$doc:meta])* $route:ident => $page:path) => {
        $(#[$doc])*
        pub struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            fn view(_this: Self) -> AnyView {
                view! { <$page /> }.into_any()
            }
        }
    };
}

lazy_page!(
    /// `/history`.
    HistoryRoute => super::history::HistoryPage
);
lazy_page!(
    /// `/tasks/:id`.
    TaskRoute => super::task::TaskPage
);
lazy_page!(
    /// `/elements`.
    ElementsRoute => super::elements::ElementsPage
);
lazy_page!(
    /// `/usage`.
    UsageRoute => super::usage::UsagePage
);
lazy_page!(
    /// `/pricing`.
    PricingRoute => super::pricing::PricingPage
);
lazy_page!(
    /// `/admin`.
    AdminRoute => super::admin::AdminPage
);
lazy_page!(
    /// `/admin/usage`.
    AdminUsageRoute => super::admin_usage::AdminUsagePage
);
lazy_page!(
    /// `/invite/:token`.
    InviteRoute => super::invite::InvitePage
);
lazy_page!(
    /// `/setup`.
    SetupRoute => super::setup::SetupPage
);
lazy_page!(
    /// `/tokens`.
    TokensRoute => super::tokens::TokensPage
);
lazy_page!(
    /// `/admin/audit`.
    AdminAuditRoute => super::admin_audit::AdminAuditPage
);
lazy_page!(
    /// `/account`.
    AccountRoute => super::account::AccountPage
);
lazy_page!(
    /// `/admin/sign-in`.
    AdminSignInRoute => super::admin_sign_in::AdminSignInPage
);
