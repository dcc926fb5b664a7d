//! The memory limiter (`service.memory_limiter`), after the OpenTelemetry Collector's
//! `memory_limiter`: driftd's resident memory is read every `check_interval` and
//! compared with two limits.
//!
//! - Above the **soft** limit (the hard limit less `spike_limit_mib`), batches that
//!   would add a series are refused; series driftd already tracks keep being judged.
//! - Above the **hard** limit, every batch is refused and, every few seconds while it
//!   lasts, the tenth of the series that has gone longest without a point is evicted.
//!
//! A refusal is [`ConsumeError::Full`]: receivers answer with their protocol's
//! retryable status (gRPC `RESOURCE_EXHAUSTED`, HTTP 503 with `Retry-After`) and a
//! Kafka receiver holds its offset and retries, so nothing refused is lost.

mod config;
mod resident;

use config::Limits;
pub use config::MemoryLimiterConfig;

use crate::component::{RunFuture, Task};
use crate::consumer::{Batch, ConsumeError, Consumer};
use metrics::{Counter, Gauge};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How long eviction waits between rounds: freed memory takes a moment to leave the
/// resident set (the allocator hands pages back in the background).
const EVICT_EVERY: Duration = Duration::from_secs(2);

/// The share of a processor's series one eviction round removes, oldest first.
pub const EVICT_SHARE: f64 = 0.1;

/// How close driftd is to its limits, as of the last check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Pressure {
    /// Under the soft limit: everything is taken.
    Normal = 0,
    /// Over the soft limit: no new series.
    Soft = 1,
    /// Over the hard limit: nothing.
    Hard = 2,
}

/// Why the limiter refused a batch, for its counter.
#[derive(Debug, Clone, Copy)]
pub enum Refusal {
    /// It would have added a series above the soft limit.
    NewSeries,
    /// It came above the hard limit.
    HardLimit,
}

/// Something that holds series and can let the oldest go: the drift processors.
pub trait Evict: Send + Sync {
    /// Removes about `share` of its series, those longest without a point first;
    /// returns how many went.
    fn evict_oldest(&self, share: f64) -> usize;
}

/// The limiter's state, shared by the pipelines (one atomic load per batch) and the
/// task that checks memory. The default one has no limits and never refuses.
pub struct MemoryLimiter {
    pressure: AtomicU8,
    limits: Option<Limits>,
    evictors: Mutex<Vec<Arc<dyn Evict>>>,
    refused_new_series: Counter,
    refused_hard_limit: Counter,
}

impl Default for MemoryLimiter {
    fn default() -> Self {
        Self::with_limits(None)
    }
}

impl MemoryLimiter {
    /// The limiter `config` describes, on this machine. Without a `limit_mib` and
    /// without a way to tell how much memory there is, it has no limits (and says so).
    pub fn new(config: &MemoryLimiterConfig) -> Arc<Self> {
        let available = resident::available_bytes();
        let limits = config.limits(available.map(|(bytes, _)| bytes));
        match (limits, available) {
            (Some(l), _) if resident::resident_bytes().is_none() => {
                tracing::warn!(hard_mib = l.hard >> 20, "memory limiter off: this system does not tell driftd its resident memory");
                return Arc::new(Self::with_limits(None));
            }
            (Some(l), Some((bytes, source))) if config.limit_mib.is_none() => tracing::info!(
                soft_mib = l.soft >> 20,
                hard_mib = l.hard >> 20,
                "memory limiter: {}% of {} MiB ({source})",
                config.limit_percentage,
                bytes >> 20
            ),
            (Some(l), _) => tracing::info!(soft_mib = l.soft >> 20, hard_mib = l.hard >> 20, "memory limiter"),
            (None, _) => tracing::warn!("memory limiter off: cannot tell how much memory this machine has; set service.memory_limiter.limit_mib"),
        }
        Arc::new(Self::with_limits(limits))
    }

    fn with_limits(limits: Option<Limits>) -> Self {
        let refused =
            |reason: &'static str| metrics::counter!("driftd_memory_refused_points_total", "reason" => reason);
        if let Some(l) = limits {
            metrics::gauge!("driftd_memory_limit_bytes", "limit" => "soft").set(l.soft as f64);
            metrics::gauge!("driftd_memory_limit_bytes", "limit" => "hard").set(l.hard as f64);
        }
        MemoryLimiter {
            pressure: AtomicU8::new(Pressure::Normal as u8),
            limits,
            evictors: Default::default(),
            refused_new_series: refused("new_series"),
            refused_hard_limit: refused("hard_limit"),
        }
    }

    /// The pressure as of the last check.
    pub fn pressure(&self) -> Pressure {
        match self.pressure.load(Ordering::Relaxed) {
            0 => Pressure::Normal,
            1 => Pressure::Soft,
            _ => Pressure::Hard,
        }
    }

    /// Counts a batch of `points` refused for `why`, and returns the refusal.
    pub fn refuse(&self, why: Refusal, points: usize) -> ConsumeError {
        match why {
            Refusal::NewSeries => self.refused_new_series.increment(points as u64),
            Refusal::HardLimit => self.refused_hard_limit.increment(points as u64),
        }
        ConsumeError::Full
    }

    /// Adds a holder of series to evict from above the hard limit.
    pub fn register(&self, evict: Arc<dyn Evict>) {
        self.evictors.lock().unwrap_or_else(PoisonError::into_inner).push(evict);
    }

    /// Records a reading of `resident` bytes; returns the pressure it means.
    pub fn observe(&self, resident: u64) -> Pressure {
        let pressure = match self.limits {
            Some(l) if resident >= l.hard => Pressure::Hard,
            Some(l) if resident >= l.soft => Pressure::Soft,
            _ => Pressure::Normal,
        };
        let before = self.pressure.swap(pressure as u8, Ordering::Relaxed);
        if before != pressure as u8 {
            let mib = resident >> 20;
            match pressure {
                Pressure::Normal => tracing::info!(
                    resident_mib = mib,
                    "memory back under the soft limit: taking new series again"
                ),
                Pressure::Soft => tracing::warn!(
                    resident_mib = mib,
                    "memory over the soft limit: refusing new series (clients are told to retry)"
                ),
                Pressure::Hard => tracing::warn!(
                    resident_mib = mib,
                    "memory over the hard limit: refusing all data and evicting the oldest series"
                ),
            }
        }
        pressure
    }

    /// One eviction round over every registered holder; returns how many series went.
    fn evict(&self) -> usize {
        let evictors = self.evictors.lock().unwrap_or_else(PoisonError::into_inner).clone();
        evictors.iter().map(|e| e.evict_oldest(EVICT_SHARE)).sum()
    }

    /// The task that checks memory every `interval`; `None` when there are no limits.
    pub fn watch(self: &Arc<Self>, interval: Duration) -> Option<Box<dyn Task>> {
        self.limits.is_some().then(|| {
            Box::new(Watch {
                limiter: self.clone(),
                interval,
            }) as Box<dyn Task>
        })
    }
}

struct Watch {
    limiter: Arc<MemoryLimiter>,
    interval: Duration,
}

impl Task for Watch {
    fn run(self: Box<Self>, stop: CancellationToken) -> RunFuture {
        Box::pin(async move {
            let resident_gauge: Gauge = metrics::gauge!("driftd_memory_resident_bytes");
            let pressure_gauge: Gauge = metrics::gauge!("driftd_memory_pressure");
            let mut ticks = tokio::time::interval(self.interval);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut last_eviction: Option<tokio::time::Instant> = None;
            loop {
                tokio::select! {
                    _ = ticks.tick() => {}
                    _ = stop.cancelled() => return Ok(()),
                }
                let Some(resident) = resident::resident_bytes() else {
                    continue;
                };
                resident_gauge.set(resident as f64);
                let pressure = self.limiter.observe(resident);
                pressure_gauge.set(pressure as u8 as f64);
                let due = last_eviction.is_none_or(|t| t.elapsed() >= EVICT_EVERY);
                if pressure == Pressure::Hard && due {
                    last_eviction = Some(tokio::time::Instant::now());
                    let limiter = self.limiter.clone();
                    // A pass over a million series takes tens of milliseconds: off the runtime.
                    // Each holder logs and counts what it let go.
                    let _ = tokio::task::spawn_blocking(move || limiter.evict()).await;
                }
            }
        })
    }
}

/// The head of a pipeline under a memory limiter: above the hard limit, refuses every
/// batch before any stage sees it.
pub struct MemoryGate {
    limiter: Arc<MemoryLimiter>,
    next: Arc<dyn Consumer>,
}

impl MemoryGate {
    /// `next` behind `limiter`.
    pub fn in_front_of(limiter: Arc<MemoryLimiter>, next: Arc<dyn Consumer>) -> Arc<dyn Consumer> {
        Arc::new(MemoryGate { limiter, next })
    }
}

impl Consumer for MemoryGate {
    fn consume(&self, batch: &Batch<'_>) -> Result<(), ConsumeError> {
        if self.limiter.pressure() == Pressure::Hard {
            return Err(self.limiter.refuse(Refusal::HardLimit, batch.points.len()));
        }
        self.next.consume(batch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    fn limiter(soft: u64, hard: u64) -> MemoryLimiter {
        MemoryLimiter::with_limits(Some(Limits { soft, hard }))
    }

    #[test]
    fn pressure_follows_each_reading() {
        let l = limiter(100, 200);
        assert_eq!(l.observe(99), Pressure::Normal);
        assert_eq!(l.observe(100), Pressure::Soft);
        assert_eq!(l.pressure(), Pressure::Soft);
        assert_eq!(l.observe(250), Pressure::Hard);
        assert_eq!(l.observe(10), Pressure::Normal);
        assert_eq!(
            MemoryLimiter::default().observe(u64::MAX),
            Pressure::Normal,
            "no limits"
        );
        assert!(Arc::new(limiter(1, 2)).watch(Duration::from_secs(1)).is_some());
        assert!(Arc::new(MemoryLimiter::default())
            .watch(Duration::from_secs(1))
            .is_none());
    }

    #[test]
    fn the_gate_refuses_only_above_the_hard_limit() {
        struct Count(AtomicUsize);
        impl Consumer for Count {
            fn consume(&self, b: &Batch<'_>) -> Result<(), ConsumeError> {
                self.0.fetch_add(b.points.len().max(1), Ordering::Relaxed);
                Ok(())
            }
        }
        struct NoLabels;
        impl crate::consumer::LabelSource for NoLabels {
            fn labels(&self, _: u32) -> crate::model::SeriesLabels {
                crate::model::SeriesLabels::new("m", vec![])
            }
        }
        let l = Arc::new(limiter(100, 200));
        let next = Arc::new(Count(AtomicUsize::new(0)));
        let gate = MemoryGate::in_front_of(l.clone(), next.clone());
        let batch = Batch::new(&[], &NoLabels);
        l.observe(150);
        assert_eq!(gate.consume(&batch), Ok(()), "soft: the drift processor decides");
        l.observe(200);
        assert_eq!(gate.consume(&batch), Err(ConsumeError::Full));
        assert_eq!(next.0.load(Ordering::Relaxed), 1, "the refused batch went nowhere");
    }

    #[test]
    fn eviction_asks_every_holder() {
        struct Holder(AtomicUsize);
        impl Evict for Holder {
            fn evict_oldest(&self, share: f64) -> usize {
                assert_eq!(share, EVICT_SHARE);
                self.0.fetch_add(1, Ordering::Relaxed);
                7
            }
        }
        let l = limiter(1, 2);
        let (a, b) = (
            Arc::new(Holder(AtomicUsize::new(0))),
            Arc::new(Holder(AtomicUsize::new(0))),
        );
        l.register(a.clone());
        l.register(b.clone());
        assert_eq!(l.evict(), 14);
        assert_eq!((a.0.load(Ordering::Relaxed), b.0.load(Ordering::Relaxed)), (1, 1));
    }
}
