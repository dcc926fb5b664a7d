//! Offsets processed but not yet durable. With a checkpointing processor, a message's
//! offset may be committed only once a checkpoint that includes its effect is saved;
//! until then it is held here, tagged with the durability round it was processed in.

use driftd_core::durability::{Durability, Progress};
use std::collections::{BTreeMap, VecDeque};
use tokio::sync::watch;

/// The newest processed offset of each (topic, partition).
pub type Offsets = BTreeMap<(String, i32), i64>;

/// Processed offsets waiting for a checkpoint.
pub struct Pending {
    /// `None` when no processor checkpoints: offsets are durable once processed.
    durability: Option<(Durability, watch::Receiver<Progress>)>,
    /// Held offsets by tag, oldest first. Consecutive messages of one round share an
    /// entry, so this grows with rounds and partitions, not with messages.
    held: VecDeque<(u64, Offsets)>,
}

impl Pending {
    /// Waits on `durability` when a processor checkpoints, on nothing otherwise.
    pub fn new(durability: &Durability) -> Self {
        Pending {
            durability: durability
                .is_checkpointed()
                .then(|| (durability.clone(), durability.subscribe())),
            held: VecDeque::new(),
        }
    }

    /// Records that the message at `offset` went through the pipeline. Returns `true`
    /// when its offset may be committed at once (nothing checkpoints).
    pub fn processed(&mut self, topic: &str, partition: i32, offset: i64) -> bool {
        let Some((durability, _)) = &self.durability else {
            return true;
        };
        let tag = durability.tag();
        match self.held.back_mut() {
            Some((t, offsets)) if *t == tag => {
                offsets.insert((topic.to_string(), partition), offset);
            }
            _ => self
                .held
                .push_back((tag, BTreeMap::from([((topic.to_string(), partition), offset)]))),
        }
        false
    }

    /// Whether offsets are held.
    pub fn is_empty(&self) -> bool {
        self.held.is_empty()
    }

    /// Removes and returns the offsets a saved checkpoint now covers (the newest per
    /// partition).
    pub fn durable(&mut self) -> Offsets {
        let mut out = Offsets::new();
        let Some((_, progress)) = &mut self.durability else {
            return out;
        };
        let progress = *progress.borrow_and_update();
        while let Some((tag, _)) = self.held.front() {
            if !progress.covers(*tag) {
                break;
            }
            if let Some((_, offsets)) = self.held.pop_front() {
                out.extend(offsets);
            }
        }
        out
    }

    /// Resolves when saving progressed; never when nothing checkpoints.
    pub async fn changed(&mut self) {
        match &mut self.durability {
            // The sender lives in `Durability`, which this holds: it cannot close.
            Some((_, progress)) => {
                if progress.changed().await.is_err() {
                    std::future::pending::<()>().await;
                }
            }
            None => std::future::pending().await,
        }
    }

    /// Whether a later round may still make held offsets durable.
    pub fn may_progress(&self) -> bool {
        self.durability.as_ref().is_some_and(|(_, p)| p.borrow().running)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_checkpointer_offsets_are_durable_at_once() {
        let mut p = Pending::new(&Durability::default());
        assert!(p.processed("t", 0, 5));
        assert!(p.is_empty() && !p.may_progress());
    }

    #[test]
    fn offsets_wait_for_a_round_that_began_after_them() {
        let d = Durability::default();
        let rounds = d.register();
        let mut p = Pending::new(&d);
        assert!(!p.processed("t", 0, 0));
        assert!(!p.processed("t", 1, 7));
        let early = rounds.begin();
        assert!(!p.processed("t", 0, 1));
        rounds.saved(early);
        // Offset 1 of partition 0 may not be in the early round's snapshot.
        let first = p.durable();
        assert_eq!(first, Offsets::from([(("t".into(), 0), 0), (("t".into(), 1), 7)]));
        assert!(!p.is_empty());
        let late = rounds.begin();
        rounds.saved(late);
        assert_eq!(p.durable(), Offsets::from([(("t".into(), 0), 1)]));
        assert!(p.is_empty() && p.may_progress());
        drop(rounds);
        assert!(!p.may_progress());
    }
}
