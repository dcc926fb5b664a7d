//! `/v1/events` and acknowledging an event: straight from the storage backend.

use super::error::ApiError;
use super::{params, query, segment, ApiState, QueryParams, Segment};
use axum::extract::State;
use axum::Json;
use driftd_core::DriftEvent;
use serde::Serialize;
use std::sync::Arc;

#[derive(Serialize)]
pub(super) struct EventList {
    total: usize,
    limit: usize,
    offset: usize,
    events: Vec<DriftEvent>,
}

/// `GET /v1/events`: events matching the filters, newest first.
pub(super) async fn list(State(api): State<Arc<ApiState>>, q: QueryParams) -> Result<Json<EventList>, ApiError> {
    let query = query::event_query(&params(q)?)?;
    let page = api.store.events(&query).await?;
    Ok(Json(EventList {
        total: page.total,
        limit: query.limit,
        offset: query.offset,
        events: page.events,
    }))
}

/// `GET /v1/events/{id}`: one event with its snapshot (the series' history up to it).
pub(super) async fn get(State(api): State<Arc<ApiState>>, id: Segment) -> Result<Json<DriftEvent>, ApiError> {
    let id = segment(id)?;
    match api.store.event(&id).await? {
        Some(e) => Ok(Json(e)),
        None => Err(ApiError::NotFound(format!(
            "no event has id `{id}`: take an `id` from GET /v1/events"
        ))),
    }
}

#[derive(Serialize)]
pub(super) struct Acknowledged {
    id: String,
    acknowledged: bool,
}

/// `POST /v1/events/{id}/ack`.
pub(super) async fn acknowledge(State(api): State<Arc<ApiState>>, id: Segment) -> Result<Json<Acknowledged>, ApiError> {
    let id = segment(id)?;
    if !api.store.acknowledge(&id).await? {
        return Err(ApiError::NotFound(format!(
            "no event has id `{id}`: take an `id` from GET /v1/events"
        )));
    }
    Ok(Json(Acknowledged { id, acknowledged: true }))
}
