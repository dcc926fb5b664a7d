//! TLS and mTLS on the listeners, with real clients: a tonic client and the
//! OpenTelemetry Python SDK (OTLP/gRPC and OTLP/HTTP, trusting a CA file) send
//! points, curl reads the API and `/metrics` and posts to the JSON receiver. A client
//! that does not trust the CA, speaks plain HTTP, or (under mTLS) has no certificate
//! the client CA signed is refused; a renewed certificate is served without a restart.
//! The certificates are made by the `openssl` command for each test.

mod common;

use common::otlp::latency_request;
use common::{eventually, Driftd, TempDir};
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_client::MetricsServiceClient;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};

/// Runs `openssl` in `dir` with `args` (split at spaces: the files are named
/// relative to `dir`).
fn openssl(dir: &Path, args: &str) {
    let out = Command::new("openssl")
        .args(args.split_whitespace())
        .current_dir(dir)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A new P-256 key, unencrypted.
const NEW_KEY: &str = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";

/// A CA named `ca` in `dir` (`ca.pem`, `ca.key`).
fn ca(dir: &Path, ca: &str) {
    openssl(
        dir,
        &format!("req -x509 {NEW_KEY} -keyout {ca}.key -out {ca}.pem -days 2 -subj /CN=driftd-test-{ca}"),
    );
}

/// A certificate `name` (`name.pem`, `name.key`) signed by CA `ca`, for `usage`
/// (`serverAuth` for 127.0.0.1 and localhost, or `clientAuth`).
fn signed(dir: &Path, ca: &str, name: &str, usage: &str) {
    std::fs::write(
        dir.join(format!("{name}.ext")),
        format!("subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage={usage}\n"),
    )
    .unwrap();
    openssl(
        dir,
        &format!("req {NEW_KEY} -keyout {name}.key -out {name}.csr -subj /CN={name}"),
    );
    openssl(
        dir,
        &format!("x509 -req -in {name}.csr -CA {ca}.pem -CAkey {ca}.key -CAcreateserial -out {name}.pem -days 2 -extfile {name}.ext"),
    );
}

/// A CA, a server certificate and a client certificate it signed.
fn pki() -> TempDir {
    let dir = TempDir::new("tls");
    ca(&dir.0, "ca");
    signed(&dir.0, "ca", "server", "serverAuth");
    signed(&dir.0, "ca", "client", "clientAuth");
    dir
}

fn file(dir: &TempDir, name: &str) -> PathBuf {
    dir.0.join(name)
}

/// Every listener over TLS; `client_ca` adds mTLS to all of them.
fn config(pki: &TempDir, client_ca: bool) -> String {
    let mut tls = format!(
        "{{cert_file: '{}', key_file: '{}'",
        file(pki, "server.pem").display(),
        file(pki, "server.key").display()
    );
    if client_ca {
        tls += &format!(", client_ca_file: '{}'", file(pki, "ca.pem").display());
    }
    tls += "}";
    format!(
        r#"
receivers:
  otlp:
    protocols:
      grpc: {{endpoint: 127.0.0.1:0, tls: {tls}}}
      http: {{endpoint: 127.0.0.1:{http}, tls: {tls}}}
  http_json: {{endpoint: 127.0.0.1:{api}, tls: {tls}}}
processors:
  drift: {{}}
exporters:
  api: {{endpoint: 127.0.0.1:{api}, tls: {tls}}}
  prometheus: {{endpoint: 127.0.0.1:{prometheus}, tls: {tls}}}
service:
  pipelines:
    metrics:
      receivers: [otlp, http_json]
      processors: [drift]
      exporters: [api, prometheus]
"#,
        http = common::free_port(),
        api = common::free_port(),
        prometheus = common::free_port(),
    )
}

/// `https://127.0.0.1:port` of `component`.
fn https(d: &Driftd, component: &str) -> String {
    d.url(component).replace("http://", "https://")
}

/// curl with `args`; its output (the body, then the status code on the last line).
fn curl(args: &[&str]) -> Output {
    Command::new("curl")
        .args([
            "--silent",
            "--show-error",
            "--max-time",
            "10",
            "--write-out",
            "\n%{http_code}",
        ])
        .args(args)
        .output()
        .expect("run curl")
}

/// Asserts curl succeeded with `status` and returns the body.
fn curl_ok(args: &[&str], status: &str) -> String {
    let out = curl(args);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success() && text.ends_with(status),
        "curl {args:?}: {text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

/// Asserts curl could not get an answer at all (the handshake was refused).
fn curl_refused(args: &[&str]) {
    let out = curl(args);
    assert!(
        !out.status.success(),
        "curl {args:?} was answered: {}",
        String::from_utf8_lossy(&out.stdout)
    );
}

async fn tonic_channel(url: &str, pki: &TempDir, identity: bool) -> Result<Channel, tonic::transport::Error> {
    let ca = Certificate::from_pem(std::fs::read(file(pki, "ca.pem")).unwrap());
    let mut tls = ClientTlsConfig::new().ca_certificate(ca).domain_name("localhost");
    if identity {
        let cert = std::fs::read(file(pki, "client.pem")).unwrap();
        let key = std::fs::read(file(pki, "client.key")).unwrap();
        tls = tls.identity(Identity::from_pem(cert, key));
    }
    Channel::from_shared(url.to_string())
        .unwrap()
        .tls_config(tls)?
        .connect()
        .await
}

/// Runs the SDK scenario for 3 s against `endpoint` with `tls` arguments; it exits
/// with success only when every export succeeded.
fn sdk_exports(protocol: &str, endpoint: &str, prefix: &str, tls: &[&str]) -> Output {
    let python = common::installed("otel-python.sh");
    Command::new(python)
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/otel_sdk/scenario.py"))
        .args(["--protocol", protocol, "--endpoint", endpoint, "--prefix", prefix])
        .args(["--duration", "3", "--interval-ms", "500", "--rate", "20"])
        .args(tls)
        // requests lets these override the CA file the exporter sets on its session.
        .env_remove("REQUESTS_CA_BUNDLE")
        .env_remove("CURL_CA_BUNDLE")
        // A refused export is retried until this (seconds), then counted as failed.
        .env("OTEL_EXPORTER_OTLP_TIMEOUT", "3")
        .output()
        .expect("run the SDK scenario")
}

async fn series_of(api: &str, pki: &TempDir, service: &str) -> usize {
    let body = curl_ok(
        &[
            "--cacert",
            file(pki, "ca.pem").to_str().unwrap(),
            &format!("{api}/v1/series?service={service}"),
        ],
        "200",
    );
    let json: serde_json::Value = serde_json::from_str(body.rsplit_once('\n').unwrap().0).unwrap();
    json["series"].as_array().map_or(0, Vec::len)
}

#[tokio::test]
async fn tls_listeners_serve_clients_that_trust_the_ca_and_refuse_the_rest() {
    let pki = pki();
    let d = Driftd::start(&config(&pki, false));
    let ca = file(&pki, "ca.pem");
    let ca = ca.to_str().unwrap();
    let api = https(&d, "api");

    // curl: the API, the JSON receiver and /metrics, trusting the CA.
    curl_ok(&["--cacert", ca, &format!("{api}/health")], "200");
    curl_ok(
        &[
            "--cacert",
            ca,
            "-H",
            "content-type: application/json",
            "--data",
            r#"{"service_id": "curl", "latency_ms": 12.5}"#,
            &format!("{}/v1/telemetry", https(&d, "http_json")),
        ],
        "202",
    );
    let metrics = curl_ok(
        &["--cacert", ca, &format!("{}/metrics", https(&d, "prometheus"))],
        "200",
    );
    assert!(metrics.contains("driftd_listener_connections"), "{metrics}");
    // Not trusting the CA, or plain HTTP on a TLS port: no answer.
    curl_refused(&[&format!("{api}/health")]);
    curl_refused(&[&format!("{}/health", d.url("api"))]);

    // A tonic client over OTLP/gRPC.
    let channel = tonic_channel(&https(&d, "otlp/grpc"), &pki, false)
        .await
        .expect("TLS channel");
    let answer = MetricsServiceClient::new(channel)
        .export(latency_request(&["tonic"], 0, &[3.0]))
        .await;
    assert!(answer.is_ok(), "{answer:?}");

    // The OpenTelemetry Python SDK, OTLP/gRPC and OTLP/HTTP, with the CA file.
    for (protocol, component) in [("grpc", "otlp/grpc"), ("http", "otlp/http")] {
        let prefix = format!("sdk-{protocol}");
        let out = sdk_exports(protocol, &https(&d, component), &prefix, &["--ca-file", ca]);
        assert!(
            out.status.success(),
            "{protocol}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let service = format!("{prefix}-stable");
        eventually(Duration::from_secs(10), "the SDK's series", || {
            let (api, pki, service) = (&api, &pki, &service);
            async move { (series_of(api, pki, service).await > 0).then_some(()) }
        })
        .await;
        // Without the CA file the SDK's exports fail.
        let out = sdk_exports(protocol, &https(&d, component), "untrusting", &[]);
        assert!(
            !out.status.success(),
            "{protocol}: the SDK exported without trusting the CA"
        );
    }
    assert!(series_of(&api, &pki, "tonic").await > 0, "the tonic client's series");
    assert!(series_of(&api, &pki, "curl").await > 0, "the series curl posted");
}

#[tokio::test]
async fn mtls_admits_only_clients_with_a_certificate_the_client_ca_signed() {
    let pki = pki();
    let d = Driftd::start(&config(&pki, true));
    let (ca, cert, key) = (file(&pki, "ca.pem"), file(&pki, "client.pem"), file(&pki, "client.key"));
    let (ca, cert, key) = (ca.to_str().unwrap(), cert.to_str().unwrap(), key.to_str().unwrap());
    let health = format!("{}/health", https(&d, "api"));

    curl_ok(&["--cacert", ca, "--cert", cert, "--key", key, &health], "200");
    curl_refused(&["--cacert", ca, &health]);
    // A certificate from another CA is refused as well.
    ca_and_signed(&pki.0, "other", "stranger");
    let (stranger, stranger_key) = (file(&pki, "stranger.pem"), file(&pki, "stranger.key"));
    curl_refused(&[
        "--cacert",
        ca,
        "--cert",
        stranger.to_str().unwrap(),
        "--key",
        stranger_key.to_str().unwrap(),
        &health,
    ]);

    let grpc = https(&d, "otlp/grpc");
    let channel = tonic_channel(&grpc, &pki, true).await.expect("mTLS channel");
    let answer = MetricsServiceClient::new(channel)
        .export(latency_request(&["tonic"], 0, &[3.0]))
        .await;
    assert!(answer.is_ok(), "{answer:?}");
    // Without a client certificate the handshake fails (at connect, or at the first call).
    let refused = match tonic_channel(&grpc, &pki, false).await {
        Err(_) => true,
        Ok(channel) => MetricsServiceClient::new(channel)
            .export(latency_request(&["anonymous"], 0, &[3.0]))
            .await
            .is_err(),
    };
    assert!(refused, "a gRPC client without a certificate was served");

    let mtls = ["--ca-file", ca, "--client-cert", cert, "--client-key", key];
    for (protocol, component) in [("grpc", "otlp/grpc"), ("http", "otlp/http")] {
        let out = sdk_exports(protocol, &https(&d, component), &format!("mtls-{protocol}"), &mtls);
        assert!(
            out.status.success(),
            "{protocol}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out = sdk_exports(protocol, &https(&d, component), "anonymous", &["--ca-file", ca]);
        assert!(
            !out.status.success(),
            "{protocol}: the SDK exported without a client certificate"
        );
    }
}

/// A CA `ca` and a client certificate `name` it signed.
fn ca_and_signed(dir: &Path, ca_name: &str, name: &str) {
    ca(dir, ca_name);
    signed(dir, ca_name, name, "clientAuth");
}

#[tokio::test]
async fn a_renewed_certificate_is_served_without_a_restart() {
    let pki = pki();
    let d = Driftd::start(&config(&pki, false));
    let health = format!("{}/health", https(&d, "api"));
    let (old_ca, new_ca) = (file(&pki, "ca.pem"), file(&pki, "renewed-ca.pem"));
    curl_ok(&["--cacert", old_ca.to_str().unwrap(), &health], "200");

    // A certificate from a new CA, moved into place the way a renewal tool does.
    ca(&pki.0, "renewed-ca");
    signed(&pki.0, "renewed-ca", "renewed", "serverAuth");
    std::fs::rename(file(&pki, "renewed.key"), file(&pki, "server.key")).unwrap();
    std::fs::rename(file(&pki, "renewed.pem"), file(&pki, "server.pem")).unwrap();

    eventually(Duration::from_secs(10), "the renewed certificate", || {
        let (new_ca, health) = (new_ca.clone(), health.clone());
        async move {
            curl(&["--cacert", new_ca.to_str().unwrap(), &health])
                .status
                .success()
                .then_some(())
        }
    })
    .await;
    curl_refused(&["--cacert", old_ca.to_str().unwrap(), &health]);
}
