//! `driftd bench`: OTLP load at the fastest rate the target answers (or a set rate),
//! with points/s, errors and request latency; optionally the target's CPU and memory
//! (`--pid`) and the ack→event latency of drift detection (`--probe-steps`).
//! `driftd bench --sink` is the other end: a receiver that drops everything, to
//! measure the tool's own ceiling.
//!
//! Requests are encoded once per worker; each send only patches timestamps and values
//! in place (see `template`), so the tool stays cheap next to the target.

mod load;
mod probe;
mod report;
mod sink;
mod template;
mod transport;

use load::LoadShape;
use report::Usage;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use transport::{Protocol, Sender};

/// What to send, or `--sink` to receive.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// OTLP transport.
    #[arg(long, value_enum, default_value_t = Protocol::Grpc)]
    pub protocol: Protocol,
    /// Target base URL (default http://127.0.0.1:4317 for grpc, :4318 for http; HTTP
    /// requests go to /v1/metrics under it).
    #[arg(long)]
    pub endpoint: Option<String>,
    /// Distinct series.
    #[arg(long, default_value_t = 300)]
    pub series: usize,
    /// Points per request.
    #[arg(long, default_value_t = 1000)]
    pub points_per_request: usize,
    /// Requests in flight (one worker each).
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// Connections the requests are spread over (gRPC: HTTP/2 multiplexes requests on
    /// each; HTTP/1.1 needs one connection per request in flight, so it ignores this).
    #[arg(long, default_value_t = 2)]
    pub connections: usize,
    /// How long to send, e.g. `20s`.
    #[arg(long, default_value = "20s", value_parser = humantime::parse_duration)]
    pub duration: Duration,
    /// Points per second over all requests; without it, as fast as the target answers.
    #[arg(long)]
    pub rate: Option<u64>,
    /// Report this process's CPU (from /proc/PID/stat over the run), RSS and peak RSS.
    #[arg(long)]
    pub pid: Option<u32>,
    /// Measure ack→event latency with this many +50σ steps on probe series while the
    /// load runs (needs the query API, `--api`).
    #[arg(long, default_value_t = 0)]
    pub probe_steps: usize,
    /// The target's query API, for `--probe-steps`.
    #[arg(long, default_value = "http://127.0.0.1:8000")]
    pub api: String,
    /// Receive instead of send: take OTLP/gRPC and OTLP/HTTP on `--listen`, count and
    /// drop, until SIGINT or SIGTERM.
    #[arg(long)]
    pub sink: bool,
    /// With `--sink`: decode every request into prost's owned OTLP types and count its
    /// points (a decode-only collector, to read driftd's cost per point against).
    #[arg(long, requires = "sink")]
    pub decode: bool,
    /// Address the sink listens on.
    #[arg(long, default_value = "127.0.0.1:24317")]
    pub listen: SocketAddr,
}

/// Runs the load (or the sink) and prints the figures.
pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    if args.sink {
        return sink::serve(args.listen, args.decode).await;
    }
    anyhow::ensure!(args.series > 0, "--series must be at least 1");
    anyhow::ensure!(args.points_per_request > 0, "--points-per-request must be at least 1");
    anyhow::ensure!(args.rate != Some(0), "--rate must be at least 1 point per second");
    let endpoint = args
        .endpoint
        .clone()
        .unwrap_or_else(|| args.protocol.default_endpoint().to_string());
    let connections = match args.protocol {
        Protocol::Grpc => args.connections.max(1),
        Protocol::Http => 1,
    };
    let mut senders = Vec::new();
    for _ in 0..connections {
        senders.push(Sender::connect(args.protocol, &endpoint).await?);
    }
    let probe = match args.probe_steps {
        0 => None,
        steps => {
            let sender = Sender::connect(args.protocol, &endpoint).await?;
            let api = args.api.trim_end_matches('/').to_string();
            Some(tokio::spawn(async move { probe::run(sender, &api, steps).await }))
        }
    };
    let usage = args.pid.map(|pid| Usage::start("target", pid)).transpose()?;
    let own_usage = Usage::start("tool", std::process::id())?;
    let started = Instant::now();
    let shape = LoadShape {
        series: args.series,
        points_per_request: args.points_per_request,
        workers: args.concurrency.clamp(1, args.series),
        rate: args.rate,
        deadline: started + args.duration,
    };
    // One sample a second per series, from a year ago: a run of any length stays behind
    // the clock (a year is 30 million sends per series).
    let t0 = driftd_core::time::synthetic_start(365 * 86_400);
    let mut tally = load::run(&shape, &senders, t0).await?;
    let elapsed = started.elapsed();
    let secs = elapsed.as_secs_f64();
    println!(
        "sent {} points in {secs:.1}s: {:.0} points/s; failed {}; latency p50 {} p99 {}",
        tally.sent_points,
        tally.sent_points as f64 / secs,
        tally.failed_points,
        report::ms(report::percentile(sorted(&mut tally.latencies), 0.5)),
        report::ms(report::percentile(&tally.latencies, 0.99)),
    );
    println!(
        "requests: {} ok ({:.0}/s), {} failed; {} points rejected by the target; {} series, {} points per \
         request, {} in flight over {} {} connection(s)",
        tally.ok_requests,
        tally.ok_requests as f64 / secs,
        tally.failed_requests,
        tally.rejected_points,
        args.series,
        args.points_per_request,
        shape.workers,
        match args.protocol {
            Protocol::Grpc => connections,
            Protocol::Http => shape.workers,
        },
        match args.protocol {
            Protocol::Grpc => "gRPC",
            Protocol::Http => "HTTP/1.1",
        },
    );
    if let Some(e) = &tally.first_error {
        println!("first error: {e}");
    }
    if let Some(usage) = usage {
        println!("{}", usage.report(elapsed, tally.sent_points)?);
    }
    println!("{}", own_usage.report(elapsed, tally.sent_points)?);
    if let Some(probe) = probe {
        println!("{}", probe.await??.line());
    }
    Ok(())
}

fn sorted(latencies: &mut [Duration]) -> &[Duration] {
    latencies.sort_unstable();
    latencies
}

/// Resolves on SIGINT or SIGTERM.
async fn stop_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = ctrl_c.await;
}
