//! Reusable UI pieces; pages import from here, never from each other.

pub mod account_fields;
pub mod audit_table;
pub mod budget_bar;
pub mod connection_result;
pub mod credits;
pub mod day_chart;
pub mod days_switch;
pub mod error_note;
pub mod frame;
pub mod live;
pub mod radio_choice;
pub mod share_links;
pub mod signed_in;
pub mod upload_field;
