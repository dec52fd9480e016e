//! The control endpoints tests use: faults, counters, early expiry of result links.

use std::time::Instant;

use axum::{extract::State, http::StatusCode, Json};

use crate::state::{Faults, SimState, SimStats};

/// `POST /__sim/faults`: replaces the active faults.
pub async fn set_faults(State(state): State<SimState>, Json(faults): Json<Faults>) -> StatusCode {
    state.set_faults(faults);
    StatusCode::NO_CONTENT
}

/// `GET /__sim/faults`: the active faults.
pub async fn get_faults(State(state): State<SimState>) -> Json<Faults> {
    Json(state.data().faults.clone())
}

/// `GET /__sim/stats`: counters.
pub async fn stats(State(state): State<SimState>) -> Json<SimStats> {
    Json(state.stats())
}

/// `POST /__sim/expire-results`: every result link stops working now.
pub async fn expire_results(State(state): State<SimState>) -> StatusCode {
    let now = Instant::now();
    for blob in state.data().results.values_mut() {
        blob.expires_at = now;
    }
    StatusCode::NO_CONTENT
}

/// `POST /__sim/expire-files`: every uploaded file stops being served now.
pub async fn expire_files(State(state): State<SimState>) -> StatusCode {
    let now = Instant::now();
    for blob in state.data().files.values_mut() {
        blob.expires_at = now;
    }
    StatusCode::NO_CONTENT
}
