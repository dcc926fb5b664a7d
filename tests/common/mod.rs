//! Runs the real `driftd` binary for end-to-end tests: a config on port 0, the bound
//! addresses read from the startup summary, SIGTERM on drop.

#![allow(dead_code)] // each test binary uses a different part of this module

pub mod kafka;
pub mod otlp;
pub mod webdriver;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A running driftd.
pub struct Driftd {
    child: Child,
    /// Listener address by component id (`otlp` has `grpc` and `http` entries:
    /// `otlp/grpc`, `otlp/http`).
    pub addrs: HashMap<String, SocketAddr>,
    logs: Arc<Mutex<Vec<String>>>,
    _dir: TempDir,
}

/// A directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// A new directory named for `tag`, this process and a count: a plain path that
    /// tools taking `file:password` or YAML without quotes read as it is.
    pub fn new(tag: &str) -> Self {
        static MADE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = MADE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("driftd-test-{tag}-{}-{n}", std::process::id()));
        // Left by an earlier process that had this id.
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("temp dir");
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `scripts/{script}`, which installs a tool when it is missing, and returns the
/// path it prints.
pub fn installed(script: &str) -> String {
    let out = Command::new("bash")
        .arg(format!("{}/scripts/{script}", env!("CARGO_MANIFEST_DIR")))
        .stderr(Stdio::inherit())
        .output()
        .unwrap_or_else(|e| panic!("run scripts/{script}: {e}"));
    assert!(
        out.status.success(),
        "scripts/{script} could not install what the test needs"
    );
    String::from_utf8(out.stdout).expect("a path").trim().to_string()
}

/// Panics within seconds, naming the server and the script that starts it, unless
/// something accepts TCP connections at `addr`: a test never waits out a timeout (or
/// passes) against a server that is not there.
pub fn require_server(name: &str, addr: &str, script: &str) {
    let sock: SocketAddr = addr.parse().expect("a socket address");
    if let Err(e) = std::net::TcpStream::connect_timeout(&sock, Duration::from_secs(3)) {
        panic!("{name} is not reachable at {addr} ({e}): start it with {script}");
    }
}

/// A TCP port free on 127.0.0.1 now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

pub fn driftd_bin() -> &'static str {
    env!("CARGO_BIN_EXE_driftd")
}

impl Driftd {
    /// Starts driftd on `config` (YAML; `{dir}` is replaced by a temp directory).
    pub fn start(config: &str) -> Driftd {
        let dir = TempDir::new("run");
        let path = dir.0.join("config.yaml");
        std::fs::write(&path, config.replace("{dir}", &dir.0.display().to_string())).expect("write config");
        let mut child = Command::new(driftd_bin())
            .arg("--config")
            .arg(&path)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn driftd");
        let logs = Arc::new(Mutex::new(Vec::new()));
        let (ready_tx, ready_rx) = mpsc::channel();
        let stderr = child.stderr.take().expect("stderr");
        let sink = logs.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains("listening address=") || line.contains("driftd is ready") {
                    let _ = ready_tx.send(line.clone());
                }
                sink.lock().unwrap().push(line);
            }
        });
        let mut addrs = HashMap::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match ready_rx.recv_timeout(left) {
                Ok(line) if line.contains("driftd is ready") => break,
                Ok(line) => {
                    let field = |k: &str| {
                        line.split_whitespace()
                            .find_map(|t| t.strip_prefix(k))
                            .map(str::to_string)
                    };
                    let addr: SocketAddr = field("address=").unwrap().parse().unwrap();
                    let protocol = field("protocol=").unwrap();
                    for c in field("components=").unwrap().split('+') {
                        addrs.insert(c.to_string(), addr);
                        addrs.insert(format!("{c}/{protocol}"), addr);
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    panic!("driftd did not become ready:\n{}", logs.lock().unwrap().join("\n"));
                }
            }
        }
        Driftd {
            child,
            addrs,
            logs,
            _dir: dir,
        }
    }

    /// `http://addr` of a component.
    pub fn url(&self, component: &str) -> String {
        format!("http://{}", self.addrs[component])
    }

    /// Everything driftd logged so far.
    pub fn logs(&self) -> String {
        self.logs.lock().unwrap().join("\n")
    }

    /// Sends SIGTERM and waits for the exit.
    pub fn stop(&mut self) -> std::process::ExitStatus {
        self.terminate()
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The temp directory `{dir}` in the config stands for.
    pub fn dir(&self) -> &std::path::Path {
        &self._dir.0
    }

    fn terminate(&mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                return self.child.wait().expect("wait");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Driftd {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.terminate();
        }
    }
}

/// Polls `f` until it returns Some, or panics after `timeout`.
pub async fn eventually<T, F, Fut>(timeout: Duration, what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        if Instant::now() > deadline {
            panic!("timed out waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The z-score rule set, pinned so tests with hand-made data keep their expected
/// detections whatever the default detector becomes.
pub const ZSCORE_CONFIG: &str = r#"
receivers:
  otlp:
    protocols:
      grpc:
processors:
  drift:
    detector:
      type: zscore
exporters:
  api: {}
service:
  pipelines:
    metrics:
      receivers: [otlp]
      processors: [drift]
      exporters: [api]
"#;

/// A config with every listener on port 0 and events also written to `{dir}/events.jsonl`.
pub const TEST_CONFIG: &str = r#"
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:0
      http:
        endpoint: 127.0.0.1:0
processors:
  drift: {}
exporters:
  prometheus:
    endpoint: 127.0.0.1:0
  api:
    endpoint: 127.0.0.1:0
  storage: {}
  jsonl:
    path: "{dir}/events.jsonl"
service:
  pipelines:
    metrics:
      receivers: [otlp]
      processors: [drift]
      exporters: [prometheus, api, storage, jsonl]
"#;

/// The sum of every sample of Prometheus metric `name` whose labels contain each of
/// `labels` (`receiver="kafka"`), read from the exporter at `prometheus` (`http://addr`).
pub async fn prometheus_sum(prometheus: &str, name: &str, labels: &[&str]) -> f64 {
    let text = reqwest::get(format!("{prometheus}/metrics"))
        .await
        .expect("scrape /metrics")
        .text()
        .await
        .expect("/metrics body");
    text.lines()
        .filter(|l| {
            l.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
        })
        .filter(|l| labels.iter().all(|want| l.contains(want)))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// Every series the query API at `api` knows, paging through `/v1/series`.
pub async fn all_series(api: &str) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    loop {
        let url = format!("{api}/v1/series?limit=1000&offset={}", out.len());
        let page: serde_json::Value = reqwest::get(&url).await.expect("get").json().await.expect("json");
        let series = page["series"].as_array().cloned().unwrap_or_default();
        if series.is_empty() {
            return out;
        }
        out.extend(series);
    }
}

/// `GET url` as JSON, with its status.
pub async fn get_json(url: &str) -> (u16, serde_json::Value) {
    let resp = reqwest::get(url).await.expect("get");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(serde_json::Value::Null))
}

/// The drift events of `kind` (`drift_start`, `drift_end`) the query API at `api` holds.
pub async fn drift_events(api: &str, kind: &str) -> Vec<serde_json::Value> {
    let (status, body) = get_json(&format!("{api}/v1/events?kind={kind}&limit=1000")).await;
    assert_eq!(status, 200, "{body}");
    body["events"].as_array().cloned().unwrap_or_default()
}
