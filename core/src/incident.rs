//! Incidents: the drift events of one entity (a service, and its instances) that belong
//! to one problem, folded into one record that says what is wrong, where, since when and
//! how badly. The drift processor groups events into incidents (on events, never on
//! points); exporters notify per incident and stores keep them next to the events.

use crate::event::Severity;
use crate::time::serde_rfc3339;
use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::xxh3_64;

/// Where an incident stands.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentState {
    /// At least one member drifts, or the last one recovered less than a quiet period ago.
    Open,
    /// Open, and someone said they are on it.
    Acknowledged,
    /// Every member recovered and stayed so for the quiet period.
    Resolved,
}

impl IncidentState {
    /// The name used in JSON, SQL and query parameters.
    pub fn as_str(self) -> &'static str {
        match self {
            IncidentState::Open => "open",
            IncidentState::Acknowledged => "acknowledged",
            IncidentState::Resolved => "resolved",
        }
    }
}

impl std::str::FromStr for IncidentState {
    type Err = crate::invalid::Invalid;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "open" => Ok(IncidentState::Open),
            "acknowledged" => Ok(IncidentState::Acknowledged),
            "resolved" => Ok(IncidentState::Resolved),
            _ => Err(crate::invalid::Invalid::new(
                s,
                "an incident state",
                "use open, acknowledged or resolved",
            )),
        }
    }
}

/// What the latest update of an incident was: notifications go out on `opened`,
/// `escalated` and `resolved`; `updated` (a member joined or recovered without raising
/// the severity) is stored and shown but notifies no one.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentChange {
    /// The first drift of the entity.
    Opened,
    /// A member joined with a higher severity than the incident had.
    Escalated,
    /// A member joined or recovered; the severity did not rise.
    Updated,
    /// Every member recovered for the quiet period.
    Resolved,
}

impl IncidentChange {
    /// Whether people are told about this change.
    pub fn notifies(self) -> bool {
        !matches!(self, IncidentChange::Updated)
    }
}

/// One signal of an incident: an OTLP metric (a histogram with its derived `_mean`,
/// `_p99`, ... series, a counter's rate, a gauge), across the entity's instances.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Member {
    /// The metric name, derived-series suffixes removed (`http.server.duration`).
    pub signal: String,
    /// The series of it that drifted, by metric name (`http.server.duration_p99`).
    pub series: Vec<String>,
    /// The instances whose series drifted (empty when the entity has no instances).
    pub instances: Vec<String>,
    /// The detector of its first drift.
    pub detector: String,
    /// The strongest severity among its drifts.
    pub severity: Severity,
    /// When its change began (the earliest onset).
    #[serde(with = "serde_rfc3339")]
    pub onset: u64,
    /// When its first drift was raised.
    #[serde(with = "serde_rfc3339")]
    pub detected: u64,
    /// The headline series' level before the change (its baseline mean).
    pub before: f64,
    /// The headline series' level since the change.
    pub after: f64,
    /// `after - before` relative to `before`, in percent (absent when `before` is 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_percent: Option<f64>,
    /// Which of `series` the before/after figures are from: the one that moved most.
    pub headline: String,
    /// Series of it still drifting.
    pub drifting: u32,
}

/// One problem of one entity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    /// Deterministic: the entity and the event time it opened at.
    pub id: String,
    /// The entity (`checkout`, `shop/checkout`, `checkout@production`).
    pub entity: String,
    /// Open, acknowledged or resolved.
    pub state: IncidentState,
    /// What its latest update was.
    pub change: IncidentChange,
    /// The strongest member's severity, raised to severe when three or more
    /// independent signals agree.
    pub severity: Severity,
    /// Event time of its first drift.
    #[serde(with = "serde_rfc3339")]
    pub opened_at: u64,
    /// Event time of its latest update.
    #[serde(with = "serde_rfc3339")]
    pub updated_at: u64,
    /// Event time it resolved at.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "serde_rfc3339::option")]
    pub resolved_at: Option<u64>,
    /// The signal of the primary member: the first to drift.
    pub primary: String,
    /// Its signals, the primary first, then in the order they joined.
    pub members: Vec<Member>,
    /// Instances of the entity known when it was last updated (0: the entity has none).
    pub instances_total: u32,
    /// A line for people: what moved, how much, since when, where.
    pub summary: String,
}

impl Incident {
    /// The deterministic id of the incident of `entity` opened at `opened_at`.
    pub fn id_for(entity: &str, opened_at: u64) -> String {
        let mut bytes = Vec::with_capacity(entity.len() + 9);
        bytes.extend_from_slice(entity.as_bytes());
        bytes.push(0);
        bytes.extend_from_slice(&opened_at.to_le_bytes());
        format!("inc-{:016x}", xxh3_64(&bytes))
    }

    /// Whether it is still open (acknowledged or not).
    pub fn is_open(&self) -> bool {
        self.state != IncidentState::Resolved
    }
}

/// Which incidents to return, newest first.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct IncidentQuery {
    /// Only in this state.
    pub state: Option<IncidentState>,
    /// Only of this entity.
    pub entity: Option<String>,
    /// Updated at or after (ns).
    pub since: Option<u64>,
    /// Page size.
    pub limit: usize,
}

impl IncidentQuery {
    /// Whether an incident passes the filters.
    pub fn matches(&self, i: &Incident) -> bool {
        self.state.is_none_or(|s| s == i.state)
            && self.entity.as_deref().is_none_or(|e| e == i.entity)
            && self.since.is_none_or(|t| i.updated_at >= t)
    }
}
