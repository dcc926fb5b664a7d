//! The `otlp` receiver: OTLP metrics over gRPC (default 127.0.0.1:4317) and HTTP
//! (`POST /v1/metrics`, default 127.0.0.1:4318; protobuf or JSON, optionally gzip).
//!
//! Both transports share one path: decode the request into reused buffers, hand the
//! points to the pipeline synchronously, then answer with an OTLP `partial_success`
//! when some points were refused (NaN, missing timestamp, unsupported type).

mod config;
mod decode;
mod grpc;
mod http;
mod labels;
mod parts;
mod status;
mod summary;
pub mod wire;

#[cfg(test)]
mod config_tests;
#[cfg(test)]
mod decode_tests;
#[cfg(test)]
mod grpc_tests;
#[cfg(test)]
mod http_tests;
#[cfg(test)]
mod identity_tests;
#[cfg(test)]
pub(crate) mod test_support;

pub use config::{AttributeSelection, GrpcConfig, HttpConfig, IdentityConfig, OtlpConfig, ProtocolsConfig};
pub use decode::{decode, DecodeSummary, Refusal};
pub use labels::{Derived, Origin, RequestLabels};
pub use wire::WireError;

use crate::counters::{Outcome, ReceiverCounters};
use driftd_core::component::{BuildContext, BuildError, Receiver};
use driftd_core::config::ComponentId;
use driftd_core::{Batch, ConsumeError, Consumer, Point};
use opentelemetry_proto::tonic::collector::metrics::v1::{ExportMetricsPartialSuccess, ExportMetricsServiceResponse};
use std::cell::RefCell;
use std::sync::Arc;

impl OtlpConfig {
    /// Binds the gRPC socket (when enabled) and registers the HTTP route (when
    /// enabled) on the shared listener; returns the gRPC receiver to run, if any.
    pub async fn build(
        &self,
        id: &ComponentId,
        ctx: &mut BuildContext,
        output: Arc<dyn Consumer>,
    ) -> Result<Option<Box<dyn Receiver>>, BuildError> {
        let name = id.to_string();
        if let Some(h) = &self.protocols.http {
            let ingest = Ingest::new(&name, "http", self.identity.clone(), output.clone());
            let router =
                driftd_core::auth::protect(h.auth.as_ref(), http::router(ingest, h.max_request_body_size.get()));
            ctx.http.add(h.endpoint, &name, &[http::PATH], router, h.tls.as_ref())?;
        }
        match &self.protocols.grpc {
            Some(g) => {
                let ingest = Ingest::new(&name, "grpc", self.identity.clone(), output);
                let receiver = grpc::GrpcReceiver::bind(g, ingest, &ctx.limits)?;
                ctx.listeners.push((name, "grpc", receiver.local_addr()));
                Ok(Some(Box::new(receiver)))
            }
            None => Ok(None),
        }
    }
}

/// Decode buffers, reused by every request served on one thread. Decoding and
/// consuming never await, so a request holds them only while it runs on the thread.
#[derive(Default)]
struct Scratch {
    points: Vec<Point>,
    origins: Vec<labels::Origin>,
}

/// Past this many points the buffers are shrunk after use, so one huge request does
/// not pin its memory for the life of the thread.
const RETAINED_POINTS: usize = 1 << 16;

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// The transport-independent half of a request: decode, consume, count.
struct Ingest {
    receiver: String,
    transport: &'static str,
    identity: IdentityConfig,
    output: Arc<dyn Consumer>,
    telemetry: ReceiverCounters,
}

impl Ingest {
    fn new(receiver: &str, transport: &'static str, identity: IdentityConfig, output: Arc<dyn Consumer>) -> Self {
        Ingest {
            receiver: receiver.to_string(),
            transport,
            identity,
            output,
            telemetry: ReceiverCounters::new(receiver, transport),
        }
    }

    /// Decodes an encoded request and feeds its points down the pipeline; refused
    /// points are in the summary.
    fn export(&self, request: &[u8]) -> Result<DecodeSummary, ExportError> {
        SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut scratch) => self.export_with(request, &mut scratch),
            // Only reachable if a consumer re-entered this receiver on the same thread.
            Err(_) => self.export_with(request, &mut Scratch::default()),
        })
    }

    fn export_with(&self, request: &[u8], scratch: &mut Scratch) -> Result<DecodeSummary, ExportError> {
        scratch.points.clear();
        scratch.origins.clear();
        let summary = match decode(request, &self.identity, &mut scratch.points, &mut scratch.origins) {
            Ok(summary) => summary,
            Err(e) => {
                self.telemetry.request(Outcome::BadRequest);
                tracing::debug!(receiver = %self.receiver, transport = self.transport, error = %e, "malformed OTLP request");
                return Err(ExportError::Malformed(e));
            }
        };
        let result = if scratch.points.is_empty() {
            Ok(())
        } else {
            let labels = RequestLabels::new(request, &scratch.origins, &self.identity);
            self.output.consume(&Batch::new(&scratch.points, &labels))
        };
        if scratch.points.capacity() > RETAINED_POINTS {
            scratch.points.clear();
            scratch.origins.clear();
            scratch.points.shrink_to(RETAINED_POINTS);
            scratch.origins.shrink_to(RETAINED_POINTS);
        }
        match result {
            Ok(()) => {
                self.telemetry.accepted.increment(summary.accepted);
                if summary.refused > 0 {
                    self.telemetry.refused.increment(summary.refused);
                    tracing::debug!(
                        receiver = %self.receiver,
                        transport = self.transport,
                        refused = summary.refused,
                        first = summary.first_refusal.as_deref().unwrap_or(""),
                        "refused OTLP data points"
                    );
                }
                self.telemetry.request(Outcome::Ok);
                Ok(summary)
            }
            Err(e) => {
                self.telemetry.request(Outcome::Unavailable);
                tracing::debug!(receiver = %self.receiver, transport = self.transport, error = %e, "pipeline did not take an OTLP request");
                Err(ExportError::Pipeline(e))
            }
        }
    }
}

/// Why a request was not taken.
#[derive(Debug)]
enum ExportError {
    /// The bytes are not an `ExportMetricsServiceRequest` (answer 400 / INVALID_ARGUMENT).
    Malformed(WireError),
    /// The pipeline did not take it: the sender should retry.
    Pipeline(ConsumeError),
}

/// The OTLP answer to an accepted request: `partial_success` only when something was
/// refused, as the spec asks.
fn export_response(summary: &DecodeSummary) -> ExportMetricsServiceResponse {
    ExportMetricsServiceResponse {
        partial_success: (summary.refused > 0).then(|| ExportMetricsPartialSuccess {
            rejected_data_points: i64::try_from(summary.refused).unwrap_or(i64::MAX),
            error_message: summary.error_message(),
        }),
    }
}
