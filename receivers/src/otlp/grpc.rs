//! OTLP/gRPC: the `opentelemetry.proto.collector.metrics.v1.MetricsService/Export`
//! method on a socket bound at build time.
//!
//! The method is served by hand rather than through the generated server so that the
//! request reaches the decoder as the bytes it arrived in ([`RequestBytes`]): no prost
//! types are built, and malformed protobuf is answered INVALID_ARGUMENT.

use super::config::GrpcConfig;
use super::status::{code, retry_after_details};
use super::{export_response, ExportError, Ingest};
use bytes::{Buf, Bytes};
use driftd_core::auth::BearerAuth;
use driftd_core::component::{BuildError, Receiver, RunError, RunFuture};
use driftd_core::listener::ListenerLimits;
use driftd_core::tls::Tls;
use driftd_core::ConsumeError;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceResponse;
use prost::Message;
use std::convert::Infallible;
use std::future::{ready, Future, Ready};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::body::Body as GrpcBody;
use tonic::codec::{Codec, CompressionEncoding, DecodeBuf, Decoder, EnabledCompressionEncodings, EncodeBuf, Encoder};
use tonic::codegen::{http, Body, Service, StdError};
use tonic::server::{NamedService, UnaryService};
use tonic::transport::Server;
use tonic::{Code, Request, Response, Status};

/// HTTP/2 flow-control window per stream.
const STREAM_WINDOW: u32 = 4 << 20;

/// gRPC is HTTP/2 only.
const GRPC_ALPN: &[&[u8]] = &[b"h2"];

/// The one method served.
const EXPORT_PATH: &str = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";

/// A bound OTLP/gRPC listener, ready to serve.
pub(super) struct GrpcReceiver {
    listener: TcpListener,
    addr: SocketAddr,
    service: MetricsService,
    limits: ListenerLimits,
    tls: Option<Arc<Tls>>,
}

impl GrpcReceiver {
    /// Binds now, so a port in use fails the build rather than the run.
    pub(super) fn bind(config: &GrpcConfig, ingest: Ingest, limits: &ListenerLimits) -> Result<Self, BuildError> {
        let tls = config
            .tls
            .as_ref()
            .map(|t| Tls::load(t, GRPC_ALPN))
            .transpose()
            .map_err(|e| BuildError::setting(format!("protocols.grpc.tls.{}", e.field), e))?;
        let listener = driftd_core::listener::bind_tcp(config.endpoint)?;
        let addr = listener.local_addr().map_err(|source| BuildError::Bind {
            addr: config.endpoint,
            source,
        })?;
        let service = MetricsService {
            export: Arc::new(GrpcExport { ingest }),
            auth: config.auth.clone().map(Arc::new),
            max_message_size: config.max_recv_msg_size(),
        };
        Ok(GrpcReceiver {
            listener,
            addr,
            service,
            limits: limits.clone(),
            tls,
        })
    }

    /// The address actually bound (differs from the configured one for port 0).
    pub(super) fn local_addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Receiver for GrpcReceiver {
    fn run(self: Box<Self>, shutdown: CancellationToken) -> RunFuture {
        let GrpcReceiver {
            listener,
            service,
            limits,
            tls,
            ..
        } = *self;
        Box::pin(async move {
            let incoming = driftd_core::listener::incoming(listener, &limits, tls, shutdown.clone());
            Server::builder()
                // Requests run to megabytes: windows of a few of them keep a sender
                // from stalling on flow control (hyper's default is 64 KiB).
                .initial_stream_window_size(Some(STREAM_WINDOW))
                .initial_connection_window_size(Some(4 * STREAM_WINDOW))
                // Requests run to completion on the thread that reads them, so more
                // in flight per connection only queues; senders spread over connections.
                .max_concurrent_streams(Some(limits.max_concurrent_streams.get()))
                .timeout(limits.request_timeout)
                .http2_keepalive_interval(Some(driftd_core::listener::KEEP_ALIVE_INTERVAL))
                .http2_keepalive_timeout(Some(limits.header_read_timeout))
                .add_service(service)
                .serve_with_incoming_shutdown(incoming, shutdown.cancelled_owned())
                .await
                .map_err(|e| RunError::new("OTLP/gRPC server", e))
        })
    }
}

/// The `MetricsService` as a tower service: routes `Export`, answers UNIMPLEMENTED to
/// anything else. With `auth`, a request without the token is answered
/// UNAUTHENTICATED from its headers, before its body is read or decompressed.
#[derive(Clone)]
struct MetricsService {
    export: Arc<GrpcExport>,
    auth: Option<Arc<BearerAuth>>,
    max_message_size: usize,
}

impl NamedService for MetricsService {
    const NAME: &'static str = "opentelemetry.proto.collector.metrics.v1.MetricsService";
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = Result<T, Infallible>> + Send>>;

impl<B> Service<http::Request<B>> for MetricsService
where
    B: Body + Send + 'static,
    B::Error: Into<StdError> + Send + 'static,
{
    type Response = http::Response<GrpcBody>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        if request.uri().path() != EXPORT_PATH {
            return Box::pin(async {
                Ok(Status::unimplemented("driftd serves only MetricsService/Export").into_http())
            });
        }
        if let Some(auth) = &self.auth {
            let presented = request.headers().get("authorization").and_then(|v| v.to_str().ok());
            if !auth.admits(presented) {
                let denied = Status::unauthenticated(
                    "missing or wrong bearer token: send `authorization: Bearer <token>` metadata",
                );
                return Box::pin(async move { Ok(denied.into_http()) });
            }
        }
        let method = ExportMethod(self.export.clone());
        let mut gzip = EnabledCompressionEncodings::default();
        gzip.enable(CompressionEncoding::Gzip);
        let mut grpc = tonic::server::Grpc::new(RequestBytes)
            .apply_compression_config(gzip, EnabledCompressionEncodings::default())
            .apply_max_message_size_config(Some(self.max_message_size), None);
        Box::pin(async move { Ok(grpc.unary(method, request).await) })
    }
}

struct ExportMethod(Arc<GrpcExport>);

impl UnaryService<Bytes> for ExportMethod {
    type Response = ExportMetricsServiceResponse;
    type Future = Ready<Result<Response<Self::Response>, Status>>;

    fn call(&mut self, request: Request<Bytes>) -> Self::Future {
        // Decoding and the pipeline never wait, so the answer is ready at once.
        ready(self.0.export(&request))
    }
}

/// The `MetricsService` implementation.
struct GrpcExport {
    ingest: Ingest,
}

impl GrpcExport {
    fn export(&self, request: &Request<Bytes>) -> Result<Response<ExportMetricsServiceResponse>, Status> {
        match self.ingest.export(request.get_ref()) {
            Ok(summary) => Ok(Response::new(export_response(&summary))),
            Err(ExportError::Malformed(e)) => Err(Status::invalid_argument(format!(
                "request is not an OTLP ExportMetricsServiceRequest in protobuf: {e}"
            ))),
            Err(ExportError::Pipeline(ConsumeError::Full)) => {
                let message = "driftd is over capacity: retry with backoff";
                let details = retry_after_details(code::RESOURCE_EXHAUSTED, message, 1);
                Err(Status::with_details(Code::ResourceExhausted, message, details))
            }
            Err(ExportError::Pipeline(ConsumeError::Closed)) => Err(Status::unavailable("driftd is shutting down")),
        }
    }
}

/// A codec that hands requests over as their bytes and encodes responses with prost.
#[derive(Clone, Copy, Default)]
struct RequestBytes;

impl Codec for RequestBytes {
    type Encode = ExportMetricsServiceResponse;
    type Decode = Bytes;
    type Encoder = RequestBytes;
    type Decoder = RequestBytes;

    fn encoder(&mut self) -> Self::Encoder {
        RequestBytes
    }

    fn decoder(&mut self) -> Self::Decoder {
        RequestBytes
    }
}

impl Encoder for RequestBytes {
    type Item = ExportMetricsServiceResponse;
    type Error = Status;

    fn encode(&mut self, item: Self::Item, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        item.encode(dst)
            .map_err(|e| Status::internal(format!("cannot encode the answer: {e}")))
    }
}

impl Decoder for RequestBytes {
    type Item = Bytes;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Status> {
        // The whole message is buffered by now; taking it does not copy.
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}
