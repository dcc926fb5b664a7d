use super::*;
use driftd_core::{
    DriftEvent, EndReason, EventKind, Incident, IncidentChange, IncidentState, SeriesLabels, Severity, Stats,
};
use std::collections::BTreeMap;
use std::sync::Arc;

const S: u64 = 1_000_000_000;

fn labels(metric: &str, service: &str, instance: Option<&str>) -> SeriesLabels {
    let mut l = vec![("service.name".to_string(), service.to_string())];
    if let Some(i) = instance {
        l.push(("service.instance.id".to_string(), i.to_string()));
    }
    SeriesLabels::new(metric, l)
}

fn start(
    metric: &str,
    service: &str,
    instance: Option<&str>,
    at: u64,
    severity: Severity,
    before: f64,
    after: f64,
) -> DriftEvent {
    let series = labels(metric, service, instance);
    let change = after - before;
    DriftEvent {
        id: format!("{metric}{service}{at}"),
        kind: EventKind::DriftStart,
        series_id: series.id(),
        series: Arc::new(series),
        timestamp: at * S,
        onset: (at - 5) * S,
        detector: "auto".into(),
        severity: Some(severity),
        reason: None,
        value: after,
        scores: BTreeMap::from([
            ("change".to_string(), change),
            ("change_percent".to_string(), 100.0 * change / before),
        ]),
        baseline: Stats {
            mean: before,
            stddev: 1.0,
            samples: 100,
        },
        recent: Stats {
            mean: after,
            stddev: 1.0,
            samples: 10,
        },
        acknowledged: false,
        incident: None,
        snapshot: None,
    }
}

fn end(of: &DriftEvent, at: u64) -> DriftEvent {
    DriftEvent {
        kind: EventKind::DriftEnd,
        timestamp: at * S,
        severity: None,
        reason: Some(EndReason::Recovered),
        incident: None,
        ..of.clone()
    }
}

fn book() -> IncidentBook {
    IncidentBook::new(IncidentsConfig::default())
}

fn observe(b: &mut IncidentBook, events: &mut [DriftEvent]) -> Vec<Incident> {
    b.observe(events, &|_| 3)
}

#[test]
fn one_step_of_one_service_is_one_incident_with_its_histogram_folded() {
    let mut b = book();
    let mut events = vec![
        start(
            "http.server.duration",
            "checkout",
            None,
            100,
            Severity::Moderate,
            100.0,
            200.0,
        ),
        start(
            "http.server.duration_mean",
            "checkout",
            None,
            101,
            Severity::Severe,
            100.0,
            200.0,
        ),
        start(
            "http.server.duration_p99",
            "checkout",
            None,
            102,
            Severity::Severe,
            120.0,
            336.0,
        ),
        start(
            "http.server.requests",
            "checkout",
            None,
            103,
            Severity::Moderate,
            50.0,
            40.0,
        ),
        start(
            "http.server.duration_mean",
            "cart",
            None,
            104,
            Severity::Moderate,
            10.0,
            20.0,
        ),
    ];
    let changed = observe(&mut b, &mut events);
    assert_eq!(changed.len(), 2, "{changed:#?}");
    let checkout = &changed[0];
    assert_eq!(
        (checkout.entity.as_str(), checkout.change),
        ("checkout", IncidentChange::Opened)
    );
    assert_eq!(checkout.severity, Severity::Severe);
    assert_eq!(checkout.primary, "http.server.duration");
    let signals: Vec<&str> = checkout.members.iter().map(|m| m.signal.as_str()).collect();
    assert_eq!(signals, ["http.server.duration", "http.server.requests"]);
    let latency = &checkout.members[0];
    assert_eq!(latency.series.len(), 3);
    assert_eq!(
        latency.headline, "http.server.duration_p99",
        "the series that moved most"
    );
    assert_eq!((latency.before, latency.after), (120.0, 336.0));
    assert!(
        checkout
            .summary
            .starts_with("checkout: http.server.duration p99 +180% (120 → 336) since"),
        "{}",
        checkout.summary
    );
    assert_eq!(changed[1].entity, "cart");
    assert_ne!(changed[0].id, changed[1].id);
    // Every event says which incident it joined.
    assert!(events[..4]
        .iter()
        .all(|e| e.incident.as_deref() == Some(checkout.id.as_str())));
    assert_eq!(events[4].incident.as_deref(), Some(changed[1].id.as_str()));
}

#[test]
fn instances_of_a_service_stepping_together_make_one_incident() {
    let mut b = book();
    let mut events: Vec<DriftEvent> = ["a", "b", "c"]
        .iter()
        .enumerate()
        .map(|(n, i)| {
            start(
                "latency",
                "checkout",
                Some(i),
                100 + n as u64,
                Severity::Severe,
                100.0,
                150.0,
            )
        })
        .collect();
    let changed = observe(&mut b, &mut events);
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0].members.len(), 1);
    assert_eq!(changed[0].members[0].instances, ["a", "b", "c"]);
    assert!(
        changed[0].summary.ends_with("; 3 of 3 instances"),
        "{}",
        changed[0].summary
    );
}

#[test]
fn an_incident_resolves_a_window_after_its_last_member_recovered() {
    let mut b = book();
    let p99 = start("latency_p99", "checkout", None, 100, Severity::Severe, 100.0, 200.0);
    let count = start("requests", "checkout", None, 110, Severity::Moderate, 100.0, 150.0);
    let opened = observe(&mut b, &mut [p99.clone(), count.clone()]);
    let id = opened[0].id.clone();
    assert!(!b.resolving());
    let changed = observe(&mut b, &mut [end(&p99, 200)]);
    assert_eq!(
        (changed[0].change, changed[0].state),
        (IncidentChange::Updated, IncidentState::Open)
    );
    assert!(b.tick(1_000 * S).is_empty(), "a member still drifts");
    observe(&mut b, &mut [end(&count, 300)]);
    assert!(b.resolving());
    assert!(b.tick(300 * S + 119 * S).is_empty(), "the window has not passed");
    let resolved = b.tick(300 * S + 120 * S);
    assert_eq!(resolved.len(), 1);
    assert_eq!(
        (resolved[0].id.as_str(), resolved[0].state),
        (id.as_str(), IncidentState::Resolved)
    );
    assert_eq!(resolved[0].change, IncidentChange::Resolved);
    assert_eq!(resolved[0].resolved_at, Some(300 * S));
    assert!(
        resolved[0].summary.starts_with("resolved: checkout:"),
        "{}",
        resolved[0].summary
    );
    assert!(!b.resolving());
    assert!(b.tick(10_000 * S).is_empty(), "resolved once");
}

#[test]
fn a_drift_within_the_window_rejoins_and_one_after_it_opens_a_new_incident() {
    let mut b = book();
    let first = start("latency_p99", "checkout", None, 100, Severity::Moderate, 100.0, 200.0);
    let id = observe(&mut b, &mut [first.clone()])[0].id.clone();
    observe(&mut b, &mut [end(&first, 200)]);
    let again = start("latency_p99", "checkout", None, 260, Severity::Severe, 100.0, 200.0);
    let rejoined = observe(&mut b, &mut [again.clone()]);
    assert_eq!(rejoined[0].id, id);
    assert_eq!(rejoined[0].change, IncidentChange::Escalated, "moderate → severe");
    observe(&mut b, &mut [end(&again, 300)]);
    let later = start("latency_p99", "checkout", None, 900, Severity::Moderate, 100.0, 200.0);
    let changed = observe(&mut b, &mut [later]);
    assert_eq!(changed.len(), 2, "{changed:#?}");
    assert_eq!(
        (changed[0].id.as_str(), changed[0].change),
        (id.as_str(), IncidentChange::Resolved)
    );
    assert_eq!(changed[1].change, IncidentChange::Opened);
    assert_ne!(changed[1].id, id);
}

#[test]
fn three_agreeing_signals_make_an_incident_severe() {
    let mut b = book();
    let mut events: Vec<DriftEvent> = ["latency", "errors", "saturation"]
        .iter()
        .map(|m| start(m, "checkout", None, 100, Severity::Moderate, 100.0, 130.0))
        .collect();
    let changed = observe(&mut b, &mut events[..2]);
    assert_eq!(changed[0].severity, Severity::Moderate);
    let changed = observe(&mut b, &mut events[2..]);
    assert_eq!(
        (changed[0].severity, changed[0].change),
        (Severity::Severe, IncidentChange::Escalated)
    );
}

#[test]
fn the_window_must_be_positive() {
    let c: IncidentsConfig = serde_yaml::from_str("window: 0s").unwrap();
    let paths: Vec<_> = c.validate("incidents").into_iter().map(|e| e.path).collect();
    assert_eq!(paths, ["incidents.window"]);
}

#[test]
fn a_restored_incident_goes_on_with_its_still_drifting_series() {
    let mut before = book();
    let latency = start("latency", "checkout", None, 100, Severity::Moderate, 100.0, 150.0);
    let errors = start("errors", "checkout", None, 101, Severity::Moderate, 1.0, 5.0);
    let opened = observe(&mut before, &mut [latency.clone(), errors.clone()]);
    let stored = opened.last().unwrap().clone();
    let quiet = start("latency", "payments", None, 100, Severity::Moderate, 10.0, 20.0);
    let other = observe(&mut before, &mut [quiet]).pop().unwrap();

    // After a restart only `latency` of checkout still drifts.
    let mut after = book();
    let series = labels("latency", "checkout", None);
    after.restore(vec![stored.clone(), other.clone()], &[(series.id(), &series)], 200 * S);
    assert_eq!(after.open_incidents().count(), 2);
    // payments has nothing drifting: it resolves once the window passed since the restart.
    assert!(after.tick(250 * S).is_empty());
    let resolved = after.tick(320 * S);
    assert_eq!(resolved.len(), 1);
    assert_eq!(
        (resolved[0].id.as_str(), resolved[0].state),
        (other.id.as_str(), IncidentState::Resolved)
    );
    // checkout's drift ends: the same incident then resolves.
    let changed = observe(&mut after, &mut [end(&latency, 330)]);
    assert_eq!(changed[0].id, stored.id);
    let resolved = after.tick(500 * S);
    assert_eq!(resolved.len(), 1, "{resolved:?}");
    assert_eq!(
        (resolved[0].id.as_str(), resolved[0].state),
        (stored.id.as_str(), IncidentState::Resolved)
    );
}
