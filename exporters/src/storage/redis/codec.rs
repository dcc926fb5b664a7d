//! How events, statuses and checkpoints are written as Redis values. Events are their
//! own JSON (`DriftEvent` is serde); the others get small records here.

use driftd_core::event::Stats;
use driftd_core::store::{Checkpoint, SeriesStatus, StoreError};
use driftd_core::view::SeriesState;
use driftd_core::{DriftEvent, SeriesId, SeriesLabels};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

#[derive(Serialize, Deserialize)]
struct StatusRecord {
    series: SeriesLabels,
    state: SeriesState,
    transition_time: u64,
    sample_count: u64,
    baseline: Option<Stats>,
    updated_at: u64,
}

fn unreadable(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Rejected(format!("stored {what} is unreadable: {e}"))
}

/// An event as JSON without its snapshot (lists read bodies, never snapshots), and its
/// snapshot as JSON (empty when it has none).
pub(super) fn encode_event(e: &DriftEvent) -> Result<(String, String), StoreError> {
    let unserializable =
        |err: serde_json::Error| StoreError::Rejected(format!("event {} is not serializable: {err}", e.id));
    let body = e.without_snapshot();
    let snapshot = match &e.snapshot {
        Some(s) => serde_json::to_string(s.as_ref()).map_err(unserializable)?,
        None => String::new(),
    };
    Ok((serde_json::to_string(&body).map_err(unserializable)?, snapshot))
}

/// A status as JSON.
pub(super) fn encode_status(s: &SeriesStatus) -> Result<String, StoreError> {
    serde_json::to_string(&StatusRecord {
        series: (*s.series).clone(),
        state: s.state,
        transition_time: s.transition_time,
        sample_count: s.sample_count,
        baseline: s.baseline,
        updated_at: s.updated_at,
    })
    .map_err(|e| StoreError::Rejected(format!("status of {} is not serializable: {e}", s.series_id)))
}

/// A status from its field (series id) and JSON.
pub(super) fn decode_status(field: &str, json: &[u8]) -> Result<SeriesStatus, StoreError> {
    let r: StatusRecord = serde_json::from_slice(json).map_err(|e| unreadable("status", e))?;
    Ok(SeriesStatus {
        series_id: field.parse().map_err(|e| unreadable("series id", e))?,
        series: Arc::new(r.series),
        state: r.state,
        transition_time: r.transition_time,
        sample_count: r.sample_count,
        baseline: r.baseline,
        updated_at: r.updated_at,
    })
}

/// A checkpoint as the labels' JSON, a newline, then the state bytes untouched
/// (JSON never holds a raw newline, so the first one is the separator).
pub(super) fn encode_checkpoint(c: &Checkpoint) -> Result<Vec<u8>, StoreError> {
    let mut value = serde_json::to_vec(&*c.labels)
        .map_err(|e| StoreError::Rejected(format!("labels of {} are not serializable: {e}", c.series_id)))?;
    value.push(b'\n');
    value.extend_from_slice(&c.state);
    Ok(value)
}

/// A checkpoint from its field (series id), value and update time.
pub(super) fn decode_checkpoint(field: &str, value: &[u8], updated: &str) -> Result<Checkpoint, StoreError> {
    let split = value
        .iter()
        .position(|&b| b == b'\n')
        .ok_or_else(|| unreadable("checkpoint", "no separator"))?;
    let labels: SeriesLabels =
        serde_json::from_slice(&value[..split]).map_err(|e| unreadable("checkpoint labels", e))?;
    Ok(Checkpoint {
        series_id: field.parse::<SeriesId>().map_err(|e| unreadable("series id", e))?,
        labels: Arc::new(labels),
        state: value[split + 1..].to_vec(),
        updated_at: updated.parse().map_err(|e| unreadable("checkpoint time", e))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::conformance::{sample_checkpoint, sample_status, BASE_TIME};

    #[test]
    fn records_round_trip() {
        let s = sample_status("m", "api", SeriesState::Stable, BASE_TIME);
        let json = encode_status(&s).expect("encodes");
        assert_eq!(
            decode_status(&s.series_id.to_string(), json.as_bytes()).expect("decodes"),
            s
        );

        let c = sample_checkpoint("m", "api", b"\n\x00\nbytes\n", BASE_TIME);
        let value = encode_checkpoint(&c).expect("encodes");
        let back = decode_checkpoint(&c.series_id.to_string(), &value, &BASE_TIME.to_string()).expect("decodes");
        assert_eq!(back, c);
    }
}
