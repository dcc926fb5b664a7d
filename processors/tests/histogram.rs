//! Histogram points through the whole drift processor: batches as a receiver builds
//! them, events out of the same `consume` call, series in the views.
//! Runs: cargo test -p driftd-processors --test histogram

use driftd_core::consumer::Buckets;
use driftd_core::view::SeriesState;
use driftd_core::{Batch, ConsumeError, Consumer, DriftEvent, EventKind, LabelSource, Point, SeriesLabels, ValueKind};
use driftd_processors::drift::{DriftConfig, DriftProcessor};
use rand::rngs::StdRng;
use rand::SeedableRng;
use rand_distr::{Distribution, LogNormal};
use std::sync::{Arc, Mutex};

const SECOND: u64 = 1_000_000_000;
const BOUNDS: [f64; 14] = [
    5.0, 10.0, 25.0, 50.0, 75.0, 100.0, 150.0, 250.0, 500.0, 750.0, 1000.0, 2500.0, 5000.0, 10000.0,
];

/// A request with one histogram point per origin, as the OTLP decoder gives them.
struct Request {
    labels: SeriesLabels,
    buckets: Vec<Buckets>,
}

impl LabelSource for Request {
    fn labels(&self, _: u32) -> SeriesLabels {
        self.labels.clone()
    }

    fn buckets(&self, origin: u32, out: &mut Buckets) -> bool {
        let Some(b) = self.buckets.get(origin as usize) else {
            return false;
        };
        out.bounds.extend_from_slice(&b.bounds);
        out.counts.extend_from_slice(&b.counts);
        true
    }
}

#[derive(Default)]
struct Events(Mutex<Vec<DriftEvent>>);

impl Consumer for Events {
    fn consume(&self, batch: &Batch<'_>) -> Result<(), ConsumeError> {
        self.0.lock().unwrap().extend_from_slice(batch.events);
        Ok(())
    }
}

fn labels(metric: &str) -> SeriesLabels {
    SeriesLabels::new(metric, vec![("service.name".into(), "api".into())])
}

/// 500 request latencies around 80 ms; a fraction `slow` of them time out near 1.5 s.
fn latencies(rng: &mut StdRng, slow: f64) -> Buckets {
    let body = LogNormal::new(80f64.ln(), 0.4).unwrap();
    let tail = LogNormal::new(1500f64.ln(), 0.3).unwrap();
    let mut counts = vec![0u64; BOUNDS.len() + 1];
    for i in 0..500 {
        let x: f64 = if (i as f64) < slow * 500.0 {
            tail.sample(rng)
        } else {
            body.sample(rng)
        };
        counts[BOUNDS.partition_point(|&b| b < x)] += 1;
    }
    Buckets {
        bounds: BOUNDS.to_vec(),
        counts,
        ..Buckets::default()
    }
}

fn point(i: u64, request: &Request) -> Point {
    Point {
        series: request.labels.id(),
        time_unix_nano: i * 10 * SECOND,
        value: request.buckets[0].counts.iter().sum::<u64>() as f64,
        kind: ValueKind::Histogram { cumulative: false },
        origin: 0,
    }
}

#[test]
fn a_tail_shift_shows_first_in_the_derived_p99_series_then_in_the_distribution() {
    let events = Arc::new(Events::default());
    let drift = DriftProcessor::new("drift", DriftConfig::default(), events.clone());
    let mut rng = StdRng::seed_from_u64(3);
    let feed = |i: u64, rng: &mut StdRng, slow: f64| {
        let request = Request {
            labels: labels("rpc_latency_ms"),
            buckets: vec![latencies(rng, slow)],
        };
        drift.consume(&Batch::new(&[point(i, &request)], &request)).unwrap();
    };
    for i in 0..400 {
        feed(i, &mut rng, 0.0);
    }
    assert_eq!(events.0.lock().unwrap().as_slice(), [], "no alarm while stable");
    // 3% of requests now time out: the median barely moves, the tail does.
    for i in 400..420 {
        feed(i, &mut rng, 0.03);
    }
    let seen = events.0.lock().unwrap().clone();
    let p99 = seen
        .iter()
        .find(|e| e.series.metric == "rpc_latency_ms_p99")
        .unwrap_or_else(|| panic!("p99 drift in {seen:?}"));
    assert_eq!(p99.kind, EventKind::DriftStart);
    assert_eq!(
        p99.series_id,
        labels("rpc_latency_ms_p99").id(),
        "derived ids are the labels' ids"
    );
    assert_eq!(p99.series.get("service.name"), Some("api"));
    assert_eq!(p99.detector, "auto", "derived series use the scalar default");
    assert!(
        p99.timestamp <= 405 * 10 * SECOND,
        "p99 drift found at {}",
        p99.timestamp / SECOND
    );
    println!(
        "3% timeouts: p99 drift found at point {}",
        p99.timestamp / 10 / SECOND - 400
    );
    assert!(p99.baseline.mean < 400.0, "{:?}", p99.baseline);
    // So few slow requests hardly change the bucket distribution (PSI about 0.08);
    // when a fifth of them time out, it has changed too.
    assert!(seen.iter().all(|e| e.detector != "histogram"), "{seen:?}");
    for i in 420..440 {
        feed(i, &mut rng, 0.2);
    }
    let seen = events.0.lock().unwrap().clone();
    let distribution = seen
        .iter()
        .find(|e| e.detector == "histogram")
        .unwrap_or_else(|| panic!("distribution drift in {seen:?}"));
    assert_eq!(distribution.series_id, labels("rpc_latency_ms").id());
    assert!(
        (420 * 10 * SECOND..=428 * 10 * SECOND).contains(&distribution.timestamp),
        "distribution drift found at {}",
        distribution.timestamp / SECOND
    );
    println!(
        "20% timeouts: distribution drift found at point {} (psi {:.2})",
        distribution.timestamp / 10 / SECOND - 420,
        distribution.scores["psi"]
    );
    assert!(distribution.scores["recent_p99"] > 2.0 * distribution.scores["baseline_p99"]);

    // Both kinds of series are in the views with their status.
    let mut listed = Vec::new();
    drift
        .histograms()
        .for_each(&mut |s| listed.push((s.labels.metric.clone(), s.detector, s.state)));
    drift
        .table()
        .for_each(&mut |s| listed.push((s.labels.metric.clone(), s.detector, s.state)));
    listed.sort_by(|a, b| a.0.cmp(&b.0));
    let names: Vec<_> = listed.iter().map(|(m, d, _)| (m.as_str(), *d)).collect();
    assert_eq!(
        names,
        [
            ("rpc_latency_ms", "histogram"),
            // Observations per second (these points carry no sum: no `_mean`).
            ("rpc_latency_ms_count", "auto"),
            ("rpc_latency_ms_p50", "auto"),
            ("rpc_latency_ms_p90", "auto"),
            ("rpc_latency_ms_p99", "auto")
        ]
    );
    assert_eq!(listed[0].2, SeriesState::DriftDetected);
    assert_eq!(listed[3].2, SeriesState::DriftDetected);
}

#[test]
fn histogram_points_without_buckets_are_skipped() {
    let events = Arc::new(Events::default());
    let drift = DriftProcessor::new("drift", DriftConfig::default(), events);
    let request = Request {
        labels: labels("rpc_latency_ms"),
        buckets: vec![],
    };
    let p = Point {
        series: request.labels.id(),
        time_unix_nano: SECOND,
        value: 3.0,
        kind: ValueKind::Histogram { cumulative: true },
        origin: 0,
    };
    drift.consume(&Batch::new(&[p], &request)).unwrap();
    assert_eq!(drift.histograms().series_count() + drift.table().series_count(), 0);
    assert_eq!(drift.table().points_processed(), 1);
}

#[test]
fn a_rule_gives_histograms_their_parameters_and_leaves_scalar_series_to_the_default() {
    let config: DriftConfig = serde_yaml::from_str(
        "detector: {type: zscore}\nrules:\n  - match: {metric: 'rpc_*'}\n    detector: {type: histogram, enter_psi: 50, severe_psi: 60}\n",
    )
    .unwrap();
    let events = Arc::new(Events::default());
    let drift = DriftProcessor::new("drift", config, events.clone());
    let mut rng = StdRng::seed_from_u64(4);
    for i in 0..300 {
        let slow = if i < 200 { 0.0 } else { 0.5 };
        let request = Request {
            labels: labels("rpc_latency_ms"),
            buckets: vec![latencies(&mut rng, slow)],
        };
        drift.consume(&Batch::new(&[point(i, &request)], &request)).unwrap();
    }
    let seen = events.0.lock().unwrap();
    // The rule's PSI threshold is out of reach; the derived series, matched by the same
    // rule, are watched by the processor's scalar detector.
    assert!(seen.iter().all(|e| e.detector == "zscore"), "{seen:?}");
    assert!(seen.iter().any(|e| e.series.metric == "rpc_latency_ms_p50"), "{seen:?}");
}
