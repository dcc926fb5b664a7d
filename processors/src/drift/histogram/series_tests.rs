//! The histogram lifecycle, through `HistogramSeries::update` with real profiles, on
//! latency histograms drawn from fixed distributions with a seeded generator.

use super::series::{Fed, HistogramSeries};
use crate::drift::config::DriftConfig;
use crate::drift::rules::Profiles;
use crate::drift::series::Skip;
use driftd_core::consumer::Buckets;
use driftd_core::view::SeriesState;
use driftd_core::{DriftEvent, EndReason, EventKind, Point, SeriesId, SeriesLabels, Severity, ValueKind};
use rand::rngs::StdRng;
use rand::SeedableRng;
use rand_distr::{Distribution, LogNormal};
use std::sync::Arc;

const SECOND: u64 = 1_000_000_000;

/// Latency bucket bounds in milliseconds (13 buckets).
const BOUNDS: [f64; 12] = [
    5.0, 10.0, 25.0, 50.0, 75.0, 100.0, 150.0, 250.0, 500.0, 750.0, 1000.0, 2500.0,
];

/// Latencies around `median` ms (log-normal, σ = 0.5), `n` per point.
#[derive(Clone, Copy)]
struct Latency {
    median: f64,
    n: u64,
}

const NORMAL: Latency = Latency { median: 80.0, n: 200 };
/// The same count, the mass moved up: the median 50% higher.
const SLOWER: Latency = Latency { median: 120.0, n: 200 };

struct Fixture {
    profiles: Profiles,
    series: HistogramSeries,
    labels: Arc<SeriesLabels>,
    rng: StdRng,
    cumulative: Option<Vec<u64>>,
    bounds: Vec<f64>,
}

impl Fixture {
    /// `cumulative`: whether points carry running totals.
    fn new(yaml: &str, cumulative: bool) -> Self {
        let config: DriftConfig = serde_yaml::from_str(yaml).unwrap();
        let profiles = Profiles::new(&config);
        let labels = Arc::new(SeriesLabels::new("latency_ms", vec![]));
        let index = profiles.index_for(&labels);
        Fixture {
            series: HistogramSeries::new(index, std::array::from_fn(|i| SeriesId(10 + i as u64))),
            profiles,
            labels,
            rng: StdRng::seed_from_u64(7),
            cumulative: cumulative.then(|| vec![0; BOUNDS.len() + 1]),
            bounds: BOUNDS.to_vec(),
        }
    }

    fn draw(&mut self, l: Latency) -> Vec<u64> {
        let d = LogNormal::new(l.median.ln(), 0.5).unwrap();
        let mut counts = vec![0u64; self.bounds.len() + 1];
        for _ in 0..l.n {
            let x: f64 = d.sample(&mut self.rng);
            counts[self.bounds.partition_point(|&b| b < x)] += 1;
        }
        counts
    }

    /// Feeds raw counts (deltas, or running totals for a cumulative fixture).
    fn feed_counts(&mut self, i: u64, counts: Vec<u64>) -> Result<Fed, Skip> {
        let mut buckets = Buckets {
            bounds: self.bounds.clone(),
            counts,
            ..Buckets::default()
        };
        self.feed_buckets(i, &mut buckets)
    }

    /// Feeds a whole point at second `i`.
    fn feed_buckets(&mut self, i: u64, buckets: &mut Buckets) -> Result<Fed, Skip> {
        let point = Point {
            series: SeriesId(1),
            time_unix_nano: i * SECOND,
            value: buckets.counts.iter().sum::<u64>() as f64,
            kind: ValueKind::Histogram {
                cumulative: self.cumulative.is_some(),
            },
            origin: 0,
        };
        let profile = self.profiles.get(self.series.profile());
        self.series.update(profile, &point, buckets, SeriesId(1), &self.labels)
    }

    /// Draws one point of `l` at second `i`; the event it raised.
    fn feed(&mut self, i: u64, l: Latency) -> Option<DriftEvent> {
        let mut counts = self.draw(l);
        if let Some(total) = &mut self.cumulative {
            total.iter_mut().zip(&counts).for_each(|(t, c)| *t += c);
            counts = total.clone();
        }
        match self.feed_counts(i, counts) {
            Ok(fed) => fed.event,
            Err(Skip::CounterStart) => None,
            Err(skip) => panic!("point {i} skipped: {skip:?}"),
        }
    }

    fn events(&mut self, range: std::ops::Range<u64>, l: Latency) -> Vec<(u64, DriftEvent)> {
        range.filter_map(|i| self.feed(i, l).map(|e| (i, e))).collect()
    }

    fn state(&self) -> SeriesState {
        self.series.snapshot(SeriesId(1), &self.labels).state
    }
}

fn shift_is_found_and_recovers(cumulative: bool) {
    let mut f = Fixture::new("{}", cumulative);
    let mut most = 0.0f64;
    for i in 0..3000 {
        assert_eq!(f.feed(i, NORMAL), None, "no alarm on a stable distribution");
        most = most.max(f.series.snapshot(SeriesId(1), &f.labels).last_score);
    }
    assert!(most < 0.05, "largest PSI while stable: {most}");
    assert_eq!(f.state(), SeriesState::Stable);
    let starts = f.events(3000..3100, SLOWER);
    let (at, e) = &starts[0];
    assert!(*at <= 3006, "detected at {at}");
    assert_eq!(starts.len(), 1, "{starts:?}");
    assert_eq!((e.kind, e.detector.as_str()), (EventKind::DriftStart, "histogram"));
    // Found while the recent window still mixes old and new: a moderate PSI so far.
    assert_eq!(e.severity, Some(Severity::Moderate), "{:?}", e.scores);
    assert!(
        (3000 * SECOND..=3002 * SECOND).contains(&e.onset),
        "onset {}",
        e.onset / SECOND
    );
    assert!(e.scores["psi"] >= 0.1 && e.scores["js"] > 0.0, "{:?}", e.scores);
    // Baseline and recent figures read from the buckets: the median moved up.
    assert!((70.0..90.0).contains(&e.scores["baseline_p50"]), "{:?}", e.scores);
    assert!(
        e.scores["recent_p50"] > e.scores["baseline_p50"] + 10.0,
        "{:?}",
        e.scores
    );
    assert!(e.recent.mean > e.baseline.mean, "{:?} vs {:?}", e.recent, e.baseline);
    assert_eq!(f.state(), SeriesState::DriftDetected);
    let ends = f.events(3100..3200, NORMAL);
    assert_eq!(ends.len(), 1, "{ends:?}");
    let (at, e) = &ends[0];
    assert!(*at <= 3130, "recovered at {at}");
    assert_eq!((e.kind, e.reason), (EventKind::DriftEnd, Some(EndReason::Recovered)));
    assert!(
        (3100 * SECOND..*at * SECOND).contains(&e.onset),
        "onset {}",
        e.onset / SECOND
    );
    assert_eq!(f.state(), SeriesState::Stable);
    println!(
        "cumulative {cumulative}: largest stable PSI {most:.4}; detected {} points after the change (onset {} s after), recovered {} points after it ended",
        starts[0].0 - 3000,
        starts[0].1.onset / SECOND - 3000,
        at - 3100
    );
}

#[test]
fn a_shift_of_delta_histograms_is_found_within_a_few_points_and_recovers() {
    shift_is_found_and_recovers(false);
}

#[test]
fn a_shift_of_cumulative_histograms_is_found_within_a_few_points_and_recovers() {
    shift_is_found_and_recovers(true);
}

#[test]
fn more_or_fewer_observations_of_the_same_shape_are_no_drift() {
    let mut f = Fixture::new("{}", false);
    assert_eq!(f.events(0..500, NORMAL), []);
    // Double, then a tenth of the rate: same distribution.
    assert_eq!(f.events(500..2500, Latency { n: 400, ..NORMAL }), []);
    assert_eq!(f.events(2500..4500, Latency { n: 20, ..NORMAL }), []);
    assert_eq!(f.state(), SeriesState::Stable);
}

#[test]
fn no_false_alarms_in_150000_stable_points_from_10_to_1000_observations_each() {
    for n in [10, 100, 1000] {
        let mut alarms = 0;
        for seed in 0..10 {
            let mut f = Fixture::new("{}", seed % 2 == 1);
            f.rng = StdRng::seed_from_u64(1000 + seed);
            alarms += f.events(0..5000, Latency { n, ..NORMAL }).len();
        }
        println!("{n} observations a point: {alarms} alarms in 10 series x 5000 points");
        assert_eq!(alarms, 0, "{n} observations a point");
    }
}

#[test]
fn a_trickle_of_observations_raises_no_alarm_but_a_shift_still_shows() {
    let mut f = Fixture::new("{}", false);
    let trickle = Latency { n: 10, ..NORMAL };
    assert_eq!(f.events(0..5000, trickle), []);
    let starts = f.events(5000..5100, Latency { median: 250.0, n: 10 });
    assert!(matches!(starts.first(), Some((at, _)) if *at < 5020), "{starts:?}");
    assert_eq!(starts[0].1.severity, Some(Severity::Severe), "{:?}", starts[0].1.scores);
    println!(
        "10 observations a point: median x3 found {} points after the change",
        starts[0].0 - 5000
    );
}

#[test]
fn a_new_bucket_layout_restarts_learning_and_ends_a_drift() {
    let mut f = Fixture::new("{}", false);
    f.events(0..300, NORMAL);
    assert!(!f.events(300..320, SLOWER).is_empty());
    f.bounds = BOUNDS.iter().map(|b| b * 2.0).collect();
    let e = f.feed(320, SLOWER).expect("the drift ends");
    assert_eq!((e.kind, e.reason), (EventKind::DriftEnd, Some(EndReason::Rebaselined)));
    assert_eq!(f.state(), SeriesState::InsufficientData);
    // The new layout is learned from scratch: the slower latencies are its normal.
    assert_eq!(f.events(321..1000, SLOWER), []);
    assert_eq!(f.state(), SeriesState::Stable);
}

#[test]
fn a_restarted_cumulative_source_gives_no_sample_then_counts_from_its_new_totals() {
    let mut f = Fixture::new("{}", true);
    assert_eq!(f.events(0..500, NORMAL), []);
    // The source restarts: its totals begin again from one point's counts, which only
    // become the new reference (no spike of "everything since the restart").
    let fresh = f.draw(NORMAL);
    f.cumulative = Some(fresh.clone());
    assert_eq!(f.feed_counts(500, fresh), Err(Skip::CounterStart));
    assert_eq!(f.events(501..1000, NORMAL), []);
}

/// (origin, value) of the derived points of a fed point.
fn derived(fed: Result<Fed, Skip>) -> Vec<(u32, f64)> {
    let fed = fed.expect("fed");
    fed.derived
        .expect("an interval")
        .iter()
        .map(|p| (p.origin, p.value))
        .collect()
}

#[test]
fn cumulative_points_give_the_rate_and_mean_of_each_interval_not_the_running_ones() {
    let mut f = Fixture::new("{}", true);
    // Every observation in the bucket (75, 100].
    let totals = |k: u64, sum: f64, start: u64| {
        let mut counts = vec![0; BOUNDS.len() + 1];
        counts[5] = k;
        Buckets {
            bounds: BOUNDS.to_vec(),
            counts,
            sum: Some(sum),
            start_time_unix_nano: start * SECOND,
        }
    };
    assert_eq!(
        f.feed_buckets(10, &mut totals(100, 8_000.0, 1)),
        Err(Skip::CounterStart)
    );
    // 50 more observations in 10 s, summing 10,000: 5 a second with mean 200 (the
    // running mean would be 120).
    let d = derived(f.feed_buckets(20, &mut totals(150, 18_000.0, 1)));
    assert_eq!(&d[..2], [(0, 5.0), (1, 200.0)]);
    assert_eq!(d.len(), 5, "and the three quantiles: {d:?}");
    // A new start time: the source restarted, even though its totals went up.
    assert_eq!(
        f.feed_buckets(30, &mut totals(200, 20_000.0, 25)),
        Err(Skip::CounterStart)
    );
    let d = derived(f.feed_buckets(40, &mut totals(210, 21_000.0, 25)));
    assert_eq!(&d[..2], [(0, 1.0), (1, 100.0)]);
}

#[test]
fn a_histogram_without_buckets_gives_rate_and_mean_and_no_distribution() {
    let mut f = Fixture::new("{}", false);
    f.bounds.clear();
    let mut point = |i: u64, count: u64, sum: f64| {
        let mut b = Buckets {
            bounds: vec![],
            counts: vec![count],
            sum: Some(sum),
            start_time_unix_nano: (i - 2) * SECOND,
        };
        derived(f.feed_buckets(i, &mut b))
    };
    assert_eq!(point(10, 20, 500.0), [(0, 10.0), (1, 25.0)]);
    assert_eq!(point(12, 0, 0.0), [(0, 0.0)], "no mean without observations");
    assert!(!f.series.has_distribution());
}

#[test]
fn a_lasting_drift_becomes_the_new_normal_after_accept_after() {
    let mut f = Fixture::new("accept_after: 60s", false);
    f.events(0..300, NORMAL);
    let events = f.events(300..600, SLOWER);
    let kinds: Vec<_> = events.iter().map(|(i, e)| (*i, e.kind, e.reason)).collect();
    let detected = events[0].0;
    assert_eq!(
        kinds,
        [
            (detected, EventKind::DriftStart, None),
            (detected + 60, EventKind::DriftEnd, Some(EndReason::Rebaselined))
        ]
    );
    // The old distribution is now a change.
    assert!(!f.events(600..620, NORMAL).is_empty());
}

#[test]
fn points_carry_their_quantiles_and_empty_or_stale_points_change_nothing() {
    let mut f = Fixture::new("{}", false);
    // 10 in (0,5], 80 in (50,75], 10 in (100,150].
    let mut counts = vec![0u64; BOUNDS.len() + 1];
    (counts[0], counts[4], counts[6]) = (10, 80, 10);
    let fed = f.feed_counts(10, counts).unwrap();
    // The first delta point without a start time has no interval to make a rate of,
    // and without a sum no mean: only the quantiles.
    let derived = fed.derived.expect("quantile points");
    let values: Vec<_> = derived.iter().map(|p| (p.series, p.value, p.kind)).collect();
    assert_eq!(
        values,
        [
            (SeriesId(12), 50.0 + 25.0 * 40.0 / 80.0, ValueKind::Gauge),
            (SeriesId(13), 75.0, ValueKind::Gauge),
            (SeriesId(14), 100.0 + 50.0 * 9.0 / 10.0, ValueKind::Gauge)
        ]
    );
    // No observations in a second: a rate of 0, nothing else.
    let empty = f.feed_counts(11, vec![0; BOUNDS.len() + 1]).unwrap();
    assert_eq!(empty.event, None);
    let rate: Vec<_> = empty.derived.unwrap().iter().map(|p| (p.series, p.value)).collect();
    assert_eq!(rate, [(SeriesId(10), 0.0)]);
    assert_eq!(f.feed_counts(9, vec![1; BOUNDS.len() + 1]), Err(Skip::OutOfOrder));
    assert_eq!(f.feed_counts(12, vec![1; 3]), Err(Skip::Distribution));
    assert_eq!(f.series.snapshot(SeriesId(1), &f.labels).sample_count, 1);
}

#[test]
fn a_histogram_rule_sets_the_parameters() {
    let yaml =
        "rules:\n  - match: {metric: 'latency_*'}\n    detector: {type: histogram, enter_psi: 5, severe_psi: 9}\n";
    let mut f = Fixture::new(yaml, false);
    f.events(0..300, NORMAL);
    // The shift is far below a PSI of 5.
    assert_eq!(f.events(300..600, SLOWER), []);
}
