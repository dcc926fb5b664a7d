//! Bodies of `POST /v1/telemetry` and `POST /v1/points`.
#![no_main]

use driftd_receivers::http_json::{decode_points, decode_telemetry};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let _ = decode_telemetry(bytes, 1);
    let _ = decode_points(bytes, 1);
});
