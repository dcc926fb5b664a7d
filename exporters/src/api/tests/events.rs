use super::*;

#[tokio::test]
async fn events_come_from_the_store_newest_first() {
    let app = app().await;
    let all = events();
    let (status, body) = get_json(&app, "/v1/events").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (body["total"].clone(), body["limit"].clone(), body["offset"].clone()),
        (json!(3), json!(100), json!(0))
    );
    let ids = |body: &Value| -> Vec<String> {
        body["events"]
            .as_array()
            .expect("events")
            .iter()
            .map(|e| e["id"].as_str().unwrap_or("?").to_string())
            .collect()
    };
    assert_eq!(ids(&body), [all[2].id.clone(), all[1].id.clone(), all[0].id.clone()]);
    assert_eq!(body["events"][0], serde_json::to_value(&all[2]).expect("serializes"));

    let series = all[0].series_id;
    let (_, body) = get_json(&app, &format!("/v1/events?series={series}&kind=drift_start")).await;
    assert_eq!(ids(&body), [all[0].id.clone()]);
    let (_, body) = get_json(&app, "/v1/events?service=checkout&since=2026-01-12T10:31:00Z").await;
    assert_eq!(ids(&body), [all[1].id.clone()]);
    let (_, body) = get_json(&app, "/v1/events?metric=latency_ms&until=2026-01-12T10:31:00Z&limit=1").await;
    assert_eq!((body["total"].clone(), ids(&body)), (json!(1), vec![all[0].id.clone()]));
    let (_, body) = get_json(&app, "/v1/events?limit=1&offset=1").await;
    assert_eq!((body["total"].clone(), ids(&body)), (json!(3), vec![all[1].id.clone()]));
}

#[tokio::test]
async fn bad_event_parameters_are_400_naming_the_parameter() {
    let app = app().await;
    for (uri, param) in [
        ("/v1/events?series=xyz", "`series`"),
        ("/v1/events?kind=start", "`kind`"),
        ("/v1/events?since=yesterday", "`since`"),
        ("/v1/events?until=2026-13-01T00:00:00Z", "`until`"),
        ("/v1/events?limit=5000", "`limit`"),
    ] {
        let (status, message) = error(&app, uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}");
        assert!(message.contains(param), "{uri}: {message}");
    }
}

#[tokio::test]
async fn acknowledging_marks_the_event() {
    let app = app().await;
    let id = events()[1].id.clone();
    let (status, body) = call(&app, Method::POST, &format!("/v1/events/{id}/ack")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"id": id, "acknowledged": true}));
    let (_, body) = get_json(&app, "/v1/events?kind=drift_end").await;
    assert_eq!(body["events"][0]["acknowledged"], true);

    let (status, body) = call(&app, Method::POST, "/v1/events/0000000000000000/ack").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        body["error"].as_str().is_some_and(|m| m.contains("/v1/events")),
        "{body}"
    );
}

#[tokio::test]
async fn an_unavailable_store_is_503_with_retry_after() {
    let app = app_with(Arc::new(Down)).await;
    for (method, uri) in [(Method::GET, "/v1/events"), (Method::POST, "/v1/events/x/ack")] {
        let request = Request::builder()
            .method(method)
            .uri(uri)
            .body(Body::empty())
            .expect("request");
        let response = app.clone().oneshot(request).await.expect("infallible");
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE, "{uri}");
        assert!(response.headers().contains_key(header::RETRY_AFTER), "{uri}");
    }
    let (status, message) = error(&app, "/v1/events").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        message.contains("connection refused") && message.contains("retry later"),
        "{message}"
    );
    // Status stays readable and says what is wrong.
    let (status, body) = get_json(&app, "/v1/system/status").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "degraded");
    assert_eq!(body["events_total"], Value::Null);
    assert_eq!(body["storage_backend"], "down");
    assert!(body["storage_error"]
        .as_str()
        .is_some_and(|m| m.contains("connection refused")));
}
