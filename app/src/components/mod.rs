//! Reusable UI pieces.

pub mod error_note;
pub mod frame;
pub mod live;
pub mod signed_in;
pub mod upload_field;
