//! `driftd bench` end to end: load against a real driftd over gRPC and OTLP/HTTP (what
//! the tool says it sent is what driftd counts as accepted), against the tool's own
//! sink, and the ack→event probe against the default detector.

mod common;

use common::{driftd_bin, prometheus_sum, Driftd, TEST_CONFIG};
use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

/// Runs `driftd bench` with `args` for one second; returns its output.
fn bench(args: &[&str]) -> String {
    let out = Command::new(driftd_bin())
        .arg("bench")
        .args(["--duration", "1s", "--series", "50", "--points-per-request", "100"])
        .args(["--concurrency", "3", "--connections", "2"])
        .args(args)
        .output()
        .expect("run driftd bench");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The number right before `suffix` in the first line that has it (`"sent 100 points"`
/// with suffix `" points"` after `"sent "`).
fn number(text: &str, before: &str, after: &str) -> u64 {
    text.lines()
        .find_map(|l| {
            let rest = &l[l.find(before)? + before.len()..];
            rest[..rest.find(after)?].trim().parse().ok()
        })
        .unwrap_or_else(|| panic!("no `{before}N{after}` in:\n{text}"))
}

#[tokio::test]
async fn what_the_tool_sends_is_what_driftd_accepts() {
    let d = Driftd::start(TEST_CONFIG);
    let prometheus = d.url("prometheus");
    for (protocol, component) in [("grpc", "otlp/grpc"), ("http", "otlp/http")] {
        let out = bench(&["--protocol", protocol, "--endpoint", &d.url(component)]);
        let sent = number(&out, "sent ", " points");
        assert!(sent >= 100, "{out}");
        assert_eq!(number(&out, "failed ", ";"), 0, "{out}");
        let label = format!("transport=\"{protocol}\"");
        let accepted = prometheus_sum(&prometheus, "driftd_receiver_accepted_points_total", &[&label]).await;
        assert_eq!(accepted as u64, sent, "{protocol}: {out}");
    }
}

#[test]
fn the_sink_receives_every_request_the_tool_sends() {
    sink_takes_both_protocols(&[]);
}

#[test]
fn the_decoding_sink_counts_every_point_the_tool_sends() {
    sink_takes_both_protocols(&["--decode"]);
}

/// Loads `driftd bench --sink` (with `extra` arguments) over gRPC and HTTP, then checks
/// its summary against what the tool sent: every request, and with `--decode` every
/// point decoded with prost.
fn sink_takes_both_protocols(extra: &[&str]) {
    let mut sink = Command::new(driftd_bin())
        .args(["bench", "--sink", "--listen", "127.0.0.1:0"])
        .args(extra)
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the sink");
    let mut stdout = BufReader::new(sink.stdout.take().expect("stdout"));
    let mut first = String::new();
    stdout.read_line(&mut first).expect("sink's first line");
    let addr = first
        .strip_prefix("sink listening on ")
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("unexpected first line: {first}"));
    let endpoint = format!("http://{addr}");
    let (mut requests, mut points) = (0, 0);
    for protocol in ["grpc", "http"] {
        let out = bench(&[
            "--protocol",
            protocol,
            "--endpoint",
            &endpoint,
            "--pid",
            &sink.id().to_string(),
        ]);
        assert_eq!(number(&out, "failed ", ";"), 0, "{out}");
        assert!(out.contains("points per CPU-second"), "{out}");
        requests += number(&out, "requests: ", " ok");
        points += number(&out, "sent ", " points");
    }
    Command::new("kill")
        .args(["-TERM", &sink.id().to_string()])
        .status()
        .expect("kill");
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).expect("sink's summary");
    assert!(sink.wait().expect("wait").success());
    assert_eq!(number(&rest, "sink received ", " requests"), requests, "{rest}");
    if extra.contains(&"--decode") {
        assert_eq!(number(&rest, "sink decoded ", " points"), points, "{rest}");
        assert_eq!(number(&rest, "with prost; ", " requests"), 0, "{rest}");
    }
}

#[tokio::test]
async fn the_probe_sees_each_step_as_a_drift_event() {
    let d = Driftd::start(TEST_CONFIG);
    let out = bench(&[
        "--endpoint",
        &d.url("otlp/grpc"),
        "--probe-steps",
        "3",
        "--api",
        &d.url("api"),
    ]);
    assert!(out.contains("probe: 3 steps"), "{out}");
    assert_eq!(number(&out, "; ", " not seen"), 0, "{out}");
    let probe_points = number(&out, "not seen within 5s; ", " probe points");
    let sent = number(&out, "sent ", " points");
    let accepted = prometheus_sum(&d.url("prometheus"), "driftd_receiver_accepted_points_total", &[]).await;
    assert_eq!(accepted as u64, sent + probe_points, "{out}");
}
