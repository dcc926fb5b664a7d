//! The librdkafka side: client settings, the consumer context (commit before partitions
//! are revoked, count commits) and the dead-letter producer.

use super::config::{InitialOffset, KafkaConfig};
use driftd_core::component::BuildError;
use metrics::Counter;
use rdkafka::client::ClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, ConsumerContext, Rebalance, StreamConsumer};
use rdkafka::error::{KafkaError, KafkaResult, RDKafkaErrorCode};
use rdkafka::message::{BorrowedMessage, Header, Message as _, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::TopicPartitionList;
use std::time::Duration;

/// The consumer as the receiver uses it.
pub type KafkaConsumer = StreamConsumer<Context>;

/// Settings shared by the consumer and the dead-letter producer.
fn common(config: &KafkaConfig) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", config.brokers.join(","))
        .set("client.id", &config.client_id);
    for (k, v) in &config.properties {
        c.set(k, v.expose());
    }
    c
}

/// Creates the consumer (no connection is made until it is subscribed).
pub fn consumer(name: &str, config: &KafkaConfig) -> Result<KafkaConsumer, BuildError> {
    let context = Context {
        receiver: name.to_string(),
        commits: metrics::counter!("driftd_kafka_commits_total", "receiver" => name.to_string()),
    };
    consumer_config(config)
        .create_with_context(context)
        .map_err(|e| BuildError::Client {
            what: "the Kafka consumer",
            source: e.into(),
        })
}

/// The consumer's librdkafka settings.
fn consumer_config(config: &KafkaConfig) -> ClientConfig {
    let mut c = common(config);
    c.set("group.id", &config.group_id)
        .set(
            "auto.offset.reset",
            match config.initial_offset {
                InitialOffset::Earliest => "earliest",
                InitialOffset::Latest => "latest",
            },
        )
        // Offsets are stored by hand once a message went through the pipeline, and
        // committed by hand: at-least-once, never ahead of processing.
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("enable.partition.eof", "false");
    c
}

/// Commits the offsets stored so far. "Nothing to commit" is not an error.
pub fn commit(consumer: &impl rdkafka::consumer::Consumer<Context>, mode: CommitMode) -> KafkaResult<()> {
    match consumer.commit_consumer_state(mode) {
        Ok(()) => {
            // Counted here: librdkafka reports an async commit's result only when the
            // consumer is polled again, which an idle consumer may not be for a while.
            consumer.context().commits.increment(1);
            Ok(())
        }
        Err(KafkaError::ConsumerCommit(RDKafkaErrorCode::NoOffset)) => Ok(()),
        Err(e) => Err(e),
    }
}

/// `topic/partition:offset` for every partition of a list, for logs.
pub fn describe(tpl: &TopicPartitionList) -> String {
    let parts: Vec<String> = tpl
        .elements()
        .iter()
        .map(|e| match e.offset().to_raw() {
            Some(o) if o >= 0 => format!("{}/{}:{o}", e.topic(), e.partition()),
            _ => format!("{}/{}", e.topic(), e.partition()),
        })
        .collect();
    parts.join(",")
}

/// Callbacks librdkafka runs while the consumer is polled.
pub struct Context {
    receiver: String,
    commits: Counter,
}

impl ClientContext for Context {}

impl ConsumerContext for Context {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(partitions) = rebalance {
            // The partitions go to another member, which resumes from the committed
            // offsets: commit what was processed so it is not processed twice.
            if let Err(e) = commit(consumer, CommitMode::Sync) {
                tracing::warn!(receiver = %self.receiver, error = %e, "could not commit before partitions were revoked (their messages since the last commit will be processed again)");
            }
            tracing::info!(
                "kafka partitions revoked receiver={} partitions={}",
                self.receiver,
                describe(partitions)
            );
        }
    }

    fn post_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(partitions) => {
                tracing::info!(
                    "kafka partitions assigned receiver={} partitions={}",
                    self.receiver,
                    describe(partitions)
                )
            }
            Rebalance::Error(e) => tracing::warn!(receiver = %self.receiver, error = %e, "Kafka rebalance failed"),
            Rebalance::Revoke(_) => {}
        }
    }

    fn commit_callback(&self, result: KafkaResult<()>, offsets: &TopicPartitionList) {
        match result {
            Ok(()) => {
                tracing::debug!(receiver = %self.receiver, offsets = %describe(offsets), "committed Kafka offsets")
            }
            Err(KafkaError::ConsumerCommit(RDKafkaErrorCode::NoOffset)) => {}
            Err(e) => {
                tracing::warn!(receiver = %self.receiver, error = %e, "Kafka offset commit failed (it is retried with the next one)")
            }
        }
    }
}

/// Copies undecodable messages to a topic, with headers that say where they came from.
pub struct DeadLetter {
    producer: FutureProducer,
    topic: String,
}

impl DeadLetter {
    /// A producer for `topic` with the receiver's connection settings.
    pub fn new(config: &KafkaConfig, topic: &str) -> Result<Self, BuildError> {
        let producer = common(config)
            .set("message.timeout.ms", "10000")
            .create()
            .map_err(|e| BuildError::Client {
                what: "the dead-letter producer",
                source: e.into(),
            })?;
        Ok(DeadLetter {
            producer,
            topic: topic.to_string(),
        })
    }

    /// The topic copies go to.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// Sends a copy of `m`, saying why it was not judged and where it came from.
    pub async fn send(&self, m: &BorrowedMessage<'_>, reason: &str) -> Result<(), rdkafka::error::KafkaError> {
        let partition = m.partition().to_string();
        let offset = m.offset().to_string();
        let headers = OwnedHeaders::new()
            .insert(Header {
                key: "driftd.error",
                value: Some(reason),
            })
            .insert(Header {
                key: "driftd.topic",
                value: Some(m.topic()),
            })
            .insert(Header {
                key: "driftd.partition",
                value: Some(&partition),
            })
            .insert(Header {
                key: "driftd.offset",
                value: Some(&offset),
            });
        let mut record = FutureRecord::<[u8], [u8]>::to(&self.topic)
            .payload(m.payload().unwrap_or(&[]))
            .headers(headers);
        if let Some(key) = m.key() {
            record = record.key(key);
        }
        self.producer
            .send(record, Duration::from_secs(10))
            .await
            .map(|_| ())
            .map_err(|(e, _)| e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use driftd_core::config::parse_body;

    fn parse(yaml: &str) -> KafkaConfig {
        parse_body(serde_yaml::from_str(yaml).unwrap()).unwrap()
    }

    #[test]
    fn tls_properties_are_accepted_and_passed_through() {
        let c = parse(
            "brokers: [127.0.0.1:1]\ntopics: [t]\nproperties: {security.protocol: ssl, \
             ssl.ca.location: /etc/driftd/ca.pem, ssl.endpoint.identification.algorithm: https}",
        );
        assert!(c.validate().is_empty(), "{:?}", c.validate());
        let settings = consumer_config(&c);
        assert_eq!(settings.get("security.protocol"), Some("ssl"));
        assert_eq!(settings.get("ssl.ca.location"), Some("/etc/driftd/ca.pem"));
        assert_eq!(settings.get("ssl.endpoint.identification.algorithm"), Some("https"));
        assert_eq!(
            settings.get("enable.auto.commit"),
            Some("false"),
            "driftd's own settings stay"
        );
    }

    // A runtime, because the stream consumer spawns its wake-up task on one.
    #[tokio::test]
    async fn librdkafka_is_built_with_tls() {
        // Without the `ssl` feature librdkafka refuses `security.protocol: ssl` when the
        // client is created ("OpenSSL not available at build time"). Nothing listens on
        // port 1, so no handshake happens: none can be tested without a TLS broker.
        let c = parse("brokers: [127.0.0.1:1]\ntopics: [t]\nproperties: {security.protocol: ssl}");
        if let Err(e) = consumer("kafka", &c) {
            panic!("a TLS consumer cannot be created: {e}");
        }
    }
}
