//! The line people read: what moved, how much, since when and where.
//!
//! `checkout: http.server.duration p99 +96% (103 → 202) since 14:02:05 UTC, with
//! http.server.requests -20% (50 → 40); 3 of 3 instances`
//!
//! and for a canary comparison `checkout@service.version=2: http.server.duration p99
//! +30% (120 → 156) against the rest since 14:02:05 UTC`.

use super::canary::CANARY;
use super::entity::aspect_of;
use driftd_core::{Incident, IncidentState, Member};
use std::fmt::Write as _;

/// Members named in full; the rest are counted.
const NAMED: usize = 3;

/// The summary of an incident in its current state.
pub fn summarise(i: &Incident) -> String {
    let mut s = String::new();
    if i.state == IncidentState::Resolved {
        s.push_str("resolved: ");
    }
    let _ = write!(s, "{}: ", i.entity);
    for (n, m) in i.members.iter().take(NAMED).enumerate() {
        if n == 1 {
            s.push_str(", with ");
        } else if n > 1 {
            s.push_str(", ");
        }
        member(&mut s, m);
        if m.detector == CANARY {
            s.push_str(" against the rest");
        }
        if n == 0 {
            let since = driftd_core::time::rfc3339(m.onset.min(i.opened_at));
            let _ = write!(s, " since {} UTC", since.get(11..19).unwrap_or(&since));
        }
    }
    if i.members.len() > NAMED {
        let _ = write!(s, " and {} more signals", i.members.len() - NAMED);
    }
    let affected = i.members.iter().map(|m| m.instances.len()).max().unwrap_or(0);
    if affected > 0 {
        let total = (i.instances_total as usize).max(affected);
        let noun = if total == 1 { "instance" } else { "instances" };
        let _ = write!(s, "; {affected} of {total} {noun}");
    }
    s
}

fn member(s: &mut String, m: &Member) {
    s.push_str(&m.signal);
    let aspect = aspect_of(&m.headline, &m.signal);
    if !aspect.is_empty() {
        let _ = write!(s, " {aspect}");
    }
    if let Some(p) = m.change_percent {
        let _ = write!(s, " {p:+.0}%");
    }
    let _ = write!(s, " ({} → {})", figure(m.before), figure(m.after));
}

/// About three significant digits, without trailing zeros.
fn figure(v: f64) -> String {
    let a = v.abs();
    let text = if a >= 100.0 || a == 0.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    };
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use driftd_core::{IncidentChange, Severity};

    fn member(signal: &str, headline: &str, before: f64, after: f64, instances: &[&str]) -> Member {
        Member {
            signal: signal.into(),
            series: vec![headline.into()],
            instances: instances.iter().map(|s| s.to_string()).collect(),
            detector: "auto".into(),
            severity: Severity::Severe,
            onset: 1_768_213_845_000_000_000,
            detected: 1_768_213_850_000_000_000,
            before,
            after,
            change_percent: Some(100.0 * (after - before) / before),
            headline: headline.into(),
            drifting: 1,
        }
    }

    #[test]
    fn says_what_moved_how_much_since_when_and_where() {
        let mut i = Incident {
            id: "inc-1".into(),
            entity: "checkout".into(),
            state: IncidentState::Open,
            change: IncidentChange::Opened,
            severity: Severity::Severe,
            opened_at: 1_768_213_850_000_000_000,
            updated_at: 1_768_213_850_000_000_000,
            resolved_at: None,
            primary: "http.server.duration".into(),
            members: vec![
                member(
                    "http.server.duration",
                    "http.server.duration_p99",
                    120.0,
                    336.0,
                    &["a", "b", "c"],
                ),
                member("http.server.requests", "http.server.requests", 50.0, 40.0, &["a"]),
            ],
            instances_total: 3,
            summary: String::new(),
        };
        assert_eq!(
            summarise(&i),
            "checkout: http.server.duration p99 +180% (120 → 336) since 10:30:45 UTC, \
             with http.server.requests -20% (50 → 40); 3 of 3 instances"
        );
        i.state = IncidentState::Resolved;
        i.members.truncate(1);
        i.members[0].instances.clear();
        i.members[0].before = 0.5;
        i.members[0].after = 1.25;
        assert_eq!(
            summarise(&i),
            "resolved: checkout: http.server.duration p99 +180% (0.5 → 1.25) since 10:30:45 UTC"
        );
    }
}
