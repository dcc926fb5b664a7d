//! Event history: append, query, dedupe, acknowledge.

use super::{append, everything, ids, sample_event, BASE_TIME, SECOND};
use driftd_core::event::{DriftEvent, EventKind};
use driftd_core::history::{History, Row};
use driftd_core::store::{EventQuery, Store};
use driftd_core::SeriesId;
use std::sync::Arc;

/// Appending, then querying with every filter and page shape: newest first by event
/// time (ties: later arrival first), `total` counting every match, events intact.
pub async fn append_and_query(store: &dyn Store) {
    let b = store.backend();
    let t = |s: u64| BASE_TIME + s * SECOND;
    let e1 = sample_event("latency_ms", "checkout", EventKind::DriftStart, t(100));
    let e2 = sample_event("payload_kb", "checkout", EventKind::DriftStart, t(200));
    let e3 = sample_event("latency_ms", "checkout", EventKind::DriftEnd, t(300));
    let e4 = sample_event("latency_ms", "search", EventKind::DriftStart, t(300));
    let e5 = sample_event("latency_ms", "search", EventKind::DriftEnd, t(400));
    // Arrives last but happened first: order is by event time, not arrival.
    let e0 = sample_event("payload_kb", "checkout", EventKind::DriftEnd, t(50));
    append(store, &[e1.clone(), e2.clone(), e3.clone()]).await;
    append(store, &[e4.clone(), e5.clone()]).await;
    append(store, std::slice::from_ref(&e0)).await;
    let id = |events: &[&DriftEvent]| events.iter().map(|e| e.id.clone()).collect::<Vec<_>>();

    let all = id(&[&e5, &e4, &e3, &e2, &e1, &e0]);
    assert_eq!(
        ids(store, &everything(100)).await,
        (6, all.clone()),
        "{b}: newest first, ties by later arrival"
    );

    let cases = [
        (
            "series",
            EventQuery {
                series: Some(e1.series_id),
                ..everything(100)
            },
            id(&[&e3, &e1]),
        ),
        (
            "metric",
            EventQuery {
                metric: Some("latency_ms".into()),
                ..everything(100)
            },
            id(&[&e5, &e4, &e3, &e1]),
        ),
        (
            "service",
            EventQuery {
                service: Some("checkout".into()),
                ..everything(100)
            },
            id(&[&e3, &e2, &e1, &e0]),
        ),
        (
            "incident",
            EventQuery {
                incident: e4.incident.clone(),
                ..everything(100)
            },
            id(&[&e4]),
        ),
        (
            "kind",
            EventQuery {
                kind: Some(EventKind::DriftEnd),
                ..everything(100)
            },
            id(&[&e5, &e3, &e0]),
        ),
        (
            "since (inclusive)",
            EventQuery {
                since: Some(t(300)),
                ..everything(100)
            },
            id(&[&e5, &e4, &e3]),
        ),
        (
            "until (exclusive)",
            EventQuery {
                until: Some(t(300)),
                ..everything(100)
            },
            id(&[&e2, &e1, &e0]),
        ),
        (
            "filters combined",
            EventQuery {
                metric: Some("latency_ms".into()),
                since: Some(t(100)),
                until: Some(t(400)),
                ..everything(100)
            },
            id(&[&e4, &e3, &e1]),
        ),
        (
            "no match",
            EventQuery {
                service: Some("nobody".into()),
                ..everything(100)
            },
            Vec::new(),
        ),
        (
            "unknown series",
            EventQuery {
                series: Some(SeriesId(7)),
                ..everything(100)
            },
            Vec::new(),
        ),
    ];
    for (name, query, want) in cases {
        assert_eq!(ids(store, &query).await, (want.len(), want), "{b}: filter by {name}");
    }

    let page = |limit, offset| EventQuery {
        offset,
        ..everything(limit)
    };
    assert_eq!(
        ids(store, &page(2, 0)).await,
        (6, all[0..2].to_vec()),
        "{b}: first page"
    );
    assert_eq!(
        ids(store, &page(2, 2)).await,
        (6, all[2..4].to_vec()),
        "{b}: second page"
    );
    assert_eq!(
        ids(store, &page(10, 4)).await,
        (6, all[4..].to_vec()),
        "{b}: last, short page"
    );
    assert_eq!(
        ids(store, &page(10, 6)).await,
        (6, Vec::new()),
        "{b}: offset at the end"
    );
    assert_eq!(
        ids(store, &page(10, 60)).await,
        (6, Vec::new()),
        "{b}: offset past the end"
    );
    assert_eq!(
        ids(store, &page(0, 0)).await,
        (6, Vec::new()),
        "{b}: limit 0 counts only"
    );
    let filtered = EventQuery {
        kind: Some(EventKind::DriftStart),
        ..page(1, 1)
    };
    assert_eq!(
        ids(store, &filtered).await,
        (3, id(&[&e2])),
        "{b}: paging applies after filters"
    );

    let stored = store
        .events(&EventQuery {
            series: Some(e2.series_id),
            ..everything(10)
        })
        .await
        .unwrap_or_else(|e| panic!("{b}: query failed: {e}"));
    assert_eq!(stored.events, [e2, e0], "{b}: events come back exactly as appended");
}

/// An event whose id is already stored is kept once, whether repeated in one batch
/// or appended again later (an exporter retrying a batch); the first copy wins.
pub async fn dedupe_by_id(store: &dyn Store) {
    let b = store.backend();
    let first = sample_event("latency_ms", "checkout", EventKind::DriftStart, BASE_TIME);
    let other = sample_event("latency_ms", "checkout", EventKind::DriftEnd, BASE_TIME + SECOND);
    append(store, &[first.clone(), first.clone(), other.clone()]).await;
    let mut changed = first.clone();
    changed.value = 1.0;
    append(store, &[changed, other.clone()]).await;

    assert_eq!(
        ids(store, &everything(100)).await,
        (2, vec![other.id.clone(), first.id.clone()]),
        "{b}: each id is stored once"
    );
    let kept = store
        .events(&EventQuery {
            kind: Some(EventKind::DriftStart),
            ..everything(10)
        })
        .await
        .unwrap_or_else(|e| panic!("{b}: query failed: {e}"));
    assert_eq!(kept.events, [first], "{b}: the first copy of an id is kept");
}

/// Acknowledging marks one event, is idempotent, says false for an unknown id, and
/// survives the event being appended again.
pub async fn acknowledge(store: &dyn Store) {
    let b = store.backend();
    let a = sample_event("latency_ms", "checkout", EventKind::DriftStart, BASE_TIME);
    let other = sample_event("latency_ms", "search", EventKind::DriftStart, BASE_TIME);
    append(store, &[a.clone(), other.clone()]).await;

    let ack = |id: String| async move {
        store
            .acknowledge(&id)
            .await
            .unwrap_or_else(|e| panic!("{b}: acknowledge `{id}` failed: {e}"))
    };
    assert!(
        ack(a.id.clone()).await,
        "{b}: acknowledging a stored event returns true"
    );
    assert!(ack(a.id.clone()).await, "{b}: acknowledging twice is fine");
    assert!(
        !ack("0000000000000000".into()).await,
        "{b}: an unknown id returns false"
    );

    let flags = |events: Vec<DriftEvent>| {
        let mut flags: Vec<_> = events.into_iter().map(|e| (e.id, e.acknowledged)).collect();
        flags.sort();
        flags
    };
    let mut want = vec![(a.id.clone(), true), (other.id.clone(), false)];
    want.sort();
    let page = store
        .events(&everything(10))
        .await
        .unwrap_or_else(|e| panic!("{b}: {e}"));
    assert_eq!(flags(page.events), want, "{b}: only the acknowledged event is marked");

    append(store, &[a]).await;
    let page = store
        .events(&everything(10))
        .await
        .unwrap_or_else(|e| panic!("{b}: {e}"));
    assert_eq!(
        flags(page.events),
        want,
        "{b}: appending an acknowledged event again keeps it acknowledged"
    );
}

/// A store built to keep `max_events` keeps the newest `max_events` and drops the
/// oldest (only backends with such a cap: memory). Call with a small cap (tens).
pub async fn max_events_cap(store: &dyn Store, max_events: usize) {
    let b = store.backend();
    let extra = 5;
    let events: Vec<_> = (0..max_events + extra)
        .map(|i| {
            sample_event(
                "latency_ms",
                &format!("svc-{i}"),
                EventKind::DriftStart,
                BASE_TIME + i as u64 * SECOND,
            )
        })
        .collect();
    for batch in events.chunks(7) {
        append(store, batch).await;
    }
    let (total, kept) = ids(store, &everything(max_events + extra)).await;
    assert_eq!(total, max_events, "{b}: at most max_events are kept");
    let want: Vec<_> = events[extra..].iter().rev().map(|e| e.id.clone()).collect();
    assert_eq!(kept, want, "{b}: the oldest events are the ones dropped");
}

/// An event's snapshot is kept with it: `event(id)` returns both, lists leave the
/// snapshot out, an acknowledgement shows, and pruning the event takes the snapshot too.
pub async fn snapshots(store: &dyn Store) {
    let b = store.backend();
    let mut history = History::default();
    for i in 0..50 {
        let value = if i < 40 { 100.0 } else { 150.0 + f64::from(i) };
        history.push(Row {
            time: (BASE_TIME / SECOND) as f64 + f64::from(i) + 0.5,
            value,
            min: value - 1.0,
            max: value + 1.0,
            level: 100.25,
            sd: 2.5,
        });
    }
    let with = DriftEvent {
        snapshot: Some(Arc::new(history.clone())),
        ..sample_event("latency_ms", "checkout", EventKind::DriftStart, BASE_TIME)
    };
    let without = sample_event("latency_ms", "search", EventKind::DriftStart, BASE_TIME + SECOND);
    append(store, &[with.clone(), without.clone()]).await;

    let by_id = |id: String| async move {
        store
            .event(&id)
            .await
            .unwrap_or_else(|e| panic!("{b}: event `{id}` failed: {e}"))
    };
    assert_eq!(
        by_id(with.id.clone()).await,
        Some(with.clone()),
        "{b}: the event with its snapshot"
    );
    assert_eq!(
        by_id(without.id.clone()).await,
        Some(without.clone()),
        "{b}: an event without one"
    );
    assert_eq!(by_id("0000000000000000".into()).await, None, "{b}: an unknown id");
    let listed = store.events(&everything(10)).await.expect("list");
    assert_eq!(listed.events.len(), 2, "{b}");
    assert!(
        listed.events.iter().all(|e| e.snapshot.is_none()),
        "{b}: lists leave snapshots out"
    );
    assert!(store.acknowledge(&with.id).await.expect("ack"), "{b}");
    let acked = by_id(with.id.clone()).await.expect("still there");
    assert!(
        acked.acknowledged && acked.snapshot.as_deref() == Some(&history),
        "{b}: {acked:?}"
    );

    let removed = store.prune(BASE_TIME + 10 * SECOND).await.expect("prune");
    if removed > 0 {
        assert_eq!(by_id(with.id.clone()).await, None, "{b}: pruned with its event");
    }
}
