//! Every listener holds `service.listeners`: a client that sends nothing, drips its
//! headers (slowloris), sends part of the HTTP/2 preface or idles on a keep-alive
//! connection is closed after `header_read_timeout` while other clients are served; a
//! body that never finishes gets 408 after `request_timeout`; past `max_connections`
//! new clients wait until a connection closes. Against the real binary, over raw TCP.

mod common;

use common::otlp::latency_request;
use common::{prometheus_sum, Driftd};
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_client::MetricsServiceClient;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(1);

/// api, http_json and the OTLP receiver share no socket with the Prometheus exporter,
/// so scraping it never waits for a slot of the listener under test.
const CONFIG: &str = r#"
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:0
  http_json:
    endpoint: 127.0.0.1:0
processors:
  drift: {}
exporters:
  api:
    endpoint: 127.0.0.1:0
  prometheus:
    endpoint: 127.0.0.1:{prometheus_port}
service:
  listeners:
    header_read_timeout: 1s
    request_timeout: 2s
    max_connections: 3
  pipelines:
    metrics:
      receivers: [otlp, http_json]
      processors: [drift]
      exporters: [api, prometheus]
"#;

fn start() -> Driftd {
    Driftd::start(&CONFIG.replace("{prometheus_port}", &common::free_port().to_string()))
}

fn addr(d: &Driftd, component: &str) -> String {
    d.url(component).trim_start_matches("http://").to_string()
}

/// Reads until the server closes the connection and returns what it sent and when it
/// closed. Panics if it is still open after `limit`.
async fn closed_within(conn: &mut TcpStream, limit: Duration) -> (Vec<u8>, Duration) {
    let start = Instant::now();
    let mut got = Vec::new();
    let read = tokio::time::timeout(limit, async {
        let mut buf = [0; 4096];
        loop {
            match conn.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the connection was still open after {limit:?}");
    (got, start.elapsed())
}

/// GETs `/health` on `api` on a new connection; true when it answered 200.
async fn healthy(api: &str) -> bool {
    let client = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
    client
        .get(format!("http://{api}/health"))
        .send()
        .await
        .is_ok_and(|r| r.status() == 200)
}

#[tokio::test]
async fn a_slowloris_client_is_closed_after_the_header_timeout_while_others_are_served() {
    let d = start();
    let api = addr(&d, "api");
    let mut slow = TcpStream::connect(&api).await.unwrap();
    slow.write_all(b"GET /health HTTP/1.1\r\nHost: driftd\r\n")
        .await
        .unwrap();
    let start = Instant::now();
    let (mut served, mut closed) = (0, None);
    // One header byte every 100 ms, and a well-behaved client meanwhile.
    for byte in b"X-Slow: abcdefghijklmnopqrstuvwxyz0123456789".iter().cycle().take(50) {
        if slow.write_all(&[*byte]).await.is_err() {
            closed = Some(start.elapsed());
            break;
        }
        served += usize::from(healthy(&api).await);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let closed = match closed {
        Some(at) => at,
        None => closed_within(&mut slow, Duration::from_secs(1)).await.1 + start.elapsed(),
    };
    assert!(
        closed >= HEADER_READ_TIMEOUT && closed < HEADER_READ_TIMEOUT * 3,
        "the slow client was closed after {closed:?}, the header timeout is {HEADER_READ_TIMEOUT:?}"
    );
    assert!(
        served >= 5,
        "only {served} requests of the other client were answered meanwhile"
    );
    let timeouts = prometheus_sum(
        &d.url("prometheus"),
        "driftd_listener_timeouts_total",
        &[&format!("listener=\"{api}\"")],
    )
    .await;
    assert_eq!(timeouts, 1.0, "driftd_listener_timeouts_total for {api}");
}

#[tokio::test]
async fn silent_partial_and_idle_connections_are_closed_on_http_and_grpc() {
    let d = start();
    let (api, grpc) = (addr(&d, "api"), addr(&d, "otlp/grpc"));
    let limit = HEADER_READ_TIMEOUT * 3;

    // Connects and sends nothing, on both kinds of listener.
    for to in [&api, &grpc] {
        let mut silent = TcpStream::connect(to).await.unwrap();
        let (got, after) = closed_within(&mut silent, limit).await;
        assert!(
            got.is_empty() && after >= HEADER_READ_TIMEOUT,
            "{to}: {after:?} {got:?}"
        );
    }
    // Half the HTTP/2 preface, and never the rest.
    let mut partial = TcpStream::connect(&grpc).await.unwrap();
    partial.write_all(b"PRI * HTTP/2.0\r\n").await.unwrap();
    let (_, after) = closed_within(&mut partial, limit).await;
    assert!(
        after >= HEADER_READ_TIMEOUT,
        "a partial preface was closed after {after:?}"
    );
    // One request answered, then idle on the keep-alive connection.
    let mut idle = TcpStream::connect(&api).await.unwrap();
    idle.write_all(b"GET /health HTTP/1.1\r\nHost: driftd\r\n\r\n")
        .await
        .unwrap();
    let (got, after) = closed_within(&mut idle, limit).await;
    assert!(got.starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&got));
    assert!(
        after >= HEADER_READ_TIMEOUT,
        "an idle keep-alive connection was closed after {after:?}"
    );

    // A real gRPC client is served as before.
    let mut client = MetricsServiceClient::connect(d.url("otlp/grpc")).await.unwrap();
    let answer = client.export(latency_request(&["svc"], 0, &[1.0])).await;
    assert!(answer.is_ok(), "{answer:?}");
}

#[tokio::test]
async fn a_body_that_never_finishes_gets_408_after_the_request_timeout() {
    let d = start();
    let mut slow = TcpStream::connect(addr(&d, "http_json")).await.unwrap();
    slow.write_all(
        b"POST /v1/telemetry HTTP/1.1\r\nHost: driftd\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n[{\"ser",
    )
    .await
    .unwrap();
    let (got, after) = closed_within(&mut slow, Duration::from_secs(6)).await;
    let answer = String::from_utf8_lossy(&got);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("request_timeout (2s)"), "{answer}");
    assert!(after >= Duration::from_secs(2), "answered after {after:?}");
}

#[tokio::test]
async fn past_max_connections_a_client_waits_until_one_closes() {
    let d = start();
    let api = addr(&d, "api");
    let mut silent = Vec::new();
    for _ in 0..3 {
        silent.push(TcpStream::connect(&api).await.unwrap());
    }
    let start = Instant::now();
    let waiting = tokio::spawn({
        let api = api.clone();
        async move { healthy(&api).await }
    });
    tokio::time::sleep(HEADER_READ_TIMEOUT / 2).await;
    let open = prometheus_sum(
        &d.url("prometheus"),
        "driftd_listener_connections",
        &[&format!("listener=\"{api}\"")],
    )
    .await;
    assert_eq!(
        open, 3.0,
        "driftd_listener_connections for {api} while the fourth client waits"
    );
    assert!(
        !waiting.is_finished(),
        "the fourth client was served while three connections were open"
    );
    assert!(
        waiting.await.unwrap(),
        "the fourth client was not served once the silent ones closed"
    );
    let after = start.elapsed();
    assert!(
        after >= HEADER_READ_TIMEOUT / 2 && after < HEADER_READ_TIMEOUT * 4,
        "served after {after:?}"
    );
    for mut s in silent {
        closed_within(&mut s, Duration::from_secs(1)).await;
    }
}
