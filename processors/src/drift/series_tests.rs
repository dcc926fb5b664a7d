//! The per-series lifecycle, through `SeriesDrift::update` with real profiles.

use super::config::DriftConfig;
use super::rules::Profiles;
use super::series::{Outcome, SeriesDrift, Skip};
use driftd_core::view::SeriesState;
use driftd_core::{EndReason, EventKind, Point, SeriesId, SeriesLabels, Severity, ValueKind};
use std::sync::Arc;

const SECOND: u64 = 1_000_000_000;

struct Fixture {
    profiles: Profiles,
    drift: SeriesDrift,
    labels: Arc<SeriesLabels>,
}

impl Fixture {
    fn new(yaml: &str) -> Self {
        let config: DriftConfig = serde_yaml::from_str(yaml).unwrap();
        let profiles = Profiles::new(&config);
        let labels = Arc::new(SeriesLabels::new("m", vec![]));
        let index = profiles.index_for(&labels);
        Fixture {
            drift: SeriesDrift::new(profiles.get(index), index),
            profiles,
            labels,
        }
    }

    fn feed(&mut self, t: u64, value: f64, kind: ValueKind) -> Result<Outcome, Skip> {
        let point = Point {
            series: SeriesId(1),
            time_unix_nano: t,
            value,
            kind,
            origin: 0,
        };
        let profile = self.profiles.get(self.drift.profile());
        self.drift.update(profile, &point, SeriesId(1), &self.labels)
    }

    fn gauge(&mut self, i: u64, value: f64) -> Option<driftd_core::DriftEvent> {
        match self.feed(i * SECOND, value, ValueKind::Gauge).unwrap() {
            Outcome::Event(e) => Some(*e),
            Outcome::Quiet => None,
        }
    }

    fn state(&self) -> SeriesState {
        self.drift
            .snapshot(self.profiles.get(0), SeriesId(1), &self.labels)
            .state
    }
}

/// Gaussian noise around 10 with standard deviation 1, the same for every run.
fn calm(i: u64) -> f64 {
    use rand::SeedableRng;
    use rand_distr::Distribution;
    let mut rng = rand::rngs::StdRng::seed_from_u64(i);
    10.0 + rand_distr::Normal::new(0.0, 1.0).unwrap().sample(&mut rng)
}

#[test]
fn per_series_state_fits_the_budget() {
    let size = std::mem::size_of::<SeriesDrift>();
    assert!(size <= 256, "{size} bytes");
}

#[test]
fn learns_then_detects_a_step_then_recovers() {
    let mut f = Fixture::new("{}");
    for i in 0..300 {
        assert_eq!(f.gauge(i, calm(i)), None, "sample {i}");
    }
    assert_eq!(f.state(), SeriesState::Stable);
    let start = (300..320)
        .find_map(|i| f.gauge(i, calm(i) + 6.0).map(|e| (i, e)))
        .expect("step detected");
    assert!(start.0 <= 303, "detected at {}", start.0);
    let e = start.1;
    assert_eq!((e.kind, e.severity), (EventKind::DriftStart, Some(Severity::Severe)));
    // CUSUM's change-point estimate: where the statistic last left zero, which noise
    // just before the step can pull a few samples early.
    assert!(
        (295 * SECOND..=300 * SECOND).contains(&e.onset),
        "onset {}",
        e.onset / SECOND
    );
    assert_eq!(e.detector, "auto");
    assert!(
        (e.baseline.mean - 10.0).abs() < 0.2 && (e.baseline.stddev - 1.0).abs() < 0.2,
        "{:?}",
        e.baseline
    );
    assert_eq!(f.state(), SeriesState::DriftDetected);
    let end = (320..500)
        .find_map(|i| f.gauge(i, calm(i)).map(|e| (i, e)))
        .expect("recovered");
    assert_eq!(
        (end.1.kind, end.1.reason),
        (EventKind::DriftEnd, Some(EndReason::Recovered))
    );
    assert_eq!(f.state(), SeriesState::Stable);
}

#[test]
fn a_lasting_drift_becomes_the_new_normal_after_accept_after() {
    let mut f = Fixture::new("accept_after: 60s");
    for i in 0..200 {
        f.gauge(i, calm(i));
    }
    let start = (200..220).find_map(|i| f.gauge(i, calm(i) + 20.0)).expect("drift");
    assert_eq!(start.kind, EventKind::DriftStart);
    let detected_at = start.timestamp / SECOND;
    let end = (detected_at + 1..detected_at + 200)
        .find_map(|i| f.gauge(i, calm(i) + 20.0))
        .expect("accepted");
    assert_eq!(
        (end.kind, end.reason),
        (EventKind::DriftEnd, Some(EndReason::Rebaselined))
    );
    assert_eq!(end.timestamp / SECOND, detected_at + 60, "accepted once it lasted 60 s");
    // The new normal is 30 ± 1: it raises nothing more, and the old level is now a drift.
    assert_eq!(f.state(), SeriesState::Stable);
    let next = end.timestamp / SECOND + 1;
    assert!((next..next + 200).all(|i| f.gauge(i, calm(i) + 20.0).is_none()));
    assert!((next + 200..next + 220).any(|i| f.gauge(i, calm(i)).is_some()));
}

#[test]
fn counters_become_per_second_rates_and_survive_resets() {
    let mut f = Fixture::new("{}");
    assert_eq!(
        f.feed(SECOND, 100.0, ValueKind::CumulativeCounter),
        Err(Skip::CounterStart)
    );
    f.feed(3 * SECOND, 120.0, ValueKind::CumulativeCounter).unwrap();
    let last = |f: &Fixture| f.drift.snapshot(f.profiles.get(0), SeriesId(1), &f.labels).last_value;
    assert_eq!(last(&f), 10.0);
    // A reset only sets the new reference: no sample, so no spike.
    assert_eq!(
        f.feed(4 * SECOND, 5.0, ValueKind::CumulativeCounter),
        Err(Skip::CounterStart)
    );
    assert_eq!(last(&f), 10.0);
    assert_eq!(
        f.feed(4 * SECOND, 9.0, ValueKind::CumulativeCounter),
        Err(Skip::OutOfOrder)
    );
    f.feed(6 * SECOND, 9.0, ValueKind::CumulativeCounter).unwrap();
    assert_eq!(last(&f), 2.0);
}

#[test]
fn out_of_order_gauge_points_are_skipped() {
    let mut f = Fixture::new("{}");
    f.feed(10, 1.0, ValueKind::Gauge).unwrap();
    assert_eq!(f.feed(9, 1.0, ValueKind::Gauge), Err(Skip::OutOfOrder));
    assert_eq!(
        f.drift.snapshot(f.profiles.get(0), SeriesId(1), &f.labels).sample_count,
        1
    );
}

/// Samples from a 2σ step at `at` to its drift_start.
fn delay_of_a_step(f: &mut Fixture, at: u64) -> u64 {
    (at..at + 100)
        .find(|&i| {
            f.gauge(i, calm(i) + 2.0)
                .is_some_and(|e| e.kind == EventKind::DriftStart)
        })
        .expect("step detected")
        - at
}

#[test]
fn a_drift_that_ends_by_itself_makes_the_series_warier() {
    let mut wary = Fixture::new("{}");
    let mut fresh = Fixture::new("{}");
    for i in 0..300 {
        wary.gauge(i, calm(i));
        fresh.gauge(i, calm(i));
    }
    // A first excursion that comes back by itself.
    delay_of_a_step(&mut wary, 300);
    let ended = (340..500).find(|&i| wary.gauge(i, calm(i)).is_some_and(|e| e.kind == EventKind::DriftEnd));
    assert!(ended.is_some(), "recovered");
    for i in 300..500 {
        fresh.gauge(i, calm(i));
    }
    // The same step on the same noise now needs half as much evidence again (thresholds
    // x1.5, barely faded): 15 samples against 5.
    let (wary, fresh) = (delay_of_a_step(&mut wary, 500), delay_of_a_step(&mut fresh, 500));
    assert!(2 * wary >= 3 * fresh, "wary {wary}, fresh {fresh}");
}

/// 100.000 ± 0.001 on a 0.001 grid: a near-constant gauge.
fn near_constant(i: u64) -> f64 {
    100.0 + (calm(i) - 10.0).round().clamp(-1.0, 1.0) * 0.001
}

#[test]
fn a_near_constant_gauge_ignores_its_last_digits_and_states_a_real_move_in_units_and_percent() {
    let mut f = Fixture::new("{}");
    for i in 0..500 {
        assert_eq!(f.gauge(i, near_constant(i)), None, "sample {i}");
    }
    // A blip of 0.005 (five steps of its resolution), then a lasting shift of 0.005:
    // statistically far out, practically nothing.
    for i in 500..1000 {
        let blip = if i < 505 { 0.005 } else { 0.0 };
        assert_eq!(f.gauge(i, near_constant(i) + blip), None, "sample {i}");
    }
    for i in 1000..2000 {
        assert_eq!(f.gauge(i, near_constant(i) + 0.005), None, "sample {i}");
    }
    assert_eq!(f.state(), SeriesState::Stable);
    // To 110: a drift, stated in units and relative to the level.
    let (at, e) = (2000..2020)
        .find_map(|i| f.gauge(i, near_constant(i) + 10.0).map(|e| (i, e)))
        .expect("the move to 110 is a drift");
    assert!(at <= 2003, "found at {at}");
    assert_eq!(e.kind, EventKind::DriftStart);
    assert!((e.scores["change"] - 10.0).abs() < 0.01, "{:?}", e.scores);
    assert!((e.scores["change_percent"] - 10.0).abs() < 0.01, "{:?}", e.scores);
}

#[test]
fn min_change_sets_how_large_a_change_must_be() {
    // A 1 σ step of a series at 10 ± 1 is a 10% change: found by default, not when
    // only changes of 20% matter, found again with an absolute bar below it.
    let step = |yaml: &str| {
        let mut f = Fixture::new(yaml);
        (0..300).for_each(|i| {
            f.gauge(i, calm(i));
        });
        (300..600).any(|i| f.gauge(i, calm(i) + 1.0).is_some())
    };
    assert!(step("{}"));
    assert!(!step("min_change: {relative: 0.2}"));
    assert!(!step("min_change: {relative: 0, absolute: 3}"));
    assert!(step(
        "rules:\n  - match: {metric: m}\n    min_change: {relative: 0.01}\nmin_change: {relative: 0.5}"
    ));
}

#[test]
fn a_restored_state_is_taken_only_by_a_profile_with_its_detector_and_seasonality() {
    let mut daily = Fixture::new("{baseline: {seasonality: daily}}");
    for i in 0..50 {
        daily.gauge(i, calm(i));
    }
    let state = daily.drift.clone();
    let other = |yaml: &str| Fixture::new(yaml).profiles;
    assert!(state.clone().rewatched(daily.profiles.get(0), 0).is_some());
    for yaml in ["{}", "{baseline: {seasonality: weekly}}", "{detector: {type: zscore}}"] {
        let profiles = other(yaml);
        assert!(state.clone().rewatched(profiles.get(0), 0).is_none(), "{yaml}");
    }
    // A series that has not seen a seasonal point yet has no profile to disagree with.
    let young = Fixture::new("{}").drift;
    assert!(young
        .rewatched(other("{baseline: {seasonality: daily}}").get(0), 0)
        .is_some());
}
