//! Per-series cooldown: a series that flaps must not page people every minute. A
//! drift_start within `cooldown` (event time) of the last one sent for the series is
//! held back, and so is the drift_end that closes it.
//!
//! Decisions are planned first and committed only once the message was delivered, so
//! a batch the queue retries is judged exactly as the first time.

use driftd_core::event::{DriftEvent, EventKind};
use driftd_core::SeriesId;
use std::collections::HashMap;
use std::time::Duration;

/// What has been sent, per series.
#[derive(Default)]
pub(crate) struct Cooldown {
    window: u64,
    /// Event time of the last drift_start sent.
    last_start: HashMap<SeriesId, u64>,
    /// Series whose current drift was suppressed (its drift_end will be too).
    muted: HashMap<SeriesId, bool>,
}

/// What to send from one batch, and the state to commit once it is sent.
pub(crate) struct Plan<'a> {
    /// Events to deliver, in order.
    pub send: Vec<&'a DriftEvent>,
    /// Events held back.
    pub suppressed: u64,
    last_start: HashMap<SeriesId, u64>,
    muted: HashMap<SeriesId, bool>,
}

impl Cooldown {
    /// A cooldown of `window` (0: nothing is suppressed).
    pub fn new(window: Duration) -> Self {
        Cooldown {
            window: u64::try_from(window.as_nanos()).unwrap_or(u64::MAX),
            ..Cooldown::default()
        }
    }

    /// Decides which events of `events` go out, without changing anything.
    pub fn plan<'a>(&self, events: &'a [DriftEvent]) -> Plan<'a> {
        let mut plan = Plan {
            send: Vec::with_capacity(events.len()),
            suppressed: 0,
            last_start: HashMap::new(),
            muted: HashMap::new(),
        };
        for e in events {
            let s = e.series_id;
            let muted = plan.muted.get(&s).or(self.muted.get(&s)).copied().unwrap_or(false);
            match e.kind {
                EventKind::DriftStart => {
                    let last = plan.last_start.get(&s).or(self.last_start.get(&s)).copied();
                    let cooling = last.is_some_and(|t| e.timestamp >= t && e.timestamp - t < self.window);
                    if cooling {
                        plan.suppressed += 1;
                        plan.muted.insert(s, true);
                    } else {
                        plan.send.push(e);
                        plan.last_start.insert(s, e.timestamp);
                        plan.muted.insert(s, false);
                    }
                }
                EventKind::DriftEnd if muted => {
                    plan.suppressed += 1;
                    plan.muted.insert(s, false);
                }
                EventKind::DriftEnd => plan.send.push(e),
            }
        }
        plan
    }

    /// Records a plan whose events were delivered.
    pub fn commit(&mut self, plan: Plan<'_>) {
        let newest = plan.last_start.values().copied().max();
        self.last_start.extend(plan.last_start);
        for (s, m) in plan.muted {
            if m {
                self.muted.insert(s, true);
            } else {
                self.muted.remove(&s);
            }
        }
        // Forget series whose cooldown is long over, so the map tracks only recent ones.
        if let Some(newest) = newest.filter(|_| self.last_start.len() > 10_000) {
            let window = self.window;
            self.last_start.retain(|_, t| newest.saturating_sub(*t) < window);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::conformance::{sample_event, BASE_TIME, SECOND};

    fn kinds(plan: &Plan<'_>) -> Vec<(EventKind, u64)> {
        plan.send
            .iter()
            .map(|e| (e.kind, (e.timestamp - BASE_TIME) / SECOND))
            .collect()
    }

    #[test]
    fn a_flapping_series_alerts_once_per_cooldown() {
        let at = |kind, s: u64| sample_event("m", "api", kind, BASE_TIME + s * SECOND);
        let mut c = Cooldown::new(Duration::from_secs(300));
        let first = [at(EventKind::DriftStart, 0), at(EventKind::DriftEnd, 60)];
        let plan = c.plan(&first);
        assert_eq!(kinds(&plan), [(EventKind::DriftStart, 0), (EventKind::DriftEnd, 60)]);
        c.commit(plan);

        // Starts again within 5 minutes: held back, and so is its end.
        let flap = [at(EventKind::DriftStart, 120), at(EventKind::DriftEnd, 180)];
        let plan = c.plan(&flap);
        assert!(plan.send.is_empty());
        assert_eq!(plan.suppressed, 2);
        // Not committed (the send failed): the same batch is judged the same way.
        assert_eq!(c.plan(&flap).suppressed, 2);
        c.commit(plan);

        let later = [at(EventKind::DriftStart, 400)];
        assert_eq!(kinds(&c.plan(&later)), [(EventKind::DriftStart, 400)]);
        // Another series is not affected.
        let other = [sample_event(
            "m",
            "web",
            EventKind::DriftStart,
            BASE_TIME + 130 * SECOND,
        )];
        assert_eq!(c.plan(&other).send.len(), 1);
        // A zero cooldown holds nothing back.
        assert_eq!(Cooldown::new(Duration::ZERO).plan(&flap).send.len(), 2);
    }

    #[test]
    fn an_uncommitted_plan_changes_nothing() {
        let c = Cooldown::new(Duration::from_secs(300));
        let events = [sample_event("m", "api", EventKind::DriftStart, BASE_TIME)];
        assert_eq!(c.plan(&events).send.len(), 1);
        assert_eq!(c.plan(&events).send.len(), 1, "a retried batch is sent again");
    }
}
