//! Series state: liveness, system status, per-service health and baselines, and the
//! series list, read from the series tables at request time.

use super::error::ApiError;
use super::{params, query, segment, ApiState, Labels, QueryParams, Segment};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use driftd_core::event::Stats;
use driftd_core::store::EventQuery;
use driftd_core::time::rfc3339;
use driftd_core::view::{SeriesSnapshot, SeriesState, SeriesViews};
use driftd_core::SeriesId;
use serde::Serialize;
use std::cmp::Ordering;
use std::sync::Arc;
use std::time::SystemTime;

/// The metric `/v1/health/{service_id}` reports when a service has it (the JSON
/// receiver's per-request latency).
const HEALTH_METRIC: &str = "latency_ms";

#[derive(Serialize)]
pub(super) struct Liveness {
    status: &'static str,
}

/// `GET /health`: the process is up and serving.
pub(super) async fn health() -> Json<Liveness> {
    Json(Liveness { status: "ok" })
}

#[derive(Serialize)]
pub(super) struct Status {
    status: &'static str,
    version: &'static str,
    uptime_seconds: u64,
    series_tracked: usize,
    points_processed: u64,
    /// Points the receivers refused (malformed, out of range), since start.
    points_refused: f64,
    /// `null` when the store cannot be read; `storage_error` then says why.
    events_total: Option<usize>,
    storage_backend: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    storage_error: Option<String>,
}

/// `GET /v1/system/status`. A store that cannot be read makes the status `degraded`
/// rather than failing the request: this is the page people open when something is wrong.
pub(super) async fn status(State(api): State<Arc<ApiState>>) -> Json<Status> {
    let count = EventQuery {
        limit: 0,
        ..EventQuery::default()
    };
    let (events_total, storage_error) = match api.store.events(&count).await {
        Ok(page) => (Some(page.total), None),
        Err(e) => (None, Some(e.to_string())),
    };
    Json(Status {
        status: if storage_error.is_none() { "ok" } else { "degraded" },
        version: env!("CARGO_PKG_VERSION"),
        uptime_seconds: SystemTime::now()
            .duration_since(api.started_at)
            .unwrap_or_default()
            .as_secs(),
        series_tracked: api.views.series_count(),
        points_processed: api.views.points_processed(),
        points_refused: refused_points(),
        events_total,
        storage_backend: api.store.backend(),
        storage_error,
    })
}

/// The sum of `driftd_receiver_refused_points_total` over every receiver, from the
/// process's own telemetry (what `/metrics` shows).
fn refused_points() -> f64 {
    crate::prometheus::install_recorder()
        .render()
        .lines()
        .filter(|l| l.starts_with("driftd_receiver_refused_points_total"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// Orders series by metric name, then labels: the order every list is returned in.
fn by_identity(a: &SeriesSnapshot, b: &SeriesSnapshot) -> Ordering {
    (&a.labels.metric, &a.labels.labels).cmp(&(&b.labels.metric, &b.labels.labels))
}

/// Every series of `service`, sorted; 404 when it has none.
fn service_series(views: &SeriesViews, service: &str) -> Result<Vec<SeriesSnapshot>, ApiError> {
    let mut found = Vec::new();
    views.for_each(&mut |s| {
        if s.labels.service() == Some(service) {
            found.push(s);
        }
    });
    if found.is_empty() {
        return Err(ApiError::NotFound(format!(
            "no series for service `{service}`: driftd has not received points labelled service.name=\"{service}\""
        )));
    }
    found.sort_unstable_by(by_identity);
    Ok(found)
}

#[derive(Serialize)]
pub(super) struct ServiceHealth {
    service_id: String,
    metric: String,
    state: SeriesState,
    transition_timestamp: String,
    sample_count: u64,
    baseline: Option<LatencyBaseline>,
    last_value: f64,
    last_score: f64,
}

#[derive(Serialize)]
struct LatencyBaseline {
    mean_latency: f64,
    stddev_latency: f64,
    sample_count: u64,
}

/// `GET /v1/health/{service_id}`: the service's latency series, or else its first series.
pub(super) async fn service_health(
    State(api): State<Arc<ApiState>>,
    service: Segment,
) -> Result<Json<ServiceHealth>, ApiError> {
    let service = segment(service)?;
    let series = service_series(&api.views, &service)?;
    let chosen = series
        .iter()
        .find(|s| s.labels.metric == HEALTH_METRIC)
        .or_else(|| series.first());
    let Some(s) = chosen else {
        return Err(ApiError::NotFound(format!("no series for service `{service}`")));
    };
    Ok(Json(ServiceHealth {
        metric: s.labels.metric.clone(),
        state: s.state,
        transition_timestamp: rfc3339(s.transition_time),
        sample_count: s.sample_count,
        baseline: s.baseline.map(|b| LatencyBaseline {
            mean_latency: b.mean,
            stddev_latency: b.stddev,
            sample_count: b.samples,
        }),
        last_value: s.last_value,
        last_score: s.last_score,
        service_id: service,
    }))
}

#[derive(Serialize)]
struct ServiceBaselines<'a> {
    service_id: &'a str,
    series: Vec<SeriesBaseline<'a>>,
}

#[derive(Serialize)]
struct SeriesBaseline<'a> {
    series_id: SeriesId,
    metric: &'a str,
    labels: Labels<'a>,
    state: SeriesState,
    baseline: Option<Stats>,
}

/// `GET /v1/baseline/{service_id}`: every series of the service with its baseline.
pub(super) async fn service_baselines(
    State(api): State<Arc<ApiState>>,
    service: Segment,
) -> Result<Response, ApiError> {
    let service = segment(service)?;
    let series = service_series(&api.views, &service)?;
    let entries: Vec<_> = series
        .iter()
        .map(|s| SeriesBaseline {
            series_id: s.id,
            metric: &s.labels.metric,
            labels: Labels(&s.labels.labels),
            state: s.state,
            baseline: s.baseline,
        })
        .collect();
    let body = ServiceBaselines {
        service_id: &service,
        series: entries,
    };
    // Serialized here, while the snapshots it borrows from are alive.
    Ok(Json(&body).into_response())
}

#[derive(Serialize)]
struct SeriesList<'a> {
    total: usize,
    limit: usize,
    offset: usize,
    series: Vec<SeriesEntry<'a>>,
}

#[derive(Serialize)]
struct SeriesEntry<'a> {
    series_id: SeriesId,
    metric: &'a str,
    labels: Labels<'a>,
    state: SeriesState,
    transition_timestamp: String,
    sample_count: u64,
    last_value: f64,
    last_score: f64,
    baseline: Option<Stats>,
    detector: &'static str,
}

/// `GET /v1/series`: series sorted by metric and labels, filtered and paged.
pub(super) async fn list(State(api): State<Arc<ApiState>>, q: QueryParams) -> Result<Response, ApiError> {
    let filter = query::series_filter(&params(q)?)?;
    let mut matching = Vec::new();
    api.views.for_each(&mut |s| {
        if filter.matches(&s) {
            matching.push(s);
        }
    });
    let total = matching.len();
    let series: Vec<_> = filter
        .page
        .of_sorted(&mut matching, by_identity)
        .iter()
        .map(|s| SeriesEntry {
            series_id: s.id,
            metric: &s.labels.metric,
            labels: Labels(&s.labels.labels),
            state: s.state,
            transition_timestamp: rfc3339(s.transition_time),
            sample_count: s.sample_count,
            last_value: s.last_value,
            last_score: s.last_score,
            baseline: s.baseline,
            detector: s.detector,
        })
        .collect();
    let body = SeriesList {
        total,
        limit: filter.page.limit,
        offset: filter.page.offset,
        series,
    };
    Ok(Json(&body).into_response())
}
