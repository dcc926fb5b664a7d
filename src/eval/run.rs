//! Feeds synthetic series side by side through one drift processor (the processor
//! driftd runs, with the config under test) and reads back when each raised drift.

use super::families::{Change, Family, Series, STEP_SECONDS};
use driftd_core::{
    Batch, ConsumeError, Consumer, DriftEvent, EventKind, LabelSource, Point, SeriesId, SeriesLabels, ValueKind,
};
use driftd_processors::drift::{DriftConfig, DriftProcessor};
use std::sync::Mutex;

/// 2026-01-01T00:00:00Z: event time of every series' first sample.
const T0: u64 = 1_767_225_600_000_000_000;

/// The samples at which each series raised drift_start.
#[derive(Default)]
struct Starts(Mutex<Vec<(u64, u64)>>);

impl Consumer for Starts {
    fn consume(&self, batch: &Batch<'_>) -> Result<(), ConsumeError> {
        let starts = batch.events.iter().filter(|e| e.kind == EventKind::DriftStart);
        let sample = |e: &DriftEvent| (e.timestamp - T0) / (STEP_SECONDS * 1_000_000_000);
        self.0
            .lock()
            .expect("not poisoned")
            .extend(starts.map(|e| (e.series_id.0, sample(e))));
        Ok(())
    }
}

/// Series are told apart by number.
struct Numbered;

impl LabelSource for Numbered {
    fn labels(&self, origin: u32) -> SeriesLabels {
        SeriesLabels::new("eval", vec![("series".into(), origin.to_string())])
    }
}

/// Runs `count` series of `family` (with `change` at a sample, if any) for `samples`
/// samples each; returns, per series, the samples at which it raised drift_start.
pub fn run(
    config: &DriftConfig,
    family: Family,
    change: Option<(Change, u64)>,
    count: u64,
    samples: u64,
) -> Vec<Vec<u64>> {
    let starts = std::sync::Arc::new(Starts::default());
    let processor = DriftProcessor::new("eval", config.clone(), starts.clone());
    let mut series: Vec<Series> = (0..count).map(|i| Series::new(family, i, change)).collect();
    let mut points = Vec::with_capacity(series.len());
    for i in 0..samples {
        points.clear();
        let time = T0 + i * STEP_SECONDS * 1_000_000_000;
        points.extend(series.iter_mut().enumerate().map(|(k, s)| Point {
            series: SeriesId(k as u64),
            time_unix_nano: time,
            value: s.next_value(),
            kind: ValueKind::Gauge,
            origin: k as u32,
        }));
        processor
            .consume(&Batch::new(&points, &Numbered))
            .expect("the collector never refuses");
    }
    let mut out = vec![Vec::new(); count as usize];
    let mut found = std::mem::take(&mut *starts.0.lock().expect("not poisoned"));
    found.sort_unstable();
    for (series, sample) in found {
        out[series as usize].push(sample);
    }
    out
}
