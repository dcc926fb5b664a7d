//! PagerDuty Events API v2: a `trigger` when a driftd incident opens or escalates and a
//! `resolve` when it resolves, keyed by the incident id, so one PagerDuty incident
//! follows one driftd incident; per series (`group_by: series`) a trigger per
//! drift_start and a resolve per drift_end, keyed by the series id.

use super::text;
use driftd_core::event::{DriftEvent, EventKind, Severity};
use driftd_core::time::rfc3339;
use driftd_core::{Incident, IncidentChange};
use serde_json::{json, Value};

/// The enqueue body for one event.
pub(crate) fn event(routing_key: &str, e: &DriftEvent) -> Value {
    let dedup_key = e.series_id.to_string();
    match e.kind {
        EventKind::DriftStart => json!({
            "routing_key": routing_key,
            "event_action": "trigger",
            "dedup_key": dedup_key,
            "payload": {
                // PagerDuty truncates the summary at 1024 characters.
                "summary": super::format::clip(&text::sentence(e), 1024),
                "source": "driftd",
                "severity": if e.severity == Some(Severity::Severe) { "critical" } else { "warning" },
                "timestamp": rfc3339(e.timestamp),
                "component": e.series.metric,
                "group": e.series.service().unwrap_or_default(),
                "class": "drift",
                "custom_details": {
                    "series": e.series.to_string(),
                    "event_id": e.id,
                    "detector": e.detector,
                    "value": e.value,
                    "scores": e.scores,
                    "baseline": e.baseline,
                    "recent": e.recent,
                    "onset": rfc3339(e.onset),
                },
            },
        }),
        EventKind::DriftEnd => json!({
            "routing_key": routing_key,
            "event_action": "resolve",
            "dedup_key": dedup_key,
        }),
    }
}

/// The enqueue body for one incident update.
pub(crate) fn incident(routing_key: &str, i: &Incident) -> Value {
    if i.change == IncidentChange::Resolved {
        return json!({
            "routing_key": routing_key,
            "event_action": "resolve",
            "dedup_key": i.id,
        });
    }
    json!({
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": i.id,
        "payload": {
            "summary": super::format::clip(&i.summary, 1024),
            "source": "driftd",
            "severity": if i.severity == Severity::Severe { "critical" } else { "warning" },
            "timestamp": rfc3339(i.updated_at),
            "component": i.primary,
            "group": i.entity,
            "class": "drift incident",
            "custom_details": {
                "incident_id": i.id,
                "change": i.change,
                "opened_at": rfc3339(i.opened_at),
                "members": i.members,
                "instances_total": i.instances_total,
            },
        },
    })
}
