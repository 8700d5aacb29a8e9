//! (filled in by issue 5's work)
use std::sync::Arc;

use axum::Router;

use crate::hub::Hub;

pub fn routes() -> Router<Arc<Hub>> {
    Router::new()
}

/// Starts the background work behind the decision stream (called once when serving).
pub fn start(_hub: &Arc<Hub>) {}

/// State of the decision stream kept by the hub (per-bouncer cursors).
#[derive(Default)]
pub struct StreamState {}
