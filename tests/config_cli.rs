//! `driftd validate` and `print-config` as a user runs them: every error class names
//! its YAML path and line, all errors are reported at once, and every shipped config
//! is valid.

mod common;

use common::{driftd_bin, TempDir};
use std::process::{Command, Output};

fn validate(yaml: &str) -> Output {
    validate_with_env(yaml, &[])
}

fn validate_with_env(yaml: &str, env: &[(&str, &str)]) -> Output {
    let dir = TempDir::new("validate");
    let path = dir.0.join("config.yaml");
    std::fs::write(&path, yaml).unwrap();
    Command::new(driftd_bin())
        .arg("validate")
        .arg(&path)
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

/// The error text, asserting the run failed.
fn errors_of(yaml: &str) -> String {
    let out = validate(yaml);
    assert!(!out.status.success(), "expected validation to fail for:\n{yaml}");
    String::from_utf8(out.stderr).unwrap()
}

const PIPELINE: &str = "service:\n  pipelines:\n    metrics:\n      receivers: [otlp]\n      processors: [drift]\n      exporters: [api]\n";
const BASE: &str = "receivers:\n  otlp:\n    protocols:\n      grpc:\nprocessors:\n  drift:\nexporters:\n  api:\n";

#[test]
fn a_minimal_config_is_valid() {
    let out = validate(&format!("{BASE}{PIPELINE}"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn unknown_keys_name_path_and_line() {
    let yaml = format!("receivers:\n  otlp:\n    protocols:\n      grpc:\n        endpont: 127.0.0.1:4317\nprocessors:\n  drift:\nexporters:\n  api:\n{PIPELINE}");
    let err = errors_of(&yaml);
    assert!(
        err.contains("receivers.otlp.protocols.grpc.endpont (line 5, column 9)"),
        "{err}"
    );
    assert!(err.contains("unknown field `endpont`"), "{err}");
}

#[test]
fn wrong_types_name_path_and_line() {
    let yaml = format!(
        "{}{PIPELINE}",
        BASE.replace("  drift:\n", "  drift:\n    baseline:\n      warmup_samples: lots\n")
    );
    let err = errors_of(&yaml);
    assert!(
        err.contains("processors.drift.baseline.warmup_samples (line 8, column 7)"),
        "{err}"
    );
    assert!(err.contains("invalid type"), "{err}");
}

#[test]
fn bad_values_caught_by_validation_name_path_and_line() {
    let yaml = format!(
        "{}{PIPELINE}",
        BASE.replace(
            "  drift:\n",
            "  drift:\n    detector:\n      type: zscore\n      moderate_count: 30\n"
        )
    );
    let err = errors_of(&yaml);
    assert!(
        err.contains("processors.drift.detector.moderate_count (line 9, column 7)"),
        "{err}"
    );
    assert!(err.contains("must not exceed moderate_window"), "{err}");
}

#[test]
fn a_zero_listener_timeout_is_refused_with_its_path() {
    let yaml = format!(
        "{BASE}{}",
        PIPELINE.replace("service:\n", "service:\n  listeners:\n    header_read_timeout: 0s\n")
    );
    let err = errors_of(&yaml);
    assert!(err.contains("service.listeners.header_read_timeout"), "{err}");
    assert!(err.contains("must be more than 0s"), "{err}");
}

#[test]
fn undefined_components_in_pipelines_name_path_and_line() {
    let yaml = format!(
        "{BASE}{}",
        PIPELINE.replace("exporters: [api]", "exporters: [api, webhook/slack]")
    );
    let err = errors_of(&yaml);
    assert!(
        err.contains("service.pipelines.metrics.exporters[1] (line 14, column 24)"),
        "{err}"
    );
    assert!(err.contains("exporter `webhook/slack` is not defined"), "{err}");
}

#[test]
fn a_signal_wired_to_a_component_that_cannot_take_it_is_an_error() {
    // Without the drift processor the pipeline carries no events, and `api` takes only events.
    let yaml = format!("{BASE}{}", PIPELINE.replace("processors: [drift]", "processors: []"));
    let err = errors_of(&yaml);
    assert!(
        err.contains("service.pipelines.metrics.exporters[0] (line 14, column 19)"),
        "{err}"
    );
    assert!(
        err.contains("takes events, but pipeline `metrics` produces only metrics"),
        "{err}"
    );
    // A pipeline of a signal driftd does not carry.
    let err = errors_of(&format!("{BASE}{}", PIPELINE.replace("    metrics:", "    traces:")));
    assert!(err.contains("service.pipelines.traces (line 11, column 5)"), "{err}");
}

#[test]
fn unknown_component_types_and_sections_are_errors() {
    let yaml = format!(
        "{}{PIPELINE}telemetry: {{}}\n",
        BASE.replace("  api:\n", "  api:\n  carrier_pigeon:\n")
    );
    let err = errors_of(&yaml);
    assert!(
        err.contains("exporters.carrier_pigeon (line 9, column 3): unknown exporter type `carrier_pigeon`"),
        "{err}"
    );
    assert!(
        err.contains("telemetry (line 16, column 1): unknown section `telemetry`"),
        "{err}"
    );
}

#[test]
fn all_errors_are_reported_at_once_in_file_order() {
    let yaml = "receivers:\n  otlp:\n    protocols:\n      grpc:\n        endpoint: nowhere\nprocessors:\n  drift:\n    max_series: 0\nexporters:\n  api:\nservice:\n  pipelines:\n    metrics:\n      receivers: [otlp, kafka]\n      processors: [drift]\n      exporters: [api]\n";
    let err = errors_of(yaml);
    // The broken receiver and processor are not reported again as undefined; `kafka` is.
    assert!(err.contains("has 3 errors"), "{err}");
    let lines: Vec<usize> = err
        .lines()
        .filter_map(|l| l.split("(line ").nth(1)?.split(',').next()?.parse().ok())
        .collect();
    assert_eq!(lines, [5, 8, 14], "{err}");
}

#[test]
fn env_references_expand_and_unset_ones_are_errors() {
    let yaml = format!(
        "{}{PIPELINE}",
        BASE.replace("  api:\n", "  api:\n    endpoint: ${env:API_ENDPOINT}\n")
    );
    let ok = validate_with_env(&yaml, &[("API_ENDPOINT", "127.0.0.1:8123")]);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let err = errors_of(&yaml);
    assert!(err.contains("has 1 error:"), "only the cause is reported: {err}");
    assert!(
        err.contains("exporters.api.endpoint (line 9, column 5): environment variable API_ENDPOINT is not set"),
        "{err}"
    );
}

#[test]
fn yaml_syntax_errors_name_the_line() {
    let err = errors_of("receivers:\n  otlp: [unclosed\n");
    assert!(err.contains("line 3") || err.contains("line 2"), "{err}");
    assert!(err.contains("not valid YAML"), "{err}");
}

#[test]
fn every_shipped_config_is_valid() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/configs");
    let files: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    assert!(!files.is_empty());
    for f in files {
        // Configs that take their bearer token from the environment need one.
        let out = Command::new(driftd_bin())
            .arg("validate")
            .arg(&f)
            .env("DRIFTD_TOKEN", "validate-the-shipped-configs")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}: {}",
            f.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn print_config_shows_effective_defaults() {
    let out = Command::new(driftd_bin()).arg("print-config").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let v: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    assert_eq!(
        v["processors"]["drift"]["detector"]["type"],
        serde_yaml::Value::from("auto")
    );
    assert_eq!(
        v["processors"]["drift"]["detector"]["small_h"],
        serde_yaml::Value::from(13.0)
    );
    assert_eq!(
        v["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"],
        serde_yaml::Value::from("127.0.0.1:4317")
    );
    assert_eq!(
        v["service"]["pipelines"]["metrics"]["exporters"][0],
        serde_yaml::Value::from("prometheus")
    );
}

#[test]
fn print_config_redacts_secrets() {
    let dir = TempDir::new("print");
    let path = dir.0.join("config.yaml");
    let yaml = BASE.replace(
        "  api:\n",
        "  api:\n    auth:\n      bearer_token: ${env:DRIFTD_TEST_TOKEN}\n",
    );
    std::fs::write(&path, format!("{yaml}{PIPELINE}")).unwrap();
    let out = Command::new(driftd_bin())
        .args(["print-config", "--config"])
        .arg(&path)
        .env("DRIFTD_TEST_TOKEN", "sup3r-s3cret-sup3r-s3cret")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains("sup3r-s3cret-sup3r-s3cret"), "{text}");
    assert!(text.contains("bearer_token: '[redacted]'"), "{text}");
}

#[test]
fn an_empty_or_short_bearer_token_is_refused_at_startup() {
    let dir = TempDir::new("token");
    let path = dir.0.join("config.yaml");
    let yaml = BASE.replace(
        "  api:\n",
        "  api:\n    endpoint: 127.0.0.1:0\n    auth:\n      bearer_token: ${env:DRIFTD_TEST_TOKEN:-}\n",
    );
    std::fs::write(&path, format!("{yaml}{PIPELINE}")).unwrap();
    for (token, says) in [("", "the token is empty"), ("short-token", "at least 16")] {
        // `driftd run` itself: the config is refused before anything binds, so it exits.
        let out = Command::new(driftd_bin())
            .args(["run", "--config"])
            .arg(&path)
            .env("DRIFTD_TEST_TOKEN", token)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "started with the token {token:?}");
        assert!(
            stderr.contains("exporters.api.auth.bearer_token") && stderr.contains(says),
            "{stderr}"
        );
        assert!(
            token.is_empty() || !stderr.contains(token),
            "the token is echoed: {stderr}"
        );
    }
}
