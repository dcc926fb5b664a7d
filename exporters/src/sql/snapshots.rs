//! The snapshots table: each event's evidence (its series' recent history) as JSON,
//! by event id, apart from the events so that listing events never reads them.

use super::{SqlStore, ROWS_PER_INSERT};
use driftd_core::history::History;
use driftd_core::store::StoreError;
use driftd_core::DriftEvent;
use std::sync::Arc;

impl SqlStore {
    /// Saves the snapshots `events` carry; a stored one is kept (like its event).
    pub(super) async fn write_snapshots(&self, events: &[&DriftEvent]) -> Result<(), StoreError> {
        let mut rows = Vec::new();
        for e in events {
            let Some(snapshot) = &e.snapshot else { continue };
            let body = serde_json::to_string(snapshot.as_ref())
                .map_err(|err| StoreError::Rejected(format!("the snapshot of event {}: {err}", e.id)))?;
            let time = i64::try_from(e.timestamp)
                .map_err(|_| StoreError::Rejected(format!("event {}: its time is past what SQL holds", e.id)))?;
            rows.push((e.id.clone(), time, body));
        }
        for chunk in rows.chunks(ROWS_PER_INSERT / 4) {
            let sql = self.dialect.insert_unless_present(
                &self.tables.snapshots,
                &["id", "time_unix_nano", "body"],
                chunk.len(),
            );
            self.execute(&sql, "cannot save event snapshots", |mut q| {
                for (id, time, body) in chunk {
                    q = q.bind(id.clone()).bind(*time).bind(body.clone());
                }
                Ok(q)
            })
            .await?;
        }
        Ok(())
    }

    /// The snapshot of event `id`, if one was stored.
    pub(super) async fn read_snapshot(&self, id: &str) -> Result<Option<Arc<History>>, StoreError> {
        let sql = format!("SELECT body FROM {} WHERE id = $1", self.tables.snapshots);
        let rows = self
            .fetch(&sql, "cannot read an event snapshot", |q| Ok(q.bind(id.to_string())))
            .await?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        let body = super::rows::text(row, "body")?;
        let history = serde_json::from_str(&body)
            .map_err(|e| StoreError::Rejected(format!("the stored snapshot of event {id} is unreadable: {e}")))?;
        Ok(Some(Arc::new(history)))
    }
}
