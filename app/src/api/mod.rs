//! Server functions, one feature per module. Each body reads the session and state from context,
//! calls the backend and maps the error once with `respond`.

pub mod admin;
pub mod audit;
pub mod auth;
pub mod elements;
pub mod motion;
pub mod settings;
pub mod share;
pub mod tokens;
pub mod usage;
