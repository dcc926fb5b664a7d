//! `/v1/incidents` (from the storage backend) and `/v1/entities` (from the processors'
//! entity views, at request time).

use super::error::ApiError;
use super::{params, query, segment, ApiState, Labels, QueryParams, Segment};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use driftd_core::event::Stats;
use driftd_core::time::rfc3339;
use driftd_core::view::{EntitySnapshot, SeriesState};
use driftd_core::{Incident, SeriesId};
use serde::Serialize;
use std::sync::Arc;

#[derive(Serialize)]
pub(super) struct IncidentList {
    limit: usize,
    incidents: Vec<Incident>,
}

/// `GET /v1/incidents`: incidents matching the filters, the latest opened first.
pub(super) async fn list(State(api): State<Arc<ApiState>>, q: QueryParams) -> Result<Json<IncidentList>, ApiError> {
    let query = query::incident_query(&params(q)?)?;
    let incidents = api.store.incidents(&query).await?;
    Ok(Json(IncidentList {
        limit: query.limit,
        incidents,
    }))
}

/// `GET /v1/incidents/{id}`.
pub(super) async fn get(State(api): State<Arc<ApiState>>, id: Segment) -> Result<Json<Incident>, ApiError> {
    let id = segment(id)?;
    api.store.incident(&id).await?.map(Json).ok_or_else(|| unknown(&id))
}

fn unknown(id: &str) -> ApiError {
    ApiError::NotFound(format!(
        "no incident has id `{id}`: take an `id` from GET /v1/incidents"
    ))
}

/// `POST /v1/incidents/{id}/ack`: the incident as it is now (`acknowledged` while open).
pub(super) async fn acknowledge(State(api): State<Arc<ApiState>>, id: Segment) -> Result<Json<Incident>, ApiError> {
    let id = segment(id)?;
    if !api.store.acknowledge_incident(&id).await? {
        return Err(unknown(&id));
    }
    api.store.incident(&id).await?.map(Json).ok_or_else(|| unknown(&id))
}

#[derive(Serialize)]
struct EntityEntry<'a> {
    id: &'a str,
    state: &'static str,
    health: f64,
    series: usize,
    drifting: usize,
    instances: usize,
    /// The open incident's id.
    incident: Option<&'a str>,
}

impl<'a> From<&'a EntitySnapshot> for EntityEntry<'a> {
    fn from(e: &'a EntitySnapshot) -> Self {
        EntityEntry {
            id: &e.id,
            state: e.state(),
            health: (e.health * 10.0).round() / 10.0,
            series: e.series,
            drifting: e.drifting,
            instances: e.instances,
            incident: e.incident.as_ref().map(|i| i.id.as_str()),
        }
    }
}

#[derive(Serialize)]
struct EntityList<'a> {
    entities: Vec<EntityEntry<'a>>,
}

/// `GET /v1/entities`: every entity, by id, with its state and health.
pub(super) async fn entities(State(api): State<Arc<ApiState>>) -> Response {
    let all = api.views.entities();
    Json(&EntityList {
        entities: all.iter().map(EntityEntry::from).collect(),
    })
    .into_response()
}

#[derive(Serialize)]
struct EntitySeries {
    series_id: SeriesId,
    metric: String,
    labels: serde_json::Value,
    state: SeriesState,
    transition_timestamp: String,
    last_value: f64,
    baseline: Option<Stats>,
}

#[derive(Serialize)]
struct EntityDetail<'a> {
    #[serde(flatten)]
    entity: EntityEntry<'a>,
    /// The open incident, whole.
    open_incident: Option<&'a Incident>,
    series: Vec<EntitySeries>,
}

/// `GET /v1/entities/{id}`: the entity, its open incident and its series (sorted by
/// metric and labels). The id may hold `/` (`shop/checkout`): it is the rest of the path.
pub(super) async fn entity(State(api): State<Arc<ApiState>>, id: Segment) -> Result<Response, ApiError> {
    let id = segment(id)?;
    let all = api.views.entities();
    let Some(found) = all.iter().find(|e| e.id == id) else {
        return Err(ApiError::NotFound(format!(
            "no entity `{id}`: take an `id` from GET /v1/entities"
        )));
    };
    let mut snapshots = Vec::new();
    api.views.series_of(&id, &mut |s| snapshots.push(s));
    snapshots.sort_unstable_by(|a, b| (&a.labels.metric, &a.labels.labels).cmp(&(&b.labels.metric, &b.labels.labels)));
    let series = snapshots
        .iter()
        .map(|s| EntitySeries {
            series_id: s.id,
            metric: s.labels.metric.clone(),
            labels: serde_json::to_value(Labels(&s.labels.labels)).unwrap_or_default(),
            state: s.state,
            transition_timestamp: rfc3339(s.transition_time),
            last_value: s.last_value,
            baseline: s.baseline,
        })
        .collect();
    Ok(Json(&EntityDetail {
        entity: EntityEntry::from(found),
        open_incident: found.incident.as_ref(),
        series,
    })
    .into_response())
}
