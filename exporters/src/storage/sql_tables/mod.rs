//! The tables both SQL backends (`sqlite`, `timescale`) keep, and the one [`Store`]
//! implementation over them. Written against sqlx's `Any` driver in the dialect SQLite
//! and PostgreSQL share (`$n` parameters, `ON CONFLICT`); each backend folder brings
//! only its DDL (a [`Schema`]) and its connection settings.

mod checkpoints;
mod filter;
mod incidents;
mod rows;
mod snapshots;

use crate::db_error::is_transient;
use async_trait::async_trait;
use driftd_core::incident::{Incident, IncidentQuery};
use driftd_core::store::{Checkpoint, EventPage, EventQuery, SeriesStatus, StatusQuery, Store, StoreError};
use driftd_core::DriftEvent;
use filter::{Filter, Param};
use rows::{EVENT_COLUMNS, STATUS_COLUMNS};
use sqlx::AnyPool;
use std::collections::{HashMap, HashSet};
use tokio::sync::OnceCell;

/// Rows per INSERT: well under SQLite's and PostgreSQL's parameter limits.
const ROWS_PER_INSERT: usize = 200;

/// The names of the tables, from a validated prefix.
#[derive(Debug, Clone)]
pub(crate) struct Tables {
    /// Drift events.
    pub events: String,
    /// Current status per series.
    pub status: String,
    /// Detector checkpoints per (processor, series).
    pub checkpoints: String,
    /// Incidents by id.
    pub incidents: String,
    /// Each event's snapshot (its evidence), by event id.
    pub snapshots: String,
}

impl Tables {
    /// `{prefix}events`, `{prefix}status`, `{prefix}checkpoints`, `{prefix}incidents`,
    /// `{prefix}event_snapshots`.
    pub fn with_prefix(prefix: &str) -> Self {
        Tables {
            events: format!("{prefix}events"),
            status: format!("{prefix}status"),
            checkpoints: format!("{prefix}checkpoints"),
            incidents: format!("{prefix}incidents"),
            snapshots: format!("{prefix}event_snapshots"),
        }
    }
}

/// Whether a table prefix is safe to paste into SQL: letters, digits and `_`, not
/// starting with a digit.
pub(crate) fn valid_prefix(prefix: &str) -> bool {
    !prefix.starts_with(|c: char| c.is_ascii_digit())
        && prefix.len() <= 40
        && prefix.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Creates a backend's tables and indexes when they are absent.
#[async_trait]
pub(crate) trait Schema: Send + Sync {
    /// Runs the DDL; called once, on the first successful connection.
    async fn create(&self, pool: &AnyPool, tables: &Tables) -> Result<(), sqlx::Error>;
}

/// A [`Store`] over SQL tables.
pub(crate) struct SqlStore {
    backend: &'static str,
    /// Where the data lives (URL without password, or file path), for errors.
    target: String,
    pool: AnyPool,
    tables: Tables,
    schema: Box<dyn Schema>,
    ready: OnceCell<()>,
}

impl SqlStore {
    /// A store over `pool` (which may connect lazily); nothing is sent until
    /// [`SqlStore::ready`] or the first call.
    pub fn new(backend: &'static str, target: String, pool: AnyPool, tables: Tables, schema: Box<dyn Schema>) -> Self {
        SqlStore {
            backend,
            target,
            pool,
            tables,
            schema,
            ready: OnceCell::new(),
        }
    }

    /// Connects and creates the tables, once; later calls return at once. A server
    /// that is down is `Unavailable` (and tried again next call).
    pub async fn ready(&self) -> Result<&AnyPool, StoreError> {
        self.ready
            .get_or_try_init(|| async {
                self.schema
                    .create(&self.pool, &self.tables)
                    .await
                    .map_err(|e| self.error("cannot create tables", e))
            })
            .await?;
        Ok(&self.pool)
    }

    fn error(&self, doing: &str, e: sqlx::Error) -> StoreError {
        let message = format!("{} at {}: {doing}: {e}", self.backend, self.target);
        if is_transient(&e) {
            StoreError::Unavailable(message.into())
        } else {
            StoreError::Rejected(message)
        }
    }

    async fn execute(&self, statement: rows::Statement<'_>, doing: &str) -> Result<u64, StoreError> {
        let pool = self.ready().await?;
        statement
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
            .map_err(|e| self.error(doing, e))
    }

    async fn fetch(&self, statement: rows::Statement<'_>, doing: &str) -> Result<Vec<sqlx::any::AnyRow>, StoreError> {
        let pool = self.ready().await?;
        statement.fetch_all(pool).await.map_err(|e| self.error(doing, e))
    }
}

fn insert_sql(table: &str, columns: &[&str], rows: usize) -> String {
    format!(
        "INSERT INTO {table} ({}) VALUES {}",
        columns.join(", "),
        rows::placeholders(rows, columns.len())
    )
}

/// `ON CONFLICT (key) DO UPDATE` that never replaces a newer row.
fn upsert_newer(table: &str, key: &str, columns: &[&str]) -> String {
    let keys: Vec<&str> = key.split(", ").collect();
    let set: Vec<String> = columns
        .iter()
        .filter(|c| !keys.contains(c))
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    format!(
        " ON CONFLICT ({key}) DO UPDATE SET {} WHERE {table}.updated_unix_nano <= excluded.updated_unix_nano",
        set.join(", ")
    )
}

/// Keeps the newest of each key (the later one on ties), in first-seen order; one
/// INSERT may not touch a row twice.
fn newest_per_key<T, K: std::hash::Hash + Eq>(
    items: &[T],
    key: impl Fn(&T) -> K,
    updated: impl Fn(&T) -> u64,
) -> Vec<&T> {
    let mut index: HashMap<K, usize> = HashMap::new();
    let mut kept: Vec<&T> = Vec::new();
    for item in items {
        match index.get(&key(item)) {
            Some(&i) if updated(kept[i]) > updated(item) => {}
            Some(&i) => kept[i] = item,
            None => {
                index.insert(key(item), kept.len());
                kept.push(item);
            }
        }
    }
    kept
}

#[async_trait]
impl Store for SqlStore {
    fn backend(&self) -> &'static str {
        self.backend
    }

    async fn append_events(&self, events: &[DriftEvent]) -> Result<(), StoreError> {
        let mut seen = HashSet::new();
        let unique: Vec<&DriftEvent> = events.iter().filter(|e| seen.insert(e.id.as_str())).collect();
        for chunk in unique.chunks(ROWS_PER_INSERT) {
            // Rows of one INSERT get increasing `seq` in VALUES order: arrival order.
            let sql = insert_sql(&self.tables.events, EVENT_COLUMNS, chunk.len()) + " ON CONFLICT DO NOTHING";
            let mut q = sqlx::query(&sql);
            for e in chunk {
                q = rows::bind_event(q, e)?;
            }
            self.execute(q, "cannot insert events").await?;
        }
        self.write_snapshots(&unique).await
    }

    async fn event(&self, id: &str) -> Result<Option<DriftEvent>, StoreError> {
        let sql = format!(
            "SELECT {} FROM {} WHERE id = $1",
            EVENT_COLUMNS.join(", "),
            self.tables.events
        );
        let rows = self
            .fetch(sqlx::query(&sql).bind(id.to_string()), "cannot read an event")
            .await?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        let mut event = rows::event(row)?;
        event.snapshot = self.read_snapshot(id).await?;
        Ok(Some(event))
    }

    async fn events(&self, query: &EventQuery) -> Result<EventPage, StoreError> {
        let mut f = Filter::default();
        if let Some(s) = query.series {
            f.add("series_id", "=", Param::Text(s.to_string()));
        }
        if let Some(m) = &query.metric {
            f.add("metric", "=", Param::Text(m.clone()));
        }
        if let Some(s) = &query.service {
            f.add("service", "=", Param::Text(s.clone()));
        }
        if let Some(k) = query.kind {
            f.add("kind", "=", Param::Text(k.as_str().to_string()));
        }
        if let Some(i) = &query.incident {
            f.add("incident", "=", Param::Text(i.clone()));
        }
        if let Some(t) = query.since {
            f.add("time_unix_nano", ">=", Param::Int(i64::try_from(t).unwrap_or(i64::MAX)));
        }
        if let Some(t) = query.until {
            f.add("time_unix_nano", "<", Param::Int(i64::try_from(t).unwrap_or(i64::MAX)));
        }
        let table = &self.tables.events;
        let count_sql = format!("SELECT COUNT(*) AS n FROM {table}{}", f.sql);
        let counted = self
            .fetch(f.bind(sqlx::query(&count_sql)), "cannot count events")
            .await?;
        let total: i64 = counted
            .first()
            .map(|r| sqlx::Row::try_get(r, "n"))
            .transpose()
            .map_err(|e| self.error("cannot count events", e))?
            .unwrap_or(0);
        let mut page = EventPage {
            events: Vec::new(),
            total: usize::try_from(total).unwrap_or(0),
        };
        if query.limit == 0 || query.offset >= page.total {
            return Ok(page);
        }
        let (paging, limit, offset) = f.page(query.limit, query.offset);
        let sql = format!(
            "SELECT {} FROM {table}{} ORDER BY time_unix_nano DESC, seq DESC{paging}",
            EVENT_COLUMNS.join(", "),
            f.sql
        );
        let q = f.bind(sqlx::query(&sql)).bind(limit).bind(offset);
        for row in self.fetch(q, "cannot read events").await? {
            page.events.push(rows::event(&row)?);
        }
        Ok(page)
    }

    async fn acknowledge(&self, id: &str) -> Result<bool, StoreError> {
        let sql = format!("UPDATE {} SET acknowledged = 1 WHERE id = $1", self.tables.events);
        let q = sqlx::query(&sql).bind(id.to_string());
        Ok(self.execute(q, "cannot acknowledge an event").await? > 0)
    }

    async fn upsert_status(&self, statuses: &[SeriesStatus]) -> Result<(), StoreError> {
        let newest = newest_per_key(statuses, |s| s.series_id, |s| s.updated_at);
        let table = &self.tables.status;
        for chunk in newest.chunks(ROWS_PER_INSERT) {
            let sql =
                insert_sql(table, STATUS_COLUMNS, chunk.len()) + &upsert_newer(table, "series_id", STATUS_COLUMNS);
            let mut q = sqlx::query(&sql);
            for s in chunk {
                q = rows::bind_status(q, s)?;
            }
            self.execute(q, "cannot save series status").await?;
        }
        Ok(())
    }

    async fn statuses(&self, query: &StatusQuery) -> Result<Vec<SeriesStatus>, StoreError> {
        let mut f = Filter::default();
        if let Some(s) = query.series {
            f.add("series_id", "=", Param::Text(s.to_string()));
        }
        if let Some(m) = &query.metric {
            f.add("metric", "=", Param::Text(m.clone()));
        }
        if let Some(s) = &query.service {
            f.add("service", "=", Param::Text(s.clone()));
        }
        if let Some(s) = query.state {
            f.add("state", "=", Param::Text(s.as_str().to_string()));
        }
        let (paging, limit, offset) = f.page(query.limit.unwrap_or(usize::MAX), query.offset);
        let sql = format!(
            "SELECT {} FROM {}{} ORDER BY series_id{paging}",
            STATUS_COLUMNS.join(", "),
            self.tables.status,
            f.sql
        );
        let q = f.bind(sqlx::query(&sql)).bind(limit).bind(offset);
        let rows = self.fetch(q, "cannot read series status").await?;
        rows.iter().map(rows::status).collect()
    }

    async fn save_checkpoints(&self, processor: &str, checkpoints: &[Checkpoint]) -> Result<(), StoreError> {
        self.write_checkpoints(processor, checkpoints).await
    }

    async fn load_checkpoints(&self, processor: &str) -> Result<Vec<Checkpoint>, StoreError> {
        self.read_checkpoints(processor).await
    }

    async fn save_incidents(&self, incidents: &[Incident]) -> Result<(), StoreError> {
        self.write_incidents(incidents).await
    }

    async fn incidents(&self, query: &IncidentQuery) -> Result<Vec<Incident>, StoreError> {
        self.read_incidents(query).await
    }

    async fn incident(&self, id: &str) -> Result<Option<Incident>, StoreError> {
        self.read_incident(id).await
    }

    async fn acknowledge_incident(&self, id: &str) -> Result<bool, StoreError> {
        self.acknowledge_stored_incident(id).await
    }

    async fn prune(&self, older_than: u64) -> Result<u64, StoreError> {
        let cutoff = i64::try_from(older_than).unwrap_or(i64::MAX);
        let t = &self.tables;
        let mut removed = 0;
        for (table, column) in [
            (&t.events, "time_unix_nano"),
            (&t.status, "updated_unix_nano"),
            (&t.checkpoints, "updated_unix_nano"),
            (&t.incidents, "updated_unix_nano"),
            (&t.snapshots, "time_unix_nano"),
        ] {
            let sql = format!("DELETE FROM {table} WHERE {column} < $1");
            removed += self.execute(sqlx::query(&sql).bind(cutoff), "cannot prune").await?;
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_checked_before_reaching_sql() {
        assert!(valid_prefix("driftd_"));
        assert!(valid_prefix(""));
        assert!(!valid_prefix("1x"));
        assert!(!valid_prefix("x; DROP TABLE y"));
        assert!(!valid_prefix("a-b"));
    }

    #[test]
    fn upserts_never_replace_newer_rows() {
        let sql = upsert_newer(
            "t",
            "processor, series_id",
            &["processor", "series_id", "state", "updated_unix_nano"],
        );
        assert_eq!(
            sql,
            " ON CONFLICT (processor, series_id) DO UPDATE SET state = excluded.state, \
             updated_unix_nano = excluded.updated_unix_nano WHERE t.updated_unix_nano <= excluded.updated_unix_nano"
        );
    }

    #[test]
    fn one_row_per_key_the_newest_wins() {
        let items = [("a", 1), ("b", 1), ("a", 3), ("a", 2), ("b", 1)];
        let kept = newest_per_key(&items, |i| i.0, |i| i.1);
        assert_eq!(kept, [&("a", 3), &("b", 1)]);
        assert!(std::ptr::eq(kept[1], &items[4]), "ties: the later one");
    }
}
