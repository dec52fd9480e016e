//! Reusable UI pieces.

pub mod credits;
pub mod day_chart;
pub mod error_note;
pub mod frame;
pub mod live;
pub mod radio_choice;
pub mod signed_in;
pub mod upload_field;
