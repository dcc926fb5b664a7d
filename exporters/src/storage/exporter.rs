//! `exporters.storage`: drift events and incidents into `ctx.store`, through the core's
//! queue.

use async_trait::async_trait;
use driftd_core::component::{BuildContext, EventSink, ExportError, Exporter};
use driftd_core::queue::QueueSettings;
use driftd_core::store::{Store, StoreError};
use driftd_core::{DriftEvent, Incident};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Settings of the `storage` exporter; where events go is `storage:` at the top level.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageExporterConfig {
    /// Queue and retry settings.
    #[serde(default)]
    pub sending_queue: QueueSettings,
}

/// Appends each batch to the store.
pub struct StoreSink {
    store: Arc<dyn Store>,
}

impl StoreSink {
    /// A sink writing to `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        StoreSink { store }
    }
}

/// A store's error as an exporter's: an unavailable store is retried, a refusal is not.
pub(crate) fn export_error(e: StoreError) -> ExportError {
    match e {
        StoreError::Unavailable(_) => ExportError::Transient(e.to_string()),
        StoreError::Rejected(_) => ExportError::Permanent(e.to_string()),
    }
}

#[async_trait]
impl EventSink for StoreSink {
    async fn export(&self, events: &[DriftEvent]) -> Result<(), ExportError> {
        self.store.append_events(events).await.map_err(export_error)
    }

    async fn export_incidents(&self, incidents: &[Incident]) -> Result<(), ExportError> {
        self.store.save_incidents(incidents).await.map_err(export_error)
    }
}

/// Builds the exporter around the service's store.
pub(crate) fn build(config: &StorageExporterConfig, ctx: &BuildContext) -> Exporter {
    Exporter::Events {
        sink: Arc::new(StoreSink::new(ctx.store.clone())),
        queue: config.sending_queue.clone(),
        points: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::conformance::sample_event;
    use driftd_core::store::{EventPage, EventQuery};
    use driftd_core::EventKind;

    /// A store that fails every write the way it is told to.
    struct Failing(fn() -> StoreError);

    #[async_trait]
    impl Store for Failing {
        fn backend(&self) -> &'static str {
            "failing"
        }
        async fn append_events(&self, _: &[DriftEvent]) -> Result<(), StoreError> {
            Err((self.0)())
        }
        async fn events(&self, _: &EventQuery) -> Result<EventPage, StoreError> {
            Err((self.0)())
        }
        async fn acknowledge(&self, _: &str) -> Result<bool, StoreError> {
            Err((self.0)())
        }
    }

    #[tokio::test]
    async fn store_errors_are_classified_for_the_queue() {
        let events = [sample_event("m", "api", EventKind::DriftStart, 1)];
        let down = StoreSink::new(Arc::new(Failing(|| {
            StoreError::Unavailable("connection refused".into())
        })));
        assert!(matches!(down.export(&events).await, Err(ExportError::Transient(_))));
        let rejected = StoreSink::new(Arc::new(Failing(|| StoreError::Rejected("too long".into()))));
        assert!(matches!(rejected.export(&events).await, Err(ExportError::Permanent(_))));
    }

    #[tokio::test]
    async fn events_land_in_the_store() {
        let store = Arc::new(crate::storage::memory::MemoryStore::new(
            std::num::NonZeroUsize::new(10).expect("non-zero"),
        ));
        let sink = StoreSink::new(store.clone());
        let events = [
            sample_event("m", "api", EventKind::DriftStart, 1),
            sample_event("m", "api", EventKind::DriftEnd, 2),
        ];
        sink.export(&events).await.expect("exports");
        let incident = crate::storage::conformance::sample_incident("api", 1);
        sink.export_incidents(std::slice::from_ref(&incident))
            .await
            .expect("exports");
        sink.flush().await.expect("flushes");
        assert_eq!(store.incident(&incident.id).await.expect("reads"), Some(incident));
        let page = store
            .events(&EventQuery {
                limit: 10,
                ..EventQuery::default()
            })
            .await
            .expect("queries");
        assert_eq!(page.total, 2);
    }
}
