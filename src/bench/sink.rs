//! `driftd bench --sink`: a receiver that takes OTLP/gRPC and OTLP/HTTP (protobuf)
//! exports on one port, counts requests and bytes, drops them and answers with an
//! empty ExportMetricsServiceResponse. Load sent to it measures the tool's own ceiling.
//!
//! With `--decode` it first decodes every request into prost's owned OTLP types and
//! counts the data points: a decode-only collector, the reference a collector's cost
//! per point reads against on the same machine and day.

use super::transport::{RawCodec, EXPORT_PATH, MAX_MESSAGE};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::routing::post;
use bytes::Bytes;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use prost::Message;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;
use tonic::body::Body;
use tonic::codegen::http;
use tonic::server::{NamedService, UnaryService};
use tonic::transport::server::TcpIncoming;
use tonic::{Request, Response, Status};

/// What the sink took.
#[derive(Debug, Default)]
struct Received {
    /// Whether requests are decoded (`--decode`).
    decode: bool,
    requests: AtomicU64,
    bytes: AtomicU64,
    /// Data points decoded (with `--decode`).
    points: AtomicU64,
    /// Requests that did not decode (with `--decode`).
    malformed: AtomicU64,
}

impl Received {
    /// Takes one request; `false` when `--decode` is on and it is not an OTLP request.
    fn take(&self, request: &[u8]) -> bool {
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(request.len() as u64, Ordering::Relaxed);
        if !self.decode {
            return true;
        }
        match ExportMetricsServiceRequest::decode(request) {
            Ok(decoded) => {
                self.points.fetch_add(data_points(&decoded), Ordering::Relaxed);
                true
            }
            Err(_) => {
                self.malformed.fetch_add(1, Ordering::Relaxed);
                false
            }
        }
    }
}

/// Data points of every kind in a decoded request.
fn data_points(request: &ExportMetricsServiceRequest) -> u64 {
    let metrics = request
        .resource_metrics
        .iter()
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| &s.metrics);
    let mut points = 0;
    for m in metrics {
        points += match &m.data {
            Some(Data::Gauge(g)) => g.data_points.len(),
            Some(Data::Sum(s)) => s.data_points.len(),
            Some(Data::Histogram(h)) => h.data_points.len(),
            Some(Data::ExponentialHistogram(h)) => h.data_points.len(),
            Some(Data::Summary(s)) => s.data_points.len(),
            None => 0,
        };
    }
    points as u64
}

/// Serves on `listen` until SIGINT or SIGTERM, then prints what it received; with
/// `decode`, decodes every request with prost first.
pub async fn serve(listen: SocketAddr, decode: bool) -> anyhow::Result<()> {
    let received = Arc::new(Received {
        decode,
        ..Received::default()
    });
    let http_routes = axum::Router::new()
        .route("/v1/metrics", post(http_export))
        .layer(DefaultBodyLimit::max(MAX_MESSAGE))
        .with_state(received.clone());
    let routes = tonic::service::Routes::from(http_routes).add_service(GrpcSink(received.clone()));
    let listener = tokio::net::TcpListener::bind(listen).await?;
    // Scripts and tests read the bound address (the port may be 0) from this line.
    println!("sink listening on {} (OTLP/gRPC and OTLP/HTTP)", listener.local_addr()?);
    let started = Instant::now();
    tonic::transport::Server::builder()
        .accept_http1(true)
        .add_routes(routes)
        .serve_with_incoming_shutdown(
            TcpIncoming::from(listener).with_nodelay(Some(true)),
            super::stop_signal(),
        )
        .await?;
    let requests = received.requests.load(Ordering::Relaxed);
    let bytes = received.bytes.load(Ordering::Relaxed);
    println!(
        "sink received {requests} requests, {bytes} bytes in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    if decode {
        let points = received.points.load(Ordering::Relaxed);
        let malformed = received.malformed.load(Ordering::Relaxed);
        println!("sink decoded {points} points with prost; {malformed} requests did not decode");
    }
    Ok(())
}

async fn http_export(State(received): State<Arc<Received>>, body: Bytes) -> impl axum::response::IntoResponse {
    let status = match received.take(&body) {
        true => StatusCode::OK,
        false => StatusCode::BAD_REQUEST,
    };
    (status, [("content-type", "application/x-protobuf")], Bytes::new())
}

/// The gRPC `MetricsService`, answering every export with an empty response.
#[derive(Debug, Clone)]
struct GrpcSink(Arc<Received>);

impl NamedService for GrpcSink {
    const NAME: &'static str = "opentelemetry.proto.collector.metrics.v1.MetricsService";
}

impl tonic::codegen::Service<http::Request<Body>> for GrpcSink {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<Body>) -> Self::Future {
        let received = self.0.clone();
        Box::pin(async move {
            if req.uri().path() != EXPORT_PATH {
                return Ok(Status::unimplemented("the sink only takes MetricsService/Export").into_http());
            }
            let mut grpc = tonic::server::Grpc::new(RawCodec).apply_max_message_size_config(Some(MAX_MESSAGE), None);
            Ok(grpc.unary(Discard(received), req).await)
        })
    }
}

/// Counts one export and forgets it.
struct Discard(Arc<Received>);

impl UnaryService<Bytes> for Discard {
    type Response = Bytes;
    type Future = std::future::Ready<Result<Response<Bytes>, Status>>;

    fn call(&mut self, request: Request<Bytes>) -> Self::Future {
        let answer = match self.0.take(request.get_ref()) {
            // An empty ExportMetricsServiceResponse encodes to no bytes at all.
            true => Ok(Response::new(Bytes::new())),
            false => Err(Status::invalid_argument("not an ExportMetricsServiceRequest")),
        };
        std::future::ready(answer)
    }
}
