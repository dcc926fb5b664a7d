//! The drift processor fed any values a receiver lets through (up to ±1e100), at any
//! times (late, repeated, jumping), with each detector: it never panics, and every
//! event it raises has finite figures and reads back from its JSON as it was.
#![no_main]

use driftd_core::bounds::check_value;
use driftd_core::{Batch, ConsumeError, Consumer, DriftEvent, LabelSource, Point, SeriesId, SeriesLabels, ValueKind};
use driftd_processors::drift::{DriftConfig, DriftProcessor};
use libfuzzer_sys::fuzz_target;
use std::sync::{Arc, Mutex};

const DETECTORS: [&str; 5] = ["auto", "zscore", "rolling", "page_hinkley", "cusum"];
const T0: u64 = 1_700_000_000_000_000_000;

#[derive(Default)]
struct Events(Mutex<Vec<DriftEvent>>);

impl Consumer for Events {
    fn consume(&self, batch: &Batch<'_>) -> Result<(), ConsumeError> {
        self.0.lock().unwrap().extend(batch.events.iter().cloned());
        Ok(())
    }
}

struct Numbered;

impl LabelSource for Numbered {
    fn labels(&self, origin: u32) -> SeriesLabels {
        SeriesLabels::new("fuzz", vec![("series".into(), origin.to_string())])
    }
}

fn finite(e: &DriftEvent) -> bool {
    let stats = [e.baseline, e.recent]
        .iter()
        .all(|s| s.mean.is_finite() && s.stddev.is_finite());
    e.value.is_finite() && stats && e.scores.values().all(|v| v.is_finite())
}

fuzz_target!(|bytes: &[u8]| {
    let Some((&choice, samples)) = bytes.split_first() else {
        return;
    };
    let yaml = format!(
        "{{baseline: {{warmup_samples: {}}}, detector: {{type: {}}}}}",
        5 + choice as usize / DETECTORS.len() % 20,
        DETECTORS[choice as usize % DETECTORS.len()]
    );
    let config: DriftConfig = serde_yaml::from_str(&yaml).expect("the fuzz config is valid");
    let events = Arc::new(Events::default());
    let processor = DriftProcessor::new("drift", config, events.clone());
    // Each 10 bytes: the series and its kind, a time step, a value. The input is read
    // three times over, so short inputs still get past the warm-up.
    let chunks: Vec<&[u8]> = samples.chunks_exact(10).collect();
    let mut time = T0;
    for chunk in chunks.iter().cycle().take(chunks.len() * 3) {
        time = match chunk[1] {
            255 => time - 3_600_000_000_000,
            step => time + u64::from(step) * 1_000_000_000,
        };
        let Ok(value) = check_value(f64::from_le_bytes(chunk[2..].try_into().unwrap())) else {
            continue;
        };
        let origin = u32::from(chunk[0] % 4);
        let kind = if chunk[0] & 0x80 != 0 {
            ValueKind::CumulativeCounter
        } else {
            ValueKind::Gauge
        };
        let point = Point {
            series: SeriesId(u64::from(origin) + u64::from(chunk[0] & 0x80)),
            time_unix_nano: time,
            value,
            kind,
            origin,
        };
        processor
            .consume(&Batch::new(&[point], &Numbered))
            .expect("the processor takes every batch");
    }
    for e in events.0.lock().unwrap().iter() {
        assert!(finite(e), "an event with a non-finite figure: {e:?}");
        let json = serde_json::to_vec(e).expect("an event serializes");
        let back: DriftEvent = serde_json::from_slice(&json)
            .unwrap_or_else(|err| panic!("an event reads back: {err}: {}", String::from_utf8_lossy(&json)));
        assert_eq!(
            serde_json::to_vec(&back).unwrap(),
            json,
            "an event reads back as it was"
        );
    }
});
