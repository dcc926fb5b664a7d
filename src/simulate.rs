//! `driftd simulate`: synthetic traffic with known drifts, for demos, tests and load.
//!
//! Series `sim-0`, `sim-1`, ... each report `latency_ms`. Event time advances one
//! second per sample, so even `--rate max` gives every series ordered, distinct
//! timestamps; it starts `--samples` seconds ago (30 days ago without `--samples`), so
//! it never runs ahead of the clock, which receivers refuse. The truth (which series drift, how, from which sample and
//! event time) is printed as JSON on stdout, or written to `--truth FILE`, so a test
//! can score detection. A progress line goes to a terminal; the summary to stderr.

use crate::simulate_scenario::{Drift, Plan, Scenario, SeriesGen};
use crate::simulate_target::{Sender, SimPoint, Target, METRIC};
use driftd_core::time::{rfc3339, synthetic_start};
use serde::Serialize;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SECOND: u64 = 1_000_000_000;
/// Where event time starts without `--samples`: 30 days of samples before now.
const UNBOUNDED_SAMPLES: u64 = 30 * 86_400;

/// What to simulate and where to send it.
#[derive(Debug, clap::Args)]
pub struct SimulateArgs {
    /// Where to send: `otlp-grpc://HOST:PORT`, `otlp-http://HOST:PORT`,
    /// `http://HOST:PORT` (the JSON API) or `kafka://BROKER:PORT/TOPIC` (json events).
    #[arg(long, default_value = "http://127.0.0.1:8000")]
    pub target: Target,
    /// Number of series (`sim-0` ... `sim-<N-1>`).
    #[arg(long, default_value_t = 10)]
    pub series: usize,
    /// Points per second over all series, or `max`.
    #[arg(long, default_value = "100")]
    pub rate: Rate,
    /// How long to send at most, e.g. `30s`.
    #[arg(long, default_value = "60s", value_parser = humantime::parse_duration)]
    pub duration: Duration,
    /// Stop after this many samples per series (before `--duration` if it comes first).
    #[arg(long)]
    pub samples: Option<u64>,
    /// What the series do.
    #[arg(long, value_enum, default_value_t = Scenario::Normal)]
    pub scenario: Scenario,
    /// `mixed`: the fraction of series that drift.
    #[arg(long, default_value_t = 0.2)]
    pub drift_fraction: f64,
    /// The sample index drifts start at (after the detector's 100 warm-up samples).
    #[arg(long, default_value_t = 150)]
    pub drift_at: u64,
    /// Size of spikes and creeps, in standard deviations.
    #[arg(long, default_value_t = 8.0)]
    pub magnitude: f64,
    /// Seed of every random draw: the same seed gives the same traffic.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Write the truth (JSON) here instead of printing it.
    #[arg(long)]
    pub truth: Option<PathBuf>,
    /// Senders working in parallel (each owns a share of the series, so every series
    /// stays in order).
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
    /// Kafka: create the topic with this many partitions if it does not exist.
    #[arg(long)]
    pub create_topic: Option<i32>,
}

/// `--rate`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Rate {
    /// As fast as the target takes them.
    Max,
    /// Points per second.
    PerSecond(f64),
}

impl FromStr for Rate {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s == "max" {
            return Ok(Rate::Max);
        }
        match s.parse::<f64>() {
            Ok(r) if r.is_finite() && r > 0.0 => Ok(Rate::PerSecond(r)),
            _ => Err(format!("`{s}` is not a rate: give points per second (> 0) or `max`")),
        }
    }
}

#[derive(Serialize)]
struct Truth<'a> {
    scenario: Scenario,
    seed: u64,
    series: usize,
    metric: &'static str,
    start: String,
    drift_at_sample: u64,
    drifting: Vec<DriftTruth<'a>>,
    normal: Vec<&'a str>,
}

#[derive(Serialize)]
struct DriftTruth<'a> {
    service: &'a str,
    kind: Drift,
    at_sample: u64,
    at: String,
}

/// Runs the simulation and prints the summary.
pub async fn run(args: SimulateArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.series > 0, "--series must be at least 1");
    let plan = Plan::new(
        args.scenario,
        args.series,
        args.drift_fraction,
        args.drift_at,
        args.magnitude,
        args.seed,
    );
    let t0 = synthetic_start(args.samples.unwrap_or(UNBOUNDED_SAMPLES));
    write_truth(&args, &plan, t0)?;

    let workers = args.concurrency.clamp(1, args.series);
    let mut senders = Vec::with_capacity(workers);
    for _ in 0..workers {
        senders.push(Sender::connect(&args.target, args.create_topic).await?);
    }
    let attempted = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + args.duration;
    // Ticks (one sample of every series) are spaced to give the asked rate overall.
    let tick = match args.rate {
        Rate::Max => None,
        Rate::PerSecond(r) => Some(Duration::from_secs_f64(args.series as f64 / r)),
    };
    let mut tasks = Vec::new();
    for (w, mut sender) in senders.into_iter().enumerate() {
        let mut gens: Vec<SeriesGen> = (w..args.series).step_by(workers).map(|i| plan.generator(i)).collect();
        let (attempted, failed, samples) = (attempted.clone(), failed.clone(), args.samples);
        tasks.push(tokio::spawn(async move {
            let mut k = 0u64;
            while samples.is_none_or(|n| k < n) && Instant::now() < deadline {
                if let Some(tick) = tick {
                    tokio::time::sleep_until((started + tick.mul_f64(k as f64)).into()).await;
                }
                let points: Vec<SimPoint> = gens
                    .iter_mut()
                    .map(|g| SimPoint {
                        service: g.plan.service.clone(),
                        sample: k,
                        time_unix_nano: t0 + k * SECOND,
                        value: g.value(k),
                    })
                    .collect();
                let lost = sender.send(&points).await;
                attempted.fetch_add(points.len() as u64, Ordering::Relaxed);
                failed.fetch_add(lost, Ordering::Relaxed);
                k += 1;
            }
            failed.fetch_add(sender.finish().await, Ordering::Relaxed);
        }));
    }
    let progress = std::io::stderr().is_terminal().then(|| {
        let (attempted, failed) = (attempted.clone(), failed.clone());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(500)).await;
                let s = attempted.load(Ordering::Relaxed);
                let secs = started.elapsed().as_secs_f64();
                eprint!(
                    "\r\x1b[Ksent {s} failed {} ({:.0} points/s, {secs:.0}s)",
                    failed.load(Ordering::Relaxed),
                    s as f64 / secs
                );
            }
        })
    });
    for t in tasks {
        t.await?;
    }
    if let Some(p) = progress {
        p.abort();
        eprint!("\r\x1b[K");
    }
    let secs = started.elapsed().as_secs_f64();
    let f = failed.load(Ordering::Relaxed);
    let s = attempted.load(Ordering::Relaxed).saturating_sub(f);
    eprintln!(
        "simulate: sent {s} points in {secs:.1}s ({:.0} points/s); failed {f}",
        s as f64 / secs.max(1e-9)
    );
    anyhow::ensure!(
        s > 0 || f == 0,
        "every point failed: is driftd listening at {:?}?",
        args.target
    );
    Ok(())
}

fn write_truth(args: &SimulateArgs, plan: &Plan, t0: u64) -> anyhow::Result<()> {
    let at = t0 + plan.drift_at * SECOND;
    let truth = Truth {
        scenario: args.scenario,
        seed: args.seed,
        series: plan.series.len(),
        metric: METRIC,
        start: rfc3339(t0),
        drift_at_sample: plan.drift_at,
        drifting: plan
            .series
            .iter()
            .filter(|s| s.drift != Drift::None)
            .map(|s| DriftTruth {
                service: &s.service,
                kind: s.drift,
                at_sample: plan.drift_at,
                at: rfc3339(at),
            })
            .collect(),
        normal: plan
            .series
            .iter()
            .filter(|s| s.drift == Drift::None)
            .map(|s| s.service.as_str())
            .collect(),
    };
    let text = serde_json::to_string_pretty(&truth)?;
    match &args.truth {
        Some(path) => std::fs::write(path, text + "\n")
            .map_err(|e| anyhow::anyhow!("cannot write the truth to {}: {e}", path.display())),
        None => {
            println!("{text}");
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Rate;

    #[test]
    fn rates() {
        assert_eq!("max".parse(), Ok(Rate::Max));
        assert_eq!("250.5".parse(), Ok(Rate::PerSecond(250.5)));
        for bad in ["0", "-1", "fast", "NaN"] {
            assert!(bad.parse::<Rate>().is_err(), "{bad}");
        }
    }
}
