//! The `kafka` receiver: consumes topics in a consumer group and feeds each message's
//! points to the pipeline, at least once.
//!
//! **Client: librdkafka through `rdkafka`** (0.38, librdkafka 2.12 built from source by
//! `rdkafka-sys`, no system library needed). It is the client the Kafka ecosystem runs
//! in production (the Java client aside): consumer groups with both rebalance
//! protocols, manual offset storage and commit, and every SASL/TLS setting passed
//! through as it is, which is what `properties` offers. The pure-Rust clients lack
//! parts of that: `rskafka` has no consumer groups by design, and `kafka` (kafka-rust)
//! commits group offsets but does not join the group protocol (no rebalancing across
//! instances) and has no SASL. An at-least-once receiver cannot trade those away for a
//! lighter build. The cost is a
//! C build (about a minute, once) and TLS needing the crate's `ssl` feature.
//! Checked against the `tansu` broker the tests use: produce, consume in a group,
//! commit.
//!
//! **At-least-once.** Auto commit and automatic offset storage are off. A message's
//! offset is stored only after the pipeline took its points (the drift processor ran
//! on them synchronously), and stored offsets are committed every `commit_interval`,
//! before partitions are revoked, and at shutdown. When the pipeline is full the same
//! message is retried with backoff; it is never skipped. A crash therefore replays at
//! most `commit_interval` of messages, never loses one.
//!
//! **Duplicates and order.** Points seen within the dedupe window (same `event_id`,
//! or same series, time and value) are dropped and counted; so are points older than
//! their series' newest point minus `allowed_lateness`, so a detector never sees a
//! series go back in time.
//!
//! **Bad messages** are logged with topic, partition and offset, counted
//! (`driftd_kafka_messages_total{outcome="undecodable"}`), optionally copied to
//! `dead_letter_topic`, and skipped: they never stop the consumer.

mod client;
mod config;
mod decode;
mod gate;
mod ingest;
mod run;

#[cfg(test)]
mod decode_tests;
#[cfg(test)]
mod ingest_tests;

pub use config::{DedupeConfig, Encoding, InitialOffset, KafkaConfig};
pub use decode::{decode_json_event, decode_otlp_json, decode_otlp_proto, JsonEvent, OtlpDecodeError};
pub use ingest::{Handled, Ingest};

use driftd_core::component::{BuildContext, BuildError, Receiver};
use driftd_core::config::ComponentId;
use driftd_core::Consumer;
use std::sync::Arc;

impl KafkaConfig {
    /// Creates the consumer (and the dead-letter producer); nothing connects until the
    /// receiver runs.
    pub async fn build(
        &self,
        id: &ComponentId,
        _ctx: &mut BuildContext,
        output: Arc<dyn Consumer>,
    ) -> Result<Option<Box<dyn Receiver>>, BuildError> {
        let name = id.to_string();
        let consumer = client::consumer(&name, self)?;
        let dead_letter = self
            .dead_letter_topic
            .as_deref()
            .map(|topic| client::DeadLetter::new(self, topic))
            .transpose()?;
        Ok(Some(Box::new(run::KafkaReceiver {
            ingest: Ingest::new(&name, self, output),
            name,
            topics: self.topics.clone(),
            consumer,
            dead_letter,
            commit_interval: self.commit_interval,
        })))
    }
}
