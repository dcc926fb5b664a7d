//! A whole driftd's config, assembled from YAML against the closed set of components
//! a binary ships, in phases: YAML → env expansion → per-component parse →
//! per-component validate → pipeline checks. Every error found is reported, each with
//! its YAML path and line.

mod load;
mod reference;

pub use load::{load, load_file};
pub use reference::{reference, BadExample};

use crate::component::Components;
use crate::config::{ComponentId, ServiceConfig};
use serde::{Serialize, Serializer};
use std::collections::BTreeMap;

/// The parsed, validated config of a whole driftd.
pub struct Config<C: Components> {
    /// Receivers by id.
    pub receivers: BTreeMap<ComponentId, C::Receiver>,
    /// Processors by id.
    pub processors: BTreeMap<ComponentId, C::Processor>,
    /// Exporters by id.
    pub exporters: BTreeMap<ComponentId, C::Exporter>,
    /// The storage backend.
    pub storage: C::Storage,
    /// Pipelines and driftd's own telemetry.
    pub service: ServiceConfig,
}

impl<C: Components> Serialize for Config<C> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Effective<'a, R, P, E, St> {
            receivers: &'a BTreeMap<ComponentId, R>,
            processors: &'a BTreeMap<ComponentId, P>,
            exporters: &'a BTreeMap<ComponentId, E>,
            storage: &'a St,
            service: &'a ServiceConfig,
        }
        Effective {
            receivers: &self.receivers,
            processors: &self.processors,
            exporters: &self.exporters,
            storage: &self.storage,
            service: &self.service,
        }
        .serialize(s)
    }
}
