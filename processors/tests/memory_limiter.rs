//! The drift processor under the memory limiter: over the soft limit, a batch that
//! would add a series is refused whole (retryable) and known series keep being judged.

use driftd_core::memory::{MemoryLimiter, MemoryLimiterConfig, Pressure};
use driftd_core::{Batch, ConsumeError, Consumer, LabelSource, Point, SeriesId, SeriesLabels, ValueKind};
use driftd_processors::drift::{DriftConfig, DriftProcessor};
use std::sync::Arc;

const MIB: u64 = 1 << 20;

struct Sink;

impl Consumer for Sink {
    fn consume(&self, _: &Batch<'_>) -> Result<(), ConsumeError> {
        Ok(())
    }
}

struct Labels;

impl LabelSource for Labels {
    fn labels(&self, origin: u32) -> SeriesLabels {
        SeriesLabels::new("latency", vec![("series".into(), origin.to_string())])
    }
}

fn point(series: u64, i: u64) -> Point {
    Point {
        series: SeriesId(series),
        time_unix_nano: 1_700_000_000_000_000_000 + i * 1_000_000_000,
        value: 100.0 + (i % 5) as f64,
        kind: ValueKind::Gauge,
        origin: series as u32,
    }
}

fn samples(p: &DriftProcessor, series: u64) -> Option<u64> {
    p.table().get(SeriesId(series)).map(|s| s.sample_count)
}

#[test]
fn over_the_soft_limit_new_series_are_refused_and_known_ones_judged() {
    let config = MemoryLimiterConfig {
        limit_mib: Some(200),
        spike_limit_mib: Some(100),
        ..MemoryLimiterConfig::default()
    };
    let limiter = MemoryLimiter::new(&config);
    let p = DriftProcessor::new("drift", DriftConfig::default(), Arc::new(Sink)).with_memory(limiter.clone());
    p.consume(&Batch::new(&[point(1, 0)], &Labels)).unwrap();

    assert_eq!(limiter.observe(150 * MIB), Pressure::Soft);
    // Known series: judged.
    for i in 1..10 {
        p.consume(&Batch::new(&[point(1, i)], &Labels)).unwrap();
    }
    assert_eq!(samples(&p, 1), Some(10));
    // A batch with one new series among known ones: refused whole, nothing judged.
    let mixed = [point(1, 10), point(2, 10)];
    assert_eq!(p.consume(&Batch::new(&mixed, &Labels)), Err(ConsumeError::Full));
    assert_eq!((samples(&p, 1), samples(&p, 2)), (Some(10), None));

    // Back under the soft limit, the retry goes through.
    assert_eq!(limiter.observe(50 * MIB), Pressure::Normal);
    p.consume(&Batch::new(&mixed, &Labels)).unwrap();
    assert_eq!((samples(&p, 1), samples(&p, 2)), (Some(11), Some(1)));
}
