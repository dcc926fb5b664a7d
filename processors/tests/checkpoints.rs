//! A processor's own checkpoints, restored into a new processor: every series goes on
//! from where it was, and a damaged checkpoint is skipped rather than trusted.

use driftd_core::{Batch, ConsumeError, Consumer, LabelSource, Point, SeriesId, SeriesLabels, ValueKind};
use driftd_processors::drift::{DriftConfig, DriftProcessor};
use std::sync::Arc;

const T0: u64 = 1_700_000_000_000_000_000;
const SECOND: u64 = 1_000_000_000;

struct Sink;

impl Consumer for Sink {
    fn consume(&self, _: &Batch<'_>) -> Result<(), ConsumeError> {
        Ok(())
    }
}

struct One;

impl LabelSource for One {
    fn labels(&self, _: u32) -> SeriesLabels {
        SeriesLabels::new("latency", vec![("service.name".into(), "api".into())])
    }
}

fn processor(yaml: &str) -> DriftProcessor {
    DriftProcessor::new(
        "drift",
        serde_yaml::from_str::<DriftConfig>(yaml).unwrap(),
        Arc::new(Sink),
    )
}

fn feed(p: &DriftProcessor, samples: std::ops::Range<u64>) {
    for i in samples {
        let point = Point {
            series: SeriesId(7),
            time_unix_nano: T0 + i * SECOND,
            value: 100.0 + (i % 5) as f64,
            kind: ValueKind::Gauge,
            origin: 0,
        };
        p.consume(&Batch::new(&[point], &One)).unwrap();
    }
}

fn samples(p: &DriftProcessor) -> Option<u64> {
    p.table().get(SeriesId(7)).map(|s| s.sample_count)
}

#[test]
fn restored_series_go_on_from_where_they_were() {
    let first = processor("{}");
    feed(&first, 0..150);
    let saved = first.checkpoints(T0 + 150 * SECOND);
    assert_eq!(saved.len(), 1);

    let second = processor("{}");
    assert_eq!(second.restore(saved.clone(), 0), 1);
    assert_eq!(samples(&second), Some(150));
    let before = second.table().get(SeriesId(7)).unwrap();
    assert_eq!(before.baseline, first.table().get(SeriesId(7)).unwrap().baseline);
    feed(&second, 150..160);
    assert_eq!(samples(&second), Some(160), "judging goes on, not learning again");

    // Cut inside the detector state (a cut ring alone is only dropped), or watched by a
    // rule with another seasonality: skipped, learnt anew.
    let mut cut = saved.clone();
    cut[0].state.truncate(20);
    assert_eq!(processor("{}").restore(cut, 0), 0);
    let seasonal = processor("{baseline: {seasonality: daily}}");
    feed(&seasonal, 0..10);
    let daily = seasonal.checkpoints(T0 + 10 * SECOND);
    assert_eq!(processor("{baseline: {seasonality: weekly}}").restore(daily, 0), 0);
}
