//! The points table: raw points, one row per (series, time), for the `sql` exporter's
//! `store_points`. A retried batch leaves one row per point.

use super::{SqlStore, ROWS_PER_INSERT};
use async_trait::async_trait;
use driftd_core::component::{ExportError, PointRecord, PointSink};

/// Point rows per INSERT (3 parameters each).
const POINTS_PER_INSERT: usize = ROWS_PER_INSERT * 5;

#[async_trait]
impl PointSink for SqlStore {
    async fn export_points(&self, points: &[PointRecord]) -> Result<(), ExportError> {
        for chunk in points.chunks(POINTS_PER_INSERT) {
            let sql = self.dialect.insert_unless_present(
                &self.tables.points,
                &["series_id", "time_unix_nano", "value"],
                chunk.len(),
            );
            self.execute(&sql, "cannot insert points", |mut q| {
                for p in chunk {
                    q = q
                        .bind(p.series_id.to_string())
                        .bind(super::rows::int(p.time_unix_nano, "time")?)
                        .bind(p.value);
                }
                Ok(q)
            })
            .await
            .map_err(crate::storage::export_error)?;
        }
        Ok(())
    }
}
