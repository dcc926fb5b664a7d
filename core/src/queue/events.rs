//! The event side of a pushed exporter: drift events and incident updates, in the
//! order the pipeline produced them, each run of one kind handed to the sink in one
//! call. The queue is bounded in items.

use super::{export_counted, Bounded, Delivery, Item, QueueMetrics, QueueSettings, QueueWorker};
use crate::consumer::{Batch, ConsumeError, Consumer};
use crate::event::DriftEvent;
use crate::incident::Incident;
use crate::sink::EventSink;
use std::sync::Arc;

/// What an exporter's queue holds.
#[derive(Debug)]
enum Queued {
    Event(DriftEvent),
    Incident(Incident),
}

impl Item for Queued {
    fn units(&self) -> usize {
        1
    }
}

/// The pipeline-facing end of an exporter's queue.
pub struct ExportQueue(Bounded<Queued>);

impl ExportQueue {
    /// Starts the worker for `sink`.
    pub fn start(name: &str, sink: Arc<dyn EventSink>, settings: QueueSettings) -> (Self, QueueWorker) {
        let metrics = QueueMetrics::for_events(name);
        let delivery = EventDelivery {
            name: name.to_string(),
            sink,
            settings: settings.clone(),
        };
        let (queue, worker) = Bounded::start(name, &settings, metrics, delivery);
        (ExportQueue(queue), worker)
    }
}

impl Consumer for ExportQueue {
    fn consume(&self, batch: &Batch<'_>) -> Result<(), ConsumeError> {
        let events = batch.events.iter().map(|e| Queued::Event(e.clone()));
        let incidents = batch.incidents.iter().map(|i| Queued::Incident(i.clone()));
        for item in events.chain(incidents) {
            if self.0.reserve(1) == 0 {
                self.0.dropped_full(1);
                continue;
            }
            self.0.send(item)?;
        }
        Ok(())
    }
}

struct EventDelivery {
    name: String,
    sink: Arc<dyn EventSink>,
    settings: QueueSettings,
}

#[async_trait::async_trait]
impl Delivery<Queued> for EventDelivery {
    /// Events and incident updates go out in their order, each run in one call.
    async fn deliver(&mut self, items: Vec<Queued>, metrics: &QueueMetrics) {
        let (name, retry, sink) = (&self.name, &self.settings.retry_on_failure, &self.sink);
        let mut items = items.into_iter().peekable();
        while let Some(first) = items.next() {
            match first {
                Queued::Event(e) => {
                    let mut events = vec![e];
                    while let Some(Queued::Event(e)) = items.next_if(|q| matches!(q, Queued::Event(_))) {
                        events.push(e);
                    }
                    export_counted(name, retry, events.len(), metrics, || sink.export(&events)).await;
                }
                Queued::Incident(i) => {
                    let mut incidents = vec![i];
                    while let Some(Queued::Incident(i)) = items.next_if(|q| matches!(q, Queued::Incident(_))) {
                        incidents.push(i);
                    }
                    export_counted(name, retry, incidents.len(), metrics, || {
                        sink.export_incidents(&incidents)
                    })
                    .await;
                }
            }
        }
    }

    async fn finish(&mut self) {
        if let Err(e) = self.sink.flush().await {
            tracing::warn!(exporter = %self.name, error = %e, "flush failed at shutdown");
        }
    }
}
