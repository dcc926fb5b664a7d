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
//! C build (about two minutes, once). Checked against the `tansu` broker the tests
//! use: produce, consume in a group, commit.
//!
//! **TLS and SASL** are librdkafka's own settings, passed through `properties`
//! (`security.protocol: ssl`, `ssl.ca.location`, `sasl.*`). The workspace enables the
//! crate's `ssl` feature (linking the system OpenSSL), and a unit test checks that a
//! TLS client is accepted; no TLS broker runs here, so no handshake is tested.
//!
//! **At-least-once.** Auto commit and automatic offset storage are off. A message's
//! offset becomes committable only after the pipeline took its points (the drift
//! processor ran on them synchronously) and, when a processor checkpoints its state to
//! a persistent store, once a checkpoint round that began after that is saved
//! (`driftd_core::durability`; until then the offset waits in `pending`, tagged with
//! the round counter). Committable offsets are stored and committed every
//! `commit_interval`, before partitions are revoked, and at shutdown, where the
//! receiver hands its open consumer to a task that commits after the processors' final
//! checkpoint (`close`). When the pipeline is full the same message is retried with
//! backoff; it is never skipped. A crash therefore replays what was processed since the
//! last saved checkpoint (plus up to `commit_interval`), never loses one, and a
//! restarted processor never resumes from state older than the committed offsets.
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
mod close;
mod config;
mod decode;
mod gate;
mod ingest;
mod pending;
mod run;

#[cfg(test)]
mod decode_tests;
#[cfg(test)]
mod ingest_tests;

pub use config::{DedupeConfig, Encoding, InitialOffset, KafkaConfig};
pub use decode::{decode_json_event, decode_otlp_json, JsonEvent, OtlpDecodeError};
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
        ctx: &mut BuildContext,
        output: Arc<dyn Consumer>,
    ) -> Result<Option<Box<dyn Receiver>>, BuildError> {
        let name = id.to_string();
        let consumer = client::consumer(&name, self)?;
        let dead_letter = self
            .dead_letter_topic
            .as_deref()
            .map(|topic| client::DeadLetter::new(self, topic))
            .transpose()?;
        // Processors are built first: a checkpointing one has registered by now.
        let handoff = ctx.durability.is_checkpointed().then(|| {
            let (handoff, closing) = tokio::sync::oneshot::channel();
            let task = close::FinalCommit { handoff: closing };
            ctx.tasks
                .push((format!("receiver `{name}` final commit"), Box::new(task)));
            handoff
        });
        Ok(Some(Box::new(run::KafkaReceiver {
            ingest: Ingest::new(&name, self, output),
            name,
            topics: self.topics.clone(),
            consumer,
            dead_letter,
            commit_interval: self.commit_interval,
            pending: pending::Pending::new(&ctx.durability),
            handoff,
        })))
    }
}
