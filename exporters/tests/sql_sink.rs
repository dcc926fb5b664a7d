//! The `sql` exporter against real PostgreSQL and MariaDB and a SQLite file, with
//! every row (events, status and, with `store_points`, raw points) checked by querying
//! the database directly.

mod common;

use common::*;
use driftd_core::component::{BuildContext, EventSink, Exporter, ExporterFactory, Signal};
use driftd_core::config::{ComponentConfig, ComponentId};
use driftd_core::queue::PointQueue;
use driftd_core::{Batch, EventKind, LabelSource, Point, SeriesId, SeriesLabels, ValueKind};
use driftd_exporters::conformance::{sample_event, BASE_TIME, SECOND};
use driftd_exporters::sql::{SqlConfig, SqlSink};
use driftd_exporters::ExporterConfig;
use std::sync::Arc;
use std::time::Duration;

fn sink(url: &str, prefix: &str) -> SqlSink {
    let config: SqlConfig =
        serde_yaml::from_str(&format!("{{url: \"{url}\", table_prefix: {prefix}}}")).expect("parses");
    assert!(config.validate().is_empty(), "{:?}", config.validate());
    SqlSink::new(&config).expect("builds")
}

/// Writes the same scenario to any database: two series drift, one recovers; the
/// batch is retried (duplicates) and a stale drift_start arrives late.
async fn write_scenario(sink: &SqlSink) -> [driftd_core::DriftEvent; 3] {
    let a_start = sample_event("latency_ms", "checkout", EventKind::DriftStart, BASE_TIME);
    let b_start = sample_event("latency_ms", "search", EventKind::DriftStart, BASE_TIME);
    let a_end = sample_event("latency_ms", "checkout", EventKind::DriftEnd, BASE_TIME + 90 * SECOND);
    let batch = [a_start.clone(), b_start.clone(), a_end.clone(), a_start.clone()];
    sink.export(&batch).await.expect("exports");
    sink.export(&batch).await.expect("a retried batch exports again");
    sink.export(std::slice::from_ref(&a_start))
        .await
        .expect("a late, older event exports");
    [a_start, b_start, a_end]
}

#[tokio::test]
async fn postgres_rows() {
    require_postgres();
    let prefix = format!("{}_", unique("sink"));
    let sink = sink(POSTGRES_URL, &prefix);
    let [a_start, b_start, a_end] = write_scenario(&sink).await;
    let pool = sqlx::PgPool::connect(POSTGRES_URL).await.expect("connects");
    let events = format!("{prefix}drift_events");
    let status = format!("{prefix}drift_status");

    let count: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {events}"))
        .fetch_one(&pool)
        .await
        .expect("counts");
    assert_eq!(count, 3, "one row per event id, whatever was sent twice");
    let (kind, service, value, z, mean, epoch, severity): (
        String,
        Option<String>,
        f64,
        Option<f64>,
        f64,
        i64,
        Option<String>,
    ) = sqlx::query_as(&format!(
        "SELECT kind, service, value, z_score, baseline_mean, EXTRACT(EPOCH FROM event_time)::BIGINT, severity \
             FROM {events} WHERE id = $1"
    ))
    .bind(&a_start.id)
    .fetch_one(&pool)
    .await
    .expect("the row");
    assert_eq!(
        (
            kind.as_str(),
            service.as_deref(),
            value,
            z,
            mean,
            epoch,
            severity.as_deref()
        ),
        (
            "drift_start",
            Some("checkout"),
            150.25,
            Some(4.5),
            100.0,
            1_768_213_845,
            Some("severe")
        )
    );
    let states: Vec<(String, String, String, i64)> = sqlx::query_as(&format!(
        "SELECT series_id, state, last_event_id, changed_at_unix_nano FROM {status} ORDER BY series_id"
    ))
    .fetch_all(&pool)
    .await
    .expect("statuses");
    let mut want = vec![
        (
            a_end.series_id.to_string(),
            "STABLE".to_string(),
            a_end.id.clone(),
            a_end.timestamp as i64,
        ),
        (
            b_start.series_id.to_string(),
            "DRIFT_DETECTED".to_string(),
            b_start.id.clone(),
            b_start.timestamp as i64,
        ),
    ];
    want.sort();
    assert_eq!(
        states, want,
        "one status per series, from its newest event; a late older event changes nothing"
    );
    for t in [events, status] {
        sqlx::query(&format!("DROP TABLE {t}"))
            .execute(&pool)
            .await
            .expect("drops");
    }
}

#[tokio::test]
async fn mariadb_rows() {
    require_mariadb();
    let prefix = format!("{}_", unique("sink"));
    let sink = sink(MARIADB_URL, &prefix);
    let [a_start, b_start, a_end] = write_scenario(&sink).await;
    let pool = sqlx::MySqlPool::connect(MARIADB_URL).await.expect("connects");
    let events = format!("{prefix}drift_events");
    let status = format!("{prefix}drift_status");

    let count: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {events}"))
        .fetch_one(&pool)
        .await
        .expect("counts");
    assert_eq!(count, 3, "one row per event id, whatever was sent twice");
    let (kind, service, value, z, when, onset): (String, Option<String>, f64, Option<f64>, String, String) =
        sqlx::query_as(&format!(
            "SELECT kind, service, value, z_score, DATE_FORMAT(event_time, '%Y-%m-%d %H:%i:%s'), \
         DATE_FORMAT(onset_time, '%Y-%m-%d %H:%i:%s') FROM {events} WHERE id = ?"
        ))
        .bind(&a_start.id)
        .fetch_one(&pool)
        .await
        .expect("the row");
    assert_eq!(
        (
            kind.as_str(),
            service.as_deref(),
            value,
            z,
            when.as_str(),
            onset.as_str()
        ),
        (
            "drift_start",
            Some("checkout"),
            150.25,
            Some(4.5),
            "2026-01-12 10:30:45",
            "2026-01-12 10:30:40"
        )
    );
    let states: Vec<(String, String, String, i64)> = sqlx::query_as(&format!(
        "SELECT series_id, state, last_event_id, changed_at_unix_nano FROM {status} ORDER BY series_id"
    ))
    .fetch_all(&pool)
    .await
    .expect("statuses");
    let mut want = vec![
        (
            a_end.series_id.to_string(),
            "STABLE".to_string(),
            a_end.id.clone(),
            a_end.timestamp as i64,
        ),
        (
            b_start.series_id.to_string(),
            "DRIFT_DETECTED".to_string(),
            b_start.id.clone(),
            b_start.timestamp as i64,
        ),
    ];
    want.sort();
    assert_eq!(
        states, want,
        "one status per series, from its newest event; a late older event changes nothing"
    );
    for t in [events, status] {
        sqlx::query(&format!("DROP TABLE {t}"))
            .execute(&pool)
            .await
            .expect("drops");
    }
}

#[tokio::test]
async fn sqlite_rows() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("events.db");
    let url = format!("sqlite://{}", path.display());
    let sink = sink(&url, "driftd_");
    let [a_start, b_start, a_end] = write_scenario(&sink).await;
    let pool = sqlx::SqlitePool::connect(&url)
        .await
        .expect("opens the file the sink created");

    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM driftd_drift_events")
        .fetch_one(&pool)
        .await
        .expect("counts");
    assert_eq!(count, 3, "one row per event id, whatever was sent twice");
    let (kind, when, labels): (String, String, String) =
        sqlx::query_as("SELECT kind, event_time, labels FROM driftd_drift_events WHERE id = $1")
            .bind(&a_start.id)
            .fetch_one(&pool)
            .await
            .expect("the row");
    assert_eq!(kind, "drift_start");
    assert_eq!(when, "2026-01-12T10:30:45.000000Z");
    assert_eq!(labels, r#"{"region":"eu","service.name":"checkout"}"#);
    let states: Vec<(String, String)> =
        sqlx::query_as("SELECT series_id, state FROM driftd_drift_status ORDER BY series_id")
            .fetch_all(&pool)
            .await
            .expect("statuses");
    let mut want = vec![
        (a_end.series_id.to_string(), "STABLE".to_string()),
        (b_start.series_id.to_string(), "DRIFT_DETECTED".to_string()),
    ];
    want.sort();
    assert_eq!(states, want);
}

#[tokio::test]
async fn a_database_that_is_down_is_a_transient_error() {
    let sink = sink("postgres://postgres@127.0.0.1:1/test", "driftd_");
    let e = sample_event("m", "api", EventKind::DriftStart, BASE_TIME);
    match sink.export(&[e]).await {
        Err(driftd_core::component::ExportError::Transient(m)) => assert!(m.contains("127.0.0.1:1"), "{m}"),
        other => panic!("expected a transient error, got {other:?}"),
    }
}

struct NoLabels;
impl LabelSource for NoLabels {
    fn labels(&self, _: u32) -> SeriesLabels {
        SeriesLabels::new("m", vec![])
    }
}

/// Builds the `sql` exporter with `store_points: true` as driftd does, feeds it one
/// batch of points twice (a retried batch) through the core's point queue, drains it,
/// and returns the rows expected as (series id, time_unix_nano, value), sorted.
async fn write_points(url: &str, prefix: &str) -> Vec<(String, i64, f64)> {
    let body = serde_yaml::from_str(&format!(
        "{{url: \"{url}\", table_prefix: {prefix}, store_points: true}}"
    ))
    .expect("test YAML");
    let config = ExporterConfig::parse("sql", body).expect("parses");
    assert!(config.validate().is_empty(), "{:?}", config.validate());
    assert!(
        config.accepts().contains(&Signal::Metrics),
        "store_points takes metrics"
    );
    let mut ctx = BuildContext {
        store: Arc::new(driftd_exporters::storage::memory::MemoryStore::new(
            std::num::NonZeroUsize::new(10).expect("non-zero"),
        )),
        views: Default::default(),
        http: Default::default(),
        listeners: Vec::new(),
        tasks: Vec::new(),
        durability: Default::default(),
        started_at: std::time::SystemTime::now(),
        running: Default::default(),
    };
    let id = ComponentId::parse("sql").expect("an id");
    let Ok(Exporter::Events {
        points: Some(sink),
        queue,
        ..
    }) = config.build(&id, &mut ctx).await
    else {
        panic!("a pushed exporter with a point sink");
    };
    let points: Vec<Point> = (0..6u64)
        .map(|i| Point {
            series: SeriesId(0xa1 + i % 2),
            time_unix_nano: BASE_TIME + i * SECOND + 250_000_000,
            value: 10.5 * i as f64,
            kind: ValueKind::Gauge,
            origin: 0,
        })
        .collect();
    let (q, worker) = PointQueue::start("sql", sink, queue);
    for _ in 0..2 {
        driftd_core::Consumer::consume(&q, &Batch::new(&points, &NoLabels)).expect("queued");
    }
    worker.drain(Duration::from_secs(30)).await;
    let mut want: Vec<_> = points
        .iter()
        .map(|p| (p.series.to_string(), p.time_unix_nano as i64, p.value))
        .collect();
    want.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    want
}

const POINT_ROWS: &str = "SELECT series_id, time_unix_nano, value FROM {t} ORDER BY series_id, time_unix_nano";

#[tokio::test]
async fn postgres_point_rows() {
    require_postgres();
    let prefix = format!("{}_", unique("pts"));
    let want = write_points(POSTGRES_URL, &prefix).await;
    let pool = sqlx::PgPool::connect(POSTGRES_URL).await.expect("connects");
    let t = format!("{prefix}points");
    let rows: Vec<(String, i64, f64)> = sqlx::query_as(&POINT_ROWS.replace("{t}", &t))
        .fetch_all(&pool)
        .await
        .expect("points");
    assert_eq!(rows, want, "one row per point, whatever was sent twice");
    let ms: i64 = sqlx::query_scalar(&format!(
        "SELECT (EXTRACT(EPOCH FROM time) * 1000)::BIGINT FROM {t} ORDER BY time LIMIT 1"
    ))
    .fetch_one(&pool)
    .await
    .expect("a time");
    assert_eq!(ms, (BASE_TIME / 1_000_000 + 250) as i64);
    for t in ["points", "drift_events", "drift_status"] {
        sqlx::query(&format!("DROP TABLE {prefix}{t}"))
            .execute(&pool)
            .await
            .expect("drops");
    }
}

#[tokio::test]
async fn mariadb_point_rows() {
    require_mariadb();
    let prefix = format!("{}_", unique("pts"));
    let want = write_points(MARIADB_URL, &prefix).await;
    let pool = sqlx::MySqlPool::connect(MARIADB_URL).await.expect("connects");
    let t = format!("{prefix}points");
    let rows: Vec<(String, i64, f64)> = sqlx::query_as(&POINT_ROWS.replace("{t}", &t))
        .fetch_all(&pool)
        .await
        .expect("points");
    assert_eq!(rows, want, "one row per point, whatever was sent twice");
    let first: String = sqlx::query_scalar(&format!(
        "SELECT DATE_FORMAT(MIN(time), '%Y-%m-%d %H:%i:%s.%f') FROM {t}"
    ))
    .fetch_one(&pool)
    .await
    .expect("a time");
    assert_eq!(first, "2026-01-12 10:30:45.250000");
    for t in ["points", "drift_events", "drift_status"] {
        sqlx::query(&format!("DROP TABLE {prefix}{t}"))
            .execute(&pool)
            .await
            .expect("drops");
    }
}

#[tokio::test]
async fn sqlite_point_rows() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("points.db").display());
    let want = write_points(&url, "driftd_").await;
    let pool = sqlx::SqlitePool::connect(&url).await.expect("opens");
    let rows: Vec<(String, i64, f64)> = sqlx::query_as(&POINT_ROWS.replace("{t}", "driftd_points"))
        .fetch_all(&pool)
        .await
        .expect("points");
    assert_eq!(rows, want, "one row per point, whatever was sent twice");
    let first: String = sqlx::query_scalar("SELECT MIN(time) FROM driftd_points")
        .fetch_one(&pool)
        .await
        .expect("a time");
    assert_eq!(first, "2026-01-12T10:30:45.250000Z");
}
