use super::HttpJsonConfig;
use crate::otlp::test_support::{build_context, Full, Recorded};
use crate::ReceiverConfig;
use driftd_core::component::ReceiverFactory;
use driftd_core::config::ComponentId;
use driftd_core::Consumer;
use flate2::write::GzEncoder;
use flate2::Compression;
use reqwest::StatusCode;
use serde_json::Value;
use std::io::Write;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Serves the receiver through the core's shared listener; returns its base URL.
async fn start(output: Arc<dyn Consumer>, yaml: &str) -> (String, CancellationToken) {
    let mut config: HttpJsonConfig = serde_yaml::from_str(yaml).unwrap();
    config.endpoint = "127.0.0.1:0".parse().unwrap();
    let id = ComponentId::parse("http_json").unwrap();
    let mut ctx = build_context();
    let receiver = ReceiverConfig::HttpJson(config)
        .build(&id, &mut ctx, output)
        .await
        .unwrap();
    assert!(receiver.is_none(), "served by the shared listener");
    let listener = ctx.http.bind(&ctx.limits).unwrap().remove(0);
    let url = format!("http://{}", listener.addr);
    let stop = CancellationToken::new();
    tokio::spawn(listener.serve(stop.clone()));
    (url, stop)
}

/// Posts `body` as `application/json` unless `headers` name another Content-Type.
async fn post(url: &str, body: Vec<u8>, headers: &[(&str, &str)]) -> (StatusCode, Option<String>, Value) {
    let mut r = reqwest::Client::new().post(url).body(body);
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("content-type")) {
        r = r.header("content-type", "application/json");
    }
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    let resp = r.send().await.unwrap();
    let status = resp.status();
    let retry = resp
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    (status, retry, resp.json().await.unwrap_or(Value::Null))
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

#[tokio::test]
async fn telemetry_plain_and_gzip_reaches_the_pipeline() {
    let recorded = Arc::new(Recorded::default());
    let (url, stop) = start(recorded.clone(), "{}").await;
    let body = br#"{"service_id":"checkout","latency_ms":12.5,"payload_kb":3,"timestamp":"2026-01-12T10:30:45.123Z"}"#;
    let (status, _, answer) = post(&format!("{url}/v1/telemetry"), body.to_vec(), &[]).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    assert_eq!(answer["status"], "accepted");
    assert_eq!(answer["service_id"], "checkout");
    assert_eq!(answer["timestamp"], "2026-01-12T10:30:45.123Z");
    let (status, _, _) = post(
        &format!("{url}/v1/telemetry"),
        gzip(body),
        &[("content-encoding", "gzip"), ("content-type", "application/json")],
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let got = recorded.take();
    assert_eq!(got.len(), 4);
    assert_eq!(got[0].1.metric, "latency_ms");
    assert_eq!(got[1].1.metric, "payload_kb");
    assert!(got
        .iter()
        .all(|(p, l)| p.series == l.id() && l.service() == Some("checkout")));

    let (status, _, answer) = post(
        &format!("{url}/v1/telemetry"),
        body.to_vec(),
        &[("content-encoding", "br")],
    )
    .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(answer["error"].as_str().unwrap().contains("br"), "{answer}");
    stop.cancel();
}

#[tokio::test]
async fn points_answer_counts_and_reasons() {
    let recorded = Arc::new(Recorded::default());
    let (url, stop) = start(recorded.clone(), "{}").await;
    let body = br#"[{"metric":"q","value":1,"labels":{"service.name":"w"}},{"metric":"q","value":"NaN"}]"#;
    let (status, _, answer) = post(&format!("{url}/v1/points"), body.to_vec(), &[]).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    assert_eq!(
        (answer["accepted"].as_u64(), answer["rejected"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(answer["errors"][0]["index"], 1);
    assert_eq!(answer["errors"][0]["field"], "value");
    assert!(answer["errors"][0]["error"].as_str().unwrap().contains("NaN"));
    assert_eq!(recorded.take().len(), 1);

    let (status, _, answer) = post(&format!("{url}/v1/points"), br#"{"value":1}"#.to_vec(), &[]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert!(
        answer["error"].as_str().unwrap().contains("metric is required"),
        "{answer}"
    );
    stop.cancel();
}

#[tokio::test]
async fn a_full_pipeline_answers_503_with_retry_after() {
    let (url, stop) = start(Arc::new(Full), "{}").await;
    let (status, retry, answer) = post(
        &format!("{url}/v1/telemetry"),
        br#"{"service_id":"a","latency_ms":1}"#.to_vec(),
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(retry.as_deref(), Some("1"));
    assert!(answer["error"].as_str().unwrap().contains("capacity"), "{answer}");
    stop.cancel();
}

#[tokio::test]
async fn the_bearer_token_guards_both_routes_and_the_limit_holds_after_gzip() {
    let recorded = Arc::new(Recorded::default());
    let (url, stop) = start(
        recorded.clone(),
        "{auth: {bearer_token: s3cret-s3cret-s3cret}, max_request_body_size: 1000}",
    )
    .await;
    let body = br#"{"service_id":"a","latency_ms":1}"#.to_vec();
    for path in ["/v1/telemetry", "/v1/points"] {
        let (status, _, answer) = post(&format!("{url}{path}"), body.clone(), &[]).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
        assert!(answer["error"].as_str().unwrap().contains("bearer token"), "{answer}");
    }
    let auth = [("authorization", "Bearer s3cret-s3cret-s3cret")];
    let (status, _, _) = post(&format!("{url}/v1/telemetry"), body, &auth).await;
    assert_eq!(status, StatusCode::ACCEPTED);

    let padded = format!(r#"{{"service_id":"a","latency_ms":1{}}}"#, " ".repeat(5000));
    assert!(gzip(padded.as_bytes()).len() < 1000);
    let headers = [auth[0], ("content-encoding", "gzip")];
    let (status, _, answer) = post(&format!("{url}/v1/telemetry"), gzip(padded.as_bytes()), &headers).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{answer}");
    assert!(answer["error"].as_str().unwrap().contains("1000 bytes"), "{answer}");
    assert_eq!(recorded.take().len(), 1);
    stop.cancel();
}

#[tokio::test]
async fn a_post_that_is_not_declared_json_is_refused_so_no_web_page_can_post_cross_site() {
    let recorded = Arc::new(Recorded::default());
    let (url, stop) = start(recorded.clone(), "{}").await;
    let body = br#"{"service_id":"a","latency_ms":1}"#.to_vec();
    // What a cross-site <form> or fetch without preflight can send, and no type at all.
    for path in ["/v1/telemetry", "/v1/points"] {
        for content_type in ["application/x-www-form-urlencoded", "text/plain", "multipart/form-data"] {
            let (status, _, answer) =
                post(&format!("{url}{path}"), body.clone(), &[("content-type", content_type)]).await;
            assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{path} {content_type}");
            let error = answer["error"].as_str().unwrap();
            assert!(
                error.contains(content_type) && error.contains("application/json"),
                "{answer}"
            );
        }
        let r = reqwest::Client::new()
            .post(format!("{url}{path}"))
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{path} without Content-Type"
        );
        let answer: Value = r.json().await.unwrap();
        assert!(
            answer["error"].as_str().unwrap().contains("missing Content-Type"),
            "{answer}"
        );
    }
    assert!(recorded.take().is_empty(), "nothing refused reached the pipeline");
    // Parameters and case do not matter.
    let typed = [("content-type", "Application/JSON; charset=utf-8")];
    let (status, _, answer) = post(&format!("{url}/v1/telemetry"), body, &typed).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    assert_eq!(recorded.take().len(), 1);
    stop.cancel();
}
