//! `sql`: drift events as rows in PostgreSQL, MySQL/MariaDB or SQLite, chosen by the
//! URL. Creates its tables when absent, inserts events in batches (an event id already
//! stored is skipped, so a retried batch or a replay leaves one row per event), and
//! keeps one row per series with its latest transition. With `store_points`, raw points
//! also arrive (through the core's point queue) and are inserted in batches into
//! `<prefix>points`, one row per series and time.

mod config;
mod dialect;

pub use config::SqlConfig;
pub use dialect::Dialect;

use crate::db_error::is_transient;
use async_trait::async_trait;
use dialect::Tables;
use driftd_core::component::{BuildError, EventSink, ExportError, Exporter, PointRecord, PointSink};
use driftd_core::event::{DriftEvent, EventKind};
use sqlx::any::{AnyArguments, AnyPoolOptions};
use sqlx::query::Query;
use sqlx::{Any, AnyPool};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::OnceCell;

/// Rows per INSERT.
const ROWS_PER_INSERT: usize = 200;
/// Point rows per INSERT (4 parameters each).
const POINTS_PER_INSERT: usize = 1000;

/// Writes events to one database.
pub struct SqlSink {
    dialect: Dialect,
    pool: AnyPool,
    tables: Tables,
    /// Whether the points table is created (and points written).
    store_points: bool,
    /// The URL without password, for errors.
    target: String,
    ready: OnceCell<()>,
}

type Statement<'q> = Query<'q, Any, AnyArguments<'q>>;

fn bigint(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn z_score(e: &DriftEvent) -> Option<f64> {
    e.scores.get("z").copied()
}

impl SqlSink {
    /// A sink for `config` (validated); connects lazily.
    pub fn new(config: &SqlConfig) -> Result<Self, String> {
        let dialect = Dialect::of(&config.url).ok_or_else(|| format!("`{}` is not a SQL URL", config.url))?;
        sqlx::any::install_default_drivers();
        let pool = AnyPoolOptions::new()
            .max_connections(config.max_connections)
            .acquire_timeout(Duration::from_secs(5))
            .connect_lazy(&dialect.connect_url(config.url.expose()))
            .map_err(|e| format!("`{}` is not a usable URL: {e}", config.url))?;
        Ok(SqlSink {
            dialect,
            pool,
            tables: Tables::with_prefix(&config.table_prefix),
            store_points: config.store_points,
            target: config.url.to_string(),
            ready: OnceCell::new(),
        })
    }

    fn error(&self, doing: &str, e: sqlx::Error) -> ExportError {
        let message = format!("{}: {doing}: {e}", self.target);
        if is_transient(&e) {
            ExportError::Transient(message)
        } else {
            ExportError::Permanent(message)
        }
    }

    /// Connects and creates the tables, once.
    pub async fn ready(&self) -> Result<(), ExportError> {
        self.ready
            .get_or_try_init(|| async {
                for sql in self.dialect.ddl(&self.tables, self.store_points) {
                    sqlx::query(&sql)
                        .execute(&self.pool)
                        .await
                        .map_err(|e| self.error("cannot create tables", e))?;
                }
                Ok(())
            })
            .await
            .map(|_| ())
    }

    fn bind_event<'q>(&self, q: Statement<'q>, e: &DriftEvent) -> Statement<'q> {
        let d = self.dialect;
        q.bind(e.id.clone())
            .bind(e.kind.as_str())
            .bind(e.series_id.to_string())
            .bind(e.series.metric.clone())
            .bind(labels_json(e))
            .bind(e.series.service().map(str::to_string))
            .bind(d.time_value(e.timestamp))
            .bind(bigint(e.timestamp))
            .bind(d.time_value(e.onset))
            .bind(bigint(e.onset))
            .bind(e.detector.clone())
            .bind(e.severity.map(|s| severity(Some(s))))
            .bind(e.reason.map(|r| match r {
                driftd_core::EndReason::Recovered => "recovered",
                driftd_core::EndReason::Rebaselined => "rebaselined",
            }))
            .bind(e.value)
            .bind(z_score(e))
            .bind(serde_json::to_string(&e.scores).unwrap_or_else(|_| "{}".into()))
            .bind(e.baseline.mean)
            .bind(e.baseline.stddev)
            .bind(bigint(e.baseline.samples))
            .bind(e.recent.mean)
            .bind(e.recent.stddev)
            .bind(bigint(e.recent.samples))
    }

    fn bind_status<'q>(&self, q: Statement<'q>, e: &DriftEvent) -> Statement<'q> {
        let state = match e.kind {
            EventKind::DriftStart => "DRIFT_DETECTED",
            EventKind::DriftEnd => "STABLE",
        };
        q.bind(e.series_id.to_string())
            .bind(e.series.metric.clone())
            .bind(labels_json(e))
            .bind(e.series.service().map(str::to_string))
            .bind(state)
            .bind((e.kind == EventKind::DriftStart).then(|| severity(e.severity)))
            .bind(e.id.clone())
            .bind(e.detector.clone())
            .bind(e.value)
            .bind(z_score(e))
            .bind(e.baseline.mean)
            .bind(e.baseline.stddev)
            .bind(e.recent.mean)
            .bind(e.recent.stddev)
            .bind(self.dialect.time_value(e.timestamp))
            .bind(bigint(e.timestamp))
    }
}

fn severity(s: Option<driftd_core::Severity>) -> &'static str {
    match s {
        Some(driftd_core::Severity::Severe) => "severe",
        _ => "moderate",
    }
}

fn labels_json(e: &DriftEvent) -> String {
    let map: std::collections::BTreeMap<&str, &str> =
        e.series.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    serde_json::to_string(&map).unwrap_or_else(|_| "{}".into())
}

/// The newest event of each series (the later one on equal times), for the status
/// upsert: one statement may not touch a row twice.
fn latest_per_series(events: &[DriftEvent]) -> Vec<&DriftEvent> {
    let mut latest: HashMap<_, &DriftEvent> = HashMap::new();
    for e in events {
        match latest.get(&e.series_id) {
            Some(kept) if kept.timestamp > e.timestamp => {}
            _ => {
                latest.insert(e.series_id, e);
            }
        }
    }
    let mut v: Vec<_> = latest.into_values().collect();
    v.sort_by_key(|e| e.series_id);
    v
}

#[async_trait]
impl EventSink for SqlSink {
    async fn export(&self, events: &[DriftEvent]) -> Result<(), ExportError> {
        self.ready().await?;
        let mut seen = std::collections::HashSet::new();
        let unique: Vec<&DriftEvent> = events.iter().filter(|e| seen.insert(e.id.as_str())).collect();
        for chunk in unique.chunks(ROWS_PER_INSERT) {
            let sql = self.dialect.insert_events(&self.tables.events, chunk.len());
            let mut q = sqlx::query(&sql);
            for e in chunk {
                q = self.bind_event(q, e);
            }
            q.execute(&self.pool)
                .await
                .map_err(|e| self.error("cannot insert events", e))?;
        }
        let latest = latest_per_series(events);
        for chunk in latest.chunks(ROWS_PER_INSERT) {
            let sql = self.dialect.upsert_status(&self.tables.status, chunk.len());
            let mut q = sqlx::query(&sql);
            for e in chunk {
                q = self.bind_status(q, e);
            }
            q.execute(&self.pool)
                .await
                .map_err(|e| self.error("cannot update series status", e))?;
        }
        Ok(())
    }
}

#[async_trait]
impl PointSink for SqlSink {
    async fn export_points(&self, points: &[PointRecord]) -> Result<(), ExportError> {
        self.ready().await?;
        for chunk in points.chunks(POINTS_PER_INSERT) {
            let sql = self.dialect.insert_points(&self.tables.points, chunk.len());
            let mut q = sqlx::query(&sql);
            for p in chunk {
                q = q
                    .bind(p.series_id.to_string())
                    .bind(self.dialect.time_value(p.time_unix_nano))
                    .bind(bigint(p.time_unix_nano))
                    .bind(p.value);
            }
            q.execute(&self.pool)
                .await
                .map_err(|e| self.error("cannot insert points", e))?;
        }
        Ok(())
    }
}

/// Builds the exporter and tries to create its tables: a database that is down is
/// logged and tried again on the first batch; one that refuses driftd (login,
/// missing database, bad SQL rights) fails the build.
pub(crate) async fn build(config: &SqlConfig) -> Result<Exporter, BuildError> {
    let sink = SqlSink::new(config).map_err(|e| BuildError::Other(format!("url: {e}")))?;
    match sink.ready().await {
        Ok(()) => {}
        Err(ExportError::Transient(e)) => {
            tracing::warn!(error = %e, "SQL database unreachable: events queue and are retried")
        }
        Err(ExportError::Permanent(e)) => return Err(BuildError::Other(e)),
    }
    let sink = Arc::new(sink);
    Ok(Exporter::Events {
        points: config.store_points.then(|| sink.clone() as Arc<dyn PointSink>),
        sink,
        queue: config.sending_queue.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::conformance::{sample_event, BASE_TIME};

    #[test]
    fn the_status_comes_from_each_series_newest_event() {
        let start = sample_event("m", "a", EventKind::DriftStart, BASE_TIME);
        let end = sample_event("m", "a", EventKind::DriftEnd, BASE_TIME + 1);
        let other = sample_event("m", "b", EventKind::DriftStart, BASE_TIME);
        let events = [end.clone(), start, other.clone()];
        let mut want = vec![&end, &other];
        want.sort_by_key(|e| e.series_id);
        assert_eq!(latest_per_series(&events), want);
    }
}
