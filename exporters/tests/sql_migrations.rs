//! The SQL schema's migrations against real PostgreSQL and MariaDB and a SQLite file:
//! a database an older driftd left (before versioned migrations, or at version 1:
//! events without their incident, no incidents, snapshots or points tables) is brought
//! up to date at startup, keeping its rows.

mod common;

use common::*;
use driftd_core::store::EventQuery;
use driftd_core::EventKind;
use driftd_exporters::conformance::{sample_event, sample_incident, BASE_TIME, SECOND};
use driftd_exporters::sql::{self, SqlConfig};
use sqlx::Row;

#[derive(Clone, Copy, Debug)]
enum Age {
    /// No `schema_migrations` table: tables made by `CREATE TABLE IF NOT EXISTS`.
    BeforeVersioning,
    /// `schema_migrations` says 1.
    Version1,
}

fn config(url: &str, prefix: &str) -> SqlConfig {
    serde_yaml::from_str(&format!("{{url: \"{url}\", table_prefix: {prefix}}}")).expect("parses")
}

/// Turns the database at `url` back into what an older driftd left: an event, and
/// the schema of `age`.
async fn make_old(url: &str, prefix: &str, age: Age) -> driftd_core::DriftEvent {
    let store = sql::store(&config(url, prefix)).await.expect("opens");
    let mut old = sample_event("latency_ms", "checkout", EventKind::DriftStart, BASE_TIME);
    old.incident = None;
    old.snapshot = None;
    store.append_events(std::slice::from_ref(&old)).await.expect("appends");
    drop(store);
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&url.replacen("mariadb://", "mysql://", 1))
        .await
        .expect("connects");
    let mut statements = vec![format!("ALTER TABLE {prefix}events DROP COLUMN incident")];
    for t in ["incidents", "event_snapshots", "points"] {
        statements.push(format!("DROP TABLE {prefix}{t}"));
    }
    statements.push(match age {
        Age::BeforeVersioning => format!("DROP TABLE {prefix}schema_migrations"),
        Age::Version1 => format!("DELETE FROM {prefix}schema_migrations WHERE version > 1"),
    });
    for s in statements {
        sqlx::query(&s)
            .execute(&pool)
            .await
            .unwrap_or_else(|e| panic!("{s}: {e}"));
    }
    old
}

/// Opens the old database as driftd does and checks it is migrated and keeps its rows.
async fn check_migrated(url: &str, prefix: &str, old: &driftd_core::DriftEvent) {
    let store = sql::store(&config(url, prefix))
        .await
        .expect("opens and migrates the old database");
    assert_eq!(
        store.event(&old.id).await.expect("reads").as_ref(),
        Some(old),
        "the old event is kept"
    );
    let new = driftd_core::DriftEvent {
        snapshot: Some(std::sync::Arc::new(driftd_core::history::History::default())),
        ..sample_event("latency_ms", "search", EventKind::DriftStart, BASE_TIME + SECOND)
    };
    assert!(new.incident.is_some());
    store.append_events(std::slice::from_ref(&new)).await.expect("appends");
    let incident = sample_incident("search", BASE_TIME);
    store
        .save_incidents(std::slice::from_ref(&incident))
        .await
        .expect("saves an incident");
    let page = store
        .events(&EventQuery {
            limit: 10,
            ..Default::default()
        })
        .await
        .expect("reads");
    let listed = driftd_core::DriftEvent {
        snapshot: None,
        ..new.clone()
    };
    assert_eq!(page.events, [listed, old.clone()], "the new event keeps its incident");
    assert_eq!(
        store.event(&new.id).await.expect("reads"),
        Some(new),
        "and its snapshot"
    );
    assert_eq!(store.incident(&incident.id).await.expect("reads"), Some(incident));

    let pool = sqlx::AnyPool::connect(&url.replacen("mariadb://", "mysql://", 1))
        .await
        .expect("connects");
    let rows = sqlx::query(&format!(
        "SELECT version FROM {prefix}schema_migrations ORDER BY version"
    ))
    .fetch_all(&pool)
    .await
    .expect("the migrations table");
    let versions: Vec<i64> = rows.iter().map(|r| r.get("version")).collect();
    assert_eq!(versions, [1, 2, 3, 4], "every version recorded once");
}

async fn migrates(url: &str, prefix: &str, age: Age) {
    let old = make_old(url, prefix, age).await;
    check_migrated(url, prefix, &old).await;
    // A second start finds nothing to do.
    check_migrated(url, prefix, &old).await;
}

#[tokio::test]
async fn sqlite_files_of_every_age_are_migrated() {
    let dir = tempfile::tempdir().expect("temp dir");
    for age in [Age::BeforeVersioning, Age::Version1] {
        let url = format!("sqlite://{}?mode=rwc", dir.path().join(format!("{age:?}.db")).display());
        migrates(&url, "driftd_", age).await;
    }
}

#[tokio::test]
async fn postgres_databases_of_every_age_are_migrated() {
    require_postgres();
    for age in [Age::BeforeVersioning, Age::Version1] {
        let prefix = format!("{}_", unique("mig"));
        migrates(POSTGRES_URL, &prefix, age).await;
        postgres_drop(POSTGRES_URL, &prefix).await;
    }
}

#[tokio::test]
async fn mariadb_databases_of_every_age_are_migrated() {
    require_mariadb();
    for age in [Age::BeforeVersioning, Age::Version1] {
        let prefix = format!("{}_", unique("mig"));
        migrates(MARIADB_URL, &prefix, age).await;
        mariadb_drop(MARIADB_URL, &prefix).await;
    }
}
