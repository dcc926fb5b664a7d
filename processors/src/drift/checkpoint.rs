//! Detector checkpoints: every series' state is saved to the storage backend every
//! `checkpoint_interval` and once more at shutdown, and restored when the processor is
//! built, so a restart does not relearn every baseline. Only series that changed since
//! the last save are written; a failed save is retried at the next one.
//!
//! Each save is a durability round (`driftd_core::durability`): begun before the table
//! is read, announced saved only when every write of it succeeded, so a receiver
//! acknowledges its source only for input that a saved checkpoint includes.

use super::history::Ring;
use super::series::SeriesDrift;
use super::table::SeriesTable;
use driftd_core::component::{RunFuture, Task};
use driftd_core::durability::Rounds;
use driftd_core::store::{Checkpoint, SeriesStatus, Store};
use driftd_core::SeriesId;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The encoding's version: a checkpoint of another version is ignored (relearned).
/// 3: the series keeps its downward excursion where the 20-sample EWMA was.
/// 4: the baseline learns a trend (`trend::Line`).
/// 5: the spread calibration is of the clipped absolute deviation, not its square.
const FORMAT: u8 = 5;

/// Most checkpoints written in one store call.
const CHUNK: usize = 1_000;

/// One series' state as bytes, followed by its ring when one is given.
pub fn encode(d: &SeriesDrift, ring: Option<&Ring>) -> Vec<u8> {
    let mut bytes = vec![FORMAT];
    // Serializing plain in-memory structs into a Vec cannot fail.
    bytes.extend(postcard::to_allocvec(d).unwrap_or_default());
    if let Some(ring) = ring {
        bytes.extend(postcard::to_allocvec(ring).unwrap_or_default());
    }
    bytes
}

/// One series' state (and ring, when saved with one) back from bytes; `None` for
/// another version or damaged bytes. A damaged ring is dropped: history is not worth
/// relearning a baseline for.
pub fn decode(bytes: &[u8]) -> Option<(SeriesDrift, Option<Box<Ring>>)> {
    let (&FORMAT, rest) = bytes.split_first()? else {
        return None;
    };
    let (drift, rest) = postcard::take_from_bytes(rest).ok()?;
    let ring = (!rest.is_empty()).then(|| postcard::from_bytes(rest).ok()).flatten();
    Some((drift, ring))
}

/// The background job that saves one processor's checkpoints and statuses.
pub struct Checkpointer {
    name: String,
    table: Arc<SeriesTable>,
    store: Arc<dyn Store>,
    interval: Duration,
    rounds: Rounds,
    /// Sample count of each series at its last successful save.
    saved: HashMap<SeriesId, u64>,
    /// The table's expired-series count when `saved` was last pruned of them.
    expired: u64,
}

impl Checkpointer {
    /// Saves `table` to `store` under `name` every `interval`, numbering its saves with
    /// `rounds`.
    pub fn new(
        name: String,
        table: Arc<SeriesTable>,
        store: Arc<dyn Store>,
        interval: Duration,
        rounds: Rounds,
    ) -> Self {
        Checkpointer {
            name,
            table,
            store,
            interval,
            rounds,
            saved: HashMap::new(),
            expired: 0,
        }
    }

    /// Forgets the sample counts of series that expired since the last save.
    fn forget_expired(&mut self) {
        let expired = self.table.expired_total();
        if expired != self.expired {
            self.expired = expired;
            self.saved.retain(|id, _| self.table.contains(*id));
            self.saved.shrink_to_fit();
        }
    }

    /// Saves what changed; `last` (at shutdown) saves the rings of recent history too,
    /// so they outlive a restart (a crash loses only them).
    async fn save(&mut self, last: bool) {
        self.forget_expired();
        // Begun before the table is read: input processed before this point is in it.
        let round = self.rounds.begin();
        let now = driftd_core::time::now_unix_nano();
        let changed = self.table.changed_since(&self.saved, now, last);
        for chunk in changed.chunks(CHUNK) {
            let checkpoints: Vec<Checkpoint> = chunk.iter().map(|c| c.checkpoint.clone()).collect();
            let statuses: Vec<SeriesStatus> = chunk.iter().map(|c| c.status.clone()).collect();
            let saved = match self.store.save_checkpoints(&self.name, &checkpoints).await {
                Ok(()) => self.store.upsert_status(&statuses).await,
                Err(e) => Err(e),
            };
            match saved {
                Ok(()) => self
                    .saved
                    .extend(chunk.iter().map(|c| (c.checkpoint.series_id, c.samples))),
                Err(e) => {
                    tracing::warn!(processor = %self.name, error = %e, "cannot save checkpoints; retrying at the next interval");
                    return;
                }
            }
        }
        if !changed.is_empty() {
            tracing::debug!(processor = %self.name, series = changed.len(), "checkpoints saved");
        }
        self.rounds.saved(round);
    }
}

impl Task for Checkpointer {
    fn run(mut self: Box<Self>, stop: CancellationToken) -> RunFuture {
        Box::pin(async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(self.interval) => self.save(false).await,
                    _ = stop.cancelled() => {
                        self.save(true).await;
                        return Ok(());
                    }
                }
            }
        })
    }
}

/// A series ready to be saved.
pub struct Changed {
    /// Its checkpoint.
    pub checkpoint: Checkpoint,
    /// Its current status.
    pub status: SeriesStatus,
    /// Its sample count when taken.
    pub samples: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drift::config::DriftConfig;
    use crate::drift::rules::Profiles;
    use driftd_core::{Point, SeriesLabels, ValueKind};

    #[test]
    fn state_round_trips_and_foreign_bytes_are_refused() {
        let config: DriftConfig = serde_yaml::from_str("baseline: {seasonality: daily}").unwrap();
        let profiles = Profiles::new(&config);
        let labels = Arc::new(SeriesLabels::new("m", vec![]));
        let mut d = SeriesDrift::new(profiles.get(0), 0);
        for i in 0..500u64 {
            let p = Point {
                series: SeriesId(1),
                time_unix_nano: i * 600_000_000_000,
                value: (i % 7) as f64,
                kind: ValueKind::Gauge,
                origin: 0,
            };
            d.update(profiles.get(0), &p, SeriesId(1), &labels).unwrap();
        }
        let bytes = encode(&d, None);
        // Compared as bytes: a gauge's unused counter field is NaN, never equal to itself.
        let (back, ring) = decode(&bytes).expect("decodes");
        assert_eq!((encode(&back, None), ring), (bytes.clone(), None));
        let mut ring = Ring::default();
        ring.record(&Default::default(), 5, 1.0, 2.0, 3.0);
        let with_ring = encode(&d, Some(&ring));
        let (back, restored) = decode(&with_ring).expect("decodes with a ring");
        assert_eq!((encode(&back, None), restored.as_deref()), (bytes.clone(), Some(&ring)));
        let (_, damaged) = decode(&with_ring[..with_ring.len() - 3]).expect("the state is whole");
        assert_eq!(damaged, None, "a damaged ring is dropped");
        assert_eq!(back.snapshot(profiles.get(0), SeriesId(1), &labels).sample_count, 500);
        assert_eq!(decode(&[]), None);
        assert_eq!(decode(&[FORMAT + 1, 0, 0]), None, "another format version");
        assert_eq!(decode(&bytes[..bytes.len() / 2]), None, "truncated");
    }
}
