//! The `http_json` receiver: a plain JSON API for services that do not speak OTLP.
//!
//! - `POST /v1/telemetry` `{"service_id", "latency_ms", "payload_kb"?, "timestamp"?}`
//!   → `202 {"status": "accepted", "service_id", "timestamp"}`. Each measurement is a
//!   series of the service (`latency_ms`, `payload_kb`, labelled `service.name`), so
//!   `/v1/health/{service_id}` on the query API reports it.
//! - `POST /v1/points`: one `{"metric", "value", "timestamp"?, "labels"?}` or an array;
//!   the answer counts accepted and refused points, with a reason for each refusal.
//!
//! Bodies may be gzip (`Content-Encoding: gzip`); the Content-Type is not checked, so
//! `curl -d` works as it is. Errors are `{"error": "..."}` (plus `"field"` for a 422):
//! 400 not JSON, 413 too large, 415 unknown Content-Encoding, 422 invalid, 401 without
//! the bearer token when one is configured, 503 with `Retry-After` when the pipeline is
//! full or shutting down. The routes live on the shared listener of their endpoint,
//! which by default is the query API's (127.0.0.1:8000): one base URL for both.

mod config;
mod decode;
mod labels;
mod routes;

#[cfg(test)]
mod decode_tests;
#[cfg(test)]
mod routes_tests;

pub use config::HttpJsonConfig;
pub use decode::{decode_points, decode_telemetry, PointIn, Points, Refused, Telemetry, MAX_SERVICE_ID_CHARS};
pub use labels::PointLabels;

use crate::counters::ReceiverCounters;
use driftd_core::component::{BuildContext, BuildError, Receiver};
use driftd_core::config::ComponentId;
use driftd_core::Consumer;
use std::sync::Arc;

impl HttpJsonConfig {
    /// Adds the receiver's routes to the shared listener on its endpoint; nothing else
    /// runs, so there is no receiver task.
    pub async fn build(
        &self,
        id: &ComponentId,
        ctx: &mut BuildContext,
        output: Arc<dyn Consumer>,
    ) -> Result<Option<Box<dyn Receiver>>, BuildError> {
        let name = id.to_string();
        let state = routes::JsonApi {
            counters: ReceiverCounters::new(&name, "http_json"),
            receiver: name.clone(),
            output,
            max_body: self.max_request_body_size.get(),
        };
        let router = driftd_core::auth::protect(self.auth.as_ref(), routes::router(state));
        ctx.http
            .add(self.endpoint, &name, &routes::PATHS, router, self.tls.as_ref())?;
        Ok(None)
    }
}
