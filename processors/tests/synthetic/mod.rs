//! Synthetic series with known truth, for the quality suite: Gaussian, Student t(3),
//! AR(1) and daily-seasonal noise, and changes (step, variance, creep) at a known index.
#![allow(dead_code)] // the quality tests and the quality_table example use different parts

use driftd_core::{
    Batch, ConsumeError, Consumer, DriftEvent, EventKind, LabelSource, Point, SeriesId, SeriesLabels, ValueKind,
};
use driftd_processors::drift::{DriftConfig, DriftProcessor};
use rand::rngs::StdRng;
use rand::SeedableRng;
use rand_distr::{Distribution, Normal, StudentT};
use std::sync::{Arc, Mutex};

/// The level series vary around, with unit noise: a coefficient of variation of 10%,
/// as latencies and rates have, so a 1 σ change is also one that matters (10% of the
/// level, past the default `min_change`).
pub const LEVEL: f64 = 10.0;

/// Seconds between samples.
pub const STEP_NS: u64 = 60_000_000_000;
/// 2026-01-01T00:00:00Z
pub const T0: u64 = 1_767_225_600_000_000_000;

/// The noise a series is made of.
#[derive(Clone, Copy, Debug)]
pub enum Noise {
    Gaussian,
    StudentT3,
    Ar1(f64),
    /// Gaussian plus a daily sinusoid of this amplitude (in noise standard deviations).
    DailySeasonal(f64),
}

/// A change applied from sample `at` on.
#[derive(Clone, Copy, Debug)]
pub enum Change {
    None,
    Step(f64),
    VarianceTimes(f64),
    /// Linear ramp reaching this many σ after `over` samples.
    Creep {
        sigmas: f64,
        over: u64,
    },
}

/// One synthetic series.
pub struct Series {
    rng: StdRng,
    noise: Noise,
    change: Change,
    at: u64,
    ar: f64,
    i: u64,
}

impl Series {
    pub fn new(seed: u64, noise: Noise, change: Change, at: u64) -> Self {
        Series {
            rng: StdRng::seed_from_u64(seed),
            noise,
            change,
            at,
            ar: 0.0,
            i: 0,
        }
    }

    /// The next (time, value).
    pub fn next_sample(&mut self) -> (u64, f64) {
        let i = self.i;
        self.i += 1;
        let n = Normal::new(0.0, 1.0).unwrap();
        let scale = match self.change {
            Change::VarianceTimes(v) if i >= self.at => v.sqrt(),
            _ => 1.0,
        };
        let e = match self.noise {
            Noise::Gaussian | Noise::DailySeasonal(_) => n.sample(&mut self.rng),
            // Scaled to unit variance (t(3) has variance 3).
            Noise::StudentT3 => StudentT::new(3.0).unwrap().sample(&mut self.rng) / 3f64.sqrt(),
            Noise::Ar1(phi) => {
                self.ar = phi * self.ar + n.sample(&mut self.rng) * (1.0 - phi * phi).sqrt();
                self.ar
            }
        };
        let time = T0 + i * STEP_NS;
        let season = match self.noise {
            Noise::DailySeasonal(a) => {
                a * (2.0 * std::f64::consts::PI * (time % 86_400_000_000_000) as f64 / 86_400e9).sin()
            }
            _ => 0.0,
        };
        let shift = match self.change {
            Change::Step(s) if i >= self.at => s,
            Change::Creep { sigmas, over } if i >= self.at => sigmas * ((i - self.at) as f64 / over as f64),
            _ => 0.0,
        };
        (time, LEVEL + season + shift + e * scale)
    }
}

/// Collects the events a processor raises.
#[derive(Default)]
pub struct Events(Mutex<Vec<DriftEvent>>);

impl Consumer for Events {
    fn consume(&self, batch: &Batch<'_>) -> Result<(), ConsumeError> {
        self.0.lock().unwrap().extend(batch.events.iter().cloned());
        Ok(())
    }
}

struct Numbered;

impl LabelSource for Numbered {
    fn labels(&self, origin: u32) -> SeriesLabels {
        SeriesLabels::new("synthetic", vec![("run".into(), origin.to_string())])
    }
}

/// Runs `series` side by side through one drift processor for `samples` samples each
/// and returns, per series, the sample indices of its drift_start events.
pub fn run(config: &DriftConfig, mut series: Vec<Series>, samples: u64) -> Vec<Vec<u64>> {
    let events = Arc::new(Events::default());
    let processor = DriftProcessor::new("drift", config.clone(), events.clone());
    let mut points = Vec::with_capacity(series.len());
    for _ in 0..samples {
        points.clear();
        for (k, s) in series.iter_mut().enumerate() {
            let (time, value) = s.next_sample();
            points.push(Point {
                series: SeriesId(k as u64),
                time_unix_nano: time,
                value,
                kind: ValueKind::Gauge,
                origin: k as u32,
            });
        }
        processor.consume(&Batch::new(&points, &Numbered)).unwrap();
    }
    let mut starts = vec![Vec::new(); series.len()];
    for e in events
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e.kind == EventKind::DriftStart)
    {
        if std::env::var("DRIFTD_QUALITY_DEBUG").is_ok() {
            eprintln!("alarm at {} scores {:?}", (e.timestamp - T0) / STEP_NS, e.scores);
        }
        starts[e.series_id.0 as usize].push((e.timestamp - T0) / STEP_NS);
    }
    starts
}

/// Stable samples before the change.
pub const BEFORE: u64 = 1_000;

/// How a change scenario went: runs with a detection at or after the change, their
/// delays, and alarms raised before it.
pub struct Detection {
    pub detected: usize,
    pub runs: usize,
    pub delays: Vec<u64>,
    pub early_alarms: usize,
}

impl Detection {
    pub fn rate(&self) -> f64 {
        self.detected as f64 / self.runs as f64
    }
    pub fn median_delay(&self) -> u64 {
        let mut d = self.delays.clone();
        d.sort_unstable();
        d.get(d.len() / 2).copied().unwrap_or(u64::MAX)
    }
}

/// Runs `runs` series with `change` at BEFORE and counts detections within `within`.
pub fn detection(config: &DriftConfig, seed: u64, noise: Noise, change: Change, runs: usize, within: u64) -> Detection {
    let series = (0..runs)
        .map(|i| Series::new(seed + i as u64, noise, change, BEFORE))
        .collect();
    let starts = run(config, series, BEFORE + within);
    let mut d = Detection {
        detected: 0,
        runs,
        delays: Vec::new(),
        early_alarms: 0,
    };
    for s in starts {
        d.early_alarms += s.iter().filter(|&&i| i < BEFORE).count();
        if let Some(first) = s.iter().find(|&&i| i >= BEFORE) {
            d.detected += 1;
            d.delays.push(first - BEFORE);
        }
    }
    println!(
        "{change:?} on {noise:?}: detected {}/{} within {within} (median delay {}), {} alarms before the change",
        d.detected,
        d.runs,
        d.median_delay(),
        d.early_alarms
    );
    d
}

/// False alarms per 100,000 samples over `series` series of `samples` samples.
pub fn false_alarms(config: &DriftConfig, seed: u64, noise: Noise, series: usize, samples: u64) -> f64 {
    let all = (0..series)
        .map(|i| Series::new(seed + i as u64, noise, Change::None, 0))
        .collect();
    let alarms: usize = run(config, all, samples).iter().map(Vec::len).sum();
    let per_100k = alarms as f64 * 100_000.0 / (series as f64 * samples as f64);
    println!(
        "{noise:?}: {alarms} false alarms in {} samples = {per_100k:.2} per 100,000",
        series as u64 * samples
    );
    per_100k
}
