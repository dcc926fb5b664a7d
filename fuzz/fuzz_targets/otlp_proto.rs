//! OTLP/protobuf request bytes: decode, walk into points, materialise every label.
#![no_main]

use driftd_core::LabelSource;
use driftd_receivers::otlp::{decode, IdentityConfig, RequestLabels};
use libfuzzer_sys::fuzz_target;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use prost::Message;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(request) = ExportMetricsServiceRequest::decode(bytes) {
        let identity = IdentityConfig::default();
        let (mut points, mut origins) = (Vec::new(), Vec::new());
        decode(&request, &identity, &mut points, &mut origins);
        let labels = RequestLabels::new(&request, &origins, &identity);
        for p in &points {
            assert_eq!(labels.labels(p.origin).id(), p.series);
        }
    }
});
