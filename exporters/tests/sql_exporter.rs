//! The `sql` exporter against real PostgreSQL and MariaDB and a SQLite file. It writes
//! the one SQL schema the storage backends read: rows checked by querying the database
//! directly and by reading them back as a store (and, for MariaDB, which no storage
//! backend covers, every store conformance suite). A database from an older driftd is
//! migrated in place, and with `store_points` raw points land too.

mod common;

use common::*;
use driftd_core::component::{BuildContext, EventSink, Exporter, ExporterFactory, PointSink, Signal};
use driftd_core::config::{ComponentConfig, ComponentId};
use driftd_core::queue::{PointQueue, QueueSettings};
use driftd_core::store::EventQuery;
use driftd_core::{Batch, DriftEvent, EventKind, LabelSource, Point, SeriesId, SeriesLabels, ValueKind};
use driftd_exporters::conformance::{self, sample_event, sample_incident, BASE_TIME, SECOND};
use driftd_exporters::sql::{self, SqlConfig};
use driftd_exporters::ExporterConfig;
use std::sync::Arc;
use std::time::Duration;

fn config(url: &str, prefix: &str, store_points: bool) -> SqlConfig {
    let config: SqlConfig = serde_yaml::from_str(&format!(
        "{{url: \"{url}\", table_prefix: {prefix}, store_points: {store_points}}}"
    ))
    .expect("parses");
    assert!(config.validate().is_empty(), "{:?}", config.validate());
    config
}

/// The exporter built from its YAML the way driftd builds it.
async fn exporter(
    url: &str,
    prefix: &str,
    store_points: bool,
) -> (Arc<dyn EventSink>, Option<Arc<dyn PointSink>>, QueueSettings) {
    let body = serde_yaml::from_str(&format!(
        "{{url: \"{url}\", table_prefix: {prefix}, store_points: {store_points}}}"
    ))
    .expect("test YAML");
    let config = ExporterConfig::parse("sql", body).expect("parses");
    assert!(config.validate().is_empty(), "{:?}", config.validate());
    assert_eq!(
        config.accepts().contains(&Signal::Metrics),
        store_points,
        "store_points takes metrics"
    );
    let mut ctx = BuildContext {
        store: Arc::new(driftd_exporters::storage::memory::MemoryStore::new(
            std::num::NonZeroUsize::new(10).expect("non-zero"),
        )),
        views: Default::default(),
        http: Default::default(),
        limits: Default::default(),
        memory: Default::default(),
        listeners: Vec::new(),
        tasks: Vec::new(),
        durability: Default::default(),
        started_at: std::time::SystemTime::now(),
        running: Default::default(),
    };
    let id = ComponentId::parse("sql").expect("an id");
    match config.build(&id, &mut ctx).await {
        Ok(Exporter::Events { sink, points, queue }) => (sink, points, queue),
        Ok(_) => panic!("the sql exporter is pushed"),
        Err(e) => panic!("builds: {e}"),
    }
}

/// Writes the same scenario to any database: two series drift, one recovers, one
/// incident opens; the batch is retried (duplicates) and a stale drift_start arrives
/// late. Then reads it all back through the store over the same tables.
async fn write_and_read_back(url: &str, prefix: &str) -> [DriftEvent; 3] {
    let (sink, _, _) = exporter(url, prefix, false).await;
    let a_start = sample_event("latency_ms", "checkout", EventKind::DriftStart, BASE_TIME);
    let b_start = sample_event("latency_ms", "search", EventKind::DriftStart, BASE_TIME);
    let a_end = sample_event("latency_ms", "checkout", EventKind::DriftEnd, BASE_TIME + 90 * SECOND);
    let batch = [a_start.clone(), b_start.clone(), a_end.clone(), a_start.clone()];
    sink.export(&batch).await.expect("exports");
    sink.export(&batch).await.expect("a retried batch exports again");
    sink.export(std::slice::from_ref(&a_start))
        .await
        .expect("a late, older event exports");
    let incident = sample_incident("checkout", BASE_TIME);
    sink.export_incidents(std::slice::from_ref(&incident))
        .await
        .expect("exports the incident");

    let store = sql::store(&config(url, prefix, false)).await.expect("opens the store");
    let page = store
        .events(&EventQuery {
            limit: 10,
            ..Default::default()
        })
        .await
        .expect("reads");
    assert_eq!(page.total, 3, "one row per event id, whatever was sent twice");
    assert_eq!(
        page.events,
        [a_end.clone(), b_start.clone(), a_start.clone()],
        "newest first"
    );
    let back = store.event(&a_start.id).await.expect("reads").expect("present");
    assert_eq!(back, a_start, "every field, its snapshot too");
    assert_eq!(store.incident(&incident.id).await.expect("reads"), Some(incident));
    [a_start, b_start, a_end]
}

const EVENT_ROW: &str = "SELECT kind, service, value, time_unix_nano, severity FROM {t} WHERE id = $1";

fn want_row(e: &DriftEvent) -> (String, Option<String>, f64, i64, Option<String>) {
    (
        "drift_start".into(),
        Some("checkout".into()),
        e.value,
        e.timestamp as i64,
        Some("severe".into()),
    )
}

#[tokio::test]
async fn postgres_rows_are_what_the_timescale_backend_reads() {
    require_postgres();
    let prefix = format!("{}_", unique("sql"));
    let [a_start, ..] = write_and_read_back(POSTGRES_URL, &prefix).await;
    let pool = sqlx::PgPool::connect(POSTGRES_URL).await.expect("connects");
    let row: (String, Option<String>, f64, i64, Option<String>) =
        sqlx::query_as(&EVENT_ROW.replace("{t}", &format!("{prefix}events")))
            .bind(&a_start.id)
            .fetch_one(&pool)
            .await
            .expect("the row");
    assert_eq!(row, want_row(&a_start));
    let backend = store(
        "timescale",
        &format!("{{url: \"{POSTGRES_URL}\", table_prefix: {prefix}, retention: 100y}}"),
    )
    .await;
    let read = backend.event(&a_start.id).await.expect("reads").expect("present");
    assert_eq!(read, a_start, "the storage backend reads the exporter's rows");
    postgres_drop(POSTGRES_URL, &prefix).await;
}

#[tokio::test]
async fn mariadb_rows() {
    require_mariadb();
    let prefix = format!("{}_", unique("sql"));
    let [a_start, ..] = write_and_read_back(MARIADB_URL, &prefix).await;
    let pool = sqlx::MySqlPool::connect(MARIADB_URL).await.expect("connects");
    let row: (String, Option<String>, f64, i64, Option<String>) =
        sqlx::query_as(&EVENT_ROW.replace("{t}", &format!("{prefix}events")).replace("$1", "?"))
            .bind(&a_start.id)
            .fetch_one(&pool)
            .await
            .expect("the row");
    assert_eq!(row, want_row(&a_start));
    mariadb_drop(MARIADB_URL, &prefix).await;
}

#[tokio::test]
async fn mariadb_passes_every_store_suite() {
    require_mariadb();
    let run = unique("m");
    let mut prefixes = Vec::new();
    conformance::run_all(|| {
        let prefix = format!("{run}_{}_", prefixes.len());
        prefixes.push(prefix.clone());
        async move { sql::store(&config(MARIADB_URL, &prefix, false)).await.expect("opens") }
    })
    .await;
    for p in prefixes {
        mariadb_drop(MARIADB_URL, &p).await;
    }
}

#[tokio::test]
async fn sqlite_rows_are_what_the_sqlite_backend_reads() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("events.db");
    let url = format!("sqlite://{}", path.display());
    let [a_start, ..] = write_and_read_back(&url, "driftd_").await;
    let pool = sqlx::SqlitePool::connect(&url)
        .await
        .expect("opens the file the exporter created");
    let row: (String, Option<String>, f64, i64, Option<String>) =
        sqlx::query_as(&EVENT_ROW.replace("{t}", "driftd_events"))
            .bind(&a_start.id)
            .fetch_one(&pool)
            .await
            .expect("the row");
    assert_eq!(row, want_row(&a_start));
    let backend = store("sqlite", &format!("{{path: \"{}\", retention: 100y}}", path.display())).await;
    let read = backend.event(&a_start.id).await.expect("reads").expect("present");
    assert_eq!(read, a_start, "the storage backend reads the exporter's rows");
}

#[tokio::test]
async fn a_database_that_is_down_is_a_transient_error() {
    let (sink, _, _) = exporter("postgres://postgres@127.0.0.1:1/test", "driftd_", false).await;
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

/// Builds the `sql` exporter with `store_points: true`, feeds it one batch of points
/// twice (a retried batch) through the core's point queue, drains it, and returns the
/// rows expected as (series id, time_unix_nano, value), sorted.
async fn write_points(url: &str, prefix: &str) -> Vec<(String, i64, f64)> {
    let (_, points, queue) = exporter(url, prefix, true).await;
    let sink = points.expect("a point sink with store_points");
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
async fn point_rows_in_each_database() {
    require_postgres();
    require_mariadb();
    let prefix = format!("{}_", unique("pts"));
    let t = format!("{prefix}points");

    let want = write_points(POSTGRES_URL, &prefix).await;
    let pool = sqlx::PgPool::connect(POSTGRES_URL).await.expect("connects");
    let rows: Vec<(String, i64, f64)> = sqlx::query_as(&POINT_ROWS.replace("{t}", &t))
        .fetch_all(&pool)
        .await
        .expect("points");
    assert_eq!(rows, want, "PostgreSQL: one row per point, whatever was sent twice");
    postgres_drop(POSTGRES_URL, &prefix).await;

    let want = write_points(MARIADB_URL, &prefix).await;
    let pool = sqlx::MySqlPool::connect(MARIADB_URL).await.expect("connects");
    let rows: Vec<(String, i64, f64)> = sqlx::query_as(&POINT_ROWS.replace("{t}", &t))
        .fetch_all(&pool)
        .await
        .expect("points");
    assert_eq!(rows, want, "MariaDB: one row per point, whatever was sent twice");
    mariadb_drop(MARIADB_URL, &prefix).await;

    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("points.db").display());
    let want = write_points(&url, &prefix).await;
    let pool = sqlx::SqlitePool::connect(&url).await.expect("opens");
    let rows: Vec<(String, i64, f64)> = sqlx::query_as(&POINT_ROWS.replace("{t}", &t))
        .fetch_all(&pool)
        .await
        .expect("points");
    assert_eq!(rows, want, "SQLite: one row per point, whatever was sent twice");
}
