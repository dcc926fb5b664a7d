//! Webhook tests against a real HTTP server on 127.0.0.1 (axum, in the test) that
//! records every request and answers as the test scripts it.

mod delivery;
mod formats;
mod incidents;

use super::{Format, WebhookConfig, WebhookSink};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use driftd_core::component::EventSink;
use driftd_core::DriftEvent;
use serde_json::Value;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// How the server answers one request.
#[derive(Clone, Copy)]
pub(super) enum Reply {
    Status(u16),
    /// Never answers.
    Hang,
}

/// One request as the server saw it.
#[derive(Clone)]
pub(super) struct Request {
    pub headers: HeaderMap,
    pub body: Value,
    pub at: Instant,
}

#[derive(Default)]
struct Recorder {
    requests: Mutex<Vec<Request>>,
    script: Mutex<VecDeque<Reply>>,
    /// Answer for requests past the script.
    otherwise: Mutex<Option<Reply>>,
}

/// A local HTTP server; answers 200 unless scripted otherwise.
pub(super) struct Server {
    pub addr: SocketAddr,
    state: Arc<Recorder>,
}

async fn record(State(state): State<Arc<Recorder>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
    state.requests.lock().unwrap().push(Request {
        headers,
        body,
        at: Instant::now(),
    });
    let reply = state.script.lock().unwrap().pop_front();
    let reply = reply.or(*state.otherwise.lock().unwrap());
    match reply.unwrap_or(Reply::Status(200)) {
        Reply::Status(code) => StatusCode::from_u16(code).unwrap(),
        Reply::Hang => std::future::pending().await,
    }
}

impl Server {
    pub async fn start() -> Server {
        let state = Arc::new(Recorder::default());
        let app = Router::new().route("/hook", post(record)).with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("binds");
        let addr = listener.local_addr().expect("bound");
        tokio::spawn(async move { axum::serve(listener, app).await });
        Server { addr, state }
    }

    /// Answers the next requests with `replies`, in order.
    pub fn script(&self, replies: &[Reply]) {
        self.state.script.lock().unwrap().extend(replies.iter().copied());
    }

    /// Answers every request past the script with `reply`.
    pub fn otherwise(&self, reply: Reply) {
        *self.state.otherwise.lock().unwrap() = Some(reply);
    }

    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    pub fn requests(&self) -> Vec<Request> {
        self.state.requests.lock().unwrap().clone()
    }

    /// Waits until `n` requests arrived (or panics after 5 s).
    pub async fn wait_for(&self, n: usize) -> Vec<Request> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let got = self.requests();
            if got.len() >= n {
                return got;
            }
            assert!(Instant::now() < deadline, "expected {n} requests, got {}", got.len());
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// A per-series (`group_by: series`) config for `server` in `format`, with `yaml`
/// fields on top.
pub(super) fn config(server: &Server, format: Format, yaml: &str) -> WebhookConfig {
    WebhookConfig {
        group_by: super::GroupBy::Series,
        ..incident_config(server, format, yaml)
    }
}

/// A config for `server` in `format` with the defaults (per incident), `yaml` on top.
pub(super) fn incident_config(server: &Server, format: Format, yaml: &str) -> WebhookConfig {
    let mut c = WebhookConfig::new(&server.url(), format);
    if !yaml.is_empty() {
        let mut v = serde_yaml::to_value(&c).expect("serializes");
        let extra: serde_yaml::Value = serde_yaml::from_str(yaml).expect("test YAML");
        for (k, val) in extra.as_mapping().expect("a mapping") {
            v[k.as_str().expect("a key")] = val.clone();
        }
        v["url"] = serde_yaml::Value::String(server.url());
        c = serde_yaml::from_value(v).expect("parses");
    }
    assert!(c.validate().is_empty(), "{:?}", c.validate());
    c
}

pub(super) fn sink(config: &WebhookConfig) -> WebhookSink {
    WebhookSink::new(config, "webhook/test").expect("builds")
}

pub(super) async fn export(sink: &WebhookSink, events: &[DriftEvent]) {
    sink.export(events).await.expect("exports");
}
