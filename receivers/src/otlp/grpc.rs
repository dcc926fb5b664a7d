//! OTLP/gRPC: the `opentelemetry.proto.collector.metrics.v1.MetricsService/Export`
//! method on a socket bound at build time.

use super::config::GrpcConfig;
use super::status::{code, retry_after_details};
use super::{export_response, Ingest};
use driftd_core::auth::BearerAuth;
use driftd_core::component::{BuildError, Receiver, RunFuture};
use driftd_core::ConsumeError;
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{ExportMetricsServiceRequest, ExportMetricsServiceResponse};
use std::net::SocketAddr;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::codec::CompressionEncoding;
use tonic::transport::server::TcpIncoming;
use tonic::transport::Server;
use tonic::{Code, Request, Response, Status};

/// A bound OTLP/gRPC listener, ready to serve.
pub(super) struct GrpcReceiver {
    listener: TcpListener,
    addr: SocketAddr,
    service: MetricsServiceServer<GrpcExport>,
}

impl GrpcReceiver {
    /// Binds now, so a port in use fails the build rather than the run.
    pub(super) fn bind(config: &GrpcConfig, ingest: Ingest) -> Result<Self, BuildError> {
        let listener = driftd_core::http::bind_tcp(config.endpoint)?;
        let addr = listener.local_addr().map_err(|source| BuildError::Bind {
            addr: config.endpoint,
            source,
        })?;
        let auth = config.auth.clone();
        let service = MetricsServiceServer::new(GrpcExport { ingest, auth })
            .accept_compressed(CompressionEncoding::Gzip)
            .max_decoding_message_size(config.max_recv_msg_size());
        Ok(GrpcReceiver {
            listener,
            addr,
            service,
        })
    }

    /// The address actually bound (differs from the configured one for port 0).
    pub(super) fn local_addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Receiver for GrpcReceiver {
    fn run(self: Box<Self>, shutdown: CancellationToken) -> RunFuture {
        let GrpcReceiver { listener, service, .. } = *self;
        Box::pin(async move {
            // Small OTLP exports are latency-bound; Nagle would hold the answers back.
            let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
            Server::builder()
                .add_service(service)
                .serve_with_incoming_shutdown(incoming, shutdown.cancelled_owned())
                .await
                .map_err(|e| format!("OTLP/gRPC server failed: {e}"))
        })
    }
}

/// The `MetricsService` implementation.
struct GrpcExport {
    ingest: Ingest,
    auth: Option<BearerAuth>,
}

#[tonic::async_trait]
impl MetricsService for GrpcExport {
    async fn export(
        &self,
        request: Request<ExportMetricsServiceRequest>,
    ) -> Result<Response<ExportMetricsServiceResponse>, Status> {
        if let Some(auth) = &self.auth {
            let presented = request.metadata().get("authorization").and_then(|v| v.to_str().ok());
            if !auth.admits(presented) {
                return Err(Status::unauthenticated(
                    "missing or wrong bearer token: send `authorization: Bearer <token>` metadata",
                ));
            }
        }
        match self.ingest.export(request.get_ref()) {
            Ok(summary) => Ok(Response::new(export_response(&summary))),
            Err(ConsumeError::Full) => {
                let message = "driftd is over capacity: retry with backoff";
                let details = retry_after_details(code::RESOURCE_EXHAUSTED, message, 1);
                Err(Status::with_details(Code::ResourceExhausted, message, details))
            }
            Err(ConsumeError::Closed) => Err(Status::unavailable("driftd is shutting down")),
        }
    }
}
