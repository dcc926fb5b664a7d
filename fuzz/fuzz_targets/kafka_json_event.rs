//! Kafka messages in the `json` encoding.
#![no_main]

use driftd_receivers::kafka::decode_json_event;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(event) = decode_json_event(bytes, 1) {
        let _ = event.point();
    }
});
