//! Incidents from real detections: latency histograms of whole services through the
//! drift processor, stepping as the scenarios say.
//! Runs: cargo test -p driftd-processors --test incidents

mod fleet;

use driftd_core::{Incident, IncidentState};
use driftd_processors::drift::{DriftConfig, DriftProcessor};
use fleet::{instance, run, Instance, Out, Service, SECOND, T0};
use std::sync::Arc;

/// The one seed both tests use.
const SEED: u64 = 1;

fn processor() -> (DriftProcessor, Arc<Out>) {
    let out = Arc::new(Out::default());
    (DriftProcessor::new("drift", DriftConfig::default(), out.clone()), out)
}

/// Seconds after the start of data.
fn after(at: u64) -> u64 {
    (at - T0) / SECOND
}

fn describe(incidents: &[Incident]) -> Vec<String> {
    incidents
        .iter()
        .map(|i| format!("{} at {} s: {}", i.id, after(i.opened_at), i.summary))
        .collect()
}

#[test]
fn two_services_stepping_ten_minutes_apart_make_two_incidents() {
    // A false drift of either service before its step would make a third incident: the
    // derived quantile series of so few requests per interval raise about one per 10
    // series-hours (QUALITY.md): of seeds 1 to 10, seed 7 does (issue #13).
    let (p, out) = processor();
    let mut fleet = Service::new(SEED, 2);
    let both = |checkout: f64, payments: f64| -> Vec<Instance> {
        vec![
            instance("checkout", 0, "1", checkout),
            instance("payments", 0, "1", payments),
        ]
    };
    run(&p, &mut fleet, &both(1.0, 1.0), 0, 300);
    run(&p, &mut fleet, &both(1.5, 1.0), 300, 900);
    run(&p, &mut fleet, &both(1.5, 1.5), 900, 1000);
    let incidents: Vec<Incident> = out.incidents().into_values().collect();
    let seen = describe(&incidents);
    assert_eq!(incidents.len(), 2, "{seen:#?}");
    let of = |entity: &str| {
        incidents
            .iter()
            .find(|i| i.entity == entity)
            .unwrap_or_else(|| panic!("{seen:#?}"))
    };
    let (checkout, payments) = (of("checkout"), of("payments"));
    assert!((300..=360).contains(&after(checkout.opened_at)), "{seen:#?}");
    assert!((900..=960).contains(&after(payments.opened_at)), "{seen:#?}");
    for i in [checkout, payments] {
        assert_eq!(i.state, IncidentState::Open, "still slower: {seen:#?}");
        assert_eq!(i.primary, "http.server.duration");
        assert!(i.summary.ends_with("; 1 of 1 instance"), "{}", i.summary);
    }
    println!("{seen:#?}");
}

#[test]
fn three_instances_stepping_together_make_one_incident() {
    let (p, out) = processor();
    let mut fleet = Service::new(SEED, 3);
    let checkout = |slower: f64| -> Vec<Instance> { (0..3).map(|n| instance("checkout", n, "1", slower)).collect() };
    run(&p, &mut fleet, &checkout(1.0), 0, 300);
    run(&p, &mut fleet, &checkout(1.5), 300, 600);
    let incidents: Vec<Incident> = out.incidents().into_values().collect();
    let seen = describe(&incidents);
    assert_eq!(incidents.len(), 1, "{seen:#?}");
    let i = &incidents[0];
    assert_eq!(i.entity, "checkout");
    assert!(i.summary.ends_with("; 3 of 3 instances"), "{}", i.summary);
    let latency = i
        .members
        .iter()
        .find(|m| m.signal == "http.server.duration")
        .expect("latency member");
    assert_eq!(latency.instances.len(), 3, "{latency:?}");
    // Every drift of the step names the incident.
    let events = out.events.lock().unwrap();
    assert!(
        events.iter().all(|e| e.incident.as_deref() == Some(i.id.as_str())),
        "{events:#?}"
    );
    println!("{seen:#?}");
}
