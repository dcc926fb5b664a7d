//! The ack→event latency probe: while the load runs, dedicated probe series get a
//! stable warm-up, then one at a time a +50σ step in a single request. From the moment
//! that request is acknowledged, the query API is polled until the series' drift_start
//! is visible. The drift processor detects inside the request; the delay measured is
//! the event export queue plus the query API (and one API round trip).

use super::report;
use super::template::{series_metrics, Noise};
use super::transport::Sender;
use bytes::Bytes;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::metrics::v1::{number_data_point, NumberDataPoint};
use prost::Message;
use std::time::{Duration, Instant};

/// Warm-up samples per probe series. The default baseline learns from 100 samples
/// (`baseline.warmup_samples`) before `auto` judges anything; the rest is margin.
const WARMUP_SAMPLES: u64 = 120;
/// Points of the step, all in one request. `auto`'s large-shift CUSUM gains at most
/// 4 − 1.5 = 2.5 per sample (values are clipped at ±4σ) against a threshold of 6, so
/// the third stepped point fires; five leave a margin.
const STEP_POINTS: u64 = 5;
/// Size of the step, in baseline standard deviations (the noise has σ ≈ 1).
const STEP_SIGMAS: f64 = 50.0;
/// Pause between probes, so each one lands on load that is running.
const PAUSE: Duration = Duration::from_millis(20);
/// A drift_start not visible after this long counts as missed.
const GIVE_UP: Duration = Duration::from_secs(5);
const SECOND: u64 = 1_000_000_000;

/// What the probes measured.
#[derive(Debug, Default)]
pub struct ProbeReport {
    /// Ack→visible delay of every probe that was seen.
    pub delays: Vec<Duration>,
    /// Probes whose event was not seen within the give-up time.
    pub missed: usize,
    /// Probes whose event the first poll already showed: their delay is one query
    /// API round trip, the floor of what the probe can measure.
    pub at_first_poll: usize,
    /// Points the probes sent (they reach the target's accepted counter too).
    pub points: u64,
}

impl ProbeReport {
    /// One line for the user.
    pub fn line(&mut self) -> String {
        format!(
            "probe: {} steps of +{STEP_SIGMAS}σ, ack→drift_start visible in /v1/events: {} ({} at the first poll); \
             {} not seen within {:?}; {} probe points sent",
            self.delays.len() + self.missed,
            report::summary(&mut self.delays),
            self.at_first_poll,
            self.missed,
            GIVE_UP,
            self.points
        )
    }
}

/// Runs `steps` probes through `sender`, polling the query API at `api` (`http://host:port`).
pub async fn run(mut sender: Sender, api: &str, steps: usize) -> anyhow::Result<ProbeReport> {
    let run_id = std::process::id();
    let name = |k: usize| format!("bench_probe_{run_id}_{k}");
    let t0 = driftd_core::time::now_unix_nano();
    let mut noise = Noise::new(u64::from(run_id));
    let mut report = ProbeReport::default();
    for k in 0..steps {
        let values: Vec<f64> = (0..WARMUP_SAMPLES).map(|_| noise.value()).collect();
        report.points += send(&mut sender, &name(k), t0, &values).await?;
    }
    let client = reqwest::Client::new();
    for k in 0..steps {
        tokio::time::sleep(PAUSE).await;
        let values: Vec<f64> = (0..STEP_POINTS).map(|_| noise.value() + STEP_SIGMAS).collect();
        report.points += send(&mut sender, &name(k), t0 + WARMUP_SAMPLES * SECOND, &values).await?;
        let acked = Instant::now();
        let url = format!("{api}/v1/events?metric={}&kind=drift_start&limit=1", name(k));
        for poll in 0.. {
            if drift_started(&client, &url).await? {
                report.delays.push(acked.elapsed());
                report.at_first_poll += usize::from(poll == 0);
                break;
            }
            if acked.elapsed() > GIVE_UP {
                report.missed += 1;
                break;
            }
        }
    }
    Ok(report)
}

/// Sends `values` of series `name`, one second apart from `t0`; returns the points sent.
async fn send(sender: &mut Sender, name: &str, t0: u64, values: &[f64]) -> anyhow::Result<u64> {
    let points = values
        .iter()
        .zip(0..)
        .map(|(&v, i)| NumberDataPoint {
            time_unix_nano: t0 + i * SECOND,
            value: Some(number_data_point::Value::AsDouble(v)),
            ..Default::default()
        })
        .collect();
    let request = ExportMetricsServiceRequest {
        resource_metrics: vec![series_metrics(name, points)],
    };
    let rejected = sender.send(Bytes::from(request.encode_to_vec())).await?;
    anyhow::ensure!(rejected == 0, "the target rejected {rejected} probe points of {name}");
    Ok(values.len() as u64)
}

/// Whether GET `url` lists at least one event.
async fn drift_started(client: &reqwest::Client, url: &str) -> anyhow::Result<bool> {
    let resp = client.get(url).send().await?;
    let status = resp.status();
    let body: serde_json::Value = resp.json().await?;
    anyhow::ensure!(status.is_success(), "GET {url}: {status} {body}");
    Ok(body["total"].as_u64().is_some_and(|n| n > 0))
}
