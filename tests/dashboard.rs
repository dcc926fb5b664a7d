//! The Grafana dashboard (dashboards/driftd.json) against the real thing: it has the
//! shape Grafana imports, every metric its queries name is on a live driftd's
//! `/metrics`, and a real Prometheus scraping that driftd evaluates every query (and
//! the drift_start annotation) without error, the series counts matching driftd's own.

mod common;

use common::otlp::send_latency_step;
use common::{eventually, Driftd, TempDir, TEST_CONFIG};
use serde_json::Value;
use std::collections::BTreeSet;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const DASHBOARD: &str = include_str!("../dashboards/driftd.json");
const PANEL_TYPES: [&str; 4] = ["stat", "timeseries", "table", "gauge"];

/// Every PromQL expression of the dashboard: panel targets, then annotations.
fn expressions(d: &Value) -> Vec<String> {
    let panels = d["panels"].as_array().expect("panels");
    let targets = panels
        .iter()
        .flat_map(|p| p["targets"].as_array().cloned().unwrap_or_default());
    let annotations = d["annotations"]["list"].as_array().cloned().unwrap_or_default();
    targets
        .chain(annotations)
        .filter_map(|t| t["expr"].as_str().map(str::to_string))
        .collect()
}

/// The `driftd_…` metric names in `expr`.
fn metric_names(expr: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = expr;
    while let Some(at) = rest.find("driftd_") {
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        names.push(tail[..end].to_string());
        rest = &tail[end..];
    }
    names
}

#[test]
fn the_dashboard_has_the_shape_grafana_imports() {
    let d: Value = serde_json::from_str(DASHBOARD).expect("the dashboard is JSON");
    assert_eq!(d["uid"], "driftd-overview");
    assert!(
        d["schemaVersion"].as_u64().is_some_and(|v| v >= 36),
        "{}",
        d["schemaVersion"]
    );
    assert_eq!(
        d["__inputs"][0]["name"], "DS_PROMETHEUS",
        "a data source chosen at import"
    );
    let panels = d["panels"].as_array().expect("panels");
    let ids: BTreeSet<u64> = panels.iter().filter_map(|p| p["id"].as_u64()).collect();
    assert_eq!(ids.len(), panels.len(), "every panel has its own id");
    for p in panels {
        let title = p["title"].as_str().expect("a title");
        assert!(
            PANEL_TYPES.contains(&p["type"].as_str().unwrap_or("")),
            "{title}: {}",
            p["type"]
        );
        assert_eq!(p["datasource"]["uid"], "${DS_PROMETHEUS}", "{title}");
        let grid = &p["gridPos"];
        let (x, w) = (grid["x"].as_u64().unwrap(), grid["w"].as_u64().unwrap());
        assert!(x + w <= 24 && grid["h"].as_u64().unwrap() > 0, "{title}: {grid}");
        let targets = p["targets"].as_array().expect("targets");
        assert!(!targets.is_empty(), "{title}");
        for t in targets {
            let expr = t["expr"].as_str().expect("expr");
            assert!(
                !metric_names(expr).is_empty(),
                "{title}: `{expr}` names no driftd metric"
            );
        }
    }
}

struct Prometheus {
    child: Child,
    url: String,
    _dir: TempDir,
}

impl Prometheus {
    /// A real Prometheus scraping `target` (host:port) every second with bearer token
    /// `token`.
    fn start(target: &str, token: &str) -> Prometheus {
        let bin = common::installed("prometheus.sh");
        let dir = TempDir::new("prometheus");
        let config = dir.0.join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global: {{scrape_interval: 1s, evaluation_interval: 1s}}\n\
                 scrape_configs:\n  - job_name: driftd\n    authorization: {{credentials: {token}}}\n    \
                 static_configs: [{{targets: ['{target}']}}]\n"
            ),
        )
        .unwrap();
        let port = common::free_port();
        let child = Command::new(bin)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", dir.0.join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start prometheus");
        Prometheus {
            child,
            url: format!("http://127.0.0.1:{port}"),
            _dir: dir,
        }
    }

    /// The result of an instant query, or the error Prometheus gave for it.
    async fn query(&self, expr: &str) -> Result<Vec<Value>, String> {
        let url = reqwest::Url::parse_with_params(&format!("{}/api/v1/query", self.url), [("query", expr)])
            .map_err(|e| e.to_string())?;
        let r = reqwest::get(url).await.map_err(|e| e.to_string())?;
        let body: Value = r.json().await.map_err(|e| e.to_string())?;
        match body["status"].as_str() {
            Some("success") => Ok(body["data"]["result"].as_array().cloned().unwrap_or_default()),
            _ => Err(body.to_string()),
        }
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const TOKEN: &str = "scrape-token-0123456789";

#[tokio::test]
async fn every_dashboard_query_runs_in_a_real_prometheus_against_a_live_driftd() {
    let d: Value = serde_json::from_str(DASHBOARD).unwrap();
    let exprs = expressions(&d);
    // `/metrics` behind a token, as a scrape over an untrusted network would have it.
    let config = TEST_CONFIG.replace(
        "  prometheus:\n    endpoint: 127.0.0.1:0\n",
        &format!("  prometheus:\n    endpoint: 127.0.0.1:0\n    auth: {{bearer_token: {TOKEN}}}\n"),
    );
    assert_ne!(config, TEST_CONFIG);
    let driftd = Driftd::start(&config);
    send_latency_step(&driftd, &["checkout", "search"]).await;
    let scrape = format!("{}/metrics", driftd.url("prometheus"));
    let client = reqwest::Client::new();
    for wrong in [None, Some("Bearer not-the-token-at-all")] {
        let mut r = client.get(&scrape);
        if let Some(w) = wrong {
            r = r.header("authorization", w);
        }
        assert_eq!(r.send().await.unwrap().status(), 401, "{wrong:?}");
    }

    // Every metric a query names is exported.
    let metrics = client
        .get(&scrape)
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("scrape")
        .text()
        .await
        .unwrap();
    let exported: BTreeSet<&str> = metrics
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split(['{', ' ']).next())
        .collect();
    let named: BTreeSet<String> = exprs.iter().flat_map(|e| metric_names(e)).collect();
    let missing: Vec<&String> = named.iter().filter(|n| !exported.contains(n.as_str())).collect();
    assert!(missing.is_empty(), "not on /metrics: {missing:?}");

    let prometheus = Prometheus::start(&driftd.addrs["prometheus"].to_string(), TOKEN);
    // Successful scrapes (`up` is 0 for one refused for its token or not parsed): Prometheus
    // asks for OpenMetrics first, so this is also its parser accepting driftd's.
    eventually(
        Duration::from_secs(60),
        "a few successful scrapes of driftd",
        || async {
            let up = prometheus
                .query("sum(sum_over_time(up{job=\"driftd\"}[1m]))")
                .await
                .ok()?;
            let scrapes: f64 = up.first()?["value"][1].as_str()?.parse().ok()?;
            (scrapes >= 3.0).then_some(())
        },
    )
    .await;
    for expr in &exprs {
        let result = prometheus.query(expr).await;
        assert!(result.is_ok(), "`{expr}`: {result:?}");
    }
    let count = |expr: &'static str| {
        let p = &prometheus;
        async move {
            let r = p.query(expr).await.unwrap();
            r.first().and_then(|v| v["value"][1].as_str()?.parse::<f64>().ok())
        }
    };
    assert_eq!(
        count("count(driftd_series_state == 2) or vector(0)").await,
        Some(1.0),
        "checkout drifts"
    );
    assert_eq!(
        count("count(driftd_series_state == 1) or vector(0)").await,
        Some(1.0),
        "search is stable"
    );
    let health = prometheus.query("driftd_entity_health").await.unwrap();
    assert_eq!(health.len(), 2, "{health:?}");
}
