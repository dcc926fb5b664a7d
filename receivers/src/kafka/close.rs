//! Closing the consumer: commit what is durable, then leave the group.
//!
//! Without a checkpointing processor that happens as soon as the consume loop stops.
//! With one, the messages processed since the last saved checkpoint become durable
//! only with the processor's final checkpoint, which the service writes *after* every
//! receiver has returned (so that it includes all they fed on). The receiver therefore
//! hands its still-open consumer to a `FinalCommit` task, registered at build time;
//! tasks are stopped after the receivers, and this one waits (within the service's
//! grace period) for the final round to be saved, commits, then closes the consumer.

use super::client::{commit, KafkaConsumer};
use super::pending::{Offsets, Pending};
use driftd_core::component::{RunFuture, Task};
use rdkafka::consumer::{CommitMode, Consumer as _};
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

/// A stopped receiver's consumer and the offsets it still owes the broker.
pub struct Closing {
    pub(super) name: String,
    pub(super) consumer: KafkaConsumer,
    pub(super) pending: Pending,
    /// Next offset to read of each partition as stored for commit, for the summary.
    pub(super) stored: Offsets,
    /// Messages processed.
    pub(super) messages: u64,
}

/// Stores `offsets` (the last processed message of each partition) for the next
/// commit; returns whether any was stored.
pub fn store(consumer: &KafkaConsumer, name: &str, offsets: Offsets, stored: &mut Offsets) -> bool {
    let mut any = false;
    for ((topic, partition), offset) in offsets {
        // librdkafka stores `offset + 1`: the next message to read.
        match consumer.store_offset(&topic, partition, offset) {
            Ok(()) => {
                stored.insert((topic, partition), offset + 1);
                any = true;
            }
            // The partition was revoked meanwhile: its new owner reads it again.
            Err(e) => tracing::debug!(receiver = %name, error = %e, "could not store a Kafka offset"),
        }
    }
    any
}

impl Closing {
    /// Commits what is durable and leaves the group. With `wait`, first waits until a
    /// saved checkpoint covers every processed message, or no checkpointer runs anymore.
    pub async fn finish(mut self, wait: bool) {
        loop {
            // Read before `durable`: once nothing runs, the last round is already in.
            let running = self.pending.may_progress();
            let ready = self.pending.durable();
            store(&self.consumer, &self.name, ready, &mut self.stored);
            if !wait || !running || self.pending.is_empty() {
                break;
            }
            self.pending.changed().await;
        }
        let name = self.name;
        if !self.pending.is_empty() {
            tracing::warn!(receiver = %name, "the last checkpoint was not saved: Kafka messages processed since the one before are not committed and will be processed again");
        }
        // Committing and leaving the group block on the broker: off the async threads.
        let consumer = self.consumer;
        let committed = tokio::task::spawn_blocking(move || {
            let result = commit(&consumer, CommitMode::Sync);
            drop(consumer);
            result
        })
        .await;
        match committed {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::warn!(receiver = %name, error = %e, "could not commit Kafka offsets at shutdown (messages since the last commit will be processed again)")
            }
            Err(e) => tracing::warn!(receiver = %name, error = %e, "the Kafka consumer panicked while closing"),
        }
        let summary: Vec<String> = self
            .stored
            .iter()
            .map(|((topic, partition), next)| format!("{topic}/{partition}:{next}"))
            .collect();
        tracing::info!(
            "kafka receiver stopped: receiver={name} messages={} offsets={}",
            self.messages,
            summary.join(",")
        );
    }
}

/// Commits a stopped receiver's offsets after the processors' final checkpoint.
pub struct FinalCommit {
    pub(super) handoff: oneshot::Receiver<Closing>,
}

impl Task for FinalCommit {
    fn run(self: Box<Self>, stop: CancellationToken) -> RunFuture {
        Box::pin(async move {
            // Tasks are stopped only once every receiver has returned (handing its
            // consumer over, or dropping the sender when it failed before consuming).
            stop.cancelled().await;
            if let Ok(closing) = self.handoff.await {
                closing.finish(true).await;
            }
            Ok(())
        })
    }
}
