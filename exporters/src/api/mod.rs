//! `api`: the query API. Series state is read from the series tables and events from
//! the storage backend, both at request time; nothing is pushed to it.

mod config;
mod console;
mod error;
mod events;
mod history;
mod incidents;
mod pipelines;
pub mod query;
mod series;

pub use config::ApiConfig;
pub use error::ApiError;

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query};
use axum::routing::{get, post, MethodRouter};
use axum::Router;
use driftd_core::auth::{protect, BearerAuth};
use driftd_core::component::{BuildContext, BuildError, Exporter};
use driftd_core::config::ComponentId;
use driftd_core::store::Store;
use driftd_core::view::{RunningConfig, SeriesViews};
use serde::{Serialize, Serializer};
use std::sync::Arc;
use std::time::SystemTime;

/// What the handlers read.
pub(crate) struct ApiState {
    pub views: Arc<SeriesViews>,
    pub store: Arc<dyn Store>,
    pub started_at: SystemTime,
    pub running: Arc<RunningConfig>,
}

/// Every route the API serves: one table, so the paths registered with the shared
/// listener (to detect clashes) are exactly the ones served.
fn routes() -> [(&'static str, MethodRouter<Arc<ApiState>>); 17] {
    [
        (console::PATHS[0], get(console::index)),
        (console::PATHS[1], get(console::asset)),
        ("/health", get(series::health)),
        ("/v1/system/status", get(series::status)),
        ("/v1/health/{service_id}", get(series::service_health)),
        ("/v1/baseline/{service_id}", get(series::service_baselines)),
        ("/v1/series", get(series::list)),
        ("/v1/series/{id}/history", get(history::get)),
        ("/v1/events", get(events::list)),
        ("/v1/events/{id}", get(events::get)),
        ("/v1/events/{id}/ack", post(events::acknowledge)),
        ("/v1/incidents", get(incidents::list)),
        ("/v1/incidents/{id}", get(incidents::get)),
        ("/v1/incidents/{id}/ack", post(incidents::acknowledge)),
        ("/v1/entities", get(incidents::entities)),
        ("/v1/entities/{*id}", get(incidents::entity)),
        ("/debug/pipelines", get(pipelines::get)),
    ]
}

/// The API's routes over `state`; with `auth`, every route but `/health` (which load
/// balancers and probes call without credentials) and the console's static files
/// (which hold no data: the pages ask for the token) needs the bearer token.
pub(crate) fn router(state: Arc<ApiState>, auth: Option<&BearerAuth>) -> Router {
    let (open, guarded): (Vec<_>, Vec<_>) = routes()
        .into_iter()
        .partition(|(path, _)| *path == "/health" || console::PATHS.contains(path));
    let build = |routes: Vec<(&'static str, MethodRouter<Arc<ApiState>>)>| {
        routes
            .into_iter()
            .fold(Router::new(), |router, (path, handler)| router.route(path, handler))
    };
    build(open).merge(protect(auth, build(guarded))).with_state(state)
}

/// Adds the API's routes to the listener on the configured endpoint.
pub(crate) fn build(config: &ApiConfig, id: &ComponentId, ctx: &mut BuildContext) -> Result<Exporter, BuildError> {
    let state = Arc::new(ApiState {
        views: ctx.views.clone(),
        store: ctx.store.clone(),
        started_at: ctx.started_at,
        running: ctx.running.clone(),
    });
    let paths = routes().map(|(path, _)| path);
    ctx.http.add(
        config.endpoint,
        &id.to_string(),
        &paths,
        router(state, config.auth.as_ref()),
        config.tls.as_ref(),
    )?;
    Ok(Exporter::Pull)
}

/// The decoded query string; axum's own rejection would answer in plain text.
type QueryParams = Result<Query<Vec<(String, String)>>, QueryRejection>;

fn params(query: QueryParams) -> Result<Vec<(String, String)>, ApiError> {
    query
        .map(|Query(pairs)| pairs)
        .map_err(|e| ApiError::BadRequest(format!("the query string is malformed: {}", e.body_text())))
}

/// The one path segment a route captures.
type Segment = Result<Path<String>, PathRejection>;

fn segment(path: Segment) -> Result<String, ApiError> {
    path.map(|Path(s)| s)
        .map_err(|e| ApiError::BadRequest(format!("the path is malformed: {}", e.body_text())))
}

/// Sorted label pairs as a JSON object.
struct Labels<'a>(&'a [(String, String)]);

impl Serialize for Labels<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

#[cfg(test)]
mod tests;
