//! Kinema's server: configuration, start-up, the axum router and the routes that are not
//! server functions.

pub mod assets;
pub mod backup;
pub mod cli;
pub mod config;
pub mod limits;
pub mod media_headers;
pub mod middleware;
pub mod routes;
pub mod serve;
pub mod sessions;
pub mod signals;
pub mod startup;
pub mod telemetry;
