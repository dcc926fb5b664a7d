//! One message's way from payload to pipeline, free of any Kafka client so it can be
//! tested alone: decode, drop duplicates and late points, consume, count.

use super::config::{Encoding, KafkaConfig};
use super::decode::{decode_json_event, decode_otlp_json, OtlpDecodeError};
use super::gate::{event_id_key, point_key, Gate, Verdict};
use crate::counters::ReceiverCounters;
use crate::otlp::{decode, IdentityConfig, Origin, RequestLabels};
use driftd_core::{Batch, ConsumeError, Consumer, Point};
use metrics::Counter;
use std::sync::Arc;
use std::time::Instant;

/// What became of a message the pipeline did not refuse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Handled {
    /// At least one point went on (or the message held none that could).
    Ok {
        /// Points fed on.
        accepted: u64,
    },
    /// Every point had been seen before.
    Duplicate,
    /// Every point was behind its series' watermark.
    Late,
    /// The payload does not decode; the reason says why.
    Undecodable(String),
}

/// `driftd_kafka_messages_total{outcome}` and the receiver's point counters.
struct Counters {
    points: ReceiverCounters,
    ok: Counter,
    undecodable: Counter,
    duplicate: Counter,
    late: Counter,
}

impl Counters {
    fn new(receiver: &str) -> Self {
        let by = |outcome: &'static str| metrics::counter!("driftd_kafka_messages_total", "receiver" => receiver.to_string(), "outcome" => outcome);
        Counters {
            points: ReceiverCounters::new(receiver, "kafka"),
            ok: by("ok"),
            undecodable: by("undecodable"),
            duplicate: by("duplicate"),
            late: by("late"),
        }
    }
}

/// Decodes messages and feeds their points on. Buffers are reused across messages.
pub struct Ingest {
    encoding: Encoding,
    identity: IdentityConfig,
    output: Arc<dyn Consumer>,
    gate: Gate,
    counters: Counters,
    points: Vec<Point>,
    origins: Vec<Origin>,
}

impl Ingest {
    /// The ingest path of receiver `name`.
    pub fn new(name: &str, config: &KafkaConfig, output: Arc<dyn Consumer>) -> Self {
        Ingest {
            encoding: config.encoding,
            identity: config.identity.clone(),
            output,
            gate: Gate::new(&config.dedupe, config.allowed_lateness),
            counters: Counters::new(name),
            points: Vec::new(),
            origins: Vec::new(),
        }
    }

    /// Handles one message. `message_time` stamps a `json` event without
    /// `event_time`. `Err` means the pipeline refused it and nothing of it was
    /// remembered: retry the same message later.
    pub fn handle(&mut self, payload: &[u8], message_time: u64) -> Result<Handled, ConsumeError> {
        let outcome = match self.encoding {
            Encoding::Json => self.json(payload, message_time),
            Encoding::OtlpProto => self.otlp(payload),
            Encoding::OtlpJson => match decode_otlp_json(payload) {
                Ok(request) => self.otlp(&request),
                Err(e) => Ok(Handled::Undecodable(e.to_string())),
            },
        }?;
        match &outcome {
            Handled::Ok { .. } => self.counters.ok.increment(1),
            Handled::Duplicate => self.counters.duplicate.increment(1),
            Handled::Late => self.counters.late.increment(1),
            Handled::Undecodable(_) => self.counters.undecodable.increment(1),
        }
        Ok(outcome)
    }

    fn json(&mut self, payload: &[u8], message_time: u64) -> Result<Handled, ConsumeError> {
        let event = match decode_json_event(payload, message_time) {
            Ok(e) => e,
            Err(e) => return Ok(Handled::Undecodable(e.to_string())),
        };
        let point = event.point();
        let key = event
            .event_id
            .as_deref()
            .map_or_else(|| point_key(&point), event_id_key);
        self.gate.begin();
        match self.gate.admit(&point, key, Instant::now()) {
            Verdict::Pass => {}
            Verdict::Duplicate => {
                self.counters.points.refused.increment(1);
                return Ok(Handled::Duplicate);
            }
            Verdict::Late => {
                self.counters.points.refused.increment(1);
                return Ok(Handled::Late);
            }
        }
        let points = [point];
        if let Err(e) = self.output.consume(&Batch::new(&points, &event)) {
            self.gate.rollback();
            return Err(e);
        }
        self.counters.points.accepted.increment(1);
        Ok(Handled::Ok { accepted: 1 })
    }

    /// Handles an encoded `ExportMetricsServiceRequest`.
    fn otlp(&mut self, request: &[u8]) -> Result<Handled, ConsumeError> {
        self.points.clear();
        self.origins.clear();
        let summary = match decode(request, &self.identity, &mut self.points, &mut self.origins) {
            Ok(summary) => summary,
            Err(e) => return Ok(Handled::Undecodable(OtlpDecodeError::Protobuf(e).to_string())),
        };
        let (mut duplicates, mut late) = (0u64, 0u64);
        let now = Instant::now();
        self.gate.begin();
        let gate = &mut self.gate;
        self.points.retain(|p| match gate.admit(p, point_key(p), now) {
            Verdict::Pass => true,
            Verdict::Duplicate => {
                duplicates += 1;
                false
            }
            Verdict::Late => {
                late += 1;
                false
            }
        });
        if !self.points.is_empty() {
            let labels = RequestLabels::new(request, &self.origins, &self.identity);
            if let Err(e) = self.output.consume(&Batch::new(&self.points, &labels)) {
                self.gate.rollback();
                return Err(e);
            }
        }
        let accepted = self.points.len() as u64;
        self.counters.points.accepted.increment(accepted);
        self.counters
            .points
            .refused
            .increment(summary.refused + duplicates + late);
        Ok(match (accepted, duplicates, late) {
            (0, d, _) if d > 0 => Handled::Duplicate,
            (0, 0, l) if l > 0 => Handled::Late,
            _ => Handled::Ok { accepted },
        })
    }
}
