use super::*;

#[tokio::test]
async fn liveness_and_status() {
    let app = app().await;
    assert_eq!(
        get_json(&app, "/health").await,
        (StatusCode::OK, json!({"status": "ok"}))
    );
    let (status, body) = get_json(&app, "/v1/system/status").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "ok");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(body["series_tracked"], 6);
    assert_eq!(body["points_processed"], 1_234);
    assert_eq!(body["events_total"], 3);
    assert_eq!(body["storage_backend"], "memory");
    assert!(body["uptime_seconds"].is_u64(), "{body}");
}

#[tokio::test]
async fn service_health_reports_the_latency_series() {
    let app = app().await;
    let (status, body) = get_json(&app, "/v1/health/checkout").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({
            "service_id": "checkout",
            "metric": "latency_ms",
            "state": "DRIFT_DETECTED",
            "transition_timestamp": "2026-01-12T10:30:45Z",
            "sample_count": 250,
            "baseline": {"mean_latency": 100.0, "stddev_latency": 15.5, "sample_count": 100},
            "last_value": 120.5,
            "last_score": 1.25,
        })
    );
}

#[tokio::test]
async fn service_health_without_latency_takes_the_first_series_and_may_be_learning() {
    let app = app().await;
    let (status, body) = get_json(&app, "/v1/health/batch").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["metric"], "errors");
    assert_eq!(body["state"], "INSUFFICIENT_DATA");
    assert_eq!(body["baseline"], Value::Null);

    let (status, message) = error(&app, "/v1/health/nobody").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        message.contains("`nobody`") && message.contains("service.name"),
        "{message}"
    );
}

#[tokio::test]
async fn baselines_list_every_series_of_a_service() {
    let app = app().await;
    let (status, body) = get_json(&app, "/v1/baseline/checkout").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["service_id"], "checkout");
    let series = body["series"].as_array().expect("series");
    let metrics: Vec<_> = series.iter().map(|s| s["metric"].as_str()).collect();
    assert_eq!(metrics, [Some("latency_ms"), Some("payload_kb")]);
    assert_eq!(series[0]["labels"], json!({"service.name": "checkout"}));
    assert_eq!(
        series[0]["baseline"],
        json!({"mean": 100.0, "stddev": 15.5, "samples": 100})
    );
    assert_eq!(series[0]["state"], "DRIFT_DETECTED");
    let id = table()[1].id.to_string();
    assert_eq!(series[0]["series_id"], id);

    let (status, body) = get_json(&app, "/v1/baseline/batch").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["series"][0]["baseline"], Value::Null);
    assert_eq!(error(&app, "/v1/baseline/nobody").await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn series_are_sorted_filtered_and_paged() {
    let app = app().await;
    let (status, body) = get_json(&app, "/v1/series").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (body["total"].clone(), body["limit"].clone(), body["offset"].clone()),
        (json!(6), json!(100), json!(0))
    );
    let names = |body: &Value| -> Vec<String> {
        body["series"]
            .as_array()
            .expect("series")
            .iter()
            .map(|s| format!("{}/{}", s["metric"].as_str().unwrap_or("?"), s["labels"]))
            .collect()
    };
    assert_eq!(
        names(&body),
        [
            r#"cpu/{"host":"a"}"#,
            r#"errors/{"service.name":"batch"}"#,
            r#"latency_ms/{"service.name":"checkout"}"#,
            r#"latency_ms/{"service.name":"search"}"#,
            r#"payload_kb/{"service.name":"checkout"}"#,
            r#"queue_depth/{"service.name":"batch"}"#,
        ]
    );
    let first = &body["series"][0];
    for field in [
        "series_id",
        "state",
        "transition_timestamp",
        "sample_count",
        "last_value",
        "last_score",
        "baseline",
    ] {
        assert!(!first[field].is_null(), "{field} in {first}");
    }
    assert_eq!(first["detector"], "zscore");

    let (_, body) = get_json(&app, "/v1/series?state=stable&metric=latency_ms&whatever=1").await;
    assert_eq!(body["total"], 1);
    assert_eq!(names(&body), [r#"latency_ms/{"service.name":"search"}"#]);

    let (_, body) = get_json(&app, "/v1/series?limit=2&offset=1").await;
    assert_eq!(body["total"], 6);
    assert_eq!(names(&body).len(), 2);
    assert_eq!(body["series"][0]["metric"], "errors");
}

#[tokio::test]
async fn bad_series_parameters_are_400_naming_the_parameter() {
    let app = app().await;
    for (uri, needles) in [
        ("/v1/series?limit=1001", &["`limit`", "1000"][..]),
        ("/v1/series?limit=ten", &["`limit`", "whole number"][..]),
        ("/v1/series?offset=-3", &["`offset`"][..]),
        (
            "/v1/series?state=RED",
            &["`state`", "INSUFFICIENT_DATA", "STABLE", "DRIFT_DETECTED"][..],
        ),
    ] {
        let (status, message) = error(&app, uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}");
        for n in needles {
            assert!(message.contains(n), "{uri}: {message}");
        }
    }
}

#[tokio::test]
async fn built_from_config_it_serves_on_a_real_listener() {
    use crate::ExporterConfig;
    use driftd_core::component::ExporterFactory;
    use driftd_core::config::ComponentConfig;
    let config =
        ExporterConfig::parse("api", serde_yaml::from_str("endpoint: 127.0.0.1:0").expect("YAML")).expect("parses");
    let mut ctx = context(views(table(), 0));
    let id = ComponentId::parse("api").expect("id");
    assert!(matches!(config.build(&id, &mut ctx).await, Ok(Exporter::Pull)));
    let (addrs, stop) = serve(ctx);
    let (status, _, body) = http_get(addrs[0], "/v1/health/search").await;
    let (missing, _, _) = http_get(addrs[0], "/v1/health/nobody").await;
    stop.cancel();
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""state":"STABLE""#), "{body}");
    assert_eq!(missing, 404);
}

#[tokio::test]
async fn two_apis_on_one_endpoint_clash_at_build_time() {
    let config = ApiConfig {
        endpoint: "127.0.0.1:0".parse().expect("address"),
        auth: None,
        tls: None,
    };
    let mut ctx = context(views(Vec::new(), 0));
    let first = ComponentId::parse("api").expect("id");
    let second = ComponentId::parse("api/2").expect("id");
    assert!(build(&config, &first, &mut ctx).is_ok());
    match build(&config, &second, &mut ctx) {
        // The first route both would serve: the console's page.
        Err(BuildError::RouteClash { path, .. }) => assert_eq!(path, "/"),
        _ => panic!("expected a route clash"),
    }
}
