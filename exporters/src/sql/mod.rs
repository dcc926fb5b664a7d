//! The one SQL layer: one schema (events, series status, checkpoints, incidents, event
//! snapshots, raw points) built by one versioned migration list ([`schema`]), one
//! [`Store`] over it ([`SqlStore`]), and the three dialects it speaks ([`Dialect`]:
//! SQLite, PostgreSQL/TimescaleDB, MySQL/MariaDB). The `sqlite` and `timescale`
//! storage backends and the `sql` exporter are each a [`SqlStore`] opened their way.
//!
//! Every statement is written once with `$n` parameters and runs through
//! [`SqlStore::execute`] or [`SqlStore::fetch`], which adapt it to the dialect and run
//! it again when the database aborted it to break a deadlock.

mod checkpoints;
mod config;
mod dialect;
mod exporter;
mod filter;
mod incidents;
mod points;
mod rows;
mod schema;
mod snapshots;
mod store;

pub use config::SqlConfig;
pub use dialect::Dialect;

pub(crate) use exporter::build;
pub(crate) use schema::{valid_prefix, Tables};

use crate::db_error::{is_conflict, is_transient};
use async_trait::async_trait;
use driftd_core::store::{Store, StoreError};
use rows::Statement;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::AnyPool;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::OnceCell;

/// Opens and migrates the store over the `sql` exporter's tables: what the exporter
/// wrote, read back the way the storage backends read theirs.
pub async fn store(config: &SqlConfig) -> Result<Arc<dyn Store>, StoreError> {
    let store = exporter::open(config)?;
    store.ready().await?;
    Ok(Arc::new(store))
}

/// Rows per INSERT: well under every dialect's parameter limit.
const ROWS_PER_INSERT: usize = 200;
/// Times a statement is run when the database keeps aborting it as a deadlock victim.
const ATTEMPTS: u32 = 4;

/// What a backend adds to the schema at every start, after the migrations:
/// TimescaleDB's hypertable and policies.
#[async_trait]
pub(crate) trait Extension: Send + Sync {
    async fn apply(&self, pool: &AnyPool, tables: &Tables) -> Result<(), sqlx::Error>;
}

/// Where a [`SqlStore`] connects and what it names itself in errors.
pub(crate) struct Target<'a> {
    /// `sqlite`, `timescale` or `sql`: the component, for errors and logs.
    pub backend: &'static str,
    pub dialect: Dialect,
    /// The URL sqlx connects to (may hold a password).
    pub url: &'a str,
    /// Where the data lives without secrets (URL without password, or file path).
    pub shown: String,
    pub max_connections: u32,
    pub table_prefix: &'a str,
}

/// A [`Store`] over the SQL tables.
pub(crate) struct SqlStore {
    backend: &'static str,
    dialect: Dialect,
    shown: String,
    pool: AnyPool,
    tables: Tables,
    extension: Option<Box<dyn Extension>>,
    /// The schema version to migrate to (the newest, except in migration tests).
    version: i64,
    ready: OnceCell<()>,
}

impl SqlStore {
    /// A store over `target` that connects lazily: nothing is sent until
    /// [`SqlStore::ready`] or the first call. Only a URL sqlx cannot read fails here.
    pub fn open(target: Target<'_>, extension: Option<Box<dyn Extension>>) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        // SQLite waits for the file lock; a server answers or is down.
        let acquire = match target.dialect {
            Dialect::Sqlite => Duration::from_secs(10),
            _ => Duration::from_secs(5),
        };
        let pool = AnyPoolOptions::new()
            .max_connections(target.max_connections)
            .acquire_timeout(acquire)
            .connect_lazy(&target.dialect.connect_url(target.url))
            .map_err(|e| {
                StoreError::Rejected(format!(
                    "{}: `{}` is not a usable database: {e}",
                    target.backend, target.shown
                ))
            })?;
        Ok(SqlStore {
            backend: target.backend,
            dialect: target.dialect,
            shown: target.shown,
            pool,
            tables: Tables::with_prefix(target.table_prefix),
            extension,
            version: schema::latest_version(),
            ready: OnceCell::new(),
        })
    }

    /// Connects and migrates the schema, once; later calls return at once. A server
    /// that is down is `Unavailable` (and tried again next call).
    pub async fn ready(&self) -> Result<&AnyPool, StoreError> {
        self.ready
            .get_or_try_init(|| async {
                schema::migrate(&self.pool, self.dialect, &self.tables, self.version)
                    .await
                    .map_err(|e| self.error("cannot migrate the schema", e))?;
                if let Some(extension) = &self.extension {
                    extension
                        .apply(&self.pool, &self.tables)
                        .await
                        .map_err(|e| self.error("cannot set up the tables", e))?;
                }
                Ok(())
            })
            .await?;
        Ok(&self.pool)
    }

    fn error(&self, doing: &str, e: sqlx::Error) -> StoreError {
        let message = format!("{} at {}: {doing}: {e}", self.backend, self.shown);
        if is_transient(&e) {
            StoreError::Unavailable(message.into())
        } else {
            StoreError::Rejected(message)
        }
    }

    /// Runs `sql` with the parameters `bind` adds; the rows changed.
    async fn execute<F>(&self, sql: &str, doing: &str, bind: F) -> Result<u64, StoreError>
    where
        F: for<'s> Fn(Statement<'s>) -> Result<Statement<'s>, StoreError>,
    {
        let pool = self.ready().await?;
        let sql = self.dialect.statement(sql);
        let (sql, bind) = (sql.as_ref(), &bind);
        self.retrying(doing, || async move {
            let done = bind(sqlx::query(sql))?.execute(pool).await;
            Ok(done.map(|d| d.rows_affected()))
        })
        .await
    }

    /// Runs the query `sql` with the parameters `bind` adds; its rows.
    async fn fetch<F>(&self, sql: &str, doing: &str, bind: F) -> Result<Vec<AnyRow>, StoreError>
    where
        F: for<'s> Fn(Statement<'s>) -> Result<Statement<'s>, StoreError>,
    {
        let pool = self.ready().await?;
        let sql = self.dialect.statement(sql);
        let (sql, bind) = (sql.as_ref(), &bind);
        self.retrying(
            doing,
            || async move { Ok(bind(sqlx::query(sql))?.fetch_all(pool).await) },
        )
        .await
    }

    /// Runs `run` again, a little later each time, while the database aborts it to
    /// break a deadlock (at most [`ATTEMPTS`] times).
    async fn retrying<T, Fut>(&self, doing: &str, run: impl Fn() -> Fut) -> Result<T, StoreError>
    where
        Fut: std::future::Future<Output = Result<Result<T, sqlx::Error>, StoreError>>,
    {
        let mut attempt = 1;
        loop {
            match run().await? {
                Ok(done) => return Ok(done),
                Err(e) if is_conflict(&e) && attempt < ATTEMPTS => {
                    tokio::time::sleep(Duration::from_millis(20 << attempt)).await;
                    attempt += 1;
                }
                Err(e) => return Err(self.error(doing, e)),
            }
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_row_per_key_the_newest_wins() {
        let items = [("a", 1), ("b", 1), ("a", 3), ("a", 2), ("b", 1)];
        let kept = newest_per_key(&items, |i| i.0, |i| i.1);
        assert_eq!(kept, [&("a", 3), &("b", 1)]);
        assert!(std::ptr::eq(kept[1], &items[4]), "ties: the later one");
    }
}
