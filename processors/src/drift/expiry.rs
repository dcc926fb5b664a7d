//! Series expiry (`series_ttl`): a background pass that forgets series without a point
//! for longer than the TTL, so churning series (pods, short jobs) do not hold memory
//! forever. The hot path only stamps each series with the batch's clock reading.

use super::histogram::HistogramTable;
use super::table::{ttl_secs, Expired, SeriesTable};
use driftd_core::component::{RunFuture, Task};
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweeps_often_enough_and_not_too_often() {
        assert_eq!(sweep_interval(Duration::from_secs(3600)), Duration::from_secs(60));
        assert_eq!(sweep_interval(Duration::from_secs(300)), Duration::from_secs(30));
        assert_eq!(sweep_interval(Duration::from_secs(2)), Duration::from_secs(1));
    }
}
