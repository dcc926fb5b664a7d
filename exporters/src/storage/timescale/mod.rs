//! `timescale`: events, statuses and checkpoints in PostgreSQL. When the TimescaleDB
//! extension is available the events table becomes a hypertable: with the community
//! edition compressed after a day and dropped by a retention policy, with the
//! Apache-2.0 edition pruned by driftd. On plain PostgreSQL the tables are ordinary
//! indexed tables and the periodic prune deletes old rows. Which one is detected at
//! startup and logged.

mod config;

pub use config::TimescaleConfig;

use crate::sql::{Dialect, Extension, SqlStore, Tables, Target};
use async_trait::async_trait;
use driftd_core::store::StoreError;
use sqlx::AnyPool;
use sqlx::Row;
use std::time::Duration;

/// The hypertable and its policies, set up after the migrations at every start.
struct Hypertable {
    prefix: String,
    retention: Duration,
}

/// The TimescaleDB a server has. The edition decides what driftd may use: the
/// community (`timescale`) license has retention and compression policies, the
/// Apache-2.0 one only hypertables (its policy functions raise "not supported under
/// the current apache license").
#[derive(Debug, Clone, PartialEq)]
struct Timescale {
    version: String,
    edition: Edition,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Edition {
    Community,
    Apache,
}

/// Installs the extension when the server has it (and driftd may) and says which it
/// is; `None` on plain PostgreSQL.
async fn timescaledb(pool: &AnyPool) -> Result<Option<Timescale>, sqlx::Error> {
    if let Err(e) = sqlx::query("CREATE EXTENSION IF NOT EXISTS timescaledb")
        .execute(pool)
        .await
    {
        if crate::db_error::is_transient(&e) {
            return Err(e);
        }
        tracing::debug!(error = %e, "TimescaleDB extension cannot be created");
    }
    let row = sqlx::query(
        "SELECT extversion::text AS v, COALESCE(current_setting('timescaledb.license', true), '') AS license
         FROM pg_extension WHERE extname = 'timescaledb'",
    )
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let license: String = row.try_get("license")?;
    Ok(Some(Timescale {
        version: row.try_get("v")?,
        edition: if license == "apache" {
            Edition::Apache
        } else {
            Edition::Community
        },
    }))
}

/// Events older than this are compressed (community edition): one chunk, a day.
const COMPRESS_AFTER_NANOS: i64 = 86_400_000_000_000;

/// The hypertable path, run only when TimescaleDB is installed. Identifiers come from a
/// validated prefix and numbers from config, so literals are safe here (a DO block
/// takes no parameters, and Any cannot decode the functions' record results). The
/// community edition also gets a compression policy (a compressed table's unique
/// columns must be among its segment-by or order-by ones) and a retention policy;
/// with the Apache edition the periodic prune deletes old rows, as on plain
/// PostgreSQL.
fn hypertable_sql(events: &str, prefix: &str, retention: Duration, edition: Edition) -> String {
    let policies = match edition {
        Edition::Apache => String::new(),
        Edition::Community => {
            let drop_after = i64::try_from(retention.as_nanos()).unwrap_or(i64::MAX);
            format!(
                "IF NOT (SELECT compression_enabled FROM timescaledb_information.hypertables
                     WHERE hypertable_schema = current_schema() AND hypertable_name = '{events}') THEN
                ALTER TABLE {events} SET (timescaledb.compress,
                    timescaledb.compress_segmentby = 'series_id',
                    timescaledb.compress_orderby = 'time_unix_nano DESC, id');
            END IF;
            PERFORM add_compression_policy('{events}', compress_after => {COMPRESS_AFTER_NANOS}::BIGINT, if_not_exists => TRUE);
            PERFORM remove_retention_policy('{events}', if_exists => TRUE);
            PERFORM add_retention_policy('{events}', drop_after => {drop_after}::BIGINT);"
            )
        }
    };
    format!(
        "CREATE OR REPLACE FUNCTION {prefix}now_unix_nano() RETURNS BIGINT LANGUAGE SQL STABLE AS
            'SELECT (EXTRACT(EPOCH FROM now()) * 1000000000)::BIGINT';
         DO $$ BEGIN
            PERFORM create_hypertable('{events}', 'time_unix_nano',
                chunk_time_interval => 86400000000000, if_not_exists => TRUE, migrate_data => TRUE);
            PERFORM set_integer_now_func('{events}', '{prefix}now_unix_nano', replace_if_exists => TRUE);
            {policies}
         END $$;"
    )
}

#[async_trait]
impl Extension for Hypertable {
    async fn apply(&self, pool: &AnyPool, t: &Tables) -> Result<(), sqlx::Error> {
        match timescaledb(pool).await? {
            Some(Timescale { version, edition }) => {
                sqlx::raw_sql(&hypertable_sql(&t.events, &self.prefix, self.retention, edition))
                    .execute(pool)
                    .await?;
                match edition {
                    Edition::Community => tracing::info!(%version, table = %t.events,
                        "TimescaleDB found: events are a compressed hypertable with a retention policy"),
                    Edition::Apache => tracing::info!(%version, table = %t.events,
                        "TimescaleDB (Apache-2.0 edition) found: events are a hypertable, old rows deleted by the periodic prune"),
                }
            }
            None => tracing::info!(
                table = %t.events,
                "TimescaleDB extension not available: plain PostgreSQL tables, old rows deleted by the periodic prune"
            ),
        }
        Ok(())
    }
}

/// Builds the store without connecting (the pool connects lazily): call
/// `ready()` to connect and create the tables. Only a URL sqlx cannot read fails here.
pub(crate) fn open(config: &TimescaleConfig) -> Result<SqlStore, StoreError> {
    SqlStore::open(
        Target {
            backend: "timescale",
            dialect: Dialect::Postgres,
            url: config.url.expose(),
            shown: config.url.to_string(),
            max_connections: config.max_connections,
            table_prefix: &config.table_prefix,
        },
        Some(Box::new(Hypertable {
            prefix: config.table_prefix.clone(),
            retention: config.retention,
        })),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hypertable_path_names_only_validated_identifiers() {
        let sql = hypertable_sql("driftd_events", "driftd_", Duration::from_secs(1), Edition::Community);
        assert!(sql.contains("create_hypertable('driftd_events', 'time_unix_nano'"));
        assert!(sql.contains("drop_after => 1000000000::BIGINT"));
        assert!(sql.contains("driftd_now_unix_nano"));
        let apache = hypertable_sql("driftd_events", "driftd_", Duration::from_secs(1), Edition::Apache);
        assert!(apache.contains("create_hypertable('driftd_events'"));
        assert!(
            !apache.contains("policy"),
            "the Apache edition has no policies: {apache}"
        );
    }

    #[test]
    fn urls_must_be_postgres() {
        let mut c = TimescaleConfig::default();
        assert!(c.validate().is_empty());
        c.url = crate::connection_url::ConnectionUrl::new("mysql://root@127.0.0.1/test");
        c.table_prefix = "bad-prefix".into();
        let paths: Vec<_> = c.validate().into_iter().map(|e| e.path).collect();
        assert_eq!(paths, ["url", "table_prefix"]);
    }
}
