//! What a storage backend reads back (SQL rows, Redis values): events, incidents and
//! histories as JSON, ids and states as text. Whatever decodes must write and read back
//! as the same value, so nothing read back can turn into something else on the next write.
#![no_main]

use driftd_core::event::EventKind;
use driftd_core::history::History;
use driftd_core::incident::{Incident, IncidentState};
use driftd_core::view::SeriesState;
use driftd_core::{DriftEvent, SeriesId, SeriesLabels};
use libfuzzer_sys::fuzz_target;
use serde::de::DeserializeOwned;
use serde::Serialize;

fn round_trips<T: Serialize + DeserializeOwned>(bytes: &[u8]) {
    let Ok(value) = serde_json::from_slice::<T>(bytes) else {
        return;
    };
    let json = serde_json::to_vec(&value).expect("what was read can be written");
    let again: T = serde_json::from_slice(&json).expect("what was written can be read");
    let json_again = serde_json::to_vec(&again).unwrap();
    assert_eq!(String::from_utf8_lossy(&json_again), String::from_utf8_lossy(&json));
}

fuzz_target!(|bytes: &[u8]| {
    round_trips::<DriftEvent>(bytes);
    round_trips::<Incident>(bytes);
    round_trips::<History>(bytes);
    round_trips::<SeriesLabels>(bytes);
    let text = String::from_utf8_lossy(bytes);
    if let Ok(id) = text.parse::<SeriesId>() {
        assert_eq!(id.to_string().parse::<SeriesId>().ok(), Some(id));
    }
    let _ = text.parse::<SeriesState>();
    let _ = text.parse::<EventKind>();
    let _ = text.parse::<IncidentState>();
});
