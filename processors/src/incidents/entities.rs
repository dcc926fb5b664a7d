//! The entities of one drift processor, for the query API and `/metrics`: computed at
//! request time from the series tables and the open incidents (nothing is kept per
//! point), with each entity's health score.
//!
//! ## Health
//!
//! Each signal (OTLP metric, see [`signal_of`]) of the entity that disagrees with its
//! baseline takes away a share of what is left:
//!
//! ```text
//! health = 100 × Π over drifting signals (1 − weight(severity) × drifting_instances / instances)
//! weight: moderate 0.2, severe 0.4 (the signal's severity in the open incident)
//! ```
//!
//! so one moderate signal on every instance gives 80, on one of four instances 95, and
//! three severe signals everywhere 21.6. An entity whose series name no instance counts
//! as one instance. A signal is drifting on an instance when any of its series there
//! (the histogram, its mean, a quantile, ...) is in `DRIFT_DETECTED`.

use super::book::IncidentBook;
use super::config::EntityConfig;
use super::entity::signal_of;
use crate::drift::{HistogramTable, SeriesTable};
use driftd_core::view::{EntitySnapshot, EntityView, SeriesSnapshot, SeriesState, SeriesView};
use driftd_core::{Incident, Severity};
use parking_lot::Mutex;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// How much one drifting signal on every instance takes off the health.
fn weight(severity: Severity) -> f64 {
    match severity {
        Severity::Moderate => 0.2,
        Severity::Severe => 0.4,
    }
}

/// The health of an entity from its drifting signals: (severity, share of instances).
pub fn health(drifting: impl IntoIterator<Item = (Severity, f64)>) -> f64 {
    let kept: f64 = drifting
        .into_iter()
        .map(|(severity, share)| 1.0 - weight(severity) * share.clamp(0.0, 1.0))
        .product();
    100.0 * kept
}

/// One processor's series grouped into entities.
pub struct Entities {
    pub(crate) config: EntityConfig,
    pub(crate) table: Arc<SeriesTable>,
    pub(crate) histograms: Arc<HistogramTable>,
    pub(crate) book: Arc<Mutex<IncidentBook>>,
}

/// What one scan learns of one entity.
#[derive(Default)]
struct Tally {
    series: usize,
    drifting: usize,
    instances: BTreeSet<String>,
    /// Per signal: the instances reporting it, and those where it drifts.
    signals: HashMap<String, (BTreeSet<String>, BTreeSet<String>)>,
}

impl Entities {
    fn visit(&self, visit: &mut dyn FnMut(SeriesSnapshot)) {
        self.table.for_each(visit);
        self.histograms.for_each(visit);
    }
}

impl EntityView for Entities {
    fn entities(&self) -> Vec<EntitySnapshot> {
        let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
        self.visit(&mut |s| {
            let tally = tallies.entry(self.config.entity_of(&s.labels)).or_default();
            let instance = self.config.instance_of(&s.labels).unwrap_or("");
            let drifting = s.state == SeriesState::DriftDetected;
            tally.series += 1;
            tally.drifting += usize::from(drifting);
            if !instance.is_empty() && !tally.instances.contains(instance) {
                tally.instances.insert(instance.to_string());
            }
            let (reporting, drifts) = tally
                .signals
                .entry(signal_of(&s.labels.metric).to_string())
                .or_default();
            reporting.insert(instance.to_string());
            if drifting {
                drifts.insert(instance.to_string());
            }
        });
        let open: HashMap<String, Incident> = self
            .book
            .lock()
            .open_incidents()
            .map(|i| (i.entity.clone(), i.clone()))
            .collect();
        tallies
            .into_iter()
            .map(|(id, tally)| {
                let incident = open.get(&id).cloned();
                let severity_of = |signal: &str| {
                    incident
                        .as_ref()
                        .and_then(|i| i.members.iter().find(|m| m.signal == signal))
                        .map_or(Severity::Moderate, |m| m.severity)
                };
                let drifting_signals = tally.signals.iter().filter(|(_, (_, drifts))| !drifts.is_empty()).map(
                    |(signal, (reporting, drifts))| (severity_of(signal), drifts.len() as f64 / reporting.len() as f64),
                );
                EntitySnapshot {
                    health: health(drifting_signals),
                    series: tally.series,
                    drifting: tally.drifting,
                    instances: tally.instances.len(),
                    incident,
                    id,
                }
            })
            .collect()
    }

    fn series_of(&self, entity: &str, visit: &mut dyn FnMut(SeriesSnapshot)) {
        self.visit(&mut |s| {
            if self.config.entity_of(&s.labels) == entity {
                visit(s);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_follows_the_documented_formula() {
        assert_eq!(health([]), 100.0);
        assert!((health([(Severity::Moderate, 1.0)]) - 80.0).abs() < 1e-9);
        assert!((health([(Severity::Moderate, 0.25)]) - 95.0).abs() < 1e-9);
        let three_severe = health([(Severity::Severe, 1.0); 3]);
        assert!((three_severe - 21.6).abs() < 1e-9, "{three_severe}");
    }
}
