//! `/v1/series/{id}/history`: a series' recent history, with the baseline band it was
//! judged against and its drift events in the same window.

use super::error::ApiError;
use super::{params, query, segment, ApiState, Labels, QueryParams, Segment};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use driftd_core::history::History;
use driftd_core::view::SeriesState;
use driftd_core::{DriftEvent, SeriesId};
use serde::Serialize;
use std::sync::Arc;

#[derive(Serialize)]
struct SeriesHistory<'a> {
    series_id: SeriesId,
    metric: &'a str,
    labels: Labels<'a>,
    state: SeriesState,
    /// Whether driftd keeps a history for this series (see the drift processor's
    /// `history.series`); when not, `history` is empty.
    kept: bool,
    /// The bucket width asked for, in seconds.
    step: Option<f64>,
    history: History,
    /// The series' drift events in the window, newest first.
    events: Vec<DriftEvent>,
}

/// `GET /v1/series/{id}/history?since=&until=&step=`.
pub(super) async fn get(State(api): State<Arc<ApiState>>, id: Segment, q: QueryParams) -> Result<Response, ApiError> {
    let raw = segment(id)?;
    let id = query::series_id(&raw).map_err(|_| {
        ApiError::BadRequest(format!(
            "`{raw}` is not a series id: use the 16 hex digits of a `series_id` from GET /v1/series"
        ))
    })?;
    let window = query::history_window(&params(q)?, id)?;
    let Some(series) = api.views.get(id) else {
        return Err(ApiError::NotFound(format!(
            "no series has id `{raw}`: take a `series_id` from GET /v1/series"
        )));
    };
    let kept = api.views.history(id);
    let history = kept
        .as_ref()
        .map(|h| h.select(window.since, window.until, window.step))
        .unwrap_or_default();
    let events = api.store.events(&window.events).await?.events;
    let body = SeriesHistory {
        series_id: id,
        metric: &series.labels.metric,
        labels: Labels(&series.labels.labels),
        state: series.state,
        kept: kept.is_some(),
        step: window.step,
        history,
        events,
    };
    Ok(Json(&body).into_response())
}
