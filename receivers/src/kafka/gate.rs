//! What stands between a decoded point and the pipeline: duplicate suppression within
//! a bounded window, and a per-series event-time watermark so nothing reaches a
//! detector out of order.
//!
//! Both remember what they let through. A message the pipeline refuses (it is full)
//! is retried, so its effect is rolled back first: otherwise the retry would find its
//! own points "already seen".

use super::config::DedupeConfig;
use driftd_core::{Point, SeriesId};
use std::collections::{HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};
use xxhash_rust::xxh3::{xxh3_64_with_seed, Xxh3};

/// Series whose watermark is kept; past this, new series are not checked for lateness
/// (the drift processor still skips out-of-order points of a known series).
const MAX_WATERMARKS: usize = 1 << 20;

const EVENT_ID_SEED: u64 = 0x6472_6966_7464_0011;
const POINT_SEED: u64 = 0x6472_6966_7464_0012;

/// The dedupe key of an event with a sender-given id.
pub fn event_id_key(event_id: &str) -> u64 {
    xxh3_64_with_seed(event_id.as_bytes(), EVENT_ID_SEED)
}

/// The dedupe key of a point without an id: its series (metric and source), event time
/// and value bits.
pub fn point_key(p: &Point) -> u64 {
    let mut h = Xxh3::with_seed(POINT_SEED);
    h.update(&p.series.0.to_le_bytes());
    h.update(&p.time_unix_nano.to_le_bytes());
    h.update(&p.value.to_bits().to_le_bytes());
    h.digest()
}

/// The verdict on one point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Feed it on.
    Pass,
    /// Seen within the dedupe window.
    Duplicate,
    /// Older than its series' watermark.
    Late,
}

/// Dedupe window and watermarks, with an undo log for the message in flight.
pub struct Gate {
    dedupe: Option<Window>,
    lateness: u64,
    newest: HashMap<SeriesId, u64>,
    undo_keys: usize,
    undo_newest: Vec<(SeriesId, Option<u64>)>,
}

struct Window {
    size: usize,
    ttl: Duration,
    seen: HashSet<u64>,
    order: VecDeque<(u64, Instant)>,
}

impl Gate {
    /// A gate with nothing seen yet.
    pub fn new(dedupe: &DedupeConfig, allowed_lateness: Duration) -> Self {
        Gate {
            dedupe: (dedupe.size > 0).then(|| Window {
                size: dedupe.size,
                ttl: dedupe.ttl,
                seen: HashSet::new(),
                order: VecDeque::new(),
            }),
            lateness: u64::try_from(allowed_lateness.as_nanos()).unwrap_or(u64::MAX),
            newest: HashMap::new(),
            undo_keys: 0,
            undo_newest: Vec::new(),
        }
    }

    /// Starts a message: what follows can be undone with [`Gate::rollback`].
    pub fn begin(&mut self) {
        self.undo_keys = 0;
        self.undo_newest.clear();
    }

    /// Judges a point with its dedupe key, and remembers it when it passes.
    pub fn admit(&mut self, p: &Point, key: u64, now: Instant) -> Verdict {
        if let Some(w) = &mut self.dedupe {
            w.expire(now);
            if w.seen.contains(&key) {
                return Verdict::Duplicate;
            }
        }
        let newest = self.newest.get(&p.series).copied();
        if newest.is_some_and(|n| p.time_unix_nano < n.saturating_sub(self.lateness)) {
            return Verdict::Late;
        }
        if let Some(w) = &mut self.dedupe {
            w.insert(key, now);
            self.undo_keys += 1;
        }
        if newest.is_none_or(|n| p.time_unix_nano > n) && (newest.is_some() || self.newest.len() < MAX_WATERMARKS) {
            self.undo_newest.push((p.series, newest));
            self.newest.insert(p.series, p.time_unix_nano);
        }
        Verdict::Pass
    }

    /// Forgets what the current message did (its points were not taken).
    pub fn rollback(&mut self) {
        if let Some(w) = &mut self.dedupe {
            for _ in 0..self.undo_keys {
                if let Some((key, _)) = w.order.pop_back() {
                    w.seen.remove(&key);
                }
            }
        }
        for (series, previous) in self.undo_newest.drain(..).rev() {
            match previous {
                Some(t) => self.newest.insert(series, t),
                None => self.newest.remove(&series),
            };
        }
        self.undo_keys = 0;
    }
}

impl Window {
    fn expire(&mut self, now: Instant) {
        while let Some(&(key, at)) = self.order.front() {
            if now.saturating_duration_since(at) < self.ttl {
                break;
            }
            self.order.pop_front();
            self.seen.remove(&key);
        }
    }

    fn insert(&mut self, key: u64, now: Instant) {
        if self.order.len() == self.size {
            if let Some((old, _)) = self.order.pop_front() {
                self.seen.remove(&old);
            }
        }
        self.seen.insert(key);
        self.order.push_back((key, now));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use driftd_core::ValueKind;

    fn p(series: u64, t: u64, v: f64) -> Point {
        Point {
            series: SeriesId(series),
            time_unix_nano: t,
            value: v,
            kind: ValueKind::Gauge,
            origin: 0,
        }
    }

    fn gate(size: usize, lateness_s: u64) -> Gate {
        Gate::new(
            &DedupeConfig {
                size,
                ttl: Duration::from_secs(60),
            },
            Duration::from_secs(lateness_s),
        )
    }

    #[test]
    fn duplicates_are_dropped_within_the_window_only() {
        let mut g = gate(2, 0);
        let now = Instant::now();
        let (a, b, c) = (p(1, 10, 1.0), p(1, 11, 1.0), p(1, 12, 1.0));
        assert_eq!(g.admit(&a, event_id_key("a"), now), Verdict::Pass);
        assert_eq!(g.admit(&a, event_id_key("a"), now), Verdict::Duplicate);
        assert_eq!(g.admit(&b, point_key(&b), now), Verdict::Pass);
        assert_eq!(g.admit(&c, point_key(&c), now), Verdict::Pass);
        // "a" fell out of the two-entry window; its time is still fine.
        assert_eq!(g.admit(&p(1, 12, 2.0), event_id_key("a"), now), Verdict::Pass);
        // Expired by time.
        let later = now + Duration::from_secs(61);
        assert_eq!(g.admit(&p(1, 13, 0.0), point_key(&c), later), Verdict::Pass);
    }

    #[test]
    fn points_behind_the_watermark_are_late() {
        let mut g = gate(0, 5);
        let now = Instant::now();
        let s = 1_000_000_000;
        assert_eq!(g.admit(&p(1, 100 * s, 0.0), 1, now), Verdict::Pass);
        assert_eq!(g.admit(&p(1, 95 * s, 0.0), 2, now), Verdict::Pass);
        assert_eq!(g.admit(&p(1, 94 * s, 0.0), 3, now), Verdict::Late);
        assert_eq!(g.admit(&p(2, 1, 0.0), 4, now), Verdict::Pass, "series are independent");
        let mut strict = gate(0, 0);
        assert_eq!(strict.admit(&p(1, 10, 0.0), 1, now), Verdict::Pass);
        assert_eq!(
            strict.admit(&p(1, 10, 1.0), 2, now),
            Verdict::Pass,
            "equal times are in order"
        );
        assert_eq!(strict.admit(&p(1, 9, 0.0), 3, now), Verdict::Late);
    }

    #[test]
    fn rollback_forgets_the_message_in_flight() {
        let mut g = gate(10, 0);
        let now = Instant::now();
        g.begin();
        assert_eq!(g.admit(&p(1, 10, 0.0), 1, now), Verdict::Pass);
        g.begin();
        assert_eq!(g.admit(&p(1, 20, 0.0), 2, now), Verdict::Pass);
        assert_eq!(g.admit(&p(2, 5, 0.0), 3, now), Verdict::Pass);
        g.rollback();
        // The retry passes again; the first message is still remembered.
        assert_eq!(g.admit(&p(1, 20, 0.0), 2, now), Verdict::Pass);
        assert_eq!(g.admit(&p(2, 5, 0.0), 3, now), Verdict::Pass);
        assert_eq!(g.admit(&p(1, 10, 0.0), 1, now), Verdict::Duplicate);
    }
}
