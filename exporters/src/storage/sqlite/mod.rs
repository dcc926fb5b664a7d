//! `sqlite`: events, statuses and checkpoints in one embedded database file. SQLite is
//! compiled in (sqlx's bundled libsqlite3), so nothing needs installing.
//!
//! Why sqlx rather than rusqlite: the `timescale` backend and the `sql` exporter
//! already use sqlx, so SQLite shares their async pool, their SQL (see `sql_tables`)
//! and their error classification instead of a second, blocking code path.

mod config;

pub use config::SqliteConfig;

use super::sql_tables::{Schema, SqlStore, Tables};
use async_trait::async_trait;
use driftd_core::store::StoreError;
use sqlx::any::AnyPoolOptions;
use sqlx::AnyPool;
use std::time::Duration;

struct SqliteSchema;

#[async_trait]
impl Schema for SqliteSchema {
    async fn create(&self, pool: &AnyPool, t: &Tables) -> Result<(), sqlx::Error> {
        let statements = [
            format!(
                "CREATE TABLE IF NOT EXISTS {} (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    id TEXT NOT NULL UNIQUE,
                    kind TEXT NOT NULL,
                    series_id TEXT NOT NULL,
                    metric TEXT NOT NULL,
                    labels TEXT NOT NULL,
                    service TEXT,
                    time_unix_nano INTEGER NOT NULL,
                    onset_unix_nano INTEGER NOT NULL,
                    detector TEXT NOT NULL,
                    severity TEXT,
                    reason TEXT,
                    value REAL NOT NULL,
                    scores TEXT NOT NULL,
                    baseline_mean REAL NOT NULL,
                    baseline_stddev REAL NOT NULL,
                    baseline_samples INTEGER NOT NULL,
                    recent_mean REAL NOT NULL,
                    recent_stddev REAL NOT NULL,
                    recent_samples INTEGER NOT NULL,
                    acknowledged INTEGER NOT NULL DEFAULT 0,
                    incident TEXT
                )",
                t.events
            ),
            format!(
                "CREATE INDEX IF NOT EXISTS {0}_time ON {0} (time_unix_nano, seq)",
                t.events
            ),
            format!(
                "CREATE INDEX IF NOT EXISTS {0}_series_time ON {0} (series_id, time_unix_nano)",
                t.events
            ),
            format!(
                "CREATE TABLE IF NOT EXISTS {} (
                    series_id TEXT PRIMARY KEY,
                    metric TEXT NOT NULL,
                    labels TEXT NOT NULL,
                    service TEXT,
                    state TEXT NOT NULL,
                    transition_unix_nano INTEGER NOT NULL,
                    sample_count INTEGER NOT NULL,
                    baseline_mean REAL,
                    baseline_stddev REAL,
                    baseline_samples INTEGER,
                    updated_unix_nano INTEGER NOT NULL
                )",
                t.status
            ),
            format!(
                "CREATE TABLE IF NOT EXISTS {} (
                    processor TEXT NOT NULL,
                    series_id TEXT NOT NULL,
                    metric TEXT NOT NULL,
                    labels TEXT NOT NULL,
                    state BLOB NOT NULL,
                    updated_unix_nano INTEGER NOT NULL,
                    PRIMARY KEY (processor, series_id)
                )",
                t.checkpoints
            ),
            format!(
                "CREATE TABLE IF NOT EXISTS {} (
                    id TEXT PRIMARY KEY,
                    entity TEXT NOT NULL,
                    state TEXT NOT NULL,
                    opened_unix_nano INTEGER NOT NULL,
                    updated_unix_nano INTEGER NOT NULL,
                    body TEXT NOT NULL,
                    acknowledged INTEGER NOT NULL DEFAULT 0
                )",
                t.incidents
            ),
            format!(
                "CREATE INDEX IF NOT EXISTS {0}_entity_opened ON {0} (entity, opened_unix_nano)",
                t.incidents
            ),
            format!(
                "CREATE TABLE IF NOT EXISTS {} (
                    id TEXT PRIMARY KEY,
                    time_unix_nano INTEGER NOT NULL,
                    body TEXT NOT NULL
                )",
                t.snapshots
            ),
        ];
        for sql in statements {
            sqlx::query(&sql).execute(pool).await?;
        }
        // Files written before events carried their incident (SQLite has no
        // `ADD COLUMN IF NOT EXISTS`).
        let has_incident: i64 = sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM pragma_table_info('{}') WHERE name = 'incident'",
            t.events
        ))
        .fetch_one(pool)
        .await?;
        if has_incident == 0 {
            sqlx::query(&format!("ALTER TABLE {} ADD COLUMN incident TEXT", t.events))
                .execute(pool)
                .await?;
        }
        Ok(())
    }
}

/// A URL sqlx reads `path` from: `?` and `#` (and `%`) are percent-encoded so any file
/// name works; `mode=rwc` creates the file when missing.
fn url_for(path: &str) -> String {
    let encoded = path.replace('%', "%25").replace('?', "%3F").replace('#', "%23");
    format!("sqlite://{encoded}?mode=rwc")
}

/// Builds the store over the database file; `ready()` opens it (creating it and its
/// tables when missing).
pub(crate) fn open(config: &SqliteConfig) -> Result<SqlStore, StoreError> {
    sqlx::any::install_default_drivers();
    let pool = AnyPoolOptions::new()
        .max_connections(4)
        .acquire_timeout(Duration::from_secs(10))
        .connect_lazy(&url_for(&config.path))
        .map_err(|e| StoreError::Rejected(format!("sqlite: `{}` is not a usable path: {e}", config.path)))?;
    Ok(SqlStore::new(
        "sqlite",
        config.path.clone(),
        pool,
        Tables::with_prefix("driftd_"),
        Box::new(SqliteSchema),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::conformance;
    use driftd_core::store::Store;
    use std::sync::Arc;

    async fn opened(config: &SqliteConfig) -> Result<SqlStore, StoreError> {
        let store = open(config)?;
        store.ready().await?;
        Ok(store)
    }

    #[tokio::test]
    async fn passes_every_suite() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut n = 0;
        conformance::run_all(|| {
            n += 1;
            let path = dir.path().join(format!("store-{n}.db"));
            async move {
                let config = SqliteConfig {
                    path: path.display().to_string(),
                    ..SqliteConfig::default()
                };
                Arc::new(opened(&config).await.expect("opens")) as Arc<dyn Store>
            }
        })
        .await;
    }

    #[tokio::test]
    async fn data_survives_reopening_the_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = SqliteConfig {
            path: dir.path().join("odd ?#% name.db").display().to_string(),
            ..SqliteConfig::default()
        };
        let saved = conformance::sample_checkpoint("latency_ms", "api", b"\x00state\xff", conformance::BASE_TIME);
        let store = opened(&config).await.expect("opens");
        store
            .save_checkpoints("drift", std::slice::from_ref(&saved))
            .await
            .expect("saves");
        let incident = conformance::sample_incident("checkout", conformance::BASE_TIME);
        store
            .save_incidents(std::slice::from_ref(&incident))
            .await
            .expect("saves");
        assert!(store.acknowledge_incident(&incident.id).await.expect("acks"));
        drop(store);
        let store = opened(&config).await.expect("reopens");
        assert_eq!(store.load_checkpoints("drift").await.expect("loads"), [saved]);
        let back = store.incident(&incident.id).await.expect("reads").expect("kept");
        assert_eq!(
            back.state,
            driftd_core::IncidentState::Acknowledged,
            "incidents and their acknowledgement survive"
        );
    }

    #[tokio::test]
    async fn a_file_from_before_incidents_gains_the_column() {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = SqliteConfig {
            path: dir.path().join("old.db").display().to_string(),
            ..SqliteConfig::default()
        };
        let store = opened(&config).await.expect("opens");
        let pool = store.ready().await.expect("ready");
        sqlx::query("ALTER TABLE driftd_events DROP COLUMN incident")
            .execute(pool)
            .await
            .expect("makes the old schema");
        drop(store);
        let store = opened(&config).await.expect("reopens the old file");
        let e = conformance::sample_event("m", "api", driftd_core::EventKind::DriftStart, conformance::BASE_TIME);
        assert!(e.incident.is_some());
        store.append_events(std::slice::from_ref(&e)).await.expect("appends");
        let page = store
            .events(&driftd_core::store::EventQuery {
                limit: 1,
                ..Default::default()
            })
            .await
            .expect("reads");
        assert_eq!(page.events, [e], "the event keeps its incident");
    }

    #[tokio::test]
    async fn an_unopenable_file_fails_at_startup() {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = SqliteConfig {
            path: dir.path().join("missing/dir/driftd.db").display().to_string(),
            ..SqliteConfig::default()
        };
        match opened(&config).await {
            Err(StoreError::Rejected(message)) => assert!(message.contains("missing/dir"), "{message}"),
            Err(e) => panic!("expected Rejected, got {e}"),
            Ok(_) => panic!("expected an error"),
        }
    }
}
