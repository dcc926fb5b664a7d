//! The storage conformance suites against the real Redis and PostgreSQL servers, and
//! how each backend behaves when its server is absent or refuses driftd.

mod common;

use common::*;
use driftd_core::component::StoreFactory;
use driftd_core::config::ComponentConfig;
use driftd_core::store::{EventQuery, Store, StoreError};
use driftd_exporters::conformance;
use driftd_exporters::StorageConfig;
use std::sync::Arc;

#[tokio::test]
async fn redis_passes_every_suite() {
    require_redis();
    let run = unique("conformance");
    let mut prefixes = Vec::new();
    conformance::run_all(|| {
        let prefix = format!("driftd_test:{run}:{}:", prefixes.len());
        prefixes.push(prefix.clone());
        async move {
            store(
                "redis",
                &format!("{{url: \"{REDIS_URL}\", key_prefix: \"{prefix}\", retention: 100y}}"),
            )
            .await
        }
    })
    .await;
    for p in prefixes {
        redis_cleanup(REDIS_URL, &p).await;
    }
}

#[tokio::test]
async fn postgres_passes_every_suite() {
    require_postgres();
    let run = unique("t");
    let mut prefixes = Vec::new();
    conformance::run_all(|| {
        let prefix = format!("{run}_{}_", prefixes.len());
        prefixes.push(prefix.clone());
        async move {
            store(
                "timescale",
                &format!("{{url: \"{POSTGRES_URL}\", table_prefix: {prefix}, retention: 100y}}"),
            )
            .await
        }
    })
    .await;
    for p in prefixes {
        postgres_drop(&p).await;
    }
}

#[tokio::test]
async fn postgres_without_timescaledb_uses_plain_indexed_tables() {
    require_postgres();
    let prefix = format!("{}_", unique("plain"));
    let s = store(
        "timescale",
        &format!("{{url: \"{POSTGRES_URL}\", table_prefix: {prefix}, retention: 100y}}"),
    )
    .await;
    // Opening it twice (a restart) finds the tables and keeps them.
    let again = store(
        "timescale",
        &format!("{{url: \"{POSTGRES_URL}\", table_prefix: {prefix}, retention: 100y}}"),
    )
    .await;
    let e = conformance::sample_event("m", "api", driftd_core::EventKind::DriftStart, conformance::BASE_TIME);
    s.append_events(std::slice::from_ref(&e)).await.expect("appends");
    let page = again
        .events(&EventQuery {
            limit: 10,
            ..EventQuery::default()
        })
        .await
        .expect("reads");
    assert_eq!(page.events, [e]);

    let pool = sqlx::PgPool::connect(POSTGRES_URL).await.expect("connects");
    let timescale: Option<String> =
        sqlx::query_scalar("SELECT extversion::text FROM pg_extension WHERE extname = 'timescaledb'")
            .fetch_optional(&pool)
            .await
            .expect("queries");
    let indexes: Vec<String> =
        sqlx::query_scalar("SELECT indexname::text FROM pg_indexes WHERE tablename = $1 ORDER BY 1")
            .bind(format!("{prefix}events"))
            .fetch_all(&pool)
            .await
            .expect("queries");
    if timescale.is_none() {
        assert_eq!(
            indexes,
            [
                format!("{prefix}events_pkey"),
                format!("{prefix}events_series_time"),
                format!("{prefix}events_time"),
            ],
            "plain PostgreSQL: indexes on (time) and (series_id, time)"
        );
    }
    postgres_drop(&prefix).await;
}

async fn build(backend: &str, yaml: &str) -> Result<Arc<dyn Store>, String> {
    let config = StorageConfig::parse(backend, serde_yaml::from_str(yaml).expect("YAML")).expect("parses");
    config.build().await.map_err(|e| e.to_string())
}

#[tokio::test]
async fn a_server_that_is_down_at_startup_degrades_instead_of_failing() {
    // Nothing listens on port 1: the store is built, and every call says Unavailable
    // (which the storage exporter turns into a retry).
    for (backend, yaml) in [
        ("redis", "{url: \"redis://127.0.0.1:1\", timeout: 1s}"),
        ("timescale", "{url: \"postgres://postgres@127.0.0.1:1/test\"}"),
    ] {
        let store = build(backend, yaml)
            .await
            .unwrap_or_else(|e| panic!("{backend}: a server that is down must not fail the build: {e}"));
        let e = conformance::sample_event("m", "api", driftd_core::EventKind::DriftStart, conformance::BASE_TIME);
        match store.append_events(&[e]).await {
            Err(e @ StoreError::Unavailable(_)) => assert!(e.to_string().contains("127.0.0.1:1"), "{e}"),
            other => panic!("{backend}: expected Unavailable, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_server_that_refuses_driftd_fails_the_build_naming_the_url() {
    require_postgres();
    let err = build(
        "timescale",
        "{url: \"postgres://postgres:hunter2@127.0.0.1:5432/no_such_database_driftd\"}",
    )
    .await
    .err()
    .expect("a missing database fails the build");
    assert!(err.contains("127.0.0.1:5432/no_such_database_driftd"), "{err}");
    assert!(!err.contains("hunter2"), "passwords never appear in errors: {err}");
}
