//! The recent values of one series of a cohort comparison, in slices of event time: the
//! comparison window is the last [`SLICES`] complete slices, so it slides a slice at a
//! time without keeping the values.

use crate::drift::stats::Welford;

/// Slices in a comparison window.
pub const SLICES: u64 = 4;

/// The window's slices and the one being filled.
#[derive(Clone, Debug, Default)]
pub struct Slices {
    /// By slice number modulo `SLICES + 1`.
    slots: [Welford; SLICES as usize + 1],
    /// The slice number of the newest value (0: none yet).
    newest: u64,
}

impl Slices {
    /// Adds value `x` of slice `slice`; a value older than the window is dropped.
    pub fn add(&mut self, slice: u64, x: f64) {
        if slice + SLICES < self.newest {
            return;
        }
        self.advance(slice);
        self.slots[Self::slot(slice)].add(x);
    }

    /// The slice number of the newest value (0: none yet).
    pub fn newest(&self) -> u64 {
        self.newest
    }

    /// Forgets the slices that fell out of the window by `slice`.
    pub fn advance(&mut self, slice: u64) {
        if slice <= self.newest {
            return;
        }
        let cleared = (slice - self.newest).min(SLICES + 1);
        for s in slice + 1 - cleared..=slice {
            self.slots[Self::slot(s)] = Welford::default();
        }
        self.newest = slice;
    }

    /// The values of the window that ends where slice `current` begins, and the
    /// oldest slice of it holding any.
    pub fn window(&self, current: u64) -> (Welford, Option<u64>) {
        let mut all = Welford::default();
        let mut oldest = None;
        for s in current.saturating_sub(SLICES)..current {
            // A slot holds slice `s` only when nothing newer than the window reused it.
            if s + SLICES < self.newest || s > self.newest {
                continue;
            }
            let w = &self.slots[Self::slot(s)];
            if w.seen() > 0 {
                oldest = oldest.or(Some(s));
                all.merge(w);
            }
        }
        (all, oldest)
    }

    fn slot(slice: u64) -> usize {
        (slice % (SLICES + 1)) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_holds_the_last_complete_slices() {
        let mut s = Slices::default();
        for slice in 10..20 {
            s.add(slice, slice as f64);
            s.add(slice, slice as f64);
        }
        // Slices 15..=18 are the complete ones before 19.
        let (w, oldest) = s.window(19);
        assert_eq!(w.seen(), 8);
        assert_eq!(w.mean(), 16.5);
        assert_eq!(oldest, Some(15));
        // Later, only what is left of it counts.
        s.advance(21);
        let (w, oldest) = s.window(21);
        assert_eq!((w.seen(), oldest), (6, Some(17)));
        s.advance(40);
        assert_eq!(s.window(40).0.seen(), 0);
    }

    #[test]
    fn merged_slices_give_the_figures_of_all_their_values() {
        let mut s = Slices::default();
        let values = [1.0, 4.0, 2.0, 8.0, 5.0, 7.0];
        for (i, v) in values.iter().enumerate() {
            s.add(1 + i as u64 / 2, *v);
        }
        let stats = s.window(4).0.stats();
        let mean = values.iter().sum::<f64>() / 6.0;
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 5.0;
        assert!((stats.mean - mean).abs() < 1e-12);
        assert!((stats.stddev - var.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn values_older_than_the_window_are_dropped() {
        let mut s = Slices::default();
        s.add(20, 1.0);
        s.add(15, 100.0);
        s.add(16, 3.0);
        let (w, _) = s.window(21);
        assert_eq!((w.seen(), w.mean()), (1, 1.0));
        let (w, _) = s.window(20);
        assert_eq!((w.seen(), w.mean()), (1, 3.0), "slice 16 is kept, 15 was not");
    }
}
