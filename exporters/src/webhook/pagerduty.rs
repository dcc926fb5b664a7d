//! PagerDuty Events API v2: a `trigger` per drift_start and a `resolve` per drift_end,
//! both keyed by the series id, so one incident follows one series' drift.

use super::text;
use driftd_core::event::{DriftEvent, EventKind, Severity};
use driftd_core::time::rfc3339;
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
