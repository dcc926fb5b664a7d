use super::*;
use crate::storage::conformance::{resolved, sample_incident};

async fn app_with_incidents() -> (Router, Vec<driftd_core::Incident>) {
    let store = MemoryStore::new(NonZeroUsize::new(100).expect("non-zero"));
    let open = sample_incident("checkout", BASE_TIME);
    let done = resolved(
        &sample_incident("search", BASE_TIME + 60 * SECOND),
        BASE_TIME + 400 * SECOND,
    );
    store
        .save_incidents(&[open.clone(), done.clone()])
        .await
        .expect("saves");
    (app_with(Arc::new(store)).await, vec![open, done])
}

#[tokio::test]
async fn incidents_are_listed_filtered_fetched_and_acknowledged() {
    let (app, saved) = app_with_incidents().await;
    let ids = |body: &Value| -> Vec<String> {
        body["incidents"]
            .as_array()
            .expect("incidents")
            .iter()
            .map(|i| i["id"].as_str().unwrap_or("?").to_string())
            .collect()
    };
    let (status, body) = get_json(&app, "/v1/incidents").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        ids(&body),
        [saved[1].id.clone(), saved[0].id.clone()],
        "latest opened first"
    );
    let (_, body) = get_json(&app, "/v1/incidents?state=open").await;
    assert_eq!(ids(&body), [saved[0].id.clone()]);
    let (_, body) = get_json(&app, "/v1/incidents?entity=search").await;
    assert_eq!(ids(&body), [saved[1].id.clone()]);
    let (_, body) = get_json(&app, "/v1/incidents?since=2026-01-12T10:35:00Z").await;
    assert_eq!(ids(&body), [saved[1].id.clone()], "since: updated at or after");

    let (status, body) = get_json(&app, &format!("/v1/incidents/{}", saved[0].id)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, serde_json::to_value(&saved[0]).expect("serializes"));

    let (status, body) = call(&app, Method::POST, &format!("/v1/incidents/{}/ack", saved[0].id)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["state"], "acknowledged");
    let (_, body) = get_json(&app, "/v1/incidents?state=acknowledged").await;
    assert_eq!(ids(&body), [saved[0].id.clone()]);
}

#[tokio::test]
async fn unknown_incidents_and_bad_states_are_explained() {
    let (app, _) = app_with_incidents().await;
    let (status, message) = error(&app, "/v1/incidents/inc-nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        message.contains("inc-nope") && message.contains("GET /v1/incidents"),
        "{message}"
    );
    let (status, body) = call(&app, Method::POST, "/v1/incidents/inc-nope/ack").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, message) = error(&app, "/v1/incidents?state=closed").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        message.contains("`state`") && message.contains("acknowledged"),
        "{message}"
    );
}
