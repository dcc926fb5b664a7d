//! Canary comparison: is one cohort of a service (a new version, the canary deployment)
//! different from the rest of the same service right now? Judged against the other
//! instances over the same window, not against the cohort's own history, so a canary
//! that is slow from its first request is found although it never drifts.
//!
//! Per service, metric and label set (instances and the cohort label aside), the values
//! of the cohort's series over the last `window` are set against those of the rest of
//! the service. The cohort differs when all three hold:
//!
//! - Welch's t of the two means is at least 5: the difference is not chance;
//! - the cohort's mean lies beyond every other instance's mean: it is not one more
//!   instance within the spread the others have among themselves;
//! - the difference passes `min_change` of the rest's level (as for drift) by three
//!   standard errors: it is surely large enough to matter, not just surely there.
//!
//! With `cohort: label`, each value held by fewer than half of the instances is a
//! cohort, unless it once held more than half (the old version left on a few instances
//! late in a rollout: a canary is the newcomer). With `cohort: label=value`,
//! that value is the cohort and everything else (other values, no label) the rest.
//!
//! It stops differing when t falls below 2, when the difference falls below
//! `min_change` or when the cohort stops reporting (`recovered`), or when the cohort
//! becomes the majority: rolled out, it is the new normal (`rebaselined`). The
//! comparison re-runs each time event time enters a new quarter of the window, so a
//! clear difference is found after half a window of data. Volumes (counters, a
//! histogram's `_count`) are not compared: a canary takes a share of the traffic by
//! design. Each difference is a drift event of detector `canary` on the cohort
//! (`{metric, service labels, cohort label}`), and its incident's entity is the service
//! and the cohort: `checkout@service.version=2`.

mod config;
#[cfg(test)]
mod tests;
mod verdict;
mod window;

pub use config::CanaryConfig;

use super::config::EntityConfig;
use crate::drift::stats::percent_of;
use crate::drift::MinChange;
use driftd_core::view::SeriesView;
use driftd_core::{DriftEvent, EndReason, EventKind, Point, SeriesId, SeriesLabels, Severity, ValueKind};
use parking_lot::Mutex;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use verdict::{sides, verdict, welch_t, Side, Verdict, Window};
use window::{Slices, SLICES};

/// The detector name of canary events.
pub const CANARY: &str = "canary";

/// A difference this many times `min_change` is severe.
const SEVERE_TIMES: f64 = 5.0;

/// The cohort comparisons of one drift processor.
pub struct Canary {
    label: String,
    value: Option<String>,
    min_change: MinChange,
    slice_ns: u64,
    entity: EntityConfig,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Every gauge series seen: where its values go.
    series: HashMap<SeriesId, Seen>,
    /// The comparisons, by the id of their labels.
    groups: HashMap<SeriesId, Group>,
    /// The slice of the newest value, and the slice last judged.
    newest: u64,
    judged: u64,
}

struct Seen {
    /// `None`: the series is not compared (it lacks the cohort label).
    place: Option<Place>,
    last_time: u64,
}

#[derive(Clone)]
struct Place {
    group: SeriesId,
    member: Member,
}

/// A cohort value and an instance.
type Member = (Arc<str>, Arc<str>);

/// One metric and label set of one service, across its instances.
struct Group {
    labels: SeriesLabels,
    members: HashMap<Member, Slices>,
    /// The cohorts that differ now, with their event series.
    differing: HashMap<Arc<str>, Arc<SeriesLabels>>,
    /// The cohort values that have held most instances (never a canary after).
    was_majority: HashSet<Arc<str>>,
}

impl Canary {
    /// Comparisons as `config` says, of the entities `entity` makes.
    pub fn new(config: &CanaryConfig, entity: EntityConfig) -> Self {
        let (label, value) = config.cohort();
        let window = u64::try_from(config.window.as_nanos()).unwrap_or(u64::MAX);
        Canary {
            label: label.to_string(),
            value: value.map(str::to_string),
            min_change: config.min_change,
            slice_ns: (window / SLICES).max(1),
            entity,
            state: Mutex::new(State::default()),
        }
    }

    /// Takes the gauge `points` the drift processor fed (labels of new series come from
    /// `table`) and adds the events of comparisons that changed when event time entered
    /// a new slice.
    pub fn observe<'p>(
        &self,
        points: impl Iterator<Item = &'p Point>,
        table: &dyn SeriesView,
        events: &mut Vec<DriftEvent>,
    ) {
        let mut state = self.state.lock();
        let State {
            series, groups, newest, ..
        } = &mut *state;
        for p in points.filter(|p| matches!(p.kind, ValueKind::Gauge)) {
            let seen = series.entry(p.series).or_insert_with(|| Seen {
                place: table.get(p.series).and_then(|s| self.place(&s.labels, groups)),
                last_time: 0,
            });
            if p.time_unix_nano <= seen.last_time {
                continue;
            }
            seen.last_time = p.time_unix_nano;
            let Some(place) = &seen.place else { continue };
            let slice = p.time_unix_nano / self.slice_ns;
            *newest = (*newest).max(slice);
            let Some(g) = groups.get_mut(&place.group) else {
                // Its comparison was let go while the series was away: placed afresh next time.
                series.remove(&p.series);
                continue;
            };
            g.members.entry(place.member.clone()).or_default().add(slice, p.value);
        }
        if state.newest > state.judged {
            let current = state.newest;
            state.judged = current;
            self.judge(&mut state, current, events);
        }
    }

    /// Where the values of a series with `labels` go, if it is compared.
    fn place(&self, labels: &SeriesLabels, groups: &mut HashMap<SeriesId, Group>) -> Option<Place> {
        let cohort = match (labels.get(&self.label), &self.value) {
            (Some(v), _) => v,
            // With a named cohort, whatever does not carry the label is the rest.
            (None, Some(_)) => "",
            (None, None) => return None,
        };
        let instance = self.entity.instance_of(labels).unwrap_or("");
        let kept = labels
            .labels
            .iter()
            .filter(|(k, _)| *k != self.label && !self.entity.instance.contains(k))
            .cloned()
            .collect();
        let group = SeriesLabels::new(labels.metric.clone(), kept);
        let id = group.id();
        groups.entry(id).or_insert_with(|| Group {
            labels: group,
            members: HashMap::new(),
            differing: HashMap::new(),
            was_majority: HashSet::new(),
        });
        Some(Place {
            group: id,
            member: (cohort.into(), instance.into()),
        })
    }

    /// Compares every group over the window that ends where slice `current` begins.
    fn judge(&self, state: &mut State, current: u64, events: &mut Vec<DriftEvent>) {
        let at = current.saturating_mul(self.slice_ns);
        for group in state.groups.values_mut() {
            group.members.retain(|_, s| s.newest() + 2 * SLICES >= current);
            let members = &group.members;
            group.was_majority.retain(|c| members.keys().any(|m| m.0 == *c));
            let windows: Vec<Window> = group
                .members
                .iter()
                .map(|(m, s)| {
                    let (w, since) = s.window(current);
                    (m, w, since)
                })
                .filter(|(_, w, _)| w.seen() > 0)
                .collect();
            let cohorts = self.cohorts(windows.iter().map(|(m, _, _)| *m), &mut group.was_majority);
            for cohort in &cohorts {
                let (inside, rest) = sides(&windows, cohort);
                let differing = group.differing.contains_key(cohort);
                let verdict = verdict(&inside, &rest, &self.min_change);
                match (differing, verdict) {
                    (false, Verdict::Differs) => {
                        let series = Arc::new(cohort_labels(&group.labels, &self.label, cohort));
                        events.push(self.event(&series, EventKind::DriftStart, at, &inside, &rest));
                        group.differing.insert(cohort.clone(), series);
                    }
                    (true, Verdict::Alike) => {
                        if let Some(series) = group.differing.remove(cohort) {
                            let mut e = self.event(&series, EventKind::DriftEnd, at, &inside, &rest);
                            e.reason = Some(EndReason::Recovered);
                            events.push(e);
                        }
                    }
                    _ => {}
                }
            }
            // A differing cohort no longer compared: gone, or now the majority.
            let ended: Vec<Arc<str>> = group
                .differing
                .keys()
                .filter(|c| !cohorts.contains(c))
                .cloned()
                .collect();
            for cohort in ended {
                let Some(series) = group.differing.remove(&cohort) else {
                    continue;
                };
                let (inside, rest) = sides(&windows, &cohort);
                let mut e = self.event(&series, EventKind::DriftEnd, at, &inside, &rest);
                e.reason = Some(if inside.instances > 0 {
                    EndReason::Rebaselined
                } else {
                    EndReason::Recovered
                });
                events.push(e);
            }
        }
        state
            .groups
            .retain(|_, g| !g.members.is_empty() || !g.differing.is_empty());
        let slice_ns = self.slice_ns;
        state
            .series
            .retain(|_, s| s.last_time / slice_ns + 2 * SLICES >= current);
    }

    /// The cohort values to compare with the rest, of the members with values.
    fn cohorts<'m>(
        &self,
        members: impl Iterator<Item = &'m Member>,
        was_majority: &mut HashSet<Arc<str>>,
    ) -> Vec<Arc<str>> {
        let mut instances: BTreeMap<&Arc<str>, usize> = BTreeMap::new();
        let mut total = 0;
        for (cohort, _) in members {
            *instances.entry(cohort).or_default() += 1;
            total += 1;
        }
        match &self.value {
            Some(v) => instances.into_keys().filter(|c| ***c == **v).cloned().collect(),
            // Each minority (fewer than half of the instances) that never was the majority.
            None => {
                was_majority.extend(
                    instances
                        .iter()
                        .filter(|(_, n)| 2 * **n > total)
                        .map(|(c, _)| (*c).clone()),
                );
                instances
                    .into_iter()
                    .filter(|(c, n)| 2 * n < total && !was_majority.contains(*c))
                    .map(|(c, _)| c.clone())
                    .collect()
            }
        }
    }

    fn event(&self, series: &Arc<SeriesLabels>, kind: EventKind, at: u64, inside: &Side, rest: &Side) -> DriftEvent {
        let (c, r) = (inside.values.stats(), rest.values.stats());
        let diff = c.mean - r.mean;
        let mut scores = BTreeMap::from([
            // Finite, for every store: a constant cohort against a constant rest.
            ("t".to_string(), welch_t(&c, &r).clamp(-1e9, 1e9)),
            ("change".to_string(), diff),
            ("cohort_instances".to_string(), inside.instances as f64),
            ("rest_instances".to_string(), rest.instances as f64),
        ]);
        if let Some(p) = percent_of(diff, r.mean) {
            scores.insert("change_percent".to_string(), p);
        }
        let id = series.id();
        let severe = diff.abs() >= SEVERE_TIMES * self.min_change.at(r.mean);
        DriftEvent {
            id: DriftEvent::id_for(id, kind, at),
            kind,
            series_id: id,
            series: series.clone(),
            timestamp: at,
            onset: inside.since.map_or(at, |s| s.saturating_mul(self.slice_ns)),
            detector: CANARY.to_string(),
            severity: (kind == EventKind::DriftStart).then_some(if severe {
                Severity::Severe
            } else {
                Severity::Moderate
            }),
            reason: None,
            value: c.mean,
            scores,
            baseline: r,
            recent: c,
            acknowledged: false,
            incident: None,
            snapshot: None,
        }
    }
}

/// The labels of a cohort's events: the group's, with the cohort label.
fn cohort_labels(group: &SeriesLabels, label: &str, cohort: &str) -> SeriesLabels {
    let mut labels = group.labels.clone();
    labels.push((label.to_string(), cohort.to_string()));
    SeriesLabels::new(group.metric.clone(), labels)
}
