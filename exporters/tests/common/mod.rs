//! Helpers for tests that talk to the real servers on this machine (PostgreSQL,
//! Redis, MariaDB: `scripts/services.sh` starts them; the two TimescaleDB clusters:
//! `scripts/timescaledb.sh`). A server that is not reachable fails the test with a
//! message saying so: these tests never pass silently.

#![allow(dead_code)]

use driftd_core::component::StoreFactory;
use driftd_core::config::ComponentConfig;
use driftd_core::store::Store;
use driftd_exporters::StorageConfig;
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The machine's PostgreSQL, without TimescaleDB.
pub const POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
/// PostgreSQL with the TimescaleDB community edition preloaded.
pub const TIMESCALE_URL: &str = "postgres://postgres@127.0.0.1:5433/test";
/// PostgreSQL with TimescaleDB under the Apache-2.0 license.
pub const TIMESCALE_APACHE_URL: &str = "postgres://postgres@127.0.0.1:5434/test";
pub const MARIADB_URL: &str = "mysql://root@127.0.0.1:3306/test";
pub const REDIS_URL: &str = "redis://127.0.0.1:6379";

/// Panics unless something accepts TCP connections at `addr`, naming the script that
/// starts it.
pub fn require_started_by(service: &str, addr: &str, script: &str) {
    let sock: SocketAddr = addr.parse().expect("a socket address");
    if let Err(e) = TcpStream::connect_timeout(&sock, Duration::from_secs(3)) {
        panic!("{service} is not reachable at {addr} ({e}): start it with {script}");
    }
}

pub fn require(service: &str, addr: &str) {
    require_started_by(service, addr, "scripts/services.sh");
}

pub fn require_postgres() {
    require("PostgreSQL", "127.0.0.1:5432");
}

/// The PostgreSQL cluster of `url` (one of the three above) is up.
pub fn require_postgres_at(url: &str) {
    match url {
        TIMESCALE_URL => require_started_by("TimescaleDB (community)", "127.0.0.1:5433", "scripts/timescaledb.sh"),
        TIMESCALE_APACHE_URL => require_started_by("TimescaleDB (Apache)", "127.0.0.1:5434", "scripts/timescaledb.sh"),
        _ => require_postgres(),
    }
}

pub fn require_redis() {
    require("Redis", "127.0.0.1:6379");
}

pub fn require_mariadb() {
    require("MariaDB", "127.0.0.1:3306");
}

/// A name no other test run uses: `{tag}_{pid}_{time}_{n}`, lowercase, SQL-safe.
pub fn unique(tag: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{tag}_{}_{nanos}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A store built the way driftd builds it: from the YAML body of `storage:`.
/// Fixture events date from January 2026, so test configs set a long `retention`
/// to keep the background prune away from them.
pub async fn store(backend: &str, yaml: &str) -> Arc<dyn Store> {
    config(backend, yaml)
        .build()
        .await
        .unwrap_or_else(|e| panic!("{backend}: build failed: {e}"))
}

/// The same store without its pruning task, for tests that prune when they choose.
pub async fn store_without_pruning(backend: &str, yaml: &str) -> Arc<dyn Store> {
    config(backend, yaml)
        .open()
        .await
        .unwrap_or_else(|e| panic!("{backend}: open failed: {e}"))
}

fn config(backend: &str, yaml: &str) -> StorageConfig {
    let body = serde_yaml::from_str(yaml).expect("test YAML");
    let config = StorageConfig::parse(backend, body).unwrap_or_else(|e| panic!("{backend}: {e:?}"));
    assert!(config.validate().is_empty(), "{backend}: {:?}", config.validate());
    config
}

/// Deletes every Redis key under `prefix`.
pub async fn redis_cleanup(url: &str, prefix: &str) {
    let client = redis::Client::open(url).expect("redis URL");
    let mut conn = client.get_multiplexed_async_connection().await.expect("connects");
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(&mut conn)
        .await
        .expect("lists keys");
    if !keys.is_empty() {
        redis::cmd("DEL")
            .arg(&keys)
            .query_async::<()>(&mut conn)
            .await
            .expect("deletes");
    }
}

/// The tables of the SQL schema, without their prefix.
pub const SQL_TABLES: [&str; 7] = [
    "events",
    "status",
    "checkpoints",
    "incidents",
    "event_snapshots",
    "points",
    "schema_migrations",
];

/// Drops the SQL tables under `prefix` (and the TimescaleDB helper function, if
/// any) in the PostgreSQL at `url`.
pub async fn postgres_drop(url: &str, prefix: &str) {
    let pool = sqlx::PgPool::connect(url).await.expect("connects");
    for t in SQL_TABLES {
        sqlx::query(&format!("DROP TABLE IF EXISTS {prefix}{t}"))
            .execute(&pool)
            .await
            .expect("drops");
    }
    sqlx::query(&format!("DROP FUNCTION IF EXISTS {prefix}now_unix_nano()"))
        .execute(&pool)
        .await
        .expect("drops");
}

/// Drops the SQL tables under `prefix` in the MariaDB at `url`.
pub async fn mariadb_drop(url: &str, prefix: &str) {
    let pool = sqlx::MySqlPool::connect(url).await.expect("connects");
    for t in SQL_TABLES {
        sqlx::query(&format!("DROP TABLE IF EXISTS {prefix}{t}"))
            .execute(&pool)
            .await
            .expect("drops");
    }
}
