//! Series expiry and the series cap on the table, with the clock given explicitly (seconds).

use super::*;
use crate::drift::config::DriftConfig;
use crate::drift::history::HistoryConfig;
use driftd_core::{EventKind, ValueKind};

const SECOND: u64 = 1_000_000_000;
const TTL: Duration = Duration::from_secs(60);

struct Numbered;

impl LabelSource for Numbered {
    fn labels(&self, origin: u32) -> SeriesLabels {
        SeriesLabels::new("m", vec![("n".into(), origin.to_string())])
    }
}

fn table() -> SeriesTable {
    SeriesTable::new(Profiles::new(&DriftConfig::default()), 1_000_000)
}

/// Feeds series `n` its sample `i` (one per second of event time) at `now`.
fn feed(t: &SeriesTable, n: u32, i: u64, value: f64, now: u32) -> Update {
    let p = Point {
        series: SeriesId(u64::from(n) + 1),
        time_unix_nano: i * SECOND,
        value,
        kind: ValueKind::Gauge,
        origin: n,
    };
    t.update(&p, &Numbered, now)
}

fn snapshot(t: &SeriesTable, n: u32) -> Option<SeriesSnapshot> {
    t.get(SeriesId(u64::from(n) + 1))
}

#[test]
fn idle_series_expire_and_busy_ones_stay() {
    let t = table();
    for n in 0..10 {
        feed(&t, n, 0, 1.0, 0);
    }
    // Series 0..5 keep reporting; 5..10 go quiet.
    for n in 0..5 {
        feed(&t, n, 1, 1.0, 50);
    }
    assert_eq!(
        t.expire(60, TTL),
        Expired::default(),
        "nothing is idle for longer than the TTL yet"
    );
    let gone = t.expire(61, TTL);
    assert_eq!(gone.series, 5);
    assert_eq!(t.series_count(), 5);
    assert!((0..5).all(|n| snapshot(&t, n).is_some()));
    assert!((5..10).all(|n| snapshot(&t, n).is_none()));
    assert_eq!(t.expired_total(), 5);
    assert_eq!(t.expire(111, TTL).series, 5);
    assert_eq!(t.series_count(), 0);
}

#[test]
fn a_series_that_comes_back_learns_again() {
    let t = table();
    for i in 0..150 {
        feed(&t, 0, i, (i % 5) as f64, 0);
    }
    let before = snapshot(&t, 0).unwrap();
    assert_eq!(before.state, SeriesState::Stable);
    t.expire(1000, TTL);
    feed(&t, 0, 5000, 2.0, 1000);
    let after = snapshot(&t, 0).unwrap();
    assert_eq!(after.state, SeriesState::InsufficientData);
    assert_eq!(after.sample_count, 1);
    assert!(after.baseline.is_none());
}

#[test]
fn a_drifting_series_expires_too_with_a_drift_end() {
    let t = table();
    let calm = |i: u64| 10.0 + ((i * 7919) % 100) as f64 / 50.0 - 1.0;
    for i in 0..300 {
        feed(&t, 0, i, calm(i), 0);
    }
    let drifted = (300..400).any(|i| {
        feed(&t, 0, i, calm(i) + 20.0, 0);
        snapshot(&t, 0).unwrap().state == SeriesState::DriftDetected
    });
    assert!(drifted);
    feed(&t, 1, 0, 1.0, 0);
    let gone = t.expire(61, TTL);
    assert_eq!(gone.series, 2);
    let [end] = &gone.ends[..] else {
        panic!("one drift_end: {:?}", gone.ends)
    };
    assert_eq!((end.kind, end.reason), (EventKind::DriftEnd, Some(EndReason::Expired)));
    assert_eq!(end.series_id, SeriesId(1));
    assert!(
        end.timestamp >= 300 * SECOND && end.timestamp < 400 * SECOND,
        "its last sample's time"
    );
    assert!(
        end.onset >= 300 * SECOND && end.onset <= end.timestamp,
        "the drift's start"
    );
}

#[test]
fn expiring_most_series_gives_the_memory_back() {
    let t = table();
    for n in 0..20_000 {
        feed(&t, n, 0, 1.0, 0);
    }
    feed(&t, 0, 1, 1.0, 100);
    let full = t.series.capacity();
    assert_eq!(t.expire(100, TTL).series, 19_999);
    assert!(t.series.capacity() * 10 < full, "{} of {full}", t.series.capacity());
}

#[test]
fn checkpoints_older_than_the_ttl_are_not_restored() {
    let checkpoint = |id: u64, updated_at: u64| {
        let labels = Arc::new(SeriesLabels::new("m", vec![("n".into(), id.to_string())]));
        let profiles = Profiles::new(&DriftConfig::default());
        Checkpoint {
            series_id: SeriesId(id),
            labels,
            state: checkpoint::encode(&SeriesDrift::new(profiles.get(0), 0), None),
            updated_at,
        }
    };
    let t = table();
    let restored = t.restore(
        vec![checkpoint(1, 100 * SECOND), checkpoint(2, 200 * SECOND)],
        150 * SECOND,
    );
    assert_eq!(restored, 1);
    assert!(t.contains(SeriesId(2)) && !t.contains(SeriesId(1)));
    assert_eq!(
        table().restore(vec![checkpoint(1, 0)], 0),
        1,
        "0 keeps every checkpoint"
    );
}

#[test]
fn past_the_cap_new_series_overflow_and_known_ones_go_on() {
    let t = SeriesTable::new(Profiles::new(&DriftConfig::default()), 2);
    assert!(matches!(feed(&t, 0, 0, 1.0, 0), Update::Fed(_)));
    assert!(matches!(feed(&t, 1, 0, 1.0, 0), Update::Fed(_)));
    assert!(matches!(feed(&t, 2, 0, 1.0, 0), Update::Overflow));
    assert!(snapshot(&t, 2).is_none(), "an overflowing series is not tracked");
    assert!(
        matches!(feed(&t, 0, 1, 1.0, 0), Update::Fed(_)),
        "known series are still fed"
    );
    // Expired series give their places back.
    feed(&t, 0, 2, 1.0, 100);
    assert_eq!(t.expire(100, TTL).series, 1);
    assert!(matches!(feed(&t, 2, 0, 1.0, 100), Update::Fed(_)));
    assert!(matches!(feed(&t, 3, 0, 1.0, 100), Update::Overflow));
    assert_eq!(t.series_count(), 2);
}

fn history(series: usize) -> HistoryConfig {
    HistoryConfig {
        series,
        ..HistoryConfig::default()
    }
}

/// Feeds series `n` 300 samples of noise around 100 and then 40 at 200; returns its
/// drift_start.
fn step(t: &SeriesTable, n: u32) -> Option<Box<driftd_core::DriftEvent>> {
    let mut start = None;
    for i in 0..340u64 {
        let value = if i < 300 { 100.0 + (i % 7) as f64 } else { 200.0 };
        if let Update::Fed(Outcome::Event(e)) = feed(t, n, i, value, 0) {
            start = start.or(Some(e));
        }
    }
    start
}

#[test]
fn a_drift_start_carries_the_ring_as_its_evidence() {
    let t = table().with_history(history(10));
    let e = step(&t, 0).expect("the step is found");
    let snapshot = e.snapshot.expect("a snapshot");
    let now = e.timestamp as f64 / 1e9;
    assert_eq!(snapshot.time.last(), Some(&now), "up to the sample that raised it");
    // Before the change: the baseline band around 100 and values inside it; after: 200.
    let before = (0..snapshot.len()).map(|i| snapshot.row(i)).filter(|r| r.time < 300.0);
    assert!(before.clone().count() >= 100, "{}", snapshot.len());
    assert!(before.clone().all(|r| (100.0..=106.0).contains(&r.value)));
    let judged = before.clone().filter(|r| r.level.is_finite());
    assert!(judged.clone().count() >= 100);
    assert!(judged
        .clone()
        .all(|r| (r.level - 103.0).abs() < 1.0 && r.sd > 1.0 && r.sd < 3.0));
    assert_eq!(snapshot.value.last(), Some(&200.0));
    let served = t.history(SeriesId(1)).expect("a ring");
    assert_eq!(served.time.last(), Some(&339.0), "the ring goes on past the event");
    assert!(served.time.contains(&now));
    assert!(snapshot.level[0].is_nan(), "no band while learning");
}

#[test]
fn rings_go_to_the_first_series_and_drifting_ones_may_use_the_reserve() {
    let t = table().with_history(history(4));
    for n in 0..6 {
        feed(&t, n, 0, 1.0, 0);
    }
    let kept = |t: &SeriesTable| (1..=8u64).filter(|&n| t.history(SeriesId(n)).is_some()).count();
    assert_eq!(kept(&t), 4, "the first four");
    // Series 7 has no ring while stable, and takes one of the reserve (4 / 4 = 1) once
    // it drifts; the step's evidence then starts at its drift.
    let e = step(&t, 7).expect("found");
    assert_eq!(e.snapshot.map(|s| s.len()), Some(1));
    assert_eq!(kept(&t), 5);
    // Expired series give their rings back.
    assert_eq!(t.expire(61, TTL).series, 7);
    feed(&t, 6, 1, 1.0, 62);
    assert_eq!(kept(&t), 1);
    let off = table().with_history(history(0));
    assert!(step(&off, 0).is_some_and(|e| e.snapshot.is_none()));
}
