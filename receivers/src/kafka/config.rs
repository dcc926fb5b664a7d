//! `receivers.kafka`: where to consume from, how messages are encoded, and the rules
//! that keep delivery at-least-once without double counting.
//!
//! ```yaml
//! kafka:
//!   brokers: [127.0.0.1:9092]
//!   topics: [telemetry]
//!   group_id: driftd
//!   client_id: driftd
//!   initial_offset: latest        # where a new group starts: earliest | latest
//!   encoding: otlp_proto          # json | otlp_proto | otlp_json
//!   dedupe: {size: 100000, ttl: 10m}
//!   allowed_lateness: 0s
//!   commit_interval: 1s
//!   dead_letter_topic: telemetry-undecodable
//!   properties:                   # passed to librdkafka as they are (SASL, TLS, ...)
//!     security.protocol: SASL_PLAINTEXT
//!     sasl.mechanism: PLAIN
//!     sasl.username: driftd
//!     sasl.password: ${env:KAFKA_PASSWORD}
//! ```

use crate::otlp::IdentityConfig;
use driftd_core::config::{FieldError, Secret};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// The Kafka receiver's config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaConfig {
    /// Bootstrap brokers, `host:port`.
    #[serde(default = "KafkaConfig::default_brokers")]
    pub brokers: Vec<String>,
    /// Topics to consume (at least one).
    #[serde(default)]
    pub topics: Vec<String>,
    /// Consumer group: instances with the same group share the partitions, and a
    /// restarted instance resumes from the group's committed offsets.
    #[serde(default = "KafkaConfig::default_group_id")]
    pub group_id: String,
    /// Client id, shown in broker logs and metrics.
    #[serde(default = "KafkaConfig::default_client_id")]
    pub client_id: String,
    /// Where a group without committed offsets starts.
    #[serde(default)]
    pub initial_offset: InitialOffset,
    /// How each message is encoded.
    #[serde(default)]
    pub encoding: Encoding,
    /// Which OTLP attributes identify a series (`otlp_proto`, `otlp_json`), as on the
    /// `otlp` receiver.
    #[serde(default)]
    pub identity: IdentityConfig,
    /// Duplicate suppression.
    #[serde(default)]
    pub dedupe: DedupeConfig,
    /// How far behind its series' newest point a point may be and still be fed on;
    /// older points are dropped and counted as `late`. With the default 0s nothing is
    /// ever fed to a detector out of order.
    #[serde(default, with = "humantime_serde")]
    pub allowed_lateness: Duration,
    /// How often processed offsets are committed (also on rebalance and shutdown). With
    /// a checkpointing drift processor only offsets a saved checkpoint covers are, so
    /// commits follow its `checkpoint_interval`.
    #[serde(default = "KafkaConfig::default_commit_interval", with = "humantime_serde")]
    pub commit_interval: Duration,
    /// Where undecodable messages are copied (with headers naming the source topic,
    /// partition, offset and error); none by default: they are logged, counted, skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dead_letter_topic: Option<String>,
    /// librdkafka settings passed as they are (`security.protocol`, `sasl.*`,
    /// `ssl.*`, `session.timeout.ms`, ...). Values are treated as secrets.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub properties: BTreeMap<String, Secret>,
}

/// `initial_offset`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InitialOffset {
    /// From the oldest message kept.
    Earliest,
    /// Only messages produced after the group first joined.
    #[default]
    Latest,
}

/// `encoding`: what one message holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    /// One event: `{"source_id", "metric", "value", "event_time", "event_id"?}`.
    Json,
    /// An OTLP `ExportMetricsServiceRequest` in protobuf, as the OpenTelemetry
    /// Collector's Kafka exporter writes it (its default).
    #[default]
    OtlpProto,
    /// The same request in OTLP/JSON.
    OtlpJson,
}

/// `dedupe`: points already seen (same `event_id`, or for events without one the same
/// series, time and value) within the window are dropped and counted as `duplicate`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DedupeConfig {
    /// How many recent ids are remembered; 0 turns dedupe off.
    #[serde(default = "DedupeConfig::default_size")]
    pub size: usize,
    /// How long an id is remembered.
    #[serde(default = "DedupeConfig::default_ttl", with = "humantime_serde")]
    pub ttl: Duration,
}

impl DedupeConfig {
    fn default_size() -> usize {
        100_000
    }

    fn default_ttl() -> Duration {
        Duration::from_secs(600)
    }
}

impl Default for DedupeConfig {
    fn default() -> Self {
        DedupeConfig {
            size: Self::default_size(),
            ttl: Self::default_ttl(),
        }
    }
}

/// librdkafka settings driftd sets itself, from the fields named here.
const OWNED_PROPERTIES: [(&str, &str); 6] = [
    ("bootstrap.servers", "brokers"),
    ("group.id", "group_id"),
    ("client.id", "client_id"),
    ("auto.offset.reset", "initial_offset"),
    (
        "enable.auto.commit",
        "commit_interval (driftd commits only what it processed)",
    ),
    (
        "enable.auto.offset.store",
        "commit_interval (driftd commits only what it processed)",
    ),
];

impl KafkaConfig {
    fn default_brokers() -> Vec<String> {
        vec!["127.0.0.1:9092".to_string()]
    }

    fn default_group_id() -> String {
        "driftd".to_string()
    }

    fn default_client_id() -> String {
        "driftd".to_string()
    }

    fn default_commit_interval() -> Duration {
        Duration::from_secs(1)
    }

    /// Cross-field rules and the checks types cannot express.
    pub fn validate(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if self.brokers.is_empty() {
            errors.push(FieldError::new("brokers", "list at least one broker (`host:port`)"));
        }
        for (i, b) in self.brokers.iter().enumerate() {
            if b.trim().is_empty() || !b.contains(':') {
                errors.push(FieldError::new(
                    format!("brokers[{i}]"),
                    format!("`{b}` is not `host:port`"),
                ));
            }
        }
        if self.topics.is_empty() {
            errors.push(FieldError::new("topics", "list at least one topic to consume"));
        }
        for (i, t) in self.topics.iter().enumerate() {
            if let Err(e) = check_topic(t) {
                errors.push(FieldError::new(format!("topics[{i}]"), e));
            } else if self.topics[..i].contains(t) {
                errors.push(FieldError::new(
                    format!("topics[{i}]"),
                    format!("`{t}` is listed twice"),
                ));
            }
        }
        if self.group_id.is_empty() {
            errors.push(FieldError::new("group_id", "must not be empty"));
        }
        if let Some(dlq) = &self.dead_letter_topic {
            if let Err(e) = check_topic(dlq) {
                errors.push(FieldError::new("dead_letter_topic", e));
            } else if self.topics.contains(dlq) {
                errors.push(FieldError::new(
                    "dead_letter_topic",
                    format!("`{dlq}` is also consumed: undecodable messages would come straight back"),
                ));
            }
        }
        if self.commit_interval.is_zero() {
            errors.push(FieldError::new("commit_interval", "must be longer than 0s"));
        }
        for key in self.properties.keys() {
            if let Some((_, field)) = OWNED_PROPERTIES.iter().find(|(k, _)| k == key) {
                errors.push(FieldError::new(
                    format!("properties.{key}"),
                    format!("driftd sets `{key}` itself: use `{field}`"),
                ));
            }
        }
        errors
    }
}

/// Kafka's own rule for topic names.
fn check_topic(t: &str) -> Result<(), String> {
    let legal = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if t.is_empty() || t.len() > 249 || t == "." || t == ".." || !t.chars().all(legal) {
        return Err(format!(
            "`{t}` is not a Kafka topic name (1 to 249 of letters, digits, `.`, `_`, `-`)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use driftd_core::config::{parse_body, ParseError};

    fn parse(yaml: &str) -> KafkaConfig {
        parse_body(serde_yaml::from_str(yaml).unwrap()).unwrap()
    }

    #[test]
    fn defaults() {
        let c = parse("topics: [t]");
        assert_eq!(c.brokers, ["127.0.0.1:9092"]);
        assert_eq!((c.group_id.as_str(), c.client_id.as_str()), ("driftd", "driftd"));
        assert_eq!(c.initial_offset, InitialOffset::Latest);
        assert_eq!(c.encoding, Encoding::OtlpProto);
        assert_eq!(
            c.dedupe,
            DedupeConfig {
                size: 100_000,
                ttl: Duration::from_secs(600)
            }
        );
        assert_eq!(c.allowed_lateness, Duration::ZERO);
        assert_eq!(c.commit_interval, Duration::from_secs(1));
        assert!(c.validate().is_empty());
    }

    #[test]
    fn every_rule_names_its_field() {
        let c = parse(
            "brokers: [nowhere]\ntopics: [a, 'b c', a]\ngroup_id: ''\ndead_letter_topic: a\n\
             commit_interval: 0s\nproperties: {enable.auto.commit: 'true', sasl.password: x}",
        );
        let paths: Vec<String> = c.validate().into_iter().map(|e| e.path).collect();
        assert_eq!(
            paths,
            [
                "brokers[0]",
                "topics[1]",
                "topics[2]",
                "group_id",
                "dead_letter_topic",
                "commit_interval",
                "properties.enable.auto.commit"
            ]
        );
        assert_eq!(parse("{}").validate()[0].path, "topics");
    }

    #[test]
    fn bad_enums_and_unknown_keys_are_parse_errors() {
        for (yaml, path) in [
            ("encoding: avro", "encoding"),
            ("initial_offset: newest", "initial_offset"),
            ("dedupe: {window: 3}", "dedupe.window"),
            ("allowed_lateness: soon", "allowed_lateness"),
        ] {
            match parse_body::<KafkaConfig>(serde_yaml::from_str(yaml).unwrap()) {
                Err(ParseError::Invalid { path: p, .. }) => assert_eq!(p, path, "{yaml}"),
                other => panic!("{yaml}: {other:?}"),
            }
        }
    }

    #[test]
    fn property_values_are_redacted_when_printed() {
        let c = parse("topics: [t]\nproperties: {sasl.password: hunter2}");
        assert_eq!(c.properties["sasl.password"].expose(), "hunter2");
        let text = serde_yaml::to_string(&c).unwrap();
        assert!(!text.contains("hunter2"), "{text}");
    }
}
