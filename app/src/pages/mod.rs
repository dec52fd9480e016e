//! One module per page; a page too big for one file gets a folder (elements/). Pages import
//! shared pieces from `components`, never from each other.

pub mod account;
pub mod admin;
pub mod admin_audit;
pub mod admin_sign_in;
pub mod admin_usage;
pub mod elements;
pub mod history;
pub mod invite;
pub mod lazy;
pub mod login;
pub mod not_found;
pub mod pricing;
pub mod setup;
pub mod studio;
pub mod task;
pub mod tokens;
pub mod usage;
