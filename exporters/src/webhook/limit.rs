//! Per-receiver rate limit for incident notifications: at most `max_per_minute`
//! incidents opened or escalated are announced per minute; the rest are held back,
//! counted, and named in the next message that goes out. A resolve is never held.
//!
//! Like the cooldown, decisions are planned first and committed once the message was
//! delivered, so a batch the queue retries is judged as the first time.

use driftd_core::{Incident, IncidentChange};
use std::time::{Duration, Instant};

const MINUTE: Duration = Duration::from_secs(60);

/// The limiter's state.
pub(crate) struct Limit {
    max: u32,
    window_start: Option<Instant>,
    announced: u32,
    /// Incidents held back since the last message, by summary.
    held: Vec<String>,
}

/// What to send from one batch, and the state to commit once it is sent.
pub(crate) struct Plan<'a> {
    /// Updates that notify, in order.
    pub send: Vec<&'a Incident>,
    /// Names those held back earlier (and now), for the message.
    pub note: Option<String>,
    /// Held back from this batch.
    pub held: Vec<String>,
    window_start: Instant,
    announced: u32,
}

impl Limit {
    /// At most `max` announcements per minute.
    pub fn new(max: u32) -> Self {
        Limit {
            max,
            window_start: None,
            announced: 0,
            held: Vec::new(),
        }
    }

    /// Decides what of `incidents` goes out at `now` (updates that notify no one are
    /// left out).
    pub fn plan<'a>(&self, incidents: &'a [Incident], now: Instant) -> Plan<'a> {
        let fresh = self
            .window_start
            .is_none_or(|start| now.duration_since(start) >= MINUTE);
        let mut plan = Plan {
            send: Vec::new(),
            note: None,
            held: Vec::new(),
            window_start: if fresh { now } else { self.window_start.unwrap_or(now) },
            announced: if fresh { 0 } else { self.announced },
        };
        for i in incidents.iter().filter(|i| i.change.notifies()) {
            if i.change == IncidentChange::Resolved || plan.announced < self.max {
                plan.announced += u32::from(i.change != IncidentChange::Resolved);
                plan.send.push(i);
            } else {
                plan.held.push(i.summary.clone());
            }
        }
        if !plan.send.is_empty() && !self.held.is_empty() {
            plan.note = Some(format!(
                "{} more incident updates were not announced (max_per_minute {}): {}",
                self.held.len(),
                self.max,
                self.held.join("; ")
            ));
        }
        plan
    }

    /// Records a delivered plan (or, with nothing to send, what it held back).
    pub fn commit(&mut self, plan: Plan<'_>) {
        if !plan.send.is_empty() {
            self.held.clear();
        }
        self.held.extend(plan.held);
        self.window_start = Some(plan.window_start);
        self.announced = plan.announced;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::conformance::{resolved, sample_incident, BASE_TIME, SECOND};

    #[test]
    fn announcements_past_the_limit_are_named_in_the_next_message_and_resolves_always_go() {
        let mut limit = Limit::new(2);
        let t0 = Instant::now();
        let opened: Vec<Incident> = (0..3)
            .map(|n| sample_incident(&format!("svc{n}"), BASE_TIME + n * SECOND))
            .collect();
        let plan = limit.plan(&opened, t0);
        assert_eq!(plan.send.len(), 2);
        assert_eq!(plan.held.len(), 1);
        assert!(plan.note.is_none());
        limit.commit(plan);

        // Still the same minute: a resolve goes out, and names what was held back.
        let done = [resolved(&opened[0], BASE_TIME + 10 * SECOND)];
        let plan = limit.plan(&done, t0 + Duration::from_secs(10));
        assert_eq!(plan.send.len(), 1);
        let note = plan.note.clone().expect("a note");
        assert!(note.contains("1 more") && note.contains("svc2"), "{note}");
        limit.commit(plan);

        // A new minute: announcements again.
        let later = [sample_incident("svc9", BASE_TIME + 70 * SECOND)];
        let plan = limit.plan(&later, t0 + Duration::from_secs(61));
        assert_eq!(plan.send.len(), 1);
        assert!(plan.note.is_none(), "the held one was already named");
    }
}
