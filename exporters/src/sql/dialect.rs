//! What differs between SQLite, PostgreSQL (and TimescaleDB) and MySQL/MariaDB: column
//! types, parameters, "insert unless present" and "upsert unless older". Every
//! statement of the SQL layer is written once, with `$n` parameters, and passes
//! through [`Dialect::statement`].

use crate::connection_url::ConnectionUrl;
use std::borrow::Cow;

/// A SQL dialect, chosen by the URL's scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// `sqlite://`.
    Sqlite,
    /// `postgres://`, `postgresql://` (with or without TimescaleDB).
    Postgres,
    /// `mysql://`, `mariadb://` (MySQL and MariaDB).
    MySql,
}

/// The column types a table definition names, per dialect.
pub(crate) struct Types {
    /// Ids and names that are part of a key or an index.
    pub key: &'static str,
    /// Free text (labels, scores).
    pub text: &'static str,
    /// Large documents (incident and snapshot bodies).
    pub document: &'static str,
    pub int: &'static str,
    pub float: &'static str,
    pub bytes: &'static str,
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

    /// `sql` as this dialect takes it: MySQL numbers no parameters, so `$n` becomes
    /// `?` (every statement here uses each parameter once, in order).
    pub fn statement(self, sql: &str) -> Cow<'_, str> {
        if self != Dialect::MySql || !sql.contains('$') {
            return Cow::Borrowed(sql);
        }
        let mut out = String::with_capacity(sql.len());
        let mut chars = sql.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
                while chars.peek().is_some_and(char::is_ascii_digit) {
                    chars.next();
                }
                out.push('?');
            } else {
                out.push(c);
            }
        }
        Cow::Owned(out)
    }

    pub(crate) fn types(self) -> Types {
        match self {
            Dialect::Sqlite => Types {
                key: "TEXT",
                text: "TEXT",
                document: "TEXT",
                int: "INTEGER",
                float: "REAL",
                bytes: "BLOB",
            },
            Dialect::Postgres => Types {
                key: "TEXT",
                text: "TEXT",
                document: "TEXT",
                int: "BIGINT",
                float: "DOUBLE PRECISION",
                bytes: "BYTEA",
            },
            // 191 characters of utf8mb4 fit InnoDB's index key limit.
            Dialect::MySql => Types {
                key: "VARCHAR(191)",
                text: "TEXT",
                document: "LONGTEXT",
                int: "BIGINT",
                float: "DOUBLE",
                bytes: "LONGBLOB",
            },
        }
    }

    /// `INSERT INTO table (columns) VALUES (...), ...` for `rows` rows, skipping rows
    /// whose key is already stored.
    pub(crate) fn insert_unless_present(self, table: &str, columns: &[&str], rows: usize) -> String {
        let insert = insert(table, columns, rows);
        match self {
            // Not INSERT IGNORE: that also turns bad data into warnings.
            Dialect::MySql => format!("{insert} ON DUPLICATE KEY UPDATE {0} = {0}", columns[0]),
            _ => format!("{insert} ON CONFLICT DO NOTHING"),
        }
    }

    /// An INSERT of `rows` rows that replaces a stored row with the same `key` unless
    /// the stored one is newer by `updated_unix_nano` (which `columns` must hold).
    pub(crate) fn upsert_unless_older(self, table: &str, key: &[&str], columns: &[&str], rows: usize) -> String {
        const ORDER: &str = "updated_unix_nano";
        let insert = insert(table, columns, rows);
        let replaced = columns.iter().filter(|c| !key.contains(c));
        match self {
            // Assignments run left to right, so the ordering column goes last.
            Dialect::MySql => {
                let set: Vec<String> = replaced
                    .filter(|c| **c != ORDER)
                    .map(|c| format!("{c} = IF(VALUES({ORDER}) >= {ORDER}, VALUES({c}), {c})"))
                    .chain([format!("{ORDER} = GREATEST({ORDER}, VALUES({ORDER}))")])
                    .collect();
                format!("{insert} ON DUPLICATE KEY UPDATE {}", set.join(", "))
            }
            _ => {
                let set: Vec<String> = replaced.map(|c| format!("{c} = excluded.{c}")).collect();
                format!(
                    "{insert} ON CONFLICT ({}) DO UPDATE SET {} WHERE {table}.{ORDER} <= excluded.{ORDER}",
                    key.join(", "),
                    set.join(", ")
                )
            }
        }
    }

    /// A query counting (as `n`) the columns named `column` of `table`.
    pub(crate) fn count_columns(self, table: &str, column: &str) -> String {
        match self {
            Dialect::Sqlite => {
                format!("SELECT COUNT(*) AS n FROM pragma_table_info('{table}') WHERE name = '{column}'")
            }
            Dialect::Postgres => format!(
                "SELECT COUNT(*) AS n FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = '{table}' AND column_name = '{column}'"
            ),
            Dialect::MySql => format!(
                "SELECT COUNT(*) AS n FROM information_schema.columns \
                 WHERE table_schema = DATABASE() AND table_name = '{table}' AND column_name = '{column}'"
            ),
        }
    }
}

fn insert(table: &str, columns: &[&str], rows: usize) -> String {
    format!(
        "INSERT INTO {table} ({}) VALUES {}",
        columns.join(", "),
        placeholders(rows, columns.len())
    )
}

/// `($1, $2, ...), (...)` for `rows` rows of `columns` parameters each.
pub(crate) fn placeholders(rows: usize, columns: usize) -> String {
    let mut sql = String::with_capacity(rows * columns * 5);
    for r in 0..rows {
        sql.push_str(if r == 0 { "(" } else { ", (" });
        for c in 0..columns {
            if c > 0 {
                sql.push_str(", ");
            }
            sql.push('$');
            sql.push_str(&(r * columns + c + 1).to_string());
        }
        sql.push(')');
    }
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_number_every_parameter() {
        assert_eq!(placeholders(2, 3), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(placeholders(1, 1), "($1)");
    }

    #[test]
    fn mysql_takes_question_marks() {
        let sql = "SELECT a FROM t WHERE b = $1 AND c = $12 LIMIT $13";
        assert_eq!(
            Dialect::MySql.statement(sql),
            "SELECT a FROM t WHERE b = ? AND c = ? LIMIT ?"
        );
        assert_eq!(Dialect::Postgres.statement(sql), sql);
        assert_eq!(Dialect::MySql.statement("SELECT '$' || x"), "SELECT '$' || x");
    }

    #[test]
    fn each_dialect_says_insert_unless_present_its_way() {
        assert_eq!(
            Dialect::Sqlite.insert_unless_present("e", &["id", "v"], 2),
            "INSERT INTO e (id, v) VALUES ($1, $2), ($3, $4) ON CONFLICT DO NOTHING"
        );
        assert_eq!(
            Dialect::MySql.insert_unless_present("e", &["id", "v"], 1),
            "INSERT INTO e (id, v) VALUES ($1, $2) ON DUPLICATE KEY UPDATE id = id"
        );
    }

    #[test]
    fn upserts_never_replace_newer_rows() {
        let columns = ["processor", "series_id", "updated_unix_nano", "state"];
        let key = ["processor", "series_id"];
        assert_eq!(
            Dialect::Postgres.upsert_unless_older("t", &key, &columns, 1),
            "INSERT INTO t (processor, series_id, updated_unix_nano, state) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (processor, series_id) DO UPDATE SET updated_unix_nano = excluded.updated_unix_nano, \
             state = excluded.state WHERE t.updated_unix_nano <= excluded.updated_unix_nano"
        );
        let mysql = Dialect::MySql.upsert_unless_older("t", &key, &columns, 1);
        assert!(
            mysql.ends_with(
                "state = IF(VALUES(updated_unix_nano) >= updated_unix_nano, VALUES(state), state), \
                 updated_unix_nano = GREATEST(updated_unix_nano, VALUES(updated_unix_nano))"
            ),
            "the ordering column is assigned last: {mysql}"
        );
    }

    #[test]
    fn urls_choose_the_dialect() {
        assert_eq!(Dialect::Sqlite.connect_url("sqlite://a.db"), "sqlite://a.db?mode=rwc");
        assert_eq!(Dialect::MySql.connect_url("mariadb://root@h/db"), "mysql://root@h/db");
        assert_eq!(Dialect::of(&ConnectionUrl::new("redis://x")), None);
        assert_eq!(
            Dialect::of(&ConnectionUrl::new("postgresql://h/db")),
            Some(Dialect::Postgres)
        );
    }
}
