//! What differs between PostgreSQL, MySQL/MariaDB and SQLite for the `sql` exporter:
//! column types, parameters, "insert unless present" and "upsert unless newer". The
//! rest of the exporter is the same for all three.

use crate::connection_url::ConnectionUrl;
use humantime::format_rfc3339_micros;
use std::time::{Duration, UNIX_EPOCH};

/// A SQL dialect, chosen by the URL's scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// `postgres://`, `postgresql://`.
    Postgres,
    /// `mysql://`, `mariadb://` (MySQL and MariaDB).
    MySql,
    /// `sqlite://`.
    Sqlite,
}

/// The exporter's two tables.
#[derive(Debug, Clone)]
pub(crate) struct Tables {
    /// One row per event.
    pub events: String,
    /// One row per series: its latest transition.
    pub status: String,
    /// One row per raw point (only with `store_points`).
    pub points: String,
}

impl Tables {
    pub fn with_prefix(prefix: &str) -> Self {
        Tables {
            events: format!("{prefix}drift_events"),
            status: format!("{prefix}drift_status"),
            points: format!("{prefix}points"),
        }
    }
}

/// Columns of the events table, in bind order; `*_at`/`*_time` ones are times.
pub(crate) const EVENT_COLUMNS: &[&str] = &[
    "id",
    "kind",
    "series_id",
    "metric",
    "labels",
    "service",
    "event_time",
    "event_time_unix_nano",
    "onset_time",
    "onset_unix_nano",
    "detector",
    "severity",
    "reason",
    "value",
    "z_score",
    "scores",
    "baseline_mean",
    "baseline_stddev",
    "baseline_samples",
    "recent_mean",
    "recent_stddev",
    "recent_samples",
];

/// Columns of the status table, in bind order; the last one orders updates.
pub(crate) const STATUS_COLUMNS: &[&str] = &[
    "series_id",
    "metric",
    "labels",
    "service",
    "state",
    "severity",
    "last_event_id",
    "detector",
    "value",
    "z_score",
    "baseline_mean",
    "baseline_stddev",
    "recent_mean",
    "recent_stddev",
    "changed_at",
    "changed_at_unix_nano",
];

/// Columns of the points table, in bind order.
pub(crate) const POINT_COLUMNS: &[&str] = &["series_id", "time", "time_unix_nano", "value"];

fn is_time(column: &str) -> bool {
    matches!(column, "event_time" | "onset_time" | "changed_at" | "time")
}

impl Dialect {
    /// The dialect of `url`, if driftd writes to it.
    pub fn of(url: &ConnectionUrl) -> Option<Self> {
        match url.scheme()?.as_str() {
            "postgres" | "postgresql" => Some(Dialect::Postgres),
            "mysql" | "mariadb" => Some(Dialect::MySql),
            "sqlite" => Some(Dialect::Sqlite),
            _ => None,
        }
    }

    /// The URL sqlx connects to: SQLite files are created when missing, and MariaDB
    /// speaks the MySQL protocol.
    pub fn connect_url(self, url: &str) -> String {
        match self {
            Dialect::Sqlite if !url.contains("mode=") => {
                format!("{url}{}mode=rwc", if url.contains('?') { '&' } else { '?' })
            }
            Dialect::MySql => url.replacen("mariadb://", "mysql://", 1),
            _ => url.to_string(),
        }
    }

    fn param(self, n: usize, time: bool) -> String {
        match (self, time) {
            (Dialect::MySql, _) => "?".to_string(),
            (Dialect::Postgres, true) => format!("CAST(${n} AS TIMESTAMPTZ)"),
            _ => format!("${n}"),
        }
    }

    /// How a time is bound: RFC 3339 text, or MySQL's `YYYY-MM-DD HH:MM:SS.ffffff`
    /// (UTC) for a DATETIME column.
    pub fn time_value(self, unix_nano: u64) -> String {
        let text = format_rfc3339_micros(UNIX_EPOCH + Duration::from_nanos(unix_nano)).to_string();
        match self {
            Dialect::MySql => text.trim_end_matches('Z').replacen('T', " ", 1),
            _ => text,
        }
    }

    fn values(self, columns: &[&str], rows: usize) -> String {
        let mut n = 0;
        let row = |n: &mut usize| {
            let params: Vec<String> = columns
                .iter()
                .map(|c| {
                    *n += 1;
                    self.param(*n, is_time(c))
                })
                .collect();
            format!("({})", params.join(", "))
        };
        (0..rows).map(|_| row(&mut n)).collect::<Vec<_>>().join(", ")
    }

    /// Inserts `rows` events; an id already stored is skipped.
    pub(crate) fn insert_events(self, table: &str, rows: usize) -> String {
        self.insert_unless_present(table, EVENT_COLUMNS, rows)
    }

    /// Inserts `rows` points; a point already stored (same series and time) is skipped,
    /// so a retried batch leaves one row per point.
    pub(crate) fn insert_points(self, table: &str, rows: usize) -> String {
        self.insert_unless_present(table, POINT_COLUMNS, rows)
    }

    fn insert_unless_present(self, table: &str, columns: &[&str], rows: usize) -> String {
        let cols = columns.join(", ");
        let values = self.values(columns, rows);
        match self {
            Dialect::MySql => format!("INSERT IGNORE INTO {table} ({cols}) VALUES {values}"),
            _ => format!("INSERT INTO {table} ({cols}) VALUES {values} ON CONFLICT DO NOTHING"),
        }
    }

    /// Upserts `rows` statuses; a stored status with a later change is kept.
    pub(crate) fn upsert_status(self, table: &str, rows: usize) -> String {
        let cols = STATUS_COLUMNS.join(", ");
        let values = self.values(STATUS_COLUMNS, rows);
        let order = "changed_at_unix_nano";
        match self {
            // Assignments run left to right, so the ordering column goes last.
            Dialect::MySql => {
                let set: Vec<String> = STATUS_COLUMNS[1..STATUS_COLUMNS.len() - 1]
                    .iter()
                    .map(|c| format!("{c} = IF(VALUES({order}) >= {order}, VALUES({c}), {c})"))
                    .chain([format!("{order} = GREATEST({order}, VALUES({order}))")])
                    .collect();
                format!(
                    "INSERT INTO {table} ({cols}) VALUES {values} ON DUPLICATE KEY UPDATE {}",
                    set.join(", ")
                )
            }
            _ => {
                let set: Vec<String> = STATUS_COLUMNS[1..]
                    .iter()
                    .map(|c| format!("{c} = excluded.{c}"))
                    .collect();
                format!(
                    "INSERT INTO {table} ({cols}) VALUES {values} ON CONFLICT (series_id) DO UPDATE SET {} \
                     WHERE {table}.{order} <= excluded.{order}",
                    set.join(", ")
                )
            }
        }
    }

    /// CREATE TABLE (and index) statements, each a no-op when the object exists; the
    /// points table only when `points`.
    pub(crate) fn ddl(self, t: &Tables, points: bool) -> Vec<String> {
        let (key, name, time, float) = match self {
            Dialect::Postgres => ("TEXT", "TEXT", "TIMESTAMPTZ", "DOUBLE PRECISION"),
            Dialect::MySql => ("VARCHAR(32)", "VARCHAR(512)", "DATETIME(6)", "DOUBLE"),
            Dialect::Sqlite => ("TEXT", "TEXT", "TEXT", "REAL"),
        };
        let events = format!(
            "CREATE TABLE IF NOT EXISTS {table} (
                id {key} NOT NULL PRIMARY KEY,
                kind {key} NOT NULL,
                series_id {key} NOT NULL,
                metric {name} NOT NULL,
                labels TEXT NOT NULL,
                service {name},
                event_time {time} NOT NULL,
                event_time_unix_nano BIGINT NOT NULL,
                onset_time {time} NOT NULL,
                onset_unix_nano BIGINT NOT NULL,
                detector {key} NOT NULL,
                severity {key},
                reason {key},
                value {float} NOT NULL,
                z_score {float},
                scores TEXT NOT NULL,
                baseline_mean {float} NOT NULL,
                baseline_stddev {float} NOT NULL,
                baseline_samples BIGINT NOT NULL,
                recent_mean {float} NOT NULL,
                recent_stddev {float} NOT NULL,
                recent_samples BIGINT NOT NULL{indexes}
            )",
            table = t.events,
            // MySQL has no CREATE INDEX IF NOT EXISTS: indexes go in the table.
            indexes = if self == Dialect::MySql {
                ",\n INDEX idx_event_time (event_time),\n INDEX idx_series_time (series_id, event_time)"
            } else {
                ""
            }
        );
        let status = format!(
            "CREATE TABLE IF NOT EXISTS {table} (
                series_id {key} NOT NULL PRIMARY KEY,
                metric {name} NOT NULL,
                labels TEXT NOT NULL,
                service {name},
                state {key} NOT NULL,
                severity {key},
                last_event_id {key} NOT NULL,
                detector {key} NOT NULL,
                value {float} NOT NULL,
                z_score {float},
                baseline_mean {float} NOT NULL,
                baseline_stddev {float} NOT NULL,
                recent_mean {float} NOT NULL,
                recent_stddev {float} NOT NULL,
                changed_at {time} NOT NULL,
                changed_at_unix_nano BIGINT NOT NULL
            )",
            table = t.status
        );
        let mut statements = vec![events, status];
        if points {
            // The key is the (series_id, time_unix_nano) index that queries use.
            statements.push(format!(
                "CREATE TABLE IF NOT EXISTS {table} (
                    series_id {key} NOT NULL,
                    time {time} NOT NULL,
                    time_unix_nano BIGINT NOT NULL,
                    value {float} NOT NULL,
                    PRIMARY KEY (series_id, time_unix_nano)
                )",
                table = t.points
            ));
        }
        if self != Dialect::MySql {
            statements.push(format!(
                "CREATE INDEX IF NOT EXISTS {0}_time ON {0} (event_time)",
                t.events
            ));
            statements.push(format!(
                "CREATE INDEX IF NOT EXISTS {0}_series_time ON {0} (series_id, event_time)",
                t.events
            ));
        }
        statements
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_dialect_says_insert_unless_present_its_way() {
        let t = "e";
        assert!(Dialect::MySql.insert_events(t, 1).starts_with("INSERT IGNORE INTO e ("));
        let pg = Dialect::Postgres.insert_events(t, 2);
        assert!(pg.ends_with("ON CONFLICT DO NOTHING"), "{pg}");
        assert!(pg.contains("CAST($7 AS TIMESTAMPTZ), $8"), "{pg}");
        assert!(pg.contains("($23, $24"), "second row numbers on: {pg}");
        assert!(Dialect::Sqlite.insert_events(t, 1).contains("$7, $8"));
        assert_eq!(
            Dialect::Postgres.insert_points("p", 2),
            "INSERT INTO p (series_id, time, time_unix_nano, value) VALUES \
             ($1, CAST($2 AS TIMESTAMPTZ), $3, $4), ($5, CAST($6 AS TIMESTAMPTZ), $7, $8) ON CONFLICT DO NOTHING"
        );
        let tables = Tables::with_prefix("d_");
        assert_eq!(Dialect::MySql.ddl(&tables, false).len(), 2);
        assert!(Dialect::MySql.ddl(&tables, true)[2].contains("PRIMARY KEY (series_id, time_unix_nano)"));
    }

    #[test]
    fn mysql_upserts_update_the_ordering_column_last() {
        let sql = Dialect::MySql.upsert_status("s", 1);
        assert!(sql.ends_with("changed_at_unix_nano = GREATEST(changed_at_unix_nano, VALUES(changed_at_unix_nano))"));
        let pg = Dialect::Postgres.upsert_status("s", 1);
        assert!(pg.ends_with("WHERE s.changed_at_unix_nano <= excluded.changed_at_unix_nano"));
    }

    #[test]
    fn times_and_urls_per_dialect() {
        let t = 1_768_213_845_123_456_789;
        assert_eq!(Dialect::MySql.time_value(t), "2026-01-12 10:30:45.123456");
        assert_eq!(Dialect::Postgres.time_value(t), "2026-01-12T10:30:45.123456Z");
        assert_eq!(Dialect::Sqlite.connect_url("sqlite://a.db"), "sqlite://a.db?mode=rwc");
        assert_eq!(Dialect::MySql.connect_url("mariadb://root@h/db"), "mysql://root@h/db");
        assert_eq!(Dialect::of(&ConnectionUrl::new("redis://x")), None);
    }
}
