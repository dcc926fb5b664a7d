//! Series leaving the table. Expiry (`series_ttl`): a background pass forgets series
//! without a point for longer than the TTL, so churning series (pods, short jobs) do
//! not hold memory forever. Eviction: above the memory limiter's hard limit, the
//! share of series longest without a point goes. The hot path only stamps each series
//! with the batch's clock reading.

use super::histogram::HistogramTable;
use super::shards::ShardedMap;
use super::table::SeriesTable;
use super::DriftProcessor;
use driftd_core::component::{RunFuture, Task};
use driftd_core::memory::Evict;
use driftd_core::{Batch, DriftEvent, EndReason, SeriesId};
use metrics::Counter;
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Removes from `series` every entry `gone` picks, with the drift_end `end` gives for
/// each that was drifting.
pub fn forget_where<V>(
    series: &ShardedMap<V>,
    mut gone: impl FnMut(&V) -> bool,
    end: impl Fn(SeriesId, &V) -> Option<DriftEvent>,
) -> Expired {
    let mut ends = Vec::new();
    let removed = series.retain(|id, e| {
        let go = gone(e);
        if go {
            ends.extend(end(id, e));
        }
        !go
    });
    Expired { series: removed, ends }
}

/// A TTL in whole seconds of the table's clock.
pub fn ttl_secs(ttl: Duration) -> u32 {
    u32::try_from(ttl.as_secs()).unwrap_or(u32::MAX)
}

/// What one expiry or eviction pass removed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Expired {
    /// Series removed.
    pub series: usize,
    /// The drift_end of each removed series that was drifting (reason `expired` or
    /// `evicted`), so its alert resolves.
    pub ends: Vec<DriftEvent>,
}

impl Expired {
    /// Both passes' removals together.
    pub fn and(mut self, other: Expired) -> Expired {
        self.series += other.series;
        self.ends.extend(other.ends);
        self
    }
}

/// How often a TTL is checked: a tenth of it, between 1 s and 1 min, so a series
/// expires at most that much after its TTL (an hour's TTL: within a minute).
pub fn sweep_interval(ttl: Duration) -> Duration {
    (ttl / 10).clamp(Duration::from_secs(1), Duration::from_secs(60))
}

impl DriftProcessor {
    /// Hands on the drift_end of each series forgotten while drifting, so its alert
    /// resolves and its incident can close.
    fn forgotten(&self, ends: Vec<DriftEvent>) {
        if ends.is_empty() {
            return;
        }
        if let Err(e) = self.emit(&Batch::of_events(&[]), ends) {
            tracing::warn!(processor = %self.name, error = %e, "could not hand on the drift_end of forgotten series");
        }
    }
}

/// The background job that expires one processor's idle series.
pub struct Sweeper {
    processor: Arc<DriftProcessor>,
    ttl: Duration,
    expired: Counter,
}

impl Sweeper {
    /// Expires the series of `processor` idle for longer than `ttl`.
    pub fn new(processor: Arc<DriftProcessor>, ttl: Duration) -> Self {
        let expired = metrics::counter!("driftd_processor_expired_series_total", "processor" => processor.name.clone());
        Sweeper {
            processor,
            ttl,
            expired,
        }
    }

    async fn sweep(&self) {
        let (p, ttl) = (self.processor.clone(), self.ttl);
        // A pass over a million series takes tens of milliseconds: off the runtime.
        let pass = move || {
            let now = p.table.clock();
            p.table.expire(now, ttl).and(p.histograms.expire(now, ttl_secs(ttl)))
        };
        let gone = match tokio::task::spawn_blocking(pass).await {
            Ok(gone) => gone,
            Err(e) => {
                tracing::error!(processor = %self.processor.name, error = %e, "series expiry failed");
                return;
            }
        };
        if gone.series > 0 {
            self.expired.increment(gone.series as u64);
            tracing::info!(processor = %self.processor.name, expired = gone.series, drifting = gone.ends.len(), ttl = ?self.ttl, "idle series expired");
        }
        self.processor.forgotten(gone.ends);
    }
}

impl Task for Sweeper {
    fn run(self: Box<Self>, stop: CancellationToken) -> RunFuture {
        Box::pin(async move {
            let every = sweep_interval(self.ttl);
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(every) => self.sweep().await,
                    _ = stop.cancelled() => return Ok(()),
                }
            }
        })
    }
}

/// Evicts one processor's series for the memory limiter. It holds the processor
/// weakly, since the processor holds the limiter.
pub struct Evictor {
    processor: Weak<DriftProcessor>,
    evicted: Counter,
}

impl Evictor {
    /// Evicts from `processor`.
    pub fn new(processor: &Arc<DriftProcessor>) -> Self {
        let evicted = metrics::counter!("driftd_processor_evicted_series_total", "processor" => processor.name.clone());
        Evictor {
            processor: Arc::downgrade(processor),
            evicted,
        }
    }
}

impl Evict for Evictor {
    fn evict_oldest(&self, share: f64) -> usize {
        let Some(p) = self.processor.upgrade() else {
            return 0;
        };
        let gone = oldest(&p.table, &p.histograms, share);
        self.evicted.increment(gone.series as u64);
        tracing::warn!(processor = %p.name, evicted = gone.series, drifting = gone.ends.len(), "memory over the hard limit: evicted the series longest without a point");
        let evicted = gone.series;
        p.forgotten(gone.ends);
        evicted
    }
}

/// Removes the `share` of scalar and histogram series together that has gone longest
/// without a point; of series last seen in the same second, as many as make up the
/// share.
fn oldest(table: &SeriesTable, histograms: &HistogramTable, share: f64) -> Expired {
    let mut seen = Vec::new();
    table.last_seen(&mut seen);
    histograms.last_seen(&mut seen);
    let n = ((seen.len() as f64 * share).ceil() as usize).min(seen.len());
    if n == 0 {
        return Expired::default();
    }
    let cutoff = *seen.select_nth_unstable(n - 1).1;
    let older = seen.iter().filter(|&&t| t < cutoff).count();
    drop(seen);
    let at_cutoff = std::cell::Cell::new(n - older);
    let mut gone = |last_seen: u32| {
        let take = last_seen < cutoff || (last_seen == cutoff && at_cutoff.get() > 0);
        if last_seen == cutoff && take {
            at_cutoff.set(at_cutoff.get() - 1);
        }
        take
    };
    let scalar = table.forget(EndReason::Evicted, &mut gone);
    scalar.and(histograms.forget(EndReason::Evicted, &mut gone))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drift::config::DriftConfig;
    use crate::drift::rules::Profiles;
    use crate::drift::table::SeriesBudget;
    use driftd_core::view::SeriesView;
    use driftd_core::{LabelSource, Point, SeriesId, SeriesLabels, ValueKind};

    struct Numbered;
    impl LabelSource for Numbered {
        fn labels(&self, origin: u32) -> SeriesLabels {
            SeriesLabels::new("m", vec![("n".into(), origin.to_string())])
        }
    }

    #[test]
    fn eviction_takes_the_share_longest_without_a_point() {
        let profiles = || Profiles::new(&DriftConfig::default());
        let budget = SeriesBudget::new(1_000);
        let table = Arc::new(SeriesTable::with_budget(profiles(), budget.clone()));
        let histograms = Arc::new(HistogramTable::new(profiles(), budget));
        // Series n last had a point at second n, but the last ten all at second 90.
        for n in 0..100u32 {
            let p = Point {
                series: SeriesId(u64::from(n)),
                time_unix_nano: 1,
                value: 1.0,
                kind: ValueKind::Gauge,
                origin: n,
            };
            table.update(&p, &Numbered, n.min(90));
        }
        let evict = |share| oldest(&table, &histograms, share).series;
        assert_eq!(evict(0.15), 15);
        assert_eq!(table.series_count(), 85);
        assert!((0..15).all(|n| !table.contains(SeriesId(n))), "the oldest went");
        assert!((15..100).all(|n| table.contains(SeriesId(n))), "the newest stayed");
        // Of series seen in the same second, as many as make up the share.
        assert_eq!(evict(0.9), 77);
        assert_eq!(table.series_count(), 8);
        assert!((15..90).all(|n| !table.contains(SeriesId(n))));
        assert_eq!(evict(1.0), 8);
        assert_eq!(evict(0.5), 0, "nothing left");
    }

    #[test]
    fn sweeps_often_enough_and_not_too_often() {
        assert_eq!(sweep_interval(Duration::from_secs(3600)), Duration::from_secs(60));
        assert_eq!(sweep_interval(Duration::from_secs(300)), Duration::from_secs(30));
        assert_eq!(sweep_interval(Duration::from_secs(2)), Duration::from_secs(1));
    }
}
