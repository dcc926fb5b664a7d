//! A damaged or forged checkpoint, as a store could hand back: real detector state
//! (taken from a processor that has judged a series) with bytes flipped, cut or added,
//! restored into a new processor that then judges more points: nothing panics. (The
//! figures of a forged state are not checked: a store's bytes are driftd's own, and a
//! flipped float can make an event's figures NaN; that is left to a checksum.)
#![no_main]

use driftd_core::{Batch, ConsumeError, Consumer, LabelSource, Point, SeriesId, SeriesLabels, ValueKind};
use driftd_processors::drift::{DriftConfig, DriftProcessor};
use libfuzzer_sys::fuzz_target;
use std::sync::Arc;

const T0: u64 = 1_700_000_000_000_000_000;
const SECOND: u64 = 1_000_000_000;

/// Takes the events and drops them.
#[derive(Default)]
struct Sink;

impl Consumer for Sink {
    fn consume(&self, _: &Batch<'_>) -> Result<(), ConsumeError> {
        Ok(())
    }
}

struct One;

impl LabelSource for One {
    fn labels(&self, _: u32) -> SeriesLabels {
        SeriesLabels::new("fuzz", vec![("service.name".into(), "api".into())])
    }
}

/// Feeds `n` points from sample `from` on: a level, then a step, with some wiggle.
fn feed(processor: &DriftProcessor, from: u64, n: u64) {
    for i in from..from + n {
        let value = if i < 80 { 100.0 } else { 160.0 } + (i % 7) as f64;
        let point = Point {
            series: SeriesId(1),
            time_unix_nano: T0 + i * SECOND,
            value,
            kind: ValueKind::Gauge,
            origin: 0,
        };
        processor
            .consume(&Batch::new(&[point], &One))
            .expect("the processor takes every batch");
    }
}

fn processor(events: Arc<Sink>) -> DriftProcessor {
    let config: DriftConfig = serde_yaml::from_str("{baseline: {warmup_samples: 20}}").unwrap();
    DriftProcessor::new("drift", config, events)
}

fuzz_target!(|bytes: &[u8]| {
    let Some((&cut, edits)) = bytes.split_first() else {
        return;
    };
    let first = processor(Arc::default());
    // How long the series ran before its state was saved: learning, stable or drifting.
    let saved_at = 10 + u64::from(cut % 16) * 8;
    feed(&first, 0, saved_at);
    let mut checkpoints = first.checkpoints(T0 + saved_at * SECOND);
    assert_eq!(checkpoints.len(), 1);
    let state = &mut checkpoints[0].state;
    // Each 3 bytes: a position and a byte to xor there; a cut byte of 128 and more
    // truncates the state there, and what is left of the input is appended.
    for edit in edits.chunks(3) {
        match edit {
            [hi, lo, x] => {
                let at = usize::from(u16::from_le_bytes([*lo, *hi])) % state.len();
                state[at] ^= x;
            }
            tail => state.extend_from_slice(tail),
        }
    }
    if cut >= 128 {
        let keep = usize::from(cut - 128) % state.len();
        state.truncate(keep.max(1));
    }
    let second = processor(Arc::default());
    assert!(second.restore(checkpoints, 0) <= 1);
    feed(&second, saved_at, 120);
});
