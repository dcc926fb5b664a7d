//! `exporters.sql`: drift events and incidents as rows of the one SQL schema, in
//! PostgreSQL, MySQL/MariaDB or SQLite chosen by the URL, through the core's queue
//! (the same writes as the `storage` exporter). With `store_points`, raw points too,
//! through the core's point queue.

use super::{SqlConfig, SqlStore, Target};
use crate::storage::StoreSink;
use driftd_core::component::{BuildError, Exporter, PointSink};
use driftd_core::store::StoreError;
use std::sync::Arc;

/// Opens the database the exporter writes to (connecting lazily).
pub(crate) fn open(config: &SqlConfig) -> Result<SqlStore, StoreError> {
    let dialect = super::Dialect::of(&config.url)
        .ok_or_else(|| StoreError::Rejected(format!("sql: `{}` is not a SQL URL", config.url)))?;
    SqlStore::open(
        Target {
            backend: "sql",
            dialect,
            url: config.url.expose(),
            shown: config.url.to_string(),
            max_connections: config.max_connections,
            table_prefix: &config.table_prefix,
        },
        None,
    )
}

/// Builds the exporter and migrates its tables: a database that is down is logged
/// and tried again on the first batch; one that refuses driftd (login, missing
/// database, rights) fails the build.
pub(crate) async fn build(config: &SqlConfig) -> Result<Exporter, BuildError> {
    let store = open(config).map_err(|e| BuildError::setting("url", e))?;
    match store.ready().await {
        Ok(_) => {}
        Err(StoreError::Unavailable(e)) => {
            tracing::warn!(error = %e, "SQL database unreachable: events queue and are retried")
        }
        Err(e @ StoreError::Rejected(_)) => return Err(e.into()),
    }
    let store = Arc::new(store);
    Ok(Exporter::Events {
        points: config.store_points.then(|| store.clone() as Arc<dyn PointSink>),
        sink: Arc::new(StoreSink::new(store)),
        queue: config.sending_queue.clone(),
    })
}
