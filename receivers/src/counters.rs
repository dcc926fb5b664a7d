//! The counters every receiver keeps, under the names the OTLP receiver uses, created
//! once at build time so the hot path only increments.

use metrics::Counter;

/// `driftd_receiver_*_total` for one receiver and transport.
pub struct ReceiverCounters {
    /// Points handed to the pipelines.
    pub accepted: Counter,
    /// Points refused (invalid, late, duplicate).
    pub refused: Counter,
    requests: [Counter; Outcome::ALL.len()],
}

/// How a request (or a Kafka message) ended, for `driftd_receiver_requests_total{outcome}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Taken.
    Ok,
    /// Malformed or invalid.
    BadRequest,
    /// Over the size limit.
    TooLarge,
    /// The pipeline was full or shutting down.
    Unavailable,
}

impl Outcome {
    const ALL: [Outcome; 4] = [
        Outcome::Ok,
        Outcome::BadRequest,
        Outcome::TooLarge,
        Outcome::Unavailable,
    ];

    fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::BadRequest => "bad_request",
            Outcome::TooLarge => "too_large",
            Outcome::Unavailable => "unavailable",
        }
    }
}

impl ReceiverCounters {
    /// Registers the counters of `receiver` (its component id) on `transport`.
    pub fn new(receiver: &str, transport: &'static str) -> Self {
        let labels = [("receiver", receiver.to_string()), ("transport", transport.to_string())];
        let requests = Outcome::ALL.map(|o| {
            let mut l = labels.to_vec();
            l.push(("outcome", o.as_str().to_string()));
            metrics::counter!("driftd_receiver_requests_total", &l)
        });
        ReceiverCounters {
            accepted: metrics::counter!("driftd_receiver_accepted_points_total", &labels),
            refused: metrics::counter!("driftd_receiver_refused_points_total", &labels),
            requests,
        }
    }

    /// Counts one request by how it ended.
    pub fn request(&self, outcome: Outcome) {
        let i = Outcome::ALL.iter().position(|o| *o == outcome).unwrap_or(0);
        self.requests[i].increment(1);
    }
}
