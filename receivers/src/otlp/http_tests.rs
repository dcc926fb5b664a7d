use super::config::{HttpConfig, IdentityConfig, OtlpConfig, ProtocolsConfig};
use super::status::RpcStatus;
use super::test_support::*;
use super::{http, Ingest};
use crate::ReceiverConfig;
use driftd_core::component::ReceiverFactory;
use driftd_core::config::ComponentId;
use driftd_core::Consumer;
use flate2::write::GzEncoder;
use flate2::Compression;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceResponse;
use prost::Message;
use reqwest::{Response, StatusCode};
use std::io::Write;
use std::num::NonZeroUsize;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

const PROTOBUF: &str = "application/x-protobuf";
const JSON: &str = "application/json";

/// Serves the receiver's route through the core's shared listener; returns its URL.
async fn start(output: Arc<dyn Consumer>, max_body: usize) -> (String, CancellationToken) {
    let config = ReceiverConfig::Otlp(OtlpConfig {
        protocols: ProtocolsConfig {
            grpc: None,
            http: Some(HttpConfig {
                endpoint: "127.0.0.1:0".parse().unwrap(),
                max_request_body_size: NonZeroUsize::new(max_body).unwrap(),
                auth: None,
                tls: None,
            }),
        },
        ..Default::default()
    });
    let id = ComponentId::parse("otlp").unwrap();
    let mut ctx = build_context();
    let receiver = config.build(&id, &mut ctx, output).await.unwrap();
    assert!(receiver.is_none(), "HTTP is served by the shared listener");
    let mut bound = ctx.http.bind(&ctx.limits).unwrap();
    assert_eq!(bound.len(), 1);
    let listener = bound.remove(0);
    assert_eq!(listener.components, vec!["otlp".to_string()]);
    let url = format!("http://{}/v1/metrics", listener.addr);
    let stop = CancellationToken::new();
    tokio::spawn(listener.serve(stop.clone()));
    (url, stop)
}

async fn post(url: &str, content_type: &str, encoding: Option<&str>, body: Vec<u8>) -> Response {
    let mut r = reqwest::Client::new()
        .post(url)
        .header("content-type", content_type)
        .body(body);
    if let Some(e) = encoding {
        r = r.header("content-encoding", e);
    }
    r.send().await.unwrap()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn good_protobuf() -> Vec<u8> {
    request_with_one_nan().encode_to_vec()
}

async fn rpc_status(r: Response) -> RpcStatus {
    RpcStatus::decode(r.bytes().await.unwrap()).unwrap()
}

/// OTLP/JSON as SDKs send it: camelCase, int64 as strings, enums as numbers.
const OTLP_JSON: &str = r#"{
  "resourceMetrics": [{
    "resource": {"attributes": [
      {"key": "service.name", "value": {"stringValue": "checkout"}},
      {"key": "process.pid", "value": {"intValue": "77"}}
    ]},
    "scopeMetrics": [{
      "scope": {"name": "my.lib", "version": "1.0"},
      "metrics": [
        {"name": "http.requests", "unit": "1",
         "sum": {"aggregationTemporality": 2, "isMonotonic": true, "dataPoints": [
           {"asInt": "42", "timeUnixNano": "1768213845000000000", "startTimeUnixNano": "1768213800000000000",
            "attributes": [{"key": "code", "value": {"intValue": "200"}}]}
         ]}},
        {"name": "latency", "gauge": {"dataPoints": [
           {"asDouble": 12.5, "timeUnixNano": "1768213845000000000"},
           {"asDouble": 13.5},
           {"asDouble": "NaN", "timeUnixNano": "1768213845000000000"}
        ]}},
        {"name": "rpc", "histogram": {"aggregationTemporality": 1, "dataPoints": [
           {"count": "4", "sum": 10, "bucketCounts": ["1", "3"], "explicitBounds": [1.0],
            "timeUnixNano": "1768213845000000000"}
        ]}}
      ]
    }]
  }]
}"#;

#[tokio::test]
async fn protobuf_json_and_gzip_requests_are_accepted() {
    let recorded = Arc::new(Recorded::default());
    let (url, stop) = start(recorded.clone(), 4 << 20).await;

    let r = post(&url, PROTOBUF, None, good_protobuf()).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], PROTOBUF);
    let answer = ExportMetricsServiceResponse::decode(r.bytes().await.unwrap()).unwrap();
    assert_eq!(answer.partial_success.unwrap().rejected_data_points, 1);
    let points = recorded.take();
    assert_eq!(points.len(), 2);
    assert!(points
        .iter()
        .all(|(p, l)| p.series == l.id() && l.service() == Some("api")));

    let r = post(&url, "application/json; charset=utf-8", None, OTLP_JSON.into()).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], JSON);
    let answer: serde_json::Value = r.json().await.unwrap();
    // The point without a time and the NaN one (`"NaN"` decodes as no value).
    assert_eq!(answer["partialSuccess"]["rejectedDataPoints"], 2, "{answer}");
    let msg = answer["partialSuccess"]["errorMessage"].as_str().unwrap();
    assert!(msg.contains("missing time_unix_nano"), "{msg}");
    let got: Vec<_> = recorded
        .take()
        .into_iter()
        .map(|(p, l)| (l.metric.clone(), p.value, l.get("code").map(str::to_string)))
        .collect();
    assert_eq!(
        got,
        vec![
            ("http.requests".to_string(), 42.0, Some("200".to_string())),
            ("latency".to_string(), 12.5, None),
            ("rpc".to_string(), 4.0, None),
        ]
    );

    let r = post(&url, PROTOBUF, Some("gzip"), gzip(&good_protobuf())).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(recorded.take().len(), 2);

    let fully_good = request(vec![], vec![gauge("g", vec![number(T, 1.0, vec![])])]);
    let body = serde_json::to_vec(&fully_good).unwrap();
    let r = post(&url, JSON, Some("gzip"), gzip(&body)).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.text().await.unwrap(), "{}");
    stop.cancel();
}

#[tokio::test]
async fn bad_requests_get_otlp_errors_and_the_server_keeps_serving() {
    let recorded = Arc::new(Recorded::default());
    let (url, stop) = start(recorded.clone(), 1024).await;

    let r = post(&url, PROTOBUF, None, vec![0xff, 0xff, 0xff]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(r.headers()["content-type"], PROTOBUF);
    let status = rpc_status(r).await;
    assert_eq!(status.code, 3);
    assert!(status.message.contains("protobuf"), "{}", status.message);

    let r = post(&url, JSON, None, b"{\"resourceMetrics\": 7".to_vec()).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["code"], 3);
    assert!(body["message"].as_str().unwrap().contains("JSON"), "{body}");

    let r = post(&url, PROTOBUF, None, vec![0; 2048]).await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(rpc_status(r).await.message.contains("1024 bytes"));

    // A gzip bomb: small on the wire, far over the limit once inflated.
    let bomb = gzip(&vec![0; 512 << 10]);
    assert!(bomb.len() < 1024);
    let r = post(&url, PROTOBUF, Some("gzip"), bomb).await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(rpc_status(r).await.message.contains("decompressed"));

    let r = post(&url, PROTOBUF, Some("gzip"), b"not gzip".to_vec()).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    let r = post(&url, "text/plain", None, b"hello".to_vec()).await;
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("application/x-protobuf"),
        "{body}"
    );

    let r = post(&url, PROTOBUF, Some("br"), good_protobuf()).await;
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let r = reqwest::Client::new().get(&url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);

    assert!(recorded.take().is_empty());
    let r = post(&url, PROTOBUF, None, good_protobuf()).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(recorded.take().len(), 2);
    stop.cancel();
}

#[tokio::test]
async fn a_full_pipeline_answers_503_with_retry_after() {
    let (url, stop) = start(Arc::new(Full), 4 << 20).await;
    let r = post(&url, PROTOBUF, None, good_protobuf()).await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.headers()["retry-after"], "1");
    assert_eq!(rpc_status(r).await.code, 8);
    stop.cancel();
}

#[tokio::test]
async fn requests_and_points_are_counted_by_outcome() {
    let counters = Arc::new(Counters::default());
    let router = metrics::with_local_recorder(counters.as_ref(), || {
        let ingest = Ingest::new(
            "otlp/x",
            "http",
            IdentityConfig::default(),
            Arc::new(Recorded::default()),
        );
        http::router(ingest, 1024)
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1/metrics", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });

    post(&url, PROTOBUF, None, good_protobuf()).await;
    post(&url, PROTOBUF, None, vec![0xff]).await;
    post(&url, "text/plain", None, vec![]).await;
    post(&url, PROTOBUF, None, vec![0; 4096]).await;

    let key = |name: &str, outcome: Option<&str>| match outcome {
        Some(o) => format!("{name}{{outcome={o},receiver=otlp/x,transport=http}}"),
        None => format!("{name}{{receiver=otlp/x,transport=http}}"),
    };
    let get = |name, outcome| counters.get(&key(name, outcome));
    assert_eq!(
        get("driftd_receiver_accepted_points_total", None),
        2,
        "{:?}",
        counters.keys()
    );
    assert_eq!(get("driftd_receiver_refused_points_total", None), 1);
    assert_eq!(get("driftd_receiver_requests_total", Some("ok")), 1);
    assert_eq!(get("driftd_receiver_requests_total", Some("bad_request")), 2);
    assert_eq!(get("driftd_receiver_requests_total", Some("too_large")), 1);
    assert_eq!(get("driftd_receiver_requests_total", Some("unavailable")), 0);
}
