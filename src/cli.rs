//! Command-line arguments.

use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// driftd: a telemetry collector that learns what normal looks like for every series
/// and says when one drifts, and when it recovers.
#[derive(Debug, Parser)]
#[command(name = "driftd", version, about)]
pub struct Cli {
    /// Config file (YAML). Without one, the embedded default config runs.
    #[arg(long, short, global = true, env = "DRIFTD_CONFIG")]
    pub config: Option<PathBuf>,

    /// What to do (default: run).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the collector (the default).
    Run,
    /// Check a config file without binding anything; prints every error with its line.
    Validate {
        /// Files to check (in addition to --config).
        files: Vec<PathBuf>,
    },
    /// Print the effective config: defaults filled in, env expanded, secrets redacted.
    PrintConfig,
    /// Print the embedded default config file, comments and all.
    DefaultConfig,
    /// Print the config reference (docs/CONFIG.md): every component and setting, with
    /// its default.
    ConfigReference,
    /// Send OTLP/gRPC or OTLP/HTTP load to a running driftd and report points per second,
    /// latency and (with --pid) its CPU and memory; --sink receives and drops instead.
    Bench(crate::bench::BenchArgs),
    /// Send synthetic traffic with known drifts (normal, spike, creep, variance, mixed)
    /// to a running driftd over OTLP, the JSON API or Kafka.
    Simulate(crate::simulate::SimulateArgs),
    /// Run the configured processors over recorded data (CSV or JSON lines) and write
    /// the drift events they raise as JSON lines.
    Replay(crate::replay::ReplayArgs),
    /// Replay the NAB corpus through the configured processors and print its NAB score.
    Nab(crate::nab::NabArgs),
    /// Measure the configured drift processor (or each detector) on synthetic series with
    /// known truth: false alarms per family, detections per change; --check holds it to
    /// the bars of QUALITY.md.
    Eval(crate::eval::EvalArgs),
}
