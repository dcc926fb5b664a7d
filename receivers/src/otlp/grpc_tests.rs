use super::config::{GrpcConfig, OtlpConfig, ProtocolsConfig};
use super::test_support::*;
use crate::ReceiverConfig;
use driftd_core::component::{BuildError, ReceiverFactory};
use driftd_core::config::ComponentId;
use driftd_core::Consumer;
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_client::MetricsServiceClient;
use prost::Message;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tonic::codec::CompressionEncoding;
use tonic::codegen::http;
use tonic::transport::Channel;
use tonic::Code;

fn grpc_on(endpoint: SocketAddr) -> ReceiverConfig {
    ReceiverConfig::Otlp(OtlpConfig {
        protocols: ProtocolsConfig {
            grpc: Some(GrpcConfig {
                endpoint,
                ..Default::default()
            }),
            http: None,
        },
        ..Default::default()
    })
}

struct Running {
    addr: SocketAddr,
    stop: CancellationToken,
    task: JoinHandle<Result<(), driftd_core::component::RunError>>,
}

async fn start(output: Arc<dyn Consumer>) -> Running {
    let id = ComponentId::parse("otlp/test").unwrap();
    let mut ctx = build_context();
    let receiver = grpc_on("127.0.0.1:0".parse().unwrap())
        .build(&id, &mut ctx, output)
        .await
        .unwrap()
        .expect("gRPC is served by a receiver");
    let (name, protocol, addr) = ctx.listeners[0].clone();
    assert_eq!((name.as_str(), protocol), ("otlp/test", "grpc"));
    assert_ne!(addr.port(), 0);
    let stop = CancellationToken::new();
    let task = tokio::spawn(receiver.run(stop.clone()));
    Running { addr, stop, task }
}

async fn client(addr: SocketAddr) -> MetricsServiceClient<Channel> {
    MetricsServiceClient::connect(format!("http://{addr}")).await.unwrap()
}

#[tokio::test]
async fn export_feeds_points_and_reports_refused_ones() {
    let recorded = Arc::new(Recorded::default());
    let server = start(recorded.clone()).await;
    let mut client = client(server.addr).await;

    let response = client.export(request_with_one_nan()).await.unwrap().into_inner();
    let partial = response.partial_success.expect("one point was refused");
    assert_eq!(partial.rejected_data_points, 1);
    assert!(partial.error_message.contains("NaN"), "{}", partial.error_message);

    let points = recorded.take();
    let got: Vec<_> = points
        .iter()
        .map(|(p, l)| (l.get("route").unwrap().to_string(), p.value))
        .collect();
    assert_eq!(got, vec![("/a".to_string(), 1.5), ("/b".to_string(), 2.5)]);
    for (p, labels) in &points {
        assert_eq!(labels.service(), Some("api"));
        assert_eq!(p.series, labels.id());
    }

    // Gzip-compressed requests are accepted too; a fully accepted one has no partial_success.
    let mut gz = client.clone().send_compressed(CompressionEncoding::Gzip);
    let good = request(vec![], vec![gauge("g", vec![number(T, 1.0, vec![])])]);
    let response = gz.export(good).await.unwrap().into_inner();
    assert_eq!(response.partial_success, None);
    assert_eq!(recorded.take().len(), 1);

    server.stop.cancel();
    let stopped = tokio::time::timeout(Duration::from_secs(5), server.task).await;
    stopped.expect("stops on cancel").unwrap().expect("stops cleanly");
}

#[tokio::test]
async fn a_request_with_every_point_refused_still_succeeds_with_partial_success() {
    let recorded = Arc::new(Recorded::default());
    let server = start(recorded.clone()).await;
    let all_bad = request(
        vec![],
        vec![gauge(
            "g",
            vec![number(0, 1.0, vec![]), number(T, f64::INFINITY, vec![])],
        )],
    );
    let response = client(server.addr).await.export(all_bad).await.unwrap().into_inner();
    assert_eq!(response.partial_success.unwrap().rejected_data_points, 2);
    assert!(recorded.take().is_empty());
    server.stop.cancel();
}

#[tokio::test]
async fn a_full_pipeline_answers_resource_exhausted_with_retry_info() {
    let server = start(Arc::new(Full)).await;
    let status = client(server.addr)
        .await
        .export(request_with_one_nan())
        .await
        .expect_err("the pipeline is full");
    assert_eq!(status.code(), Code::ResourceExhausted);
    assert!(!status.details().is_empty(), "RetryInfo lets OTLP clients retry");
    server.stop.cancel();
}

#[tokio::test]
async fn an_oversized_message_is_refused_by_the_server() {
    let recorded = Arc::new(Recorded::default());
    let server = start(recorded.clone()).await;
    // 4 MiB is the default limit; one long attribute value exceeds it.
    let big = "x".repeat(5 << 20);
    let req = request(
        vec![string("service.name", &big)],
        vec![gauge("g", vec![number(T, 1.0, vec![])])],
    );
    let mut client = client(server.addr).await.max_encoding_message_size(64 << 20);
    let status = client.export(req).await.expect_err("over the limit");
    assert_eq!(status.code(), Code::OutOfRange, "{status:?}");
    assert!(recorded.take().is_empty());
    // The server keeps serving.
    let ok = request(vec![], vec![gauge("g", vec![number(T, 1.0, vec![])])]);
    assert!(client.export(ok).await.is_ok());
    server.stop.cancel();
}

#[tokio::test]
async fn a_port_in_use_fails_the_build() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let id = ComponentId::parse("otlp").unwrap();
    let mut ctx = build_context();
    let err = grpc_on(addr)
        .build(&id, &mut ctx, Arc::new(Recorded::default()))
        .await
        .err()
        .expect("the port is taken");
    assert!(matches!(err, BuildError::Bind { addr: a, .. } if a == addr), "{err}");
}

#[tokio::test]
async fn with_a_bearer_token_requests_without_it_are_unauthenticated() {
    let recorded = Arc::new(Recorded::default());
    let mut config = grpc_on("127.0.0.1:0".parse().unwrap());
    let ReceiverConfig::Otlp(otlp) = &mut config else {
        unreachable!("grpc_on builds an OTLP config")
    };
    otlp.protocols.grpc.as_mut().unwrap().auth =
        Some(serde_yaml::from_str("bearer_token: t0ken-t0ken-t0ken-t0ken").unwrap());
    let mut ctx = build_context();
    let receiver = config
        .build(&ComponentId::parse("otlp").unwrap(), &mut ctx, recorded.clone())
        .await
        .unwrap()
        .unwrap();
    let addr = ctx.listeners[0].2;
    let stop = CancellationToken::new();
    tokio::spawn(receiver.run(stop.clone()));
    let mut client = client(addr).await;

    let denied = client.export(request_with_one_nan()).await.unwrap_err();
    assert_eq!(denied.code(), Code::Unauthenticated);
    assert!(recorded.take().is_empty(), "nothing reached the pipeline");
    // The token is checked before the body is read: a body over the size limit, which
    // is refused with OUT_OF_RANGE once read, is refused as unauthenticated.
    let big = request(
        vec![string("service.name", &"x".repeat(5 << 20))],
        vec![gauge("g", vec![number(T, 1.0, vec![])])],
    );
    let mut big_client = client.clone().max_encoding_message_size(64 << 20);
    let denied = big_client.export(big).await.unwrap_err();
    assert_eq!(denied.code(), Code::Unauthenticated, "{denied:?}");

    let mut request = tonic::Request::new(request_with_one_nan());
    request
        .metadata_mut()
        .insert("authorization", "Bearer t0ken-t0ken-t0ken-t0ken".parse().unwrap());
    client.export(request).await.unwrap();
    assert_eq!(recorded.take().len(), 2);
    stop.cancel();
}

/// Sends `body` as the Export request, byte for byte.
async fn export_raw(addr: SocketAddr, body: Vec<u8>) -> Result<(), tonic::Status> {
    use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};

    struct Raw;
    impl Codec for Raw {
        type Encode = Vec<u8>;
        type Decode = ();
        type Encoder = Raw;
        type Decoder = Raw;
        fn encoder(&mut self) -> Raw {
            Raw
        }
        fn decoder(&mut self) -> Raw {
            Raw
        }
    }
    impl Encoder for Raw {
        type Item = Vec<u8>;
        type Error = tonic::Status;
        fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), tonic::Status> {
            bytes::BufMut::put_slice(dst, &item);
            Ok(())
        }
    }
    impl Decoder for Raw {
        type Item = ();
        type Error = tonic::Status;
        fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<()>, tonic::Status> {
            bytes::Buf::advance(src, bytes::Buf::remaining(src));
            Ok(Some(()))
        }
    }

    let channel = Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.unwrap();
    let path = http::uri::PathAndQuery::from_static("/opentelemetry.proto.collector.metrics.v1.MetricsService/Export");
    grpc.unary(tonic::Request::new(body), path, Raw).await.map(|_| ())
}

#[tokio::test]
async fn malformed_protobuf_is_an_invalid_argument_and_the_server_keeps_serving() {
    let recorded = Arc::new(Recorded::default());
    let server = start(recorded.clone()).await;
    let mut truncated = request(service(), vec![gauge("g", vec![number(T, 1.0, vec![])])]).encode_to_vec();
    truncated.pop();
    for body in [truncated, vec![0xff; 16], vec![0x08, 0x01]] {
        let status = export_raw(server.addr, body).await.expect_err("malformed");
        assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
        assert!(status.message().contains("not an OTLP"), "{}", status.message());
    }
    assert!(recorded.take().is_empty());
    let ok = request(vec![], vec![gauge("g", vec![number(T, 1.0, vec![])])]);
    client(server.addr).await.export(ok).await.unwrap();
    assert_eq!(recorded.take().len(), 1);
    server.stop.cancel();
}
