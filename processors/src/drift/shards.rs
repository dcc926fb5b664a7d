//! The map both series tables keep their entries in: series id → entry, split into
//! shards, each behind its own lock, so ingest threads, scrapes and the expiry sweep
//! contend only when they touch the same shard.
//!
//! A batch of points takes each shard's lock once for all of its points there, not
//! once per point: a thousand-point request costs [`SHARDS`] lock round trips instead
//! of a thousand. And with the shard held, the state of all its series in the batch
//! is read ahead of their updates, so their cache misses overlap instead of coming one
//! update at a time (see [`ShardedMap::each_point`]).

use driftd_core::{Point, SeriesId};
use parking_lot::RwLock;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Shards per map. A power of two, at most 64 (one bit each in a `u64`).
pub const SHARDS: usize = 16;

/// Series ids are already uniform 64-bit hashes; hashing them again is wasted work.
#[derive(Default)]
pub struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// One shard's entries.
pub type Shard<V> = HashMap<SeriesId, V, BuildHasherDefault<IdHasher>>;

/// A shard and its lock, alone on its cache lines (two threads locking neighbouring
/// shards do not fight over one line).
#[repr(align(128))]
struct Padded<V>(RwLock<Shard<V>>);

/// Series id → `V`, in [`SHARDS`] locked shards.
pub struct ShardedMap<V> {
    shards: Box<[Padded<V>]>,
}

impl<V> Default for ShardedMap<V> {
    fn default() -> Self {
        ShardedMap {
            shards: (0..SHARDS).map(|_| Padded(RwLock::default())).collect(),
        }
    }
}

/// The shard of `id`. Bits 32 and up: the shard's hash table indexes slots by the low
/// bits and tags them with the top seven, so neither is skewed within a shard.
fn shard_of(id: SeriesId) -> usize {
    (id.0 >> 32) as usize % SHARDS
}

impl<V> ShardedMap<V> {
    /// Entries in all shards (each counted under its own lock: a moment's sum).
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.0.read().len()).sum()
    }

    /// Slots allocated in all shards (entries plus room to grow).
    #[cfg(test)]
    pub fn capacity(&self) -> usize {
        self.shards.iter().map(|s| s.0.read().capacity()).sum()
    }

    /// Runs `f` on the shard of `id`, locked for writing.
    pub fn write<R>(&self, id: SeriesId, f: impl FnOnce(&mut Shard<V>) -> R) -> R {
        f(&mut self.shards[shard_of(id)].0.write())
    }

    /// Runs `f` on the entry of `id`, if any, with its shard locked for reading.
    pub fn read<R>(&self, id: SeriesId, f: impl FnOnce(Option<&V>) -> R) -> R {
        f(self.shards[shard_of(id)].0.read().get(&id))
    }

    /// Visits every entry, one shard locked for reading at a time.
    pub fn for_each(&self, mut visit: impl FnMut(SeriesId, &V)) {
        for s in self.shards.iter() {
            for (id, v) in s.0.read().iter() {
                visit(*id, v);
            }
        }
    }

    /// Keeps the entries `keep` says to, one shard locked for writing at a time;
    /// returns how many went. A shard that lost a quarter or more of its entries gives
    /// its spare slots back (rehashing costs less than the memory it frees).
    pub fn retain(&self, mut keep: impl FnMut(SeriesId, &V) -> bool) -> usize {
        let mut gone = 0;
        for s in self.shards.iter() {
            let mut shard = s.0.write();
            let before = shard.len();
            shard.retain(|id, v| keep(*id, v));
            let removed = before - shard.len();
            if removed > 0 && removed >= before / 4 {
                shard.shrink_to_fit();
            }
            gone += removed;
        }
        gone
    }

    /// Calls `each` with every point of `points` and the shard of its series, locked
    /// for writing, taking each shard's lock once. Points of one series keep their
    /// order; points of different shards do not. A shard another thread holds is
    /// passed over and visited once the free ones are done.
    ///
    /// Before a shard's points are fed, `warm` reads each of their entries: those
    /// reads are independent and short, so the processor has many cache misses in
    /// flight at once, and the updates that follow find their state in cache. (A
    /// prefetch instruction would do it without the reads; it needs `unsafe`.)
    pub fn each_point(&self, points: &[Point], warm: impl Fn(&V) -> u64, mut each: impl FnMut(&mut Shard<V>, &Point)) {
        // Counting sort of the points by shard: `order[start[s]..start[s + 1]]` are the
        // indices of shard `s`'s points, in arrival order.
        let mut start = [0u32; SHARDS + 1];
        for p in points {
            start[shard_of(p.series) + 1] += 1;
        }
        for s in 0..SHARDS {
            start[s + 1] += start[s];
        }
        let mut next = start;
        let mut order = vec![0u32; points.len()];
        for (i, p) in points.iter().enumerate() {
            let s = shard_of(p.series);
            order[next[s] as usize] = i as u32;
            next[s] += 1;
        }
        let mut run = |shard: &mut Shard<V>, s: usize| {
            let mine = &order[start[s] as usize..start[s + 1] as usize];
            let read: u64 = mine
                .iter()
                .filter_map(|&i| shard.get(&points[i as usize].series))
                .fold(0, |sum, v| sum.wrapping_add(warm(v)));
            // Keeps the reads from being optimised away.
            std::hint::black_box(read);
            for &i in mine {
                each(shard, &points[i as usize]);
            }
        };
        let mut busy = 0u64;
        for s in (0..SHARDS).filter(|&s| start[s] < start[s + 1]) {
            match self.shards[s].0.try_write() {
                Some(mut shard) => run(&mut shard, s),
                None => busy |= 1 << s,
            }
        }
        for s in (0..SHARDS).filter(|&s| busy & (1 << s) != 0) {
            run(&mut self.shards[s].0.write(), s);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use driftd_core::ValueKind;

    fn point(series: u64, time_unix_nano: u64) -> Point {
        Point {
            series: SeriesId(series),
            time_unix_nano,
            value: 0.0,
            kind: ValueKind::Gauge,
            origin: 0,
        }
    }

    /// Ids spread over every shard (the shard comes from the high half).
    fn id(n: u64) -> u64 {
        n.wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }

    #[test]
    fn a_batch_visits_every_point_once_in_order_within_a_series() {
        let map = ShardedMap::<Vec<u64>>::default();
        let points: Vec<Point> = (0..1000).map(|i| point(id(i % 37), i)).collect();
        let mut visited = 0;
        map.each_point(
            &points,
            |_| 0,
            |shard, p| {
                shard.entry(p.series).or_default().push(p.time_unix_nano);
                visited += 1;
            },
        );
        assert_eq!(visited, 1000);
        assert_eq!(map.len(), 37);
        let mut shards_used = std::collections::HashSet::new();
        for n in 0..37 {
            shards_used.insert(shard_of(SeriesId(id(n))));
            let times = map.read(SeriesId(id(n)), |v| v.cloned()).expect("series present");
            let expected: Vec<u64> = (0..1000).filter(|i| i % 37 == n).collect();
            assert_eq!(times, expected, "series {n} saw its points in order");
        }
        assert!(shards_used.len() > SHARDS / 2, "ids spread over the shards");
    }

    #[test]
    fn a_batch_waits_for_a_shard_another_thread_holds() {
        let map = std::sync::Arc::new(ShardedMap::<u64>::default());
        let points: Vec<Point> = (0..64).map(|i| point(id(i), i)).collect();
        let held = shard_of(points[0].series);
        let (locked, release) = (std::sync::Barrier::new(2), std::sync::Barrier::new(2));
        let mut visited = Vec::new();
        std::thread::scope(|scope| {
            scope.spawn(|| {
                map.write(points[0].series, |shard| {
                    shard.insert(SeriesId(u64::MAX), 0);
                    locked.wait();
                    release.wait();
                })
            });
            locked.wait();
            // The batch cannot finish while shard `held` is taken: let it go shortly.
            scope.spawn(|| {
                std::thread::sleep(std::time::Duration::from_millis(20));
                release.wait();
            });
            map.each_point(
                &points,
                |_| 0,
                |shard, p| {
                    *shard.entry(p.series).or_default() += 1;
                    visited.push(shard_of(p.series));
                },
            );
        });
        assert_eq!(map.len(), 65);
        assert!(points.iter().all(|p| map.read(p.series, |v| v == Some(&1))));
        // The held shard was passed over: every other shard's points went first.
        let first_held = visited.iter().position(|&s| s == held).expect("held shard visited");
        assert!(first_held > 0, "the batch has points in other shards");
        assert!(visited[first_held..].iter().all(|&s| s == held), "{visited:?}");
    }

    #[test]
    fn retain_removes_what_it_is_told_and_counts_it() {
        let map = ShardedMap::<u64>::default();
        map.each_point(
            &(0..100).map(|i| point(id(i), i)).collect::<Vec<_>>(),
            |_| 0,
            |shard, p| {
                shard.insert(p.series, p.time_unix_nano);
            },
        );
        assert_eq!(map.retain(|_, &t| t % 2 == 0), 50);
        assert_eq!(map.len(), 50);
        let mut seen = 0;
        map.for_each(|_, t| {
            assert_eq!(t % 2, 0);
            seen += 1;
        });
        assert_eq!(seen, 50);
    }
}
