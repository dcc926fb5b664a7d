//! Durability rounds: how a receiver learns that what it fed on is saved, so it can
//! acknowledge its source (commit a Kafka offset) only then.
//!
//! A processor that checkpoints its state registers once at build time (processors are
//! built before receivers, so every registration is in before a receiver asks) and
//! numbers its save rounds: `begin` before it snapshots anything, `saved` once the
//! round's writes succeeded. Round numbers come from one counter shared by every
//! checkpointer. A receiver tags each input with `tag()` *after* the pipeline took it;
//! every round numbered above the tag began later, so its snapshot includes that input.
//! The input is durable once every checkpointer has saved such a round:
//! `Progress::covers(tag)`.
//!
//! With no checkpointer (a memory store, or checkpoints turned off) nothing is saved
//! and nothing is waited for: receivers acknowledge right after processing.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::watch;

/// The shared durability signal (cheap to clone; every clone is the same signal).
#[derive(Clone)]
pub struct Durability {
    shared: Arc<Shared>,
}

struct Shared {
    /// Number of the newest round begun by any checkpointer (0: none yet).
    begun: AtomicU64,
    /// Each registered checkpointer's newest saved round, and whether it still runs.
    checkpointers: Mutex<Vec<Slot>>,
    progress: watch::Sender<Progress>,
}

#[derive(Clone, Copy)]
struct Slot {
    saved: u64,
    running: bool,
}

/// How far saving has got, as receivers see it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// Every checkpointer has saved a round numbered at least this (0: not all have).
    pub saved: u64,
    /// Whether a checkpointer still runs, so that later rounds may still come.
    pub running: bool,
}

impl Progress {
    /// Whether an input tagged `tag` is in saved state everywhere.
    pub fn covers(&self, tag: u64) -> bool {
        tag < self.saved
    }
}

impl Default for Durability {
    fn default() -> Self {
        Durability {
            shared: Arc::new(Shared {
                begun: AtomicU64::new(0),
                checkpointers: Mutex::new(Vec::new()),
                progress: watch::Sender::new(Progress::default()),
            }),
        }
    }
}

impl Durability {
    /// Registers a checkpointer; its handle numbers its rounds.
    pub fn register(&self) -> Rounds {
        let mut slots = self.slots();
        slots.push(Slot {
            saved: 0,
            running: true,
        });
        let index = slots.len() - 1;
        self.publish(&slots);
        Rounds {
            durability: self.clone(),
            index,
        }
    }

    /// Whether any checkpointer was registered: if not, there is nothing to wait for.
    pub fn is_checkpointed(&self) -> bool {
        !self.slots().is_empty()
    }

    /// The tag of an input the pipeline has just taken (call it after processing).
    pub fn tag(&self) -> u64 {
        // A read-modify-write, not a load: it orders this thread's earlier writes (the
        // processed state) before any later `begin`, which reads after it, so a round
        // numbered above the tag is sure to see them.
        self.shared.begun.fetch_add(0, Ordering::AcqRel)
    }

    /// Follows the saving progress.
    pub fn subscribe(&self) -> watch::Receiver<Progress> {
        self.shared.progress.subscribe()
    }

    fn slots(&self) -> std::sync::MutexGuard<'_, Vec<Slot>> {
        // The slots are plain numbers, consistent after any panic: keep going.
        self.shared.checkpointers.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn publish(&self, slots: &[Slot]) {
        let progress = Progress {
            saved: slots.iter().map(|s| s.saved).min().unwrap_or(0),
            running: slots.iter().any(|s| s.running),
        };
        self.shared
            .progress
            .send_if_modified(|p| std::mem::replace(p, progress) != progress);
    }
}

/// One checkpointer's round numbering; dropping it says that no round will follow.
pub struct Rounds {
    durability: Durability,
    index: usize,
}

/// A save round's number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Round(u64);

impl Rounds {
    /// Starts a round: call it before taking the snapshot the round saves.
    pub fn begin(&self) -> Round {
        Round(self.durability.shared.begun.fetch_add(1, Ordering::AcqRel) + 1)
    }

    /// Marks `round` saved: everything tagged below it is durable in this checkpointer.
    pub fn saved(&self, round: Round) {
        let mut slots = self.durability.slots();
        if let Some(slot) = slots.get_mut(self.index) {
            slot.saved = slot.saved.max(round.0);
        }
        self.durability.publish(&slots);
    }
}

impl Drop for Rounds {
    fn drop(&mut self) {
        let mut slots = self.durability.slots();
        if let Some(slot) = slots.get_mut(self.index) {
            slot.running = false;
        }
        self.durability.publish(&slots);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_input_is_durable_once_every_checkpointer_saved_a_later_round() {
        let d = Durability::default();
        assert!(!d.is_checkpointed());
        let progress = d.subscribe();
        let (a, b) = (d.register(), d.register());
        assert!(d.is_checkpointed());

        let before = d.tag();
        let r1 = a.begin();
        let during = d.tag();
        a.saved(r1);
        assert!(!progress.borrow().covers(before), "b has saved nothing yet");
        let r2 = b.begin();
        b.saved(r2);
        let now = *progress.borrow();
        assert!(now.covers(before), "{now:?}");
        assert!(!now.covers(during), "a's round began before that input: {now:?}");
        assert!(now.running);

        let r3 = a.begin();
        a.saved(r3);
        assert!(progress.borrow().covers(during));
        drop(a);
        assert!(progress.borrow().running, "b still runs");
        drop(b);
        let last = *progress.borrow();
        assert!(!last.running && last.covers(during), "{last:?}");
    }

    #[test]
    fn an_older_round_saved_late_never_moves_progress_back() {
        let d = Durability::default();
        let a = d.register();
        let (r1, r2) = (a.begin(), a.begin());
        a.saved(r2);
        a.saved(r1);
        assert_eq!(d.subscribe().borrow().saved, 2);
    }
}
