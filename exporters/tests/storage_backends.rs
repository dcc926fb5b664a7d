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

/// Every conformance suite against the PostgreSQL at `url`, each suite in tables of
/// its own, dropped afterwards.
async fn postgres_passes_every_suite(url: &'static str) {
    require_postgres_at(url);
    let run = unique("t");
    let mut prefixes = Vec::new();
    conformance::run_all(|| {
        let prefix = format!("{run}_{}_", prefixes.len());
        prefixes.push(prefix.clone());
        async move {
            store(
                "timescale",
                &format!("{{url: \"{url}\", table_prefix: {prefix}, retention: 100y}}"),
            )
            .await
        }
    })
    .await;
    for p in prefixes {
        postgres_drop(url, &p).await;
    }
}

#[tokio::test]
async fn plain_postgres_passes_every_suite() {
    postgres_passes_every_suite(POSTGRES_URL).await;
}

#[tokio::test]
async fn timescaledb_community_passes_every_suite() {
    postgres_passes_every_suite(TIMESCALE_URL).await;
}

#[tokio::test]
async fn timescaledb_apache_passes_every_suite() {
    postgres_passes_every_suite(TIMESCALE_APACHE_URL).await;
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
    assert_eq!(
        timescale, None,
        "the machine's own cluster does not preload TimescaleDB"
    );
    let indexes: Vec<String> =
        sqlx::query_scalar("SELECT indexname::text FROM pg_indexes WHERE tablename = $1 ORDER BY 1")
            .bind(format!("{prefix}events"))
            .fetch_all(&pool)
            .await
            .expect("queries");
    assert_eq!(
        indexes,
        [
            format!("{prefix}events_pkey"),
            format!("{prefix}events_series_time"),
            format!("{prefix}events_time"),
        ],
        "plain PostgreSQL: indexes on (time) and (series_id, time)"
    );
    postgres_drop(POSTGRES_URL, &prefix).await;
}

const DAY: u64 = 86_400 * conformance::SECOND;

fn now_nanos() -> u64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    now.expect("after 1970").as_nanos() as u64
}

/// A store with 7 days' retention at `url` holding three start events: one 30 days
/// old, one 3 days old and one of now. The test prunes (or runs the retention policy)
/// itself.
async fn store_with_old_events(url: &str, prefix: &str) -> (Arc<dyn Store>, [driftd_core::DriftEvent; 3]) {
    let s = store_without_pruning(
        "timescale",
        &format!("{{url: \"{url}\", table_prefix: {prefix}, retention: 7d}}"),
    )
    .await;
    let now = now_nanos();
    let kind = driftd_core::EventKind::DriftStart;
    let events = [
        conformance::sample_event("m", "api", kind, now - 30 * DAY),
        conformance::sample_event("m", "api", kind, now - 3 * DAY),
        conformance::sample_event("m", "api", kind, now),
    ];
    s.append_events(&events).await.expect("appends");
    (s, events)
}

async fn stored_ids(s: &dyn Store) -> Vec<String> {
    let page = s
        .events(&EventQuery {
            limit: 10,
            ..EventQuery::default()
        })
        .await
        .expect("reads");
    let mut ids: Vec<String> = page.events.into_iter().map(|e| e.id).collect();
    ids.sort();
    ids
}

fn sorted_ids<'a>(events: impl IntoIterator<Item = &'a driftd_core::DriftEvent>) -> Vec<String> {
    let mut ids: Vec<String> = events.into_iter().map(|e| e.id.clone()).collect();
    ids.sort();
    ids
}

/// The TimescaleDB job of `proc_name` on the events table of `prefix`, if any.
async fn job(pool: &sqlx::PgPool, prefix: &str, proc_name: &str) -> Option<i32> {
    sqlx::query_scalar("SELECT job_id FROM timescaledb_information.jobs WHERE hypertable_name = $1 AND proc_name = $2")
        .bind(format!("{prefix}events"))
        .bind(proc_name)
        .fetch_optional(pool)
        .await
        .expect("queries jobs")
}

/// Whether the chunk of the events table of `prefix` holding `time` is compressed.
async fn compressed(pool: &sqlx::PgPool, prefix: &str, time: u64) -> bool {
    sqlx::query_scalar(
        "SELECT is_compressed FROM timescaledb_information.chunks
         WHERE hypertable_name = $1 AND range_start_integer <= $2 AND $2 < range_end_integer",
    )
    .bind(format!("{prefix}events"))
    .bind(time as i64)
    .fetch_one(pool)
    .await
    .expect("queries chunks")
}

async fn is_hypertable(pool: &sqlx::PgPool, prefix: &str) -> bool {
    let n: i64 =
        sqlx::query_scalar("SELECT count(*) FROM timescaledb_information.hypertables WHERE hypertable_name = $1")
            .bind(format!("{prefix}events"))
            .fetch_one(pool)
            .await
            .expect("queries hypertables");
    n == 1
}

#[tokio::test]
async fn timescaledb_community_compresses_old_events_and_drops_them_by_policy() {
    require_postgres_at(TIMESCALE_URL);
    let prefix = format!("{}_", unique("tscomm"));
    let (s, [old, recent, now]) = store_with_old_events(TIMESCALE_URL, &prefix).await;
    let pool = sqlx::PgPool::connect(TIMESCALE_URL).await.expect("connects");
    assert!(is_hypertable(&pool, &prefix).await, "events are a hypertable");

    // Compression: the job compresses every chunk older than a day; the events in
    // them are still read and can still be acknowledged. (TimescaleDB's scheduler
    // also runs the policies by itself as soon as they are added, so the 30-day-old
    // chunk may be gone already: the retention policy is asked again below.)
    let compress = job(&pool, &prefix, "policy_compression")
        .await
        .expect("a compression policy");
    sqlx::query("CALL run_job($1)")
        .bind(compress)
        .execute(&pool)
        .await
        .expect("compresses");
    assert!(
        compressed(&pool, &prefix, recent.timestamp).await,
        "the chunk of 3 days ago is compressed"
    );
    assert!(!compressed(&pool, &prefix, now.timestamp).await, "today's chunk is not");
    let mut ids = stored_ids(s.as_ref()).await;
    ids.retain(|id| *id != old.id);
    assert_eq!(ids, sorted_ids([&recent, &now]));
    assert!(
        s.acknowledge(&recent.id).await.expect("acknowledges"),
        "a compressed event is acknowledged"
    );
    let read = s.event(&recent.id).await.expect("reads").expect("present");
    assert!(read.acknowledged);

    // Retention: the policy (7 days) drops the 30-day-old chunk.
    let retention = job(&pool, &prefix, "policy_retention")
        .await
        .expect("a retention policy");
    sqlx::query("CALL run_job($1)")
        .bind(retention)
        .execute(&pool)
        .await
        .expect("applies retention");
    assert_eq!(stored_ids(s.as_ref()).await, sorted_ids([&recent, &now]));

    // A restart finds the compressed hypertable and its policies and keeps the events.
    let again = store_without_pruning(
        "timescale",
        &format!("{{url: \"{TIMESCALE_URL}\", table_prefix: {prefix}, retention: 7d}}"),
    )
    .await;
    assert_eq!(stored_ids(again.as_ref()).await, sorted_ids([&recent, &now]));
    let drop_after: String = sqlx::query_scalar(
        "SELECT config->>'drop_after' FROM timescaledb_information.jobs WHERE hypertable_name = $1 AND proc_name = 'policy_retention'",
    )
    .bind(format!("{prefix}events"))
    .fetch_one(&pool)
    .await
    .expect("one retention policy after the restart");
    assert_eq!(drop_after, (7 * DAY).to_string());
    postgres_drop(TIMESCALE_URL, &prefix).await;
}

#[tokio::test]
async fn timescaledb_apache_edition_makes_a_hypertable_and_driftd_prunes_it() {
    require_postgres_at(TIMESCALE_APACHE_URL);
    let prefix = format!("{}_", unique("tsapache"));
    let (s, [_old, recent, now]) = store_with_old_events(TIMESCALE_APACHE_URL, &prefix).await;
    let pool = sqlx::PgPool::connect(TIMESCALE_APACHE_URL).await.expect("connects");
    let license: String = sqlx::query_scalar("SHOW timescaledb.license")
        .fetch_one(&pool)
        .await
        .expect("shows");
    assert_eq!(license, "apache");
    assert!(is_hypertable(&pool, &prefix).await, "events are a hypertable");
    assert_eq!(
        job(&pool, &prefix, "policy_retention").await,
        None,
        "no policies in this edition"
    );

    // driftd's own prune (what the periodic task calls) removes what retention drops.
    let removed = s.prune(now_nanos() - 7 * DAY).await.expect("prunes");
    assert_eq!(removed, 1);
    assert_eq!(stored_ids(s.as_ref()).await, sorted_ids([&recent, &now]));
    postgres_drop(TIMESCALE_APACHE_URL, &prefix).await;
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
