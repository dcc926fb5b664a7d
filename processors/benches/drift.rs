//! Per-point cost of the detectors and of the whole drift processor (series lookup,
//! baseline, detector), including a table of 1,000,000 series, and of histogram points
//! (distribution drift plus the three derived quantile series).
//!
//!     cargo bench -p driftd-processors --bench drift
//!     cargo bench -p driftd-processors --bench drift -- histogram

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use driftd_core::consumer::Buckets;
use driftd_core::{Batch, Consumer, LabelSource, Point, SeriesId, SeriesLabels, ValueKind};
use driftd_processors::drift::detectors::{Detector, DetectorConfig, Sample};
use driftd_processors::drift::{DriftConfig, DriftProcessor};
use std::hint::black_box;
use std::sync::Arc;

/// Standardised values that look like noise (no random number generator in the loop).
fn samples(n: usize) -> Vec<Sample> {
    (0..n)
        .map(|i| {
            let z = ((i * 7919) % 1000) as f64 / 250.0 - 2.0;
            Sample {
                time: i as u64,
                z,
                r: z,
                spread: z * z - 1.0,
                clip: 4.0,
                wariness: 0.0,
            }
        })
        .collect()
}

fn detectors(c: &mut Criterion) {
    let input = samples(4096);
    let mut group = c.benchmark_group("detector_update");
    group.throughput(Throughput::Elements(input.len() as u64));
    for yaml in [
        "type: auto",
        "type: zscore",
        "type: rolling",
        "type: page_hinkley",
        "type: cusum",
    ] {
        let config: DetectorConfig = serde_yaml::from_str(yaml).unwrap();
        let mut detector = Detector::new(&config);
        group.bench_function(detector.name(), |b| {
            b.iter(|| {
                for s in &input {
                    black_box(detector.update(&config, s));
                }
            })
        });
    }
    group.finish();
}

struct Numbered;

impl LabelSource for Numbered {
    fn labels(&self, origin: u32) -> SeriesLabels {
        SeriesLabels::new("bench", vec![("series".into(), origin.to_string())])
    }
}

struct Sink;

impl Consumer for Sink {
    fn consume(&self, _: &Batch<'_>) -> Result<(), driftd_core::ConsumeError> {
        Ok(())
    }
}

/// `points` points spread over `series` series, at sample round `round`.
fn batch(series: u64, points: u64, round: u64, first: u64) -> Vec<Point> {
    (0..points)
        .map(|i| {
            let s = (first + i) % series;
            Point {
                series: SeriesId(s.wrapping_mul(0x9E37_79B9_7F4A_7C15)),
                time_unix_nano: (round + 1) * 1_000_000_000,
                value: 100.0 + ((s + round) % 13) as f64,
                kind: ValueKind::Gauge,
                origin: s as u32,
            }
        })
        .collect()
}

fn processor(c: &mut Criterion) {
    let mut group = c.benchmark_group("processor_consume");
    for series in [300u64, 1_000_000] {
        let p = DriftProcessor::new("drift", DriftConfig::default(), Arc::new(Sink));
        // Every series exists and is past warm-up before measuring.
        for round in 0..110 {
            for chunk in 0..series.div_ceil(10_000) {
                p.consume(&Batch::new(
                    &batch(series, 10_000.min(series), round, chunk * 10_000),
                    &Numbered,
                ))
                .unwrap();
            }
        }
        let points = 1_000;
        group.throughput(Throughput::Elements(points));
        let mut round = 110;
        let mut first = 0;
        group.bench_function(format!("{series}_series"), |b| {
            b.iter_batched(
                || {
                    first += points;
                    if first >= series {
                        first = 0;
                        round += 1;
                    }
                    batch(series, points, round, first)
                },
                |pts| p.consume(&Batch::new(&pts, &Numbered)).unwrap(),
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

/// Histogram points of `series` series with 16 buckets; the counts vary by round
/// (a latency-like shape, 200 observations a point) without a random number generator.
struct Histograms {
    round: u64,
}

const BOUNDS: [f64; 15] = [
    1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 75.0, 100.0, 150.0, 250.0, 500.0, 750.0, 1000.0, 2500.0, 5000.0,
];

impl LabelSource for Histograms {
    fn labels(&self, origin: u32) -> SeriesLabels {
        SeriesLabels::new("bench_seconds", vec![("series".into(), origin.to_string())])
    }

    fn buckets(&self, origin: u32, out: &mut Buckets) -> bool {
        const SHAPE: [u64; 16] = [1, 2, 6, 14, 30, 40, 34, 24, 18, 14, 8, 4, 2, 2, 1, 0];
        out.bounds.extend_from_slice(&BOUNDS);
        let wobble = (self.round + u64::from(origin)) * 7919;
        out.counts
            .extend(SHAPE.iter().enumerate().map(|(i, &c)| c + (wobble >> i) % 3));
        true
    }
}

fn histogram_points(series: u64) -> Vec<Point> {
    (0..series)
        .map(|s| Point {
            series: SeriesId(s.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xABCD),
            time_unix_nano: 0,
            value: 200.0,
            kind: ValueKind::Histogram { cumulative: false },
            origin: s as u32,
        })
        .collect()
}

fn histograms(c: &mut Criterion) {
    let mut group = c.benchmark_group("histogram_consume");
    let series = 1_000u64;
    let p = DriftProcessor::new("drift", DriftConfig::default(), Arc::new(Sink));
    let mut points = histogram_points(series);
    let mut round = 0;
    let mut next = |points: &mut Vec<Point>| {
        round += 1;
        points.iter_mut().for_each(|q| q.time_unix_nano = round * 1_000_000_000);
        round
    };
    // Every series exists and is past warm-up before measuring.
    for _ in 0..110 {
        let r = next(&mut points);
        p.consume(&Batch::new(&points, &Histograms { round: r })).unwrap();
    }
    let mut stable = 0;
    p.histograms()
        .for_each(&mut |s| stable += usize::from(s.state == driftd_core::view::SeriesState::Stable));
    assert_eq!(stable, series as usize, "measured on the stable path");
    group.throughput(Throughput::Elements(series));
    group.bench_function("16_buckets_1000_series", |b| {
        b.iter(|| {
            let r = next(&mut points);
            p.consume(&Batch::new(&points, &Histograms { round: r })).unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, detectors, processor, histograms);
criterion_main!(benches);
