//! Detector checkpoints in Redis: per processor `checkpoints:{processor}` (hash series
//! id → encoded state) with `:updated` and `:by_updated` (the same upsert-newer map as
//! statuses), and the set `checkpoint_processors`.

use super::{codec, sort_key, RedisStore, CHUNK};
use driftd_core::store::{Checkpoint, StoreError};

impl RedisStore {
    pub(super) fn checkpoints(&self, processor: &str) -> [String; 3] {
        self.versioned(&format!("checkpoints:{processor}"))
    }

    pub(super) async fn write_checkpoints(
        &self,
        processor: &str,
        checkpoints: &[Checkpoint],
    ) -> Result<(), StoreError> {
        if checkpoints.is_empty() {
            return Ok(());
        }
        let mut conn = self.conn.clone();
        redis::cmd("SADD")
            .arg(self.key("checkpoint_processors"))
            .arg(processor)
            .query_async::<()>(&mut conn)
            .await
            .map_err(|e| self.fail("cannot save checkpoints", e))?;
        let entries = checkpoints
            .iter()
            .map(|c| {
                Ok((
                    c.series_id.to_string(),
                    sort_key(c.updated_at),
                    codec::encode_checkpoint(c)?,
                ))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.upsert_newer(&self.checkpoints(processor), entries).await
    }

    pub(super) async fn read_checkpoints(&self, processor: &str) -> Result<Vec<Checkpoint>, StoreError> {
        let [data, updated, _] = self.checkpoints(processor);
        let entries = self.hash_entries(&data).await?;
        let mut conn = self.conn.clone();
        let mut loaded = Vec::with_capacity(entries.len());
        for chunk in entries.chunks(CHUNK) {
            let fields: Vec<&str> = chunk.iter().map(|(f, _)| f.as_str()).collect();
            let times: Vec<Option<String>> = redis::cmd("HMGET")
                .arg(&updated)
                .arg(&fields)
                .query_async(&mut conn)
                .await
                .map_err(|e| self.fail("cannot load checkpoints", e))?;
            for ((field, value), time) in chunk.iter().zip(times) {
                let time = time.unwrap_or_default();
                loaded.push(codec::decode_checkpoint(field, value, &time)?);
            }
        }
        loaded.sort_by_key(|c| c.series_id);
        Ok(loaded)
    }
}
