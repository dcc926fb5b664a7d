//! The open incidents of one drift processor, updated from its drift events (never from
//! points): a drift_start joins its entity's open incident or opens one; an incident
//! resolves once every member has recovered and the window has passed with no new drift.

use super::config::IncidentsConfig;
use super::entity::signal_of;
use super::summary::summarise;
use driftd_core::{
    DriftEvent, EventKind, Incident, IncidentChange, IncidentState, Member, SeriesId, SeriesLabels, Severity,
};
use std::collections::HashMap;

/// Independent signals that, drifting together, make an incident severe whatever their
/// own severities.
const AGREEING_SIGNALS: usize = 3;

/// An incident while it is open, with what is needed to update it.
struct Open {
    incident: Incident,
    /// The member index of every series drifting now.
    drifting: HashMap<SeriesId, usize>,
    /// When the last drifting member recovered (`None` while one drifts).
    quiet_since: Option<u64>,
    /// |change_percent| of each member's headline (`None`: none known yet).
    headline_size: Vec<Option<f64>>,
}

/// The open incidents, by entity.
pub struct IncidentBook {
    config: IncidentsConfig,
    open: HashMap<String, Open>,
}

impl IncidentBook {
    /// An empty book.
    pub fn new(config: IncidentsConfig) -> Self {
        IncidentBook {
            config,
            open: HashMap::new(),
        }
    }

    /// Takes back the incidents that were open when driftd stopped (from the store):
    /// `drifting` are the restored series still drifting, with their labels. Each
    /// incident goes on with the members those series belong to; one with none drifting
    /// waits out its window from `now` and then resolves, unless a drift joins it.
    pub fn restore(&mut self, incidents: Vec<Incident>, drifting: &[(SeriesId, &SeriesLabels)], now: u64) {
        for mut incident in incidents {
            incident.state = IncidentState::Open;
            let mut open = Open {
                headline_size: incident
                    .members
                    .iter()
                    .map(|m| m.change_percent.map(f64::abs))
                    .collect(),
                drifting: HashMap::new(),
                quiet_since: None,
                incident,
            };
            for m in &mut open.incident.members {
                m.drifting = 0;
            }
            for (id, labels) in drifting {
                if self.config.entity.entity_of(labels) != open.incident.entity {
                    continue;
                }
                let signal = signal_of(&labels.metric);
                if let Some(at) = open.incident.members.iter().position(|m| m.signal == signal) {
                    open.drifting.insert(*id, at);
                    open.incident.members[at].drifting += 1;
                }
            }
            if open.drifting.is_empty() {
                open.quiet_since = Some(now);
            }
            self.open.insert(open.incident.entity.clone(), open);
        }
    }

    /// Whether an incident waits for its quiet window to pass (the caller then ticks the
    /// book even in batches without events).
    pub fn resolving(&self) -> bool {
        self.open.values().any(|o| o.quiet_since.is_some())
    }

    /// The incidents open now.
    pub fn open_incidents(&self) -> impl Iterator<Item = &Incident> {
        self.open.values().map(|o| &o.incident)
    }

    /// Folds `events` in, tags each with its incident, and returns the incidents they
    /// opened, changed or resolved, each once, in its new state. `instances` counts the
    /// known instances of an entity (0 when its series name none).
    pub fn observe(&mut self, events: &mut [DriftEvent], instances: &dyn Fn(&str) -> u32) -> Vec<Incident> {
        let mut out = Vec::new();
        // Entities changed by this batch, with the change that matters most.
        let mut touched: Vec<(String, IncidentChange)> = Vec::new();
        for e in events.iter_mut() {
            let entity = self.config.entity_of(e);
            // A drift after the window opens a new incident: the old one resolves first.
            if let Some(resolved) = self.resolve_if_quiet(&entity, e.timestamp) {
                touched.retain(|(t, _)| *t != entity);
                out.push(resolved);
            }
            let change = match e.kind {
                EventKind::DriftStart => Some(self.start(&entity, e, instances)),
                EventKind::DriftEnd => self.end(&entity, e),
            };
            let Some(change) = change else { continue };
            match touched.iter_mut().find(|(t, _)| *t == entity) {
                Some((_, seen)) => *seen = weightier(*seen, change),
                None => touched.push((entity, change)),
            }
        }
        for (entity, change) in touched {
            if let Some(open) = self.open.get(&entity) {
                let mut incident = open.incident.clone();
                incident.change = change;
                incident.summary = summarise(&incident);
                out.push(incident);
            }
        }
        out
    }

    /// Resolves the incidents whose window has passed by `now` (event time).
    pub fn tick(&mut self, now: u64) -> Vec<Incident> {
        let quiet: Vec<String> = self
            .open
            .iter()
            .filter(|(_, o)| {
                o.quiet_since
                    .is_some_and(|t| now.saturating_sub(t) >= self.config.window_nanos())
            })
            .map(|(entity, _)| entity.clone())
            .collect();
        quiet
            .iter()
            .filter_map(|entity| self.resolve_if_quiet(entity, now))
            .collect()
    }

    fn start(&mut self, entity: &str, e: &mut DriftEvent, instances: &dyn Fn(&str) -> u32) -> IncidentChange {
        let signal = signal_of(&e.series.metric).to_string();
        let instance = self.config.entity.instance_of(&e.series).map(str::to_string);
        let severity = e.severity.unwrap_or(Severity::Moderate);
        let (before, after, percent) = figures(e);
        let open = self.open.entry(entity.to_string()).or_insert_with(|| Open {
            incident: Incident {
                id: Incident::id_for(entity, e.timestamp),
                entity: entity.to_string(),
                state: IncidentState::Open,
                change: IncidentChange::Opened,
                severity,
                opened_at: e.timestamp,
                updated_at: e.timestamp,
                resolved_at: None,
                primary: signal.clone(),
                members: Vec::new(),
                instances_total: 0,
                summary: String::new(),
            },
            drifting: HashMap::new(),
            quiet_since: None,
            headline_size: Vec::new(),
        });
        let opened = open.incident.members.is_empty();
        let was = open.incident.severity;
        let at = match open.incident.members.iter().position(|m| m.signal == signal) {
            Some(at) => at,
            None => {
                open.incident.members.push(Member {
                    signal,
                    series: Vec::new(),
                    instances: Vec::new(),
                    detector: e.detector.clone(),
                    severity,
                    onset: e.onset,
                    detected: e.timestamp,
                    before,
                    after,
                    change_percent: percent,
                    headline: e.series.metric.clone(),
                    drifting: 0,
                });
                open.headline_size.push(percent.map(f64::abs));
                open.incident.members.len() - 1
            }
        };
        let m = &mut open.incident.members[at];
        if !m.series.contains(&e.series.metric) {
            m.series.push(e.series.metric.clone());
        }
        if let Some(i) = instance {
            if !m.instances.contains(&i) {
                m.instances.push(i);
            }
        }
        m.severity = m.severity.max(severity);
        m.onset = m.onset.min(e.onset);
        // The headline is the series of the member that moved most (relative to its level).
        let size = percent.map(f64::abs);
        if size > open.headline_size[at] {
            open.headline_size[at] = size;
            (m.before, m.after, m.change_percent) = (before, after, percent);
            m.headline = e.series.metric.clone();
        }
        if open.drifting.insert(e.series_id, at).is_none() {
            m.drifting += 1;
        }
        open.quiet_since = None;
        open.incident.updated_at = e.timestamp;
        let agreeing = open.incident.members.iter().filter(|m| m.drifting > 0).count();
        let strongest = open
            .incident
            .members
            .iter()
            .map(|m| m.severity)
            .max()
            .unwrap_or(severity);
        open.incident.severity = if agreeing >= AGREEING_SIGNALS {
            Severity::Severe
        } else {
            strongest.max(was)
        };
        // A cohort's incident counts the instances of its whole service.
        open.incident.instances_total = instances(&self.config.entity.entity_of(&e.series));
        e.incident = Some(open.incident.id.clone());
        if opened {
            IncidentChange::Opened
        } else if open.incident.severity > was {
            IncidentChange::Escalated
        } else {
            IncidentChange::Updated
        }
    }

    fn end(&mut self, entity: &str, e: &mut DriftEvent) -> Option<IncidentChange> {
        let open = self.open.get_mut(entity)?;
        let at = open.drifting.remove(&e.series_id)?;
        e.incident = Some(open.incident.id.clone());
        let m = &mut open.incident.members[at];
        m.drifting = m.drifting.saturating_sub(1);
        open.incident.updated_at = e.timestamp;
        if open.drifting.is_empty() {
            open.quiet_since = Some(e.timestamp);
        }
        Some(IncidentChange::Updated)
    }

    fn resolve_if_quiet(&mut self, entity: &str, now: u64) -> Option<Incident> {
        let since = self.open.get(entity)?.quiet_since?;
        if now.saturating_sub(since) < self.config.window_nanos() {
            return None;
        }
        let mut open = self.open.remove(entity)?.incident;
        open.state = IncidentState::Resolved;
        open.change = IncidentChange::Resolved;
        open.resolved_at = Some(since);
        open.updated_at = since;
        open.summary = summarise(&open);
        Some(open)
    }
}

/// Before and after of a drift_start, in the series' units, and the change in percent.
fn figures(e: &DriftEvent) -> (f64, f64, Option<f64>) {
    let before = e.baseline.mean;
    let after = e.scores.get("change").map_or(e.recent.mean, |c| before + c);
    let percent = e.scores.get("change_percent").copied();
    (before, after, percent)
}

/// Of two changes in one batch, the one to notify about: opened, then escalated.
fn weightier(a: IncidentChange, b: IncidentChange) -> IncidentChange {
    let rank = |c| match c {
        IncidentChange::Opened => 3,
        IncidentChange::Resolved => 2,
        IncidentChange::Escalated => 1,
        IncidentChange::Updated => 0,
    };
    if rank(b) > rank(a) {
        b
    } else {
        a
    }
}
