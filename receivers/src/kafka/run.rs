//! The consume loop: receive, hand to the pipeline, store the offset once it is
//! durable, commit now and then; on shutdown commit what is durable and leave the group
//! (see `close`).

use super::client::{commit, DeadLetter, KafkaConsumer};
use super::close::{store, Closing};
use super::ingest::{Handled, Ingest};
use super::pending::{Offsets, Pending};
use driftd_core::component::{Receiver, RunError, RunFuture};
use driftd_core::time::now_unix_nano;
use driftd_core::ConsumeError;
use rdkafka::consumer::{CommitMode, Consumer as _};
use rdkafka::message::{BorrowedMessage, Message as _};
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// A built Kafka receiver: consumer created, not yet subscribed.
pub struct KafkaReceiver {
    pub(super) name: String,
    pub(super) topics: Vec<String>,
    pub(super) consumer: KafkaConsumer,
    pub(super) ingest: Ingest,
    pub(super) dead_letter: Option<DeadLetter>,
    pub(super) commit_interval: Duration,
    /// Processed offsets not yet covered by a saved checkpoint.
    pub(super) pending: Pending,
    /// Where the consumer goes when the loop stops, when a checkpoint must come first.
    pub(super) handoff: Option<oneshot::Sender<Closing>>,
}

/// Longest wait between two tries of a message the pipeline refused.
const MAX_BACKOFF: Duration = Duration::from_secs(1);

impl Receiver for KafkaReceiver {
    fn run(self: Box<Self>, shutdown: CancellationToken) -> RunFuture {
        Box::pin(self.serve(shutdown))
    }
}

/// Whether a message is done with (its offset may be stored) or shutdown came first.
enum Done {
    Processed,
    Stopped,
}

impl KafkaReceiver {
    async fn serve(self: Box<Self>, shutdown: CancellationToken) -> Result<(), RunError> {
        let KafkaReceiver {
            name,
            topics,
            consumer,
            mut ingest,
            dead_letter,
            commit_interval,
            mut pending,
            handoff,
        } = *self;
        let topic_refs: Vec<&str> = topics.iter().map(String::as_str).collect();
        consumer
            .subscribe(&topic_refs)
            .map_err(|e| RunError::new(format!("subscribing to {topics:?}"), e))?;
        tracing::info!(receiver = %name, topics = ?topics, "consuming from Kafka");

        // Next offset to read per partition as stored, for the shutdown summary.
        let mut stored = Offsets::new();
        let mut messages = 0u64;
        let mut uncommitted = false;
        let commit_timer = tokio::time::sleep(commit_interval);
        tokio::pin!(commit_timer);
        loop {
            let received = tokio::select! {
                biased;
                _ = shutdown.cancelled() => break,
                _ = &mut commit_timer, if uncommitted => {
                    if let Err(e) = commit(&consumer, CommitMode::Async) {
                        tracing::warn!(receiver = %name, error = %e, "could not commit Kafka offsets (retried with the next commit)");
                    }
                    uncommitted = false;
                    continue;
                }
                _ = pending.changed(), if !pending.is_empty() => {
                    if store(&consumer, &name, pending.durable(), &mut stored) && !uncommitted {
                        uncommitted = true;
                        commit_timer.as_mut().reset(Instant::now() + commit_interval);
                    }
                    continue;
                }
                m = consumer.recv() => m,
            };
            let m = match received {
                Ok(m) => m,
                Err(e) => {
                    tracing::warn!(receiver = %name, error = %e, "Kafka consumer error");
                    tokio::select! {
                        _ = shutdown.cancelled() => break,
                        _ = tokio::time::sleep(Duration::from_millis(100)) => continue,
                    }
                }
            };
            match handle(&name, &mut ingest, dead_letter.as_ref(), &m, &shutdown).await {
                Done::Stopped => break,
                Done::Processed => {}
            }
            messages += 1;
            if !pending.processed(m.topic(), m.partition(), m.offset()) {
                continue;
            }
            let offset = BTreeMap::from([((m.topic().to_string(), m.partition()), m.offset())]);
            if store(&consumer, &name, offset, &mut stored) && !uncommitted {
                uncommitted = true;
                commit_timer.as_mut().reset(Instant::now() + commit_interval);
            }
        }

        let closing = Closing {
            name,
            consumer,
            pending,
            stored,
            messages,
        };
        match handoff {
            // The final checkpoint comes after this returns: the task commits after it.
            Some(handoff) => {
                if let Err(closing) = handoff.send(closing) {
                    closing.finish(false).await;
                }
            }
            None => closing.finish(false).await,
        }
        Ok(())
    }
}

/// Copies an undecodable message to the dead-letter topic, retrying with backoff until
/// the copy is written or driftd stops: until then its offset is held, so a message
/// is never skipped without its copy.
async fn copy_to_dead_letter(
    name: &str,
    dead_letter: &DeadLetter,
    m: &BorrowedMessage<'_>,
    reason: &str,
    shutdown: &CancellationToken,
) -> Done {
    let mut backoff = Duration::from_millis(100);
    loop {
        match dead_letter.send(m, reason).await {
            Ok(()) => return Done::Processed,
            Err(e) => tracing::warn!(
                receiver = %name,
                topic = dead_letter.topic(),
                offset = m.offset(),
                error = %e,
                ?backoff,
                "could not copy an undecodable message to the dead-letter topic: holding its offset and retrying"
            ),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return Done::Stopped,
            _ = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// Feeds one message on, retrying while the pipeline is full. Undecodable messages are
/// logged with their position, counted and skipped (copied to the dead-letter topic
/// when there is one).
async fn handle(
    name: &str,
    ingest: &mut Ingest,
    dead_letter: Option<&DeadLetter>,
    m: &BorrowedMessage<'_>,
    shutdown: &CancellationToken,
) -> Done {
    let payload = m.payload().unwrap_or(&[]);
    let message_time = m
        .timestamp()
        .to_millis()
        .and_then(|ms| u64::try_from(ms).ok())
        .filter(|ms| *ms > 0)
        .map_or_else(now_unix_nano, |ms| ms.saturating_mul(1_000_000));
    let mut backoff = Duration::from_millis(10);
    loop {
        match ingest.handle(payload, message_time) {
            Ok(Handled::Undecodable(reason)) => {
                tracing::warn!(
                    receiver = %name,
                    topic = m.topic(),
                    partition = m.partition(),
                    offset = m.offset(),
                    error = %reason,
                    "skipping a Kafka message that does not decode"
                );
                return match dead_letter {
                    Some(d) => copy_to_dead_letter(name, d, m, &reason, shutdown).await,
                    None => Done::Processed,
                };
            }
            Ok(_) => return Done::Processed,
            Err(ConsumeError::Closed) => return Done::Stopped,
            Err(ConsumeError::Full) => {
                tracing::debug!(receiver = %name, ?backoff, "pipeline full: holding the Kafka offset and retrying");
                tokio::select! {
                    _ = shutdown.cancelled() => return Done::Stopped,
                    _ = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}
