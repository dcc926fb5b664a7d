//! Alertmanager `POST /api/v2/alerts`: an incident that opens fires one alert (labels
//! `alertname=DriftIncident`, `incident_id`, `entity`, `severity`), its resolve resolves
//! it (`endsAt` in the past); per series (`group_by: series`) a drift_start fires and a
//! drift_end resolves. Alerts still firing are sent again every `resend_interval` with
//! `endsAt` pushed forward, as Alertmanager expects of a client (it resolves an alert
//! on its own when it stops hearing about it).

use super::text;
use driftd_core::event::{DriftEvent, EventKind, Severity};
use driftd_core::time::{now_unix_nano, rfc3339};
use driftd_core::{Incident, IncidentChange};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::time::Duration;

/// Labels driftd sets itself; a series label with one of these names is prefixed.
const OWN_LABELS: [&str; 6] = ["alertname", "metric", "series_id", "severity", "incident_id", "entity"];

/// A Prometheus label name from any string: `service.name` → `service_name`.
pub(crate) fn label_name(key: &str) -> String {
    let mut name: String = key
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' })
        .collect();
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, '_');
    }
    if OWN_LABELS.contains(&name.as_str()) {
        name.insert_str(0, "label_");
    }
    name
}

pub(crate) fn severity_label(s: Option<Severity>) -> &'static str {
    match s {
        Some(Severity::Severe) => "critical",
        _ => "warning",
    }
}

fn labels(e: &DriftEvent, severity: &str) -> Map<String, Value> {
    let mut labels = Map::new();
    for (k, v) in &e.series.labels {
        labels.insert(label_name(k), Value::String(v.clone()));
    }
    labels.insert("alertname".into(), "DriftDetected".into());
    labels.insert("metric".into(), e.series.metric.clone().into());
    labels.insert("series_id".into(), e.series_id.to_string().into());
    labels.insert("severity".into(), severity.into());
    labels
}

/// The alert a drift_start fires (without `endsAt`).
fn firing_alert(e: &DriftEvent) -> Value {
    json!({
        "labels": labels(e, severity_label(e.severity)),
        "annotations": {"summary": text::title(e), "description": text::details(e)},
        "startsAt": rfc3339(e.timestamp),
    })
}

/// The alert an incident fires (without `endsAt`).
fn incident_alert(i: &Incident) -> Value {
    json!({
        "labels": {
            "alertname": "DriftIncident",
            "incident_id": i.id,
            "entity": i.entity,
            "severity": severity_label(Some(i.severity)),
        },
        "annotations": {"summary": i.summary, "description": text::incident_details(i)},
        "startsAt": rfc3339(i.opened_at),
    })
}

/// Alerts firing now, by series id or incident id, as last sent (without `endsAt`).
#[derive(Default)]
pub(crate) struct Firing {
    alerts: BTreeMap<String, Value>,
}

/// `endsAt` for a firing alert: four resend intervals ahead, so a driftd that stops
/// talking lets its alerts expire instead of firing forever.
fn expires(resend: Duration) -> String {
    let ahead = u64::try_from((resend * 4).as_nanos()).unwrap_or(u64::MAX);
    rfc3339(now_unix_nano().saturating_add(ahead))
}

impl Firing {
    /// The body for `events`.
    pub fn body(&self, events: &[&DriftEvent], resend: Duration) -> Value {
        let mut alerts = Vec::with_capacity(events.len());
        // Alerts fired earlier in this same batch.
        let mut fired_now: BTreeMap<String, Value> = BTreeMap::new();
        for e in events {
            let key = e.series_id.to_string();
            match e.kind {
                EventKind::DriftStart => {
                    let alert = firing_alert(e);
                    fired_now.insert(key, alert.clone());
                    let mut alert = alert;
                    alert["endsAt"] = Value::String(expires(resend));
                    alerts.push(alert);
                }
                EventKind::DriftEnd => {
                    // Resolve with the labels the alert fired with; if driftd does not
                    // know them (it restarted meanwhile), resolve either severity.
                    let ended = rfc3339(e.timestamp.min(now_unix_nano()));
                    let known = fired_now.remove(&key).or_else(|| self.alerts.get(&key).cloned());
                    let fired: Vec<Value> = match known {
                        Some(a) => vec![a],
                        None => ["critical", "warning"]
                            .iter()
                            .map(|s| json!({"labels": labels(e, s), "startsAt": rfc3339(e.onset)}))
                            .collect(),
                    };
                    for mut alert in fired {
                        alert["annotations"] = json!({"summary": text::title(e), "description": text::details(e)});
                        alert["endsAt"] = Value::String(ended.clone());
                        alerts.push(alert);
                    }
                }
            }
        }
        Value::Array(alerts)
    }

    /// Records delivered events: starts fire, ends resolve.
    pub fn apply(&mut self, events: &[&DriftEvent]) {
        for e in events {
            match e.kind {
                EventKind::DriftStart => {
                    self.alerts.insert(e.series_id.to_string(), firing_alert(e));
                }
                EventKind::DriftEnd => {
                    self.alerts.remove(&e.series_id.to_string());
                }
            }
        }
    }

    /// The body for incident updates: an opened incident fires; an escalated one fires
    /// with its new severity and, when that changed the labels, resolves the alert it
    /// fired before (so Alertmanager holds one alert per incident); a resolved one
    /// resolves (both severities when driftd restarted since it fired).
    pub fn incident_body(&self, incidents: &[&Incident], resend: Duration) -> Value {
        let mut alerts = Vec::with_capacity(incidents.len());
        let mut fired_now: BTreeMap<&str, Value> = BTreeMap::new();
        let now = now_unix_nano();
        for i in incidents {
            let before = fired_now
                .remove(i.id.as_str())
                .or_else(|| self.alerts.get(&i.id).cloned());
            let resolve = |mut alert: Value, at: u64| {
                alert["endsAt"] = Value::String(rfc3339(at.min(now)));
                alert
            };
            match i.change {
                IncidentChange::Opened | IncidentChange::Escalated | IncidentChange::Updated => {
                    let alert = incident_alert(i);
                    if let Some(old) = before.filter(|old| old["labels"] != alert["labels"]) {
                        alerts.push(resolve(old, now));
                    }
                    let mut firing = alert.clone();
                    firing["endsAt"] = Value::String(expires(resend));
                    alerts.push(firing);
                    fired_now.insert(&i.id, alert);
                }
                IncidentChange::Resolved => {
                    let ended = i.resolved_at.unwrap_or(i.updated_at);
                    let fired = match before {
                        Some(alert) => vec![alert],
                        None => [driftd_core::Severity::Moderate, driftd_core::Severity::Severe]
                            .map(|severity| {
                                incident_alert(&Incident {
                                    severity,
                                    ..(*i).clone()
                                })
                            })
                            .to_vec(),
                    };
                    for mut alert in fired {
                        alert["annotations"] = incident_alert(i)["annotations"].clone();
                        alerts.push(resolve(alert, ended));
                    }
                }
            }
        }
        Value::Array(alerts)
    }

    /// Records delivered incident updates.
    pub fn apply_incidents(&mut self, incidents: &[&Incident]) {
        for i in incidents {
            if i.change == IncidentChange::Resolved {
                self.alerts.remove(&i.id);
            } else {
                self.alerts.insert(i.id.clone(), incident_alert(i));
            }
        }
    }

    /// Every firing alert with `endsAt` moved forward; `None` when nothing fires.
    pub fn resend_body(&self, resend: Duration) -> Option<Value> {
        if self.alerts.is_empty() {
            return None;
        }
        let ends = expires(resend);
        let alerts = self
            .alerts
            .values()
            .map(|a| {
                let mut a = a.clone();
                a["endsAt"] = Value::String(ends.clone());
                a
            })
            .collect();
        Some(Value::Array(alerts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_names_are_sanitised() {
        assert_eq!(label_name("service.name"), "service_name");
        assert_eq!(label_name("9lives"), "_9lives");
        assert_eq!(label_name("severity"), "label_severity");
        assert_eq!(label_name("k8s-pod"), "k8s_pod");
    }
}
