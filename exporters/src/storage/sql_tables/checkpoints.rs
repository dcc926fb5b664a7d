//! The checkpoints table: each processor's detector state per series, the newest
//! write winning (`upsert_newer`).

use super::rows::{self, CHECKPOINT_COLUMNS};
use super::{insert_sql, newest_per_key, upsert_newer, SqlStore, ROWS_PER_INSERT};
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
            let sql = insert_sql(table, CHECKPOINT_COLUMNS, chunk.len())
                + &upsert_newer(table, "processor, series_id", CHECKPOINT_COLUMNS);
            let mut q = sqlx::query(&sql);
            for c in chunk {
                q = rows::bind_checkpoint(q, processor, c)?;
            }
            self.execute(q, "cannot save checkpoints").await?;
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
            .fetch(sqlx::query(&sql).bind(processor.to_string()), "cannot load checkpoints")
            .await?;
        rows.iter().map(rows::checkpoint).collect()
    }
}
