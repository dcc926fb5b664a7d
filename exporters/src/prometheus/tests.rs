use super::*;
use crate::testing::{context, http_get, serve, snapshot, views};
use crate::ExporterConfig;
use driftd_core::component::ExporterFactory;
use driftd_core::config::ComponentConfig;
use driftd_core::view::SeriesState;

fn config(yaml: &str) -> ExporterConfig {
    ExporterConfig::parse("prometheus", serde_yaml::from_str(yaml).expect("YAML")).expect("parses")
}

#[test]
fn the_recorder_is_installed_once() {
    let a = install_recorder();
    metrics::counter!("driftd_exporters_test_recorded_total").increment(3);
    let b = install_recorder();
    // Both handles read the one global registry.
    for handle in [a, b] {
        assert!(handle.render().contains("driftd_exporters_test_recorded_total 3"));
    }
}

#[tokio::test]
async fn a_scrape_serves_own_telemetry_and_series_gauges() {
    let series = vec![
        snapshot(
            "latency_ms",
            &[("service.name", "checkout")],
            SeriesState::DriftDetected,
        ),
        snapshot(
            "payload_kb",
            &[("service.name", "checkout")],
            SeriesState::InsufficientData,
        ),
    ];
    let mut ctx = context(views(series, 77));
    let id = ComponentId::parse("prometheus/test").expect("id");
    let built = config("{endpoint: '127.0.0.1:0', path: /drift/metrics}")
        .build(&id, &mut ctx)
        .await;
    assert!(matches!(built, Ok(Exporter::Pull)));
    metrics::counter!("driftd_exporters_test_scraped_total").increment(1);
    let (addrs, stop) = serve(ctx);

    let (status, head, body) = http_get(addrs[0], "/drift/metrics").await;
    stop.cancel();
    assert_eq!(status, 200, "{body}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: text/plain; version=0.0.4"),
        "{head}"
    );
    assert!(body.contains("driftd_exporters_test_scraped_total 1"), "{body}");
    assert!(body.contains("driftd_series_tracked 2\n"), "{body}");
    assert!(body.contains("driftd_points_processed_total 77\n"), "{body}");
    assert!(
        body.contains(r#"driftd_series_state{metric="latency_ms",service_name="checkout"} 2.0"#),
        "{body}"
    );
    assert!(
        body.contains(r#"driftd_series_state{metric="payload_kb",service_name="checkout"} 0.0"#),
        "{body}"
    );
}

#[tokio::test]
async fn series_metrics_can_be_turned_off() {
    let series = vec![snapshot("latency_ms", &[], SeriesState::Stable)];
    let mut ctx = context(views(series, 1));
    let id = ComponentId::parse("prometheus").expect("id");
    config("{endpoint: '127.0.0.1:0', series_metrics: false}")
        .build(&id, &mut ctx)
        .await
        .expect("builds");
    let (addrs, stop) = serve(ctx);
    let (status, _, body) = http_get(addrs[0], "/metrics").await;
    stop.cancel();
    assert_eq!(status, 200);
    assert!(body.contains("driftd_series_tracked 1\n"), "{body}");
    assert!(!body.contains("driftd_series_state"), "{body}");
}

#[tokio::test]
async fn a_bad_path_is_a_build_error_not_a_panic() {
    let mut ctx = context(views(Vec::new(), 0));
    let id = ComponentId::parse("prometheus").expect("id");
    let bad = ExporterConfig::Prometheus(PrometheusConfig {
        path: "/m/{x".into(),
        ..PrometheusConfig::default()
    });
    assert!(matches!(
        bad.build(&id, &mut ctx).await,
        Err(BuildError::Setting { .. })
    ));
}
