//! Series leaving the table. Expiry (`series_ttl`): a background pass forgets series
//! without a point for longer than the TTL, so churning series (pods, short jobs) do
//! not hold memory forever. Eviction: above the memory limiter's hard limit, the
//! share of series longest without a point goes. The hot path only stamps each series
//! with the batch's clock reading.

use super::histogram::HistogramTable;
use super::table::{ttl_secs, Expired, SeriesTable};
use driftd_core::component::{RunFuture, Task};
use driftd_core::memory::Evict;
use metrics::Counter;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How often a TTL is checked: a tenth of it, between 1 s and 1 min, so a series
/// expires at most that much after its TTL (an hour's TTL: within a minute).
pub fn sweep_interval(ttl: Duration) -> Duration {
    (ttl / 10).clamp(Duration::from_secs(1), Duration::from_secs(60))
}

/// The background job that expires one processor's idle series.
pub struct Sweeper {
    name: String,
    table: Arc<SeriesTable>,
    histograms: Arc<HistogramTable>,
    ttl: Duration,
    expired: Counter,
}

impl Sweeper {
    /// Expires series of `table` and `histograms` idle for longer than `ttl`; `name`
    /// labels its counter and logs.
    pub fn new(name: String, table: Arc<SeriesTable>, histograms: Arc<HistogramTable>, ttl: Duration) -> Self {
        let expired = metrics::counter!("driftd_processor_expired_series_total", "processor" => name.clone());
        Sweeper {
            name,
            table,
            histograms,
            ttl,
            expired,
        }
    }

    async fn sweep(&self) {
        let (table, histograms, ttl) = (self.table.clone(), self.histograms.clone(), self.ttl);
        // A pass over a million series takes tens of milliseconds: off the runtime.
        let pass = move || {
            let now = table.clock();
            let (scalar, histogram) = (table.expire(now, ttl), histograms.expire(now, ttl_secs(ttl)));
            Expired {
                series: scalar.series + histogram.series,
                drifting: scalar.drifting + histogram.drifting,
            }
        };
        let gone = match tokio::task::spawn_blocking(pass).await {
            Ok(gone) => gone,
            Err(e) => {
                tracing::error!(processor = %self.name, error = %e, "series expiry failed");
                return;
            }
        };
        if gone.series > 0 {
            self.expired.increment(gone.series as u64);
            tracing::info!(processor = %self.name, expired = gone.series, drifting = gone.drifting, ttl = ?self.ttl, "idle series expired");
        }
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

/// Evicts one processor's series for the memory limiter.
pub struct Evictor {
    name: String,
    table: Arc<SeriesTable>,
    histograms: Arc<HistogramTable>,
    evicted: Counter,
}

impl Evictor {
    /// Evicts from `table` and `histograms`; `name` labels its counter and logs.
    pub fn new(name: String, table: Arc<SeriesTable>, histograms: Arc<HistogramTable>) -> Self {
        let evicted = metrics::counter!("driftd_processor_evicted_series_total", "processor" => name.clone());
        Evictor {
            name,
            table,
            histograms,
            evicted,
        }
    }
}

impl Evict for Evictor {
    /// The `share` of scalar and histogram series together that has gone longest
    /// without a point; of series last seen in the same second, as many as make up
    /// the share.
    fn evict_oldest(&self, share: f64) -> usize {
        let mut seen = Vec::new();
        self.table.last_seen(&mut seen);
        self.histograms.last_seen(&mut seen);
        let n = ((seen.len() as f64 * share).ceil() as usize).min(seen.len());
        if n == 0 {
            return 0;
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
        let (scalar, histogram) = (self.table.forget(&mut gone), self.histograms.forget(&mut gone));
        let evicted = scalar.series + histogram.series;
        self.evicted.increment(evicted as u64);
        tracing::warn!(processor = %self.name, evicted, drifting = scalar.drifting + histogram.drifting, "memory over the hard limit: evicted the series longest without a point");
        evicted
    }
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
        let evictor = Evictor::new("drift".into(), table.clone(), histograms);
        assert_eq!(evictor.evict_oldest(0.15), 15);
        assert_eq!(table.series_count(), 85);
        assert!((0..15).all(|n| !table.contains(SeriesId(n))), "the oldest went");
        assert!((15..100).all(|n| table.contains(SeriesId(n))), "the newest stayed");
        // Of series seen in the same second, as many as make up the share.
        assert_eq!(evictor.evict_oldest(0.9), 77);
        assert_eq!(table.series_count(), 8);
        assert!((15..90).all(|n| !table.contains(SeriesId(n))));
        assert_eq!(evictor.evict_oldest(1.0), 8);
        assert_eq!(evictor.evict_oldest(0.5), 0, "nothing left");
    }

    #[test]
    fn sweeps_often_enough_and_not_too_often() {
        assert_eq!(sweep_interval(Duration::from_secs(3600)), Duration::from_secs(60));
        assert_eq!(sweep_interval(Duration::from_secs(300)), Duration::from_secs(30));
        assert_eq!(sweep_interval(Duration::from_secs(2)), Duration::from_secs(1));
    }
}
