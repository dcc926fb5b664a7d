//! `driftd replay`: the configured processors over recorded data, as fast as they go,
//! with event time taken from the data.
//!
//! A replay is the `file` receiver + the processors of the config's first `metrics`
//! pipeline, with their config exactly as written + the `jsonl` exporter, assembled and
//! run by the same `Service` as production (DESIGN.md §2), so a backtest and a live
//! driftd behave the same for the same config and data. What a replay leaves out on
//! purpose: the config's receivers and exporters (no port is bound, nothing is sent
//! anywhere) and its storage backend (a replay keeps its state in memory, so it never
//! reads or overwrites production checkpoints).

use crate::components::Driftd;
use anyhow::{bail, Context};
use driftd_core::assembly::Config;
use driftd_core::component::ProcessorFactory;
use driftd_core::config::{ComponentId, PipelineConfig, ServiceConfig};
use driftd_core::queue::QueueSettings;
use driftd_core::service::{Service, ShutdownDeadlines};
use driftd_exporters::jsonl::{JsonlConfig, STDOUT};
use driftd_exporters::{ExporterConfig, StorageConfig};
use driftd_processors::ProcessorConfig;
use driftd_receivers::file::{FileConfig, FileFormat};
use driftd_receivers::ReceiverConfig;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::BTreeMap;
use std::io::{IsTerminal, Read};
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Time allowed, once the input has been read, to write the remaining events.
const DRAIN_GRACE: Duration = Duration::from_secs(120);

/// Events a replay's exporter holds before it would drop: a replay reads faster than
/// events are written, and must never lose one.
const EVENT_QUEUE: usize = 1 << 20;

/// `driftd replay` arguments.
#[derive(Debug, clap::Args)]
pub struct ReplayArgs {
    /// Recorded points: CSV with a header naming `timestamp` and `value` columns
    /// (optional `metric` or `series`; other columns are labels), or JSON lines
    /// `{timestamp, metric?, value, labels?}`.
    #[arg(long)]
    pub input: PathBuf,
    /// Where drift events go, one JSON object per line; an existing file is replaced,
    /// `-` writes to standard output.
    #[arg(long)]
    pub output: PathBuf,
    /// Input format (default: from the extension: .csv, or .jsonl/.ndjson/.json).
    #[arg(long, value_parser = ["csv", "jsonl"])]
    pub format: Option<String>,
    /// Metric name of lines that carry none (default: the input's file name without
    /// its extension).
    #[arg(long)]
    pub metric: Option<String>,
}

/// The processors a replay runs: those of the config's first `metrics` pipeline.
#[derive(Clone)]
pub struct Processors {
    pipeline: String,
    chain: Vec<(ComponentId, ProcessorConfig)>,
}

/// `series_ttl` counts wall-clock idleness, which means nothing while data runs at
/// replay speed: a replay keeps every series, so the same data gives the same events
/// however fast it runs.
fn without_expiry(processor: ProcessorConfig) -> ProcessorConfig {
    match processor {
        ProcessorConfig::Drift(mut drift) => {
            drift.series_ttl = Duration::ZERO;
            ProcessorConfig::Drift(drift)
        }
    }
}

impl Processors {
    /// Takes the processors of `config`'s first pipeline, which must raise events.
    pub fn of(config: &Config<Driftd>) -> anyhow::Result<Self> {
        let (name, pipeline) = config
            .service
            .pipelines
            .iter()
            .next()
            .context("the config has no pipeline to take processors from")?;
        let chain: Vec<_> = pipeline
            .processors
            .iter()
            .map(|id| (id.clone(), without_expiry(config.processors[id].clone())))
            .collect();
        if !chain.iter().any(|(_, p)| p.emits_events()) {
            bail!("pipeline `{name}` has no processor that raises drift events: add `drift` to its processors");
        }
        Ok(Processors {
            pipeline: name.clone(),
            chain,
        })
    }

    /// The settings of the first drift processor of the chain.
    pub fn drift(&self) -> Option<driftd_processors::drift::DriftConfig> {
        // The drift processor is the only kind there is yet: the first is it.
        self.chain.first().map(|(_, ProcessorConfig::Drift(d))| d.clone())
    }

    /// The pipeline the processors come from.
    pub fn pipeline(&self) -> &str {
        &self.pipeline
    }

    /// A config that replays `input` through these processors into `output` (a path,
    /// or `stdout`).
    pub fn config(&self, input: FileConfig, output: &str) -> Config<Driftd> {
        let id = |s: &str| ComponentId::parse(s).expect("a fixed, valid component id");
        let sending_queue = QueueSettings {
            queue_size: NonZeroUsize::new(EVENT_QUEUE).unwrap_or(NonZeroUsize::MIN),
            batch_size: NonZeroUsize::new(4096).unwrap_or(NonZeroUsize::MIN),
            ..QueueSettings::default()
        };
        let jsonl = JsonlConfig {
            path: output.to_string(),
            sending_queue,
        };
        let pipeline = PipelineConfig {
            receivers: vec![id("file")],
            processors: self.chain.iter().map(|(id, _)| id.clone()).collect(),
            exporters: vec![id("jsonl")],
        };
        Config {
            receivers: BTreeMap::from([(id("file"), ReceiverConfig::File(input))]),
            processors: self.chain.iter().cloned().collect(),
            exporters: BTreeMap::from([(id("jsonl"), ExporterConfig::Jsonl(jsonl))]),
            storage: StorageConfig::Memory(Default::default()),
            service: ServiceConfig {
                pipelines: BTreeMap::from([("metrics".to_string(), pipeline)]),
                shutdown: ShutdownDeadlines {
                    exporters: DRAIN_GRACE,
                    ..ShutdownDeadlines::default()
                },
                ..ServiceConfig::default()
            },
        }
    }
}

/// What a replay did.
#[derive(Debug, Clone, Copy)]
pub struct ReplayStats {
    /// Points the processors took.
    pub points: u64,
    /// Series they tracked.
    pub series: usize,
    /// From build to the last event written.
    pub elapsed: Duration,
}

/// Builds and runs a replay config to the end of its input and the last event written.
pub async fn run(config: &Config<Driftd>, progress: Option<ProgressBar>) -> anyhow::Result<ReplayStats> {
    let started = Instant::now();
    let service = Service::build(config).await.context("cannot start the replay")?;
    let views = service.views.clone();
    let ticker = progress.map(|bar| {
        let views = views.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_millis(100));
            loop {
                every.tick().await;
                bar.set_position(views.points_processed());
            }
        })
    });
    let outcome = service.run_to_completion().await;
    if let Some(t) = ticker {
        t.abort();
    }
    outcome.map_err(anyhow::Error::msg)?;
    Ok(ReplayStats {
        points: views.points_processed(),
        series: views.series_count(),
        elapsed: started.elapsed(),
    })
}

/// The file receiver's config for `args`.
fn file_config(args: &ReplayArgs) -> FileConfig {
    let mut file = FileConfig::new(&args.input);
    file.format = match args.format.as_deref() {
        Some("csv") => FileFormat::Csv,
        Some("jsonl") => FileFormat::Jsonl,
        _ => FileFormat::Auto,
    };
    file.metric = args.metric.clone();
    file
}

/// Runs `driftd replay`.
pub fn main(config: Option<&Path>, args: ReplayArgs) -> ExitCode {
    match replay(config, &args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("driftd replay: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn replay(config_path: Option<&Path>, args: &ReplayArgs) -> anyhow::Result<()> {
    let config = crate::load(config_path)?;
    // Warnings (bad lines) only: per-event info lines would bury the summary.
    crate::init_logs("warn");
    let telemetry = driftd_exporters::prometheus::install_recorder();
    let processors = Processors::of(&config)?;
    let file = file_config(args);
    if file.resolved_format().is_none() {
        bail!(
            "cannot tell the format of {} from its extension: pass --format csv or --format jsonl",
            args.input.display()
        );
    }
    if let Some(errors) = Some(file.validate()).filter(|e| !e.is_empty()) {
        bail!(
            "{}: {}",
            args.input.display(),
            errors.iter().map(|e| e.message.as_str()).collect::<Vec<_>>().join("; ")
        );
    }
    let output = output_target(&args.output)?;
    let header = file.resolved_format() == Some(FileFormat::Csv);
    let replay = processors.config(file, &output);
    let progress = std::io::stderr()
        .is_terminal()
        .then(|| progress_bar(&args.input, header));

    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let stats = runtime.block_on(run(&replay, progress.clone()))?;
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }

    let metrics = telemetry.render();
    let dropped = counter(&metrics, "driftd_exporter_dropped_events_total", &[]);
    let bad_lines = counter(
        &metrics,
        "driftd_receiver_refused_points_total",
        &["transport=\"file\""],
    );
    let events = (output != STDOUT)
        .then(|| count_events(Path::new(&output)))
        .transpose()?;
    print_summary(args, &processors, &stats, events, bad_lines);
    if dropped > 0 {
        bail!("{dropped} event(s) could not be written to {output}");
    }
    Ok(())
}

/// `-` means standard output; a file is created (or emptied) now, so the exporter's
/// appends start from nothing.
fn output_target(path: &Path) -> anyhow::Result<String> {
    if path.as_os_str() == "-" {
        return Ok(STDOUT.to_string());
    }
    let text = path.to_str().context("the output path must be valid UTF-8")?;
    std::fs::File::create(path).with_context(|| format!("cannot create the output `{text}`"))?;
    Ok(text.to_string())
}

fn progress_bar(input: &Path, header: bool) -> ProgressBar {
    // One quick pass to size the bar; only paid when someone is watching.
    let total = count_lines(input).unwrap_or(0).saturating_sub(u64::from(header));
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{bar:40} {human_pos}/{human_len} points  {elapsed} elapsed, eta {eta}")
    {
        bar.set_style(style);
    }
    bar
}

fn count_lines(path: &Path) -> std::io::Result<u64> {
    let mut file = std::fs::File::open(path)?;
    let mut buf = vec![0u8; 1 << 20];
    let mut lines = 0;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            return Ok(lines);
        }
        lines += buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
    }
}

/// Drift events in an output file, by kind: (drift_start, drift_end).
fn count_events(path: &Path) -> anyhow::Result<(u64, u64)> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read back `{}`", path.display()))?;
    let starts = text.lines().filter(|l| l.contains(r#""kind":"drift_start""#)).count() as u64;
    let all = text.lines().count() as u64;
    Ok((starts, all - starts))
}

/// Sums a counter in rendered Prometheus text over the series whose labels contain
/// every `filter`.
pub fn counter(metrics: &str, name: &str, filters: &[&str]) -> u64 {
    metrics
        .lines()
        .filter(|l| {
            l.strip_prefix(name)
                .is_some_and(|r| r.starts_with('{') || r.starts_with(' '))
        })
        .filter(|l| filters.iter().all(|f| l.contains(f)))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

fn print_summary(
    args: &ReplayArgs,
    processors: &Processors,
    stats: &ReplayStats,
    events: Option<(u64, u64)>,
    bad_lines: u64,
) {
    let seconds = stats.elapsed.as_secs_f64();
    let rate = if seconds > 0.0 {
        stats.points as f64 / seconds
    } else {
        0.0
    };
    let events = match events {
        Some((starts, ends)) => format!("{} (drift_start {starts}, drift_end {ends})", starts + ends),
        None => "written to standard output".to_string(),
    };
    eprintln!(
        "driftd replay: {} -> {} (processors of pipeline `{}`)\n  points:    {}\n  series:    {}\n  events:    {events}\n  bad lines: {bad_lines}\n  elapsed:   {seconds:.3} s\n  rate:      {rate:.0} points/s",
        args.input.display(),
        args.output.display(),
        processors.pipeline(),
        stats.points,
        stats.series,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_summed_over_matching_series() {
        let text = "# TYPE x counter\nx_total{a=\"1\",t=\"file\"} 3\nx_total{a=\"2\",t=\"grpc\"} 4\nx_total_other 9\nx_total 1\n";
        assert_eq!(counter(text, "x_total", &[]), 8);
        assert_eq!(counter(text, "x_total", &["t=\"file\""]), 3);
        assert_eq!(counter(text, "y_total", &[]), 0);
    }

    #[test]
    fn the_default_config_replays_its_drift_processor() {
        let config = crate::load(None).expect("the default config loads");
        let p = Processors::of(&config).expect("the default pipeline raises events");
        assert_eq!(p.pipeline(), "metrics");
        let replay = p.config(FileConfig::new("in.csv"), "out.jsonl");
        let pipeline = &replay.service.pipelines["metrics"];
        assert_eq!(pipeline.processors, config.service.pipelines["metrics"].processors);
        assert_eq!(replay.receivers.len(), 1);
        assert_eq!(replay.exporters.len(), 1);
    }
}
