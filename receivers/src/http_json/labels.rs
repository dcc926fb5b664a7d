//! Series identity of the JSON API's points: hashed per point, materialised as labels
//! only for new series, from the same fields so both always agree.

use super::decode::{PointIn, Telemetry};
use driftd_core::model::SeriesHasher;
use driftd_core::{LabelSource, Point, SeriesLabels, ValueKind, SERVICE_LABEL};

/// The `/v1/telemetry` measurements, in `origin` order.
const MEASUREMENTS: [&str; 2] = ["latency_ms", "payload_kb"];

impl Telemetry<'_> {
    /// The request's points (latency, then payload when sent) and how many there are.
    pub fn points(&self) -> ([Point; 2], usize) {
        let point = |origin: u32, value: f64| {
            let mut h = SeriesHasher::new(MEASUREMENTS[origin as usize]);
            h.label(SERVICE_LABEL, &*self.service_id);
            Point {
                series: h.finish(),
                time_unix_nano: self.time_unix_nano,
                value,
                kind: ValueKind::Gauge,
                origin,
            }
        };
        let latency = point(0, self.latency_ms);
        match self.payload_kb {
            Some(kb) => ([latency, point(1, kb)], 2),
            None => ([latency, latency], 1),
        }
    }
}

impl LabelSource for Telemetry<'_> {
    fn labels(&self, origin: u32) -> SeriesLabels {
        let metric = MEASUREMENTS.get(origin as usize).copied().unwrap_or(MEASUREMENTS[0]);
        SeriesLabels::new(metric, vec![(SERVICE_LABEL.to_string(), self.service_id.to_string())])
    }
}

impl PointIn<'_> {
    /// The point, its series hashed from the metric name and labels.
    pub fn point(&self, origin: u32) -> Point {
        let mut h = SeriesHasher::new(&*self.metric);
        for (k, v) in &self.labels {
            h.label(k, v);
        }
        Point {
            series: h.finish(),
            time_unix_nano: self.time_unix_nano,
            value: self.value,
            kind: ValueKind::Gauge,
            origin,
        }
    }
}

/// Labels of the points of one `/v1/points` request (`origin` indexes them).
pub struct PointLabels<'a>(pub &'a [PointIn<'a>]);

impl LabelSource for PointLabels<'_> {
    fn labels(&self, origin: u32) -> SeriesLabels {
        match self.0.get(origin as usize) {
            Some(p) => SeriesLabels::new(p.metric.to_string(), p.labels.clone()),
            // Origins come from this very request; a miss is a bug, not bad input.
            None => {
                tracing::error!(origin, "JSON point origin does not resolve in its request");
                SeriesLabels::new(String::new(), Vec::new())
            }
        }
    }
}
