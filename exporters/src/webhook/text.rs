//! The words of an alert: what drifted, from what to what, how strongly, since when.
//! Every format uses these, so Slack, Discord, PagerDuty and Alertmanager say the same.

use driftd_core::event::{DriftEvent, EndReason, EventKind, Severity};
use driftd_core::time::rfc3339;
use driftd_core::{Incident, IncidentChange};

/// A number for people: at most 4 significant digits after the point, no noise.
fn num(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

/// `severe`, `moderate`, or `recovered` / `rebaselined` / `expired` / `evicted` for an end.
pub(crate) fn status_word(e: &DriftEvent) -> &'static str {
    match (e.kind, e.severity, e.reason) {
        (EventKind::DriftStart, Some(Severity::Severe), _) => "severe",
        (EventKind::DriftStart, _, _) => "moderate",
        (EventKind::DriftEnd, _, Some(EndReason::Rebaselined)) => "rebaselined",
        (EventKind::DriftEnd, _, Some(EndReason::Expired)) => "expired",
        (EventKind::DriftEnd, _, Some(EndReason::Evicted)) => "evicted",
        (EventKind::DriftEnd, _, _) => "recovered",
    }
}

/// The z-score, when the detector gave one.
pub(crate) fn z_score(e: &DriftEvent) -> Option<f64> {
    e.scores.get("z").copied()
}

/// One line: `latency_ms{service.name="checkout"} drifted (severe)`.
pub(crate) fn title(e: &DriftEvent) -> String {
    match e.kind {
        EventKind::DriftStart => format!("{} drifted ({})", e.series, status_word(e)),
        EventKind::DriftEnd => format!("{} is back to normal ({})", e.series, status_word(e)),
    }
}

/// The explanation: baseline vs recent, scores, onset and detection.
pub(crate) fn details(e: &DriftEvent) -> String {
    let b = &e.baseline;
    let r = &e.recent;
    let mut text = format!(
        "recent mean {} ± {} ({} samples) vs baseline {} ± {} ({} samples)",
        num(r.mean),
        num(r.stddev),
        r.samples,
        num(b.mean),
        num(b.stddev),
        b.samples
    );
    if let Some(z) = z_score(e) {
        text.push_str(&format!(", z-score {}", num(z)));
    }
    let others: Vec<String> = e
        .scores
        .iter()
        .filter(|(k, _)| k.as_str() != "z")
        .map(|(k, v)| format!("{k} {}", num(*v)))
        .collect();
    if !others.is_empty() {
        text.push_str(&format!(" ({})", others.join(", ")));
    }
    match e.kind {
        EventKind::DriftStart => text.push_str(&format!(
            "; change began about {}, detected {} by {} at value {}",
            rfc3339(e.onset),
            rfc3339(e.timestamp),
            e.detector,
            num(e.value)
        )),
        EventKind::DriftEnd => text.push_str(&format!(
            "; drift began about {}, ended {} ({})",
            rfc3339(e.onset),
            rfc3339(e.timestamp),
            status_word(e)
        )),
    }
    text
}

/// Title and details on one line.
pub(crate) fn sentence(e: &DriftEvent) -> String {
    format!("{}: {}", title(e), details(e))
}

/// A heading for a group of events.
pub(crate) fn summary(events: &[&DriftEvent]) -> String {
    let started = events.iter().filter(|e| e.kind == EventKind::DriftStart).count();
    let ended = events.len() - started;
    match (started, ended) {
        (1, 0) | (0, 1) => title(events[0]),
        (s, 0) => format!("driftd: {s} series drifted"),
        (0, e) => format!("driftd: {e} series back to normal"),
        (s, e) => format!("driftd: {s} series drifted, {e} back to normal"),
    }
}

/// `opened`, `escalated`, `updated`, `resolved`.
pub(crate) fn incident_word(i: &Incident) -> &'static str {
    match i.change {
        IncidentChange::Opened => "opened",
        IncidentChange::Escalated => "escalated",
        IncidentChange::Updated => "updated",
        IncidentChange::Resolved => "resolved",
    }
}

fn severity_word(s: Severity) -> &'static str {
    match s {
        Severity::Severe => "severe",
        Severity::Moderate => "moderate",
    }
}

/// One line: `checkout: incident opened (severe)`.
pub(crate) fn incident_title(i: &Incident) -> String {
    format!(
        "{}: incident {} ({})",
        i.entity,
        incident_word(i),
        severity_word(i.severity)
    )
}

/// The summary, then one line per member: what moved, from what to what, where.
pub(crate) fn incident_details(i: &Incident) -> String {
    let mut text = i.summary.clone();
    for m in &i.members {
        let change = m.change_percent.map(|p| format!(" ({p:+.0}%)")).unwrap_or_default();
        text.push_str(&format!(
            "\n• {} ({}): {} → {}{change}, {}, since {}",
            m.signal,
            m.series.join(", "),
            num(m.before),
            num(m.after),
            severity_word(m.severity),
            rfc3339(m.onset)
        ));
        if !m.instances.is_empty() {
            text.push_str(&format!(" on {}", m.instances.join(", ")));
        }
    }
    text.push_str(&format!("\nincident {} opened {}", i.id, rfc3339(i.opened_at)));
    text
}

/// A heading for a group of incident updates.
pub(crate) fn incidents_summary(incidents: &[&Incident]) -> String {
    if let [one] = incidents {
        return incident_title(one);
    }
    let count = |change| incidents.iter().filter(|i| i.change == change).count();
    let parts: Vec<String> = [
        (IncidentChange::Opened, "opened"),
        (IncidentChange::Escalated, "escalated"),
        (IncidentChange::Resolved, "resolved"),
    ]
    .iter()
    .filter_map(|(change, word)| match count(*change) {
        0 => None,
        n => Some(format!("{n} {word}")),
    })
    .collect();
    format!("driftd: incidents {}", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::conformance::{sample_event, BASE_TIME};

    #[test]
    fn a_drift_is_explained() {
        let e = sample_event("latency_ms", "checkout", EventKind::DriftStart, BASE_TIME);
        assert_eq!(
            sentence(&e),
            "latency_ms{region=\"eu\",service.name=\"checkout\"} drifted (severe): recent mean 148 ± 12.25 \
             (20 samples) vs baseline 100 ± 10.5 (100 samples), z-score 4.5 (violations 3); change began \
             about 2026-01-12T10:30:40Z, detected 2026-01-12T10:30:45Z by zscore at value 150.25"
        );
        let end = sample_event("latency_ms", "checkout", EventKind::DriftEnd, BASE_TIME);
        assert!(title(&end).ends_with("is back to normal (recovered)"));
        assert_eq!(summary(&[&e, &end]), "driftd: 1 series drifted, 1 back to normal");
        assert_eq!(num(-0.0001), "0");
    }
}
