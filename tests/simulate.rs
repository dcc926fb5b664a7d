//! `driftd simulate` against a running driftd: with `--scenario mixed` every series the
//! truth says drifts is detected (after its drift began) and no normal series is; over
//! OTLP/gRPC every point arrives.

mod common;

use common::{drift_events, driftd_bin, eventually, get_json, Driftd, TempDir};
use serde_json::Value;
use std::process::Command;
use std::time::Duration;

const CONFIG: &str = r#"
receivers:
  http_json:
    endpoint: 127.0.0.1:0
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:0
processors:
  drift: {}
exporters:
  api:
    endpoint: 127.0.0.1:0
  storage: {}
service:
  pipelines:
    metrics:
      receivers: [http_json, otlp]
      processors: [drift]
      exporters: [api, storage]
"#;

/// Runs `driftd simulate ARGS`, asserting success; returns stderr (the summary).
fn simulate(args: &[&str]) -> String {
    let out = Command::new(driftd_bin())
        .arg("simulate")
        .args(args)
        .output()
        .expect("run simulate");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "simulate failed: {stderr}");
    stderr
}

fn ns(rfc3339: &str) -> u128 {
    humantime::parse_rfc3339(rfc3339)
        .unwrap()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

/// Sends `driftd simulate --scenario mixed` with `args` to `target`, waits until driftd
/// processed all `points`, and asserts the truth: every drifting series detected (after
/// its drift began, and healthy series never), each normal one neither flagged nor
/// anything but STABLE. Returns the kinds of drift the truth holds.
async fn mixed_scenario_holds_its_truth(d: &Driftd, target: &str, args: &[&str], points: u64) -> Vec<String> {
    let dir = TempDir::new("simulate");
    let truth_path = dir.0.join("truth.json");
    let mut all = vec!["--target", target, "--scenario", "mixed", "--truth"];
    all.push(truth_path.to_str().unwrap());
    all.extend_from_slice(args);
    let summary = simulate(&all);
    assert!(summary.contains(&format!("sent {points} points")), "{summary}");
    assert!(summary.contains("failed 0"), "{summary}");

    let truth: Value = serde_json::from_str(&std::fs::read_to_string(&truth_path).unwrap()).unwrap();
    let drifting = truth["drifting"].as_array().unwrap();
    let normal: Vec<&str> = truth["normal"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();

    let api = d.url("api");
    eventually(Duration::from_secs(20), "every point processed", || async {
        let (_, s) = get_json(&format!("{api}/v1/system/status")).await;
        (s["points_processed"].as_u64() == Some(points)).then_some(())
    })
    .await;
    let starts = drift_events(&api, "drift_start").await;
    let service_of = |e: &Value| e["series"]["labels"]["service.name"].as_str().unwrap().to_string();
    for t in drifting {
        let svc = t["service"].as_str().unwrap();
        let mine: Vec<&Value> = starts.iter().filter(|e| service_of(e) == svc).collect();
        assert!(
            !mine.is_empty(),
            "{} drift of {svc} was not detected: {starts:?}",
            t["kind"]
        );
        for e in mine {
            assert!(
                ns(e["timestamp"].as_str().unwrap()) >= ns(t["at"].as_str().unwrap()),
                "{svc} detected before its drift began: {e}"
            );
        }
    }
    for svc in &normal {
        assert!(
            starts.iter().all(|e| service_of(e) != *svc),
            "normal series {svc} was flagged: {starts:?}"
        );
        let (_, h) = get_json(&format!("{api}/v1/health/{svc}")).await;
        assert_eq!(h["state"], "STABLE", "{svc}: {h}");
    }
    assert_eq!(
        normal.len() + drifting.len(),
        truth["series"].as_u64().unwrap() as usize
    );
    drifting
        .iter()
        .map(|t| t["kind"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn mixed_scenario_drifting_series_are_detected_and_normal_ones_are_not() {
    let d = Driftd::start(CONFIG);
    let target = format!("http://{}", d.addrs["http_json"]);
    let args = [
        "--series",
        "12",
        "--drift-fraction",
        "0.25",
        "--drift-at",
        "150",
        "--samples",
        "300",
        "--rate",
        "max",
        "--seed",
        "42",
    ];
    let kinds = mixed_scenario_holds_its_truth(&d, &target, &args, 3_600).await;
    assert_eq!(kinds, ["spike", "creep", "variance"]);
}

/// Issue #13's load scenario: 40 series over OTLP/gRPC at a steady 100 samples a second
/// each for 30 s, 10% of them drifting by 5 σ (a step up and back, a creep, a wider
/// spread): each drifting series is found and none of the 36 others, over 3,000
/// samples each.
#[tokio::test]
async fn forty_series_at_100_samples_a_second_flag_only_the_drifting_ones() {
    let d = Driftd::start(CONFIG);
    let target = format!("otlp-grpc://{}", d.addrs["otlp/grpc"]);
    let args = [
        "--series",
        "40",
        "--drift-fraction",
        "0.1",
        "--magnitude",
        "5",
        "--samples",
        "3000",
        "--rate",
        "4000",
        "--duration",
        "60s",
    ];
    let kinds = mixed_scenario_holds_its_truth(&d, &target, &args, 120_000).await;
    assert_eq!(kinds, ["spike", "creep", "variance", "spike"]);
}

#[tokio::test]
async fn otlp_grpc_target_delivers_every_point_in_order() {
    let d = Driftd::start(CONFIG);
    let target = format!("otlp-grpc://{}", d.addrs["otlp/grpc"]);
    let summary = simulate(&[
        "--target",
        &target,
        "--series",
        "3",
        "--samples",
        "120",
        "--rate",
        "max",
        "--seed",
        "7",
    ]);
    assert!(
        summary.contains("sent 360 points") && summary.contains("failed 0"),
        "{summary}"
    );
    let api = d.url("api");
    for i in 0..3 {
        let (_, h) = get_json(&format!("{api}/v1/health/sim-{i}")).await;
        assert_eq!(h["sample_count"], 120, "{h}");
        assert_eq!(h["state"], "STABLE", "{h}");
    }
    // Without --truth, the truth goes to stdout.
    let out = Command::new(driftd_bin())
        .args([
            "simulate",
            "--target",
            &target,
            "--series",
            "1",
            "--samples",
            "1",
            "--scenario",
            "spike",
        ])
        .output()
        .unwrap();
    let truth: Value = serde_json::from_slice(&out.stdout).expect("truth JSON on stdout");
    assert_eq!(truth["drifting"][0]["service"], "sim-0");
    assert_eq!(truth["drifting"][0]["kind"], "spike");
}
