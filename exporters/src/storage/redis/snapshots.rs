//! Each event's snapshot (its series' recent history, the evidence) lives in its own
//! hash beside the event bodies, written with the event by `APPEND_EVENTS` and pruned
//! with it, so listing events never reads snapshots.

use super::RedisStore;
use driftd_core::store::StoreError;
use driftd_core::DriftEvent;
use std::sync::Arc;

impl RedisStore {
    /// One event with its snapshot.
    pub(super) async fn read_event(&self, id: &str) -> Result<Option<DriftEvent>, StoreError> {
        let Some(mut event) = self.bodies(&[id.to_string()]).await?.pop() else {
            return Ok(None);
        };
        let mut conn = self.conn.clone();
        let snapshot: Option<Vec<u8>> = redis::cmd("HGET")
            .arg(self.key("events:snapshots"))
            .arg(id)
            .query_async(&mut conn)
            .await
            .map_err(|e| self.fail("cannot read an event snapshot", e))?;
        event.snapshot = snapshot
            .map(|s| serde_json::from_slice(&s))
            .transpose()
            .map_err(|e| StoreError::Rejected(format!("the stored snapshot of event {id} is unreadable: {e}")))?
            .map(Arc::new);
        Ok(Some(event))
    }
}
