//! The load: `concurrency` workers, each with one request in flight at a time, each
//! owning a disjoint range of series (so every series' timestamps stay in order) and
//! cycling through pre-encoded requests that cover its range.

use super::template::{Noise, RequestTemplate};
use super::transport::Sender;
use bytes::Bytes;
use std::ops::Range;
use std::time::{Duration, Instant};
use tokio::time::MissedTickBehavior;

/// The shape of the load.
#[derive(Debug, Clone)]
pub struct LoadShape {
    /// Distinct series.
    pub series: usize,
    /// Points per request.
    pub points_per_request: usize,
    /// Workers (requests in flight).
    pub workers: usize,
    /// Points per second over all workers; `None` is as fast as the target answers.
    pub rate: Option<u64>,
    /// When to stop sending.
    pub deadline: Instant,
}

/// What the workers did.
#[derive(Debug, Default)]
pub struct Tally {
    /// Points in requests the target acknowledged.
    pub sent_points: u64,
    /// Requests acknowledged.
    pub ok_requests: u64,
    /// Points of acknowledged requests the target said it rejected.
    pub rejected_points: u64,
    /// Requests that failed, and their points.
    pub failed_requests: u64,
    pub failed_points: u64,
    /// The first failure, to show the user.
    pub first_error: Option<String>,
    /// Time from send to answer, per request.
    pub latencies: Vec<Duration>,
}

impl Tally {
    fn merge(&mut self, other: Tally) {
        self.sent_points += other.sent_points;
        self.ok_requests += other.ok_requests;
        self.rejected_points += other.rejected_points;
        self.failed_requests += other.failed_requests;
        self.failed_points += other.failed_points;
        self.first_error = self.first_error.take().or(other.first_error);
        self.latencies.extend(other.latencies);
    }
}

/// Series `worker` of `workers` owns.
fn series_of(worker: usize, workers: usize, series: usize) -> Range<usize> {
    worker * series / workers..(worker + 1) * series / workers
}

/// Requests covering `range` with `points` points each: as many as it takes for every
/// series of the range to appear, the series split evenly between them.
pub fn templates(range: Range<usize>, points: usize, t0: u64, noise: &mut Noise) -> Vec<RequestTemplate> {
    let parts = range.len().div_ceil(points.max(1)).max(1);
    (0..parts)
        .map(|p| {
            let part = range.start + p * range.len() / parts..range.start + (p + 1) * range.len() / parts;
            RequestTemplate::new(part, points, t0, noise)
        })
        .collect()
}

/// Runs the workers over `senders` (worker `i` uses sender `i % len`) until the deadline.
pub async fn run(shape: &LoadShape, senders: &[Sender], t0: u64) -> anyhow::Result<Tally> {
    let mut tasks = Vec::new();
    for worker in 0..shape.workers {
        let mut noise = Noise::new(worker as u64 + 1);
        let range = series_of(worker, shape.workers, shape.series);
        let requests = templates(range, shape.points_per_request, t0, &mut noise);
        let sender = senders[worker % senders.len()].clone();
        // Each worker sends its share of the rate; starts are staggered over one period.
        let period = shape.rate.map(|rate| {
            let per_worker = rate as f64 / shape.workers as f64;
            Duration::from_secs_f64(shape.points_per_request as f64 / per_worker.max(1e-9))
        });
        let offset = period.map_or(Duration::ZERO, |p| p.mul_f64(worker as f64 / shape.workers as f64));
        let deadline = shape.deadline;
        tasks.push(tokio::spawn(work(sender, requests, noise, period, offset, deadline)));
    }
    let mut tally = Tally::default();
    for t in tasks {
        tally.merge(t.await?);
    }
    Ok(tally)
}

async fn work(
    mut sender: Sender,
    mut requests: Vec<RequestTemplate>,
    mut noise: Noise,
    period: Option<Duration>,
    offset: Duration,
    deadline: Instant,
) -> Tally {
    let mut tally = Tally::default();
    let mut ticks = period.map(|p| {
        let mut t = tokio::time::interval_at(tokio::time::Instant::now() + offset, p);
        // Behind schedule, catch up: the average rate is what was asked for.
        t.set_missed_tick_behavior(MissedTickBehavior::Burst);
        t
    });
    for next in (0..requests.len()).cycle() {
        if let Some(t) = &mut ticks {
            t.tick().await;
        }
        if Instant::now() >= deadline {
            break;
        }
        let request = &mut requests[next];
        let points = request.points();
        let body = Bytes::copy_from_slice(request.bytes());
        let begin = Instant::now();
        let result = sender.send(body).await;
        tally.latencies.push(begin.elapsed());
        match result {
            Ok(rejected) => {
                tally.ok_requests += 1;
                tally.sent_points += points;
                tally.rejected_points += rejected;
            }
            Err(e) => {
                tally.failed_requests += 1;
                tally.failed_points += points;
                tally.first_error.get_or_insert_with(|| format!("{e:#}"));
            }
        }
        request.advance(&mut noise);
    }
    tally
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workers_split_the_series_and_requests_cover_every_one() {
        let ranges: Vec<_> = (0..3).map(|w| series_of(w, 3, 10)).collect();
        assert_eq!(ranges, [0..3, 3..6, 6..10]);
        let mut noise = Noise::new(1);
        let t = templates(0..2500, 1000, 1, &mut noise);
        assert_eq!(t.len(), 3, "2500 series need 3 requests of 1000 points");
        assert!(t.iter().all(|r| r.points() == 1000));
        assert_eq!(templates(0..37, 1000, 1, &mut noise).len(), 1);
    }
}
