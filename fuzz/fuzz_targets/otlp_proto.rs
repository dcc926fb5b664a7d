//! OTLP/protobuf request bytes: decode in place, materialise every label and bucket
//! set, and check that whatever prost accepts the in-place decoder accepts too.
#![no_main]

use driftd_core::{Buckets, LabelSource, ValueKind};
use driftd_receivers::otlp::{decode, IdentityConfig, RequestLabels};
use libfuzzer_sys::fuzz_target;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use prost::Message;

fuzz_target!(|bytes: &[u8]| {
    let identity = IdentityConfig::default();
    let (mut points, mut origins) = (Vec::new(), Vec::new());
    let decoded = decode(bytes, &identity, &mut points, &mut origins);
    if ExportMetricsServiceRequest::decode(bytes).is_ok() {
        assert!(decoded.is_ok(), "prost accepts what the decoder refused: {decoded:?}");
    }
    if decoded.is_ok() {
        let labels = RequestLabels::new(bytes, &origins, &identity);
        let mut buckets = Buckets::default();
        for p in &points {
            assert_eq!(labels.labels(p.origin).id(), p.series);
            let is_histogram = matches!(p.kind, ValueKind::Histogram { .. });
            assert_eq!(labels.buckets(p.origin, &mut buckets), is_histogram);
        }
    }
});
