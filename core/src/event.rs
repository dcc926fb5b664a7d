//! Drift events: what the drift processor says, and why.

use crate::history::History;
use crate::model::{SeriesId, SeriesLabels};
use crate::time::serde_rfc3339;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use xxhash_rust::xxh3::xxh3_64;

/// Start or end of a drift episode.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// The series left its normal behaviour.
    DriftStart,
    /// The series is back to normal (or its new level was accepted as normal).
    DriftEnd,
}

impl EventKind {
    /// The name used in JSON, SQL and query parameters.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::DriftStart => "drift_start",
            EventKind::DriftEnd => "drift_end",
        }
    }
}

impl std::str::FromStr for EventKind {
    type Err = crate::invalid::Invalid;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "drift_start" => Ok(EventKind::DriftStart),
            "drift_end" => Ok(EventKind::DriftEnd),
            _ => Err(crate::invalid::Invalid::new(
                s,
                "an event kind",
                "use drift_start or drift_end",
            )),
        }
    }
}

/// How strong the evidence for a drift is.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Sustained moderate deviation.
    Moderate,
    /// Consecutive large deviations.
    Severe,
}

/// Why a drift ended.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// The series returned to its baseline.
    Recovered,
    /// The drift persisted long enough to become the new normal.
    Rebaselined,
    /// The series stopped reporting while drifting and was forgotten after
    /// `series_ttl`: not a recovery, but nothing is left to alert on.
    Expired,
    /// The series was let go while drifting to keep driftd's memory under its hard
    /// limit.
    Evicted,
}

/// Summary statistics of a stretch of samples.
#[derive(Copy, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// Mean.
    pub mean: f64,
    /// Standard deviation.
    pub stddev: f64,
    /// How many samples the figures describe.
    pub samples: u64,
}

/// One drift transition of one series, with the evidence behind it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DriftEvent {
    /// Deterministic id: the same data and config always give the same id.
    pub id: String,
    /// Start or end.
    pub kind: EventKind,
    /// The series' identity.
    pub series_id: SeriesId,
    /// The series' metric name and labels.
    pub series: Arc<SeriesLabels>,
    /// Event time of the sample at which the transition fired.
    #[serde(with = "serde_rfc3339")]
    pub timestamp: u64,
    /// Estimated event time at which the change began.
    #[serde(with = "serde_rfc3339")]
    pub onset: u64,
    /// The detector that fired.
    pub detector: String,
    /// Strength of a drift_start; absent on drift_end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    /// Why a drift ended; absent on drift_start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<EndReason>,
    /// The value of the sample at which it fired.
    pub value: f64,
    /// The detector's scores at that sample (e.g. `z`, `violations`).
    pub scores: BTreeMap<String, f64>,
    /// What normal looked like.
    pub baseline: Stats,
    /// What the series looked like recently.
    pub recent: Stats,
    /// Whether someone has acknowledged the event.
    #[serde(default)]
    pub acknowledged: bool,
    /// The incident this drift belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident: Option<String>,
    /// The evidence: the series' recent history, with its baseline, up to this event
    /// (absent when no history was kept for the series). Stored with the event and
    /// returned by `GET /v1/events/{id}`, never in event lists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<Arc<History>>,
}

impl DriftEvent {
    /// This event without its snapshot: what lists, notifications and the event log
    /// carry (the snapshot stays in the storage backend, `GET /v1/events/{id}`).
    pub fn without_snapshot(&self) -> DriftEvent {
        DriftEvent {
            snapshot: None,
            ..self.clone()
        }
    }

    /// The deterministic id of a transition: series, kind and event time.
    pub fn id_for(series: SeriesId, kind: EventKind, timestamp: u64) -> String {
        let mut bytes = [0u8; 17];
        bytes[..8].copy_from_slice(&series.0.to_le_bytes());
        bytes[8] = kind as u8;
        bytes[9..].copy_from_slice(&timestamp.to_le_bytes());
        format!("{:016x}", xxh3_64(&bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_ids_are_deterministic_and_distinct() {
        let s = SeriesId(42);
        let a = DriftEvent::id_for(s, EventKind::DriftStart, 1_000);
        assert_eq!(a, DriftEvent::id_for(s, EventKind::DriftStart, 1_000));
        assert_ne!(a, DriftEvent::id_for(s, EventKind::DriftEnd, 1_000));
        assert_ne!(a, DriftEvent::id_for(s, EventKind::DriftStart, 1_001));
        assert_ne!(a, DriftEvent::id_for(SeriesId(43), EventKind::DriftStart, 1_000));
    }

    #[test]
    fn event_json_round_trips_with_rfc3339_times() {
        let e = DriftEvent {
            id: "x".into(),
            kind: EventKind::DriftStart,
            series_id: SeriesId(7),
            series: Arc::new(SeriesLabels::new("m", vec![])),
            timestamp: 1_768_213_845_000_000_000,
            onset: 1_768_213_840_000_000_000,
            detector: "zscore".into(),
            severity: Some(Severity::Severe),
            reason: None,
            value: 9.0,
            scores: BTreeMap::from([("z".to_string(), 5.0)]),
            baseline: Stats::default(),
            recent: Stats::default(),
            acknowledged: false,
            incident: None,
            snapshot: None,
        };
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["timestamp"], "2026-01-12T10:30:45Z");
        assert_eq!(json["kind"], "drift_start");
        assert_eq!(json["series_id"], "0000000000000007");
        let back: DriftEvent = serde_json::from_value(json).unwrap();
        assert_eq!(back, e);
    }
}
