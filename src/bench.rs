//! `driftd bench`: sends OTLP/gRPC metrics as fast as it can (or at a set rate) and
//! reports points per second and latency. Requests are encoded once up front; each
//! send only rewrites timestamps in place, so the tool stays cheap next to the target.

use anyhow::Context;
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_client::MetricsServiceClient;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::{
    metric, number_data_point, Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What to send.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// OTLP/gRPC endpoint.
    #[arg(long, default_value = "http://127.0.0.1:4317")]
    pub endpoint: String,
    /// Distinct series.
    #[arg(long, default_value_t = 300)]
    pub series: usize,
    /// Points per request.
    #[arg(long, default_value_t = 1000)]
    pub points_per_request: usize,
    /// Requests in flight.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// HTTP/2 connections the requests are spread over.
    #[arg(long, default_value_t = 2)]
    pub connections: usize,
    /// How long to send, e.g. `20s`.
    #[arg(long, default_value = "20s", value_parser = humantime::parse_duration)]
    pub duration: Duration,
}

/// One request: `points` points spread over series `first..first + count`, each
/// series' points one second apart, starting at `t0`.
fn request(points: usize, first: usize, count: usize, t0: u64) -> ExportMetricsServiceRequest {
    let mut by_series: Vec<Vec<NumberDataPoint>> = vec![Vec::new(); count.clamp(1, points)];
    for i in 0..points {
        let slot = i % by_series.len();
        let round = (i / by_series.len()) as u64;
        by_series[slot].push(NumberDataPoint {
            time_unix_nano: t0 + round * 1_000_000_000,
            value: Some(number_data_point::Value::AsDouble(100.0 + (i % 7) as f64)),
            ..Default::default()
        });
    }
    let resource_metrics = by_series
        .into_iter()
        .enumerate()
        .map(|(slot, data_points)| {
            let s = first + slot;
            ResourceMetrics {
                resource: Some(Resource {
                    attributes: vec![KeyValue {
                        key: "service.name".into(),
                        value: Some(AnyValue {
                            value: Some(any_value::Value::StringValue(format!("svc-{}", s % 50))),
                        }),
                        ..Default::default()
                    }],
                    ..Default::default()
                }),
                scope_metrics: vec![ScopeMetrics {
                    metrics: vec![Metric {
                        name: format!("bench_metric_{s}"),
                        data: Some(metric::Data::Gauge(Gauge { data_points })),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }
        })
        .collect();
    ExportMetricsServiceRequest { resource_metrics }
}

/// Shifts every timestamp in `req` forward by `by` nanoseconds.
fn advance(req: &mut ExportMetricsServiceRequest, by: u64) {
    for rm in &mut req.resource_metrics {
        for sm in &mut rm.scope_metrics {
            for m in &mut sm.metrics {
                if let Some(metric::Data::Gauge(g)) = &mut m.data {
                    g.data_points.iter_mut().for_each(|p| p.time_unix_nano += by);
                }
            }
        }
    }
}

/// Runs the load and prints the figures.
pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    let mut clients = Vec::new();
    for _ in 0..args.connections.max(1) {
        let channel = tonic::transport::Endpoint::from_shared(args.endpoint.clone())?
            .tcp_nodelay(true)
            .connect()
            .await
            .with_context(|| format!("cannot connect to {}", args.endpoint))?;
        clients.push(MetricsServiceClient::new(channel).max_decoding_message_size(64 << 20));
    }
    let sent = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + args.duration;
    let t0 = driftd_core::time::now_unix_nano();
    let workers = args.concurrency.clamp(1, args.series.max(1));
    let mut tasks = Vec::new();
    for worker in 0..workers {
        let mut client = clients[worker % clients.len()].clone();
        // Each worker owns a disjoint range of series, so timestamps stay ordered per series.
        let first = worker * args.series / workers;
        let count = (worker + 1) * args.series / workers - first;
        let mut req = request(args.points_per_request, first, count, t0);
        let step = args.points_per_request.div_ceil(count.max(1)) as u64 * 1_000_000_000;
        let points = args.points_per_request as u64;
        let (sent, failed) = (sent.clone(), failed.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let begin = Instant::now();
                match client.export(req.clone()).await {
                    Ok(_) => sent.fetch_add(points, Ordering::Relaxed),
                    Err(_) => failed.fetch_add(points, Ordering::Relaxed),
                };
                latencies.push(begin.elapsed());
                advance(&mut req, step);
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await?);
    }
    let secs = started.elapsed().as_secs_f64();
    latencies.sort();
    let pct = |q: f64| {
        latencies
            .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    let sent = sent.load(Ordering::Relaxed);
    println!(
        "sent {sent} points in {secs:.1}s: {:.0} points/s; failed {}; latency p50 {:?} p99 {:?}",
        sent as f64 / secs,
        failed.load(Ordering::Relaxed),
        pct(0.5),
        pct(0.99)
    );
    Ok(())
}
