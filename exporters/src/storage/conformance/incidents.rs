//! Incidents: saved by id, a newer update replaces an older one and never the other way
//! round, acknowledgement survives later updates, queries filter and order.

use super::{BASE_TIME, SECOND};
use driftd_core::event::Severity;
use driftd_core::incident::{Incident, IncidentChange, IncidentQuery, IncidentState, Member};
use driftd_core::store::Store;

/// An open incident of `entity` opened at `opened_at`, with one member.
pub fn sample_incident(entity: &str, opened_at: u64) -> Incident {
    Incident {
        id: Incident::id_for(entity, opened_at),
        entity: entity.to_string(),
        state: IncidentState::Open,
        change: IncidentChange::Opened,
        severity: Severity::Moderate,
        opened_at,
        updated_at: opened_at,
        resolved_at: None,
        primary: "http.server.duration".to_string(),
        members: vec![Member {
            signal: "http.server.duration".to_string(),
            series: vec!["http.server.duration_p99".to_string()],
            instances: vec!["pod-1".to_string()],
            detector: "auto".to_string(),
            severity: Severity::Moderate,
            onset: opened_at.saturating_sub(5 * SECOND),
            detected: opened_at,
            before: 120.0,
            after: 336.0,
            change_percent: Some(180.0),
            headline: "http.server.duration_p99".to_string(),
            drifting: 1,
        }],
        instances_total: 3,
        summary: format!("{entity}: http.server.duration p99 +180% (120 → 336)"),
    }
}

/// The same incident, resolved at `at`.
pub fn resolved(incident: &Incident, at: u64) -> Incident {
    Incident {
        state: IncidentState::Resolved,
        change: IncidentChange::Resolved,
        updated_at: at,
        resolved_at: Some(at),
        ..incident.clone()
    }
}

fn all() -> IncidentQuery {
    IncidentQuery {
        limit: 100,
        ..IncidentQuery::default()
    }
}

async fn query(store: &dyn Store, q: &IncidentQuery) -> Vec<Incident> {
    store
        .incidents(q)
        .await
        .unwrap_or_else(|e| panic!("{}: incidents({q:?}) failed: {e}", store.backend()))
}

async fn save(store: &dyn Store, incidents: &[Incident]) {
    store
        .save_incidents(incidents)
        .await
        .unwrap_or_else(|e| panic!("{}: save_incidents failed: {e}", store.backend()));
}

/// The whole incident contract.
pub async fn incidents(store: &dyn Store) {
    let b = store.backend();
    let t = |s: u64| BASE_TIME + s * SECOND;
    let checkout = sample_incident("checkout", t(10));
    let search = sample_incident("shop/search", t(20));
    save(store, &[checkout.clone(), search.clone()]).await;
    assert_eq!(
        query(store, &all()).await,
        [search.clone(), checkout.clone()],
        "{b}: incidents come back exactly as saved, the latest opened first"
    );
    assert_eq!(
        store
            .incident(&checkout.id)
            .await
            .unwrap_or_else(|e| panic!("{b}: {e}")),
        Some(checkout.clone()),
        "{b}: an incident is fetched by id"
    );
    assert_eq!(
        store
            .incident("inc-missing")
            .await
            .unwrap_or_else(|e| panic!("{b}: {e}")),
        None,
        "{b}: an unknown id is None"
    );

    // A newer update replaces; an older one arriving late does not.
    let mut escalated = checkout.clone();
    escalated.change = IncidentChange::Escalated;
    escalated.severity = Severity::Severe;
    escalated.updated_at = t(30);
    save(store, std::slice::from_ref(&escalated)).await;
    save(store, std::slice::from_ref(&checkout)).await;
    assert_eq!(
        store
            .incident(&checkout.id)
            .await
            .unwrap_or_else(|e| panic!("{b}: {e}")),
        Some(escalated.clone()),
        "{b}: a save never replaces a newer update"
    );

    // Acknowledgement: shown while open, kept across updates, and gone from view once
    // resolved.
    assert!(
        store
            .acknowledge_incident(&checkout.id)
            .await
            .unwrap_or_else(|e| panic!("{b}: {e}")),
        "{b}: acknowledging a stored incident says so"
    );
    assert!(
        !store
            .acknowledge_incident("inc-missing")
            .await
            .unwrap_or_else(|e| panic!("{b}: {e}")),
        "{b}: acknowledging an unknown id says false"
    );
    let mut updated = escalated.clone();
    updated.change = IncidentChange::Updated;
    updated.updated_at = t(40);
    save(store, std::slice::from_ref(&updated)).await;
    let shown = store
        .incident(&checkout.id)
        .await
        .unwrap_or_else(|e| panic!("{b}: {e}"));
    assert_eq!(
        shown.as_ref().map(|i| i.state),
        Some(IncidentState::Acknowledged),
        "{b}: an acknowledgement survives the processor's later updates"
    );
    let by_state = |state| IncidentQuery {
        state: Some(state),
        ..all()
    };
    assert_eq!(
        query(store, &by_state(IncidentState::Acknowledged)).await.len(),
        1,
        "{b}: state=acknowledged"
    );
    assert_eq!(
        query(store, &by_state(IncidentState::Open)).await,
        std::slice::from_ref(&search),
        "{b}: state=open leaves out acknowledged ones"
    );
    let done = resolved(&updated, t(50));
    save(store, std::slice::from_ref(&done)).await;
    assert_eq!(
        query(store, &by_state(IncidentState::Resolved)).await,
        std::slice::from_ref(&done),
        "{b}: a resolved incident shows resolved, acknowledged or not"
    );

    // Other filters and the limit.
    let by_entity = IncidentQuery {
        entity: Some("shop/search".into()),
        ..all()
    };
    assert_eq!(
        query(store, &by_entity).await,
        std::slice::from_ref(&search),
        "{b}: entity filter"
    );
    let since = IncidentQuery {
        since: Some(t(45)),
        ..all()
    };
    assert_eq!(
        query(store, &since).await,
        std::slice::from_ref(&done),
        "{b}: since filters on the last update"
    );
    let one = IncidentQuery { limit: 1, ..all() };
    assert_eq!(
        query(store, &one).await,
        std::slice::from_ref(&search),
        "{b}: limit keeps the latest opened"
    );

    // Retention: incidents not updated since the cut-off go.
    let removed = store
        .prune(t(45))
        .await
        .unwrap_or_else(|e| panic!("{b}: prune failed: {e}"));
    assert_eq!(
        removed, 1,
        "{b}: prune removes the incident not updated since the cut-off"
    );
    assert_eq!(
        query(store, &all()).await,
        [done],
        "{b}: the recently updated incident stays"
    );
}
