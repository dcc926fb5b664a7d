//! The checkpoints table: each processor's detector state per series, the newest
//! write winning.

use super::rows::{self, CHECKPOINT_COLUMNS};
use super::{newest_per_key, SqlStore, ROWS_PER_INSERT};
use driftd_core::store::{Checkpoint, StoreError};

impl SqlStore {
    pub(super) async fn write_checkpoints(
        &self,
        processor: &str,
        checkpoints: &[Checkpoint],
    ) -> Result<(), StoreError> {
        let newest = newest_per_key(checkpoints, |c| c.series_id, |c| c.updated_at);
        let table = &self.tables.checkpoints;
        // Large detector states make rows big: fewer per statement.
        for chunk in newest.chunks(ROWS_PER_INSERT / 4) {
            let sql =
                self.dialect
                    .upsert_unless_older(table, &["processor", "series_id"], CHECKPOINT_COLUMNS, chunk.len());
            self.execute(&sql, "cannot save checkpoints", |mut q| {
                for c in chunk {
                    q = rows::bind_checkpoint(q, processor, c)?;
                }
                Ok(q)
            })
            .await?;
        }
        Ok(())
    }

    pub(super) async fn read_checkpoints(&self, processor: &str) -> Result<Vec<Checkpoint>, StoreError> {
        let sql = format!(
            "SELECT {} FROM {} WHERE processor = $1 ORDER BY series_id",
            CHECKPOINT_COLUMNS.join(", "),
            self.tables.checkpoints
        );
        let rows = self
            .fetch(&sql, "cannot load checkpoints", |q| Ok(q.bind(processor.to_string())))
            .await?;
        rows.iter().map(rows::checkpoint).collect()
    }
}
