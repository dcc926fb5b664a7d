//! `driftd nab`: replays every series of the Numenta Anomaly Benchmark (NAB v1.1)
//! through the configured processors, exactly as `driftd replay` does (one replay per
//! file, so one series per replay), takes every `drift_start` as a detection on the
//! row of its timestamp, and scores the detections as NAB does (see `score.rs`).

mod score;
mod windows;

use crate::replay::{self, Processors};
use anyhow::Context;
use driftd_core::{DriftEvent, EventKind};
use driftd_receivers::file::{FileConfig, FileFormat};
use score::{score_file, FileScore, Profile, Verdict, PROFILES};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;
use windows::{load_corpus, CorpusFile};

/// `driftd nab` arguments.
#[derive(Debug, clap::Args)]
pub struct NabArgs {
    /// The NAB corpus: a directory holding `data/` and `labels/combined_windows.json`.
    #[arg(long)]
    pub data: PathBuf,
    /// Which scoring profile(s) to print.
    #[arg(long, default_value = "all", value_parser = ["standard", "reward_low_fp_rate", "reward_low_fn_rate", "all"])]
    pub profile: String,
    /// Write every detection (file, row, verdict and the event itself) here as JSON lines.
    #[arg(long)]
    pub detections_out: Option<PathBuf>,
    /// Also print the score of every file.
    #[arg(long)]
    pub verbose: bool,
}

/// The detections a replay raised on one file, as rows.
struct FileResult {
    file: Arc<CorpusFile>,
    events: Vec<(usize, DriftEvent)>,
    points: u64,
}

/// Runs `driftd nab`.
pub fn main(config: Option<&Path>, args: NabArgs) -> ExitCode {
    match nab(config, &args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("driftd nab: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn nab(config_path: Option<&Path>, args: &NabArgs) -> anyhow::Result<()> {
    let config = crate::load(config_path)?;
    crate::init_logs("warn");
    let processors = Processors::of(&config)?;
    let corpus = load_corpus(&args.data)?;
    let started = Instant::now();
    let scratch = ScratchDir::new()?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let results = runtime.block_on(replay_all(&processors, corpus, &scratch.0))?;
    let elapsed = started.elapsed();

    let profiles: Vec<&Profile> = PROFILES
        .iter()
        .filter(|p| args.profile == "all" || p.name.eq_ignore_ascii_case(&args.profile))
        .collect();
    let source = config_path.map_or("the embedded default config".to_string(), |p| p.display().to_string());
    let points: u64 = results.iter().map(|r| r.points).sum();
    let windows: usize = results.iter().map(|r| r.file.windows.len()).sum();
    println!(
        "NAB: {} files, {points} points, {windows} windows; processors of pipeline `{}` in {source}; {:.1} s",
        results.len(),
        processors.pipeline(),
        elapsed.as_secs_f64()
    );
    print!("{}", score_table(&results, &profiles, args.verbose));
    if let Some(path) = &args.detections_out {
        write_detections(path, &results)?;
    }
    Ok(())
}

/// Replays every file, a few at a time (one per core), and reads back its events.
async fn replay_all(
    processors: &Processors,
    corpus: Vec<CorpusFile>,
    scratch: &Path,
) -> anyhow::Result<Vec<FileResult>> {
    let parallel = std::thread::available_parallelism().map_or(2, |n| n.get().min(4));
    let gate = Arc::new(tokio::sync::Semaphore::new(parallel));
    let mut tasks = tokio::task::JoinSet::new();
    for (i, file) in corpus.into_iter().enumerate() {
        let file = Arc::new(file);
        let output = scratch.join(format!("{i}.jsonl"));
        let mut input = FileConfig::new(&file.path);
        input.format = FileFormat::Csv;
        let config = processors.config(input, &output.display().to_string());
        let gate = gate.clone();
        tasks.spawn(async move {
            let _turn = gate.acquire_owned().await?;
            let stats = replay::run(&config, None)
                .await
                .with_context(|| format!("replaying {}", file.name))?;
            let events = read_events(&output, &file)?;
            Ok::<_, anyhow::Error>((
                i,
                FileResult {
                    file,
                    events,
                    points: stats.points,
                },
            ))
        });
    }
    let mut results = Vec::new();
    while let Some(done) = tasks.join_next().await {
        results.push(done.context("a replay task failed")??);
    }
    results.sort_by_key(|(i, _)| *i);
    Ok(results.into_iter().map(|(_, r)| r).collect())
}

/// The `drift_start` events of a replay's output, each with the row it fired on.
fn read_events(output: &Path, file: &CorpusFile) -> anyhow::Result<Vec<(usize, DriftEvent)>> {
    let text = std::fs::read_to_string(output).with_context(|| format!("cannot read {}", output.display()))?;
    let mut events = Vec::new();
    let mut from = 0;
    for line in text.lines() {
        let event: DriftEvent = serde_json::from_str(line).with_context(|| format!("an event of {}", file.name))?;
        if event.kind != EventKind::DriftStart {
            continue;
        }
        match file.row_of(event.timestamp, from) {
            Some(row) => {
                from = row + 1;
                events.push((row, event));
            }
            None => tracing::warn!(file = %file.name, time = event.timestamp, "a detection after the last row"),
        }
    }
    Ok(events)
}

fn detections(r: &FileResult) -> Vec<usize> {
    r.events.iter().map(|(row, _)| *row).collect()
}

/// The corpus score per profile, and per file with `verbose`.
fn score_table(results: &[FileResult], profiles: &[&Profile], verbose: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<20} {:>7} {:>5} {:>5} {:>5} {:>9} {:>9} {:>9}",
        "profile", "score", "TP", "FP", "FN", "raw", "null", "perfect"
    );
    for profile in profiles {
        let mut total = FileScore::default();
        for r in results {
            total.add(&score_file(r.file.rows.len(), &r.file.windows, &detections(r), profile));
        }
        let _ = writeln!(
            out,
            "{:<20} {:>7.2} {:>5} {:>5} {:>5} {:>9.3} {:>9.3} {:>9.3}",
            profile.name,
            total.normalised(),
            total.tp,
            total.fp,
            total.fn_,
            total.raw,
            total.null,
            total.perfect
        );
    }
    if verbose {
        for profile in profiles {
            let _ = writeln!(
                out,
                "\n{} per file:\n{:<56} {:>6} {:>7} {:>3} {:>3} {:>3} {:>8}",
                profile.name, "file", "rows", "windows", "TP", "FP", "FN", "raw"
            );
            for r in results {
                let s = score_file(r.file.rows.len(), &r.file.windows, &detections(r), profile);
                let _ = writeln!(
                    out,
                    "{:<56} {:>6} {:>7} {:>3} {:>3} {:>3} {:>8.3}",
                    r.file.name,
                    r.file.rows.len(),
                    r.file.windows.len(),
                    s.tp,
                    s.fp,
                    s.fn_,
                    s.raw
                );
            }
        }
    }
    out
}

/// Every detection with its verdict, for tuning: which fired where, and why.
fn write_detections(path: &Path, results: &[FileResult]) -> anyhow::Result<()> {
    let mut out = std::io::BufWriter::new(
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
    );
    for r in results {
        let verdicts = score::judge(r.file.rows.len(), &r.file.windows, &detections(r));
        for ((row, event), verdict) in r.events.iter().zip(verdicts) {
            let (verdict, window) = match verdict {
                Verdict::Probationary => ("probationary", None),
                Verdict::TruePositive(w) => ("true_positive", Some(w)),
                Verdict::Repeat(w) => ("repeat_in_window", Some(w)),
                Verdict::FalsePositive => ("false_positive", None),
            };
            let line = serde_json::json!({"file": r.file.name, "row": row, "verdict": verdict, "window": window, "event": event});
            writeln!(out, "{line}")?;
        }
    }
    out.flush().with_context(|| format!("cannot write {}", path.display()))
}

/// A temporary directory for the replays' outputs, removed on drop.
struct ScratchDir(PathBuf);

impl ScratchDir {
    fn new() -> anyhow::Result<Self> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir = std::env::temp_dir().join(format!("driftd-nab-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        Ok(ScratchDir(dir))
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
