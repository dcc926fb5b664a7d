//! OTLP/JSON request bytes (HTTP and the Kafka `otlp_json` encoding).
#![no_main]

use driftd_core::LabelSource;
use driftd_receivers::kafka::decode_otlp_json;
use driftd_receivers::otlp::{decode, IdentityConfig, RequestLabels};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(request) = decode_otlp_json(bytes) {
        let identity = IdentityConfig::default();
        let (mut points, mut origins) = (Vec::new(), Vec::new());
        decode(&request, &identity, &mut points, &mut origins).expect("re-encoded JSON decodes");
        let labels = RequestLabels::new(&request, &origins, &identity);
        for p in &points {
            assert_eq!(labels.labels(p.origin).id(), p.series);
        }
    }
});
