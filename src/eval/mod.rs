//! `driftd eval`: the detection quality harness. Runs the config's drift processor (or
//! each detector with its defaults) over synthetic series with known truth and prints,
//! as Markdown tables, how often series with nothing wrong raise drift (per family),
//! and how often and how fast injected changes are found (per change and injection
//! point). `--check` holds the result to the bars of QUALITY.md.

mod families;
mod run;

use anyhow::Context;
use driftd_processors::drift::{DetectorConfig, DriftConfig};
use families::{Change, Family};
use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Where changes are injected: into a young baseline, an established one, a settled one.
const INJECTED_AT: [u64; 3] = [50, 150, 1_000];

/// The detectors `--detector all` compares.
const DETECTORS: [&str; 5] = ["auto", "zscore", "cusum", "page_hinkley", "rolling"];

/// `driftd eval` arguments.
#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// Series per family and per change.
    #[arg(long, default_value_t = 1_000)]
    pub series: u64,
    /// Samples per in-control series.
    #[arg(long, default_value_t = 5_000)]
    pub samples: u64,
    /// Samples after the change within which it counts as found.
    #[arg(long, default_value_t = 500)]
    pub within: u64,
    /// A detector (with its defaults) in place of the config's, or `all` for a table per
    /// detector.
    #[arg(long, value_parser = ["auto", "zscore", "cusum", "page_hinkley", "rolling", "all"])]
    pub detector: Option<String>,
    /// Exit with failure unless the bars are met (QUALITY.md): at most 0.25% of
    /// in-control series of any family raise drift; a 2 σ step is found in 95% of
    /// series with a median delay of at most 20 samples wherever it is injected; a 1 σ
    /// step in 80%.
    #[arg(long)]
    pub check: bool,
}

/// Runs `driftd eval`.
pub fn main(config: Option<&Path>, args: EvalArgs) -> ExitCode {
    match eval(config, &args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("driftd eval: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn eval(config_path: Option<&Path>, args: &EvalArgs) -> anyhow::Result<bool> {
    let config = crate::load(config_path)?;
    let drift = crate::replay::Processors::of(&config)?
        .drift()
        .context("the first pipeline has no drift processor to evaluate")?;
    let source = config_path.map_or("the embedded default config".to_string(), |p| p.display().to_string());
    let runs: Vec<(String, DriftConfig)> = match args.detector.as_deref() {
        None => vec![(format!("drift processor of {source}"), drift)],
        Some(name) => DETECTORS
            .iter()
            .filter(|d| name == "all" || name == **d)
            .map(|d| {
                let detector: DetectorConfig = serde_yaml::from_str(&format!("type: {d}")).expect("a detector name");
                let config = DriftConfig {
                    detector,
                    ..drift.clone()
                };
                (format!("`{d}` with its defaults, the rest of {source}"), config)
            })
            .collect(),
    };
    let mut met = true;
    for (what, config) in &runs {
        let report = Report::measure(config, args);
        print!("{}", report.markdown(what, args));
        let failures = report.failures();
        if args.check {
            for f in &failures {
                println!("bar not met: {f}");
            }
            met &= failures.is_empty();
        }
    }
    Ok(met)
}

/// A Markdown table's introduction, head and rule.
fn table_head(out: &mut String, intro: &str, columns: &[&str]) {
    let _ = writeln!(
        out,
        "{intro}\n\n| {} |\n|{}",
        columns.join(" | "),
        "---|".repeat(columns.len())
    );
}

/// How one in-control family did.
struct InControl {
    family: Family,
    alarmed: u64,
    starts: u64,
    /// Sample of each alarmed series' first drift_start, sorted.
    first: Vec<u64>,
}

/// How one change at one injection point did.
struct Detection {
    change: Change,
    at: u64,
    found: u64,
    delays: Vec<u64>,
    early: u64,
}

impl Detection {
    fn median_delay(&self) -> Option<u64> {
        let mut d = self.delays.clone();
        d.sort_unstable();
        d.get(d.len() / 2).copied()
    }
}

struct Report {
    series: u64,
    in_control: Vec<InControl>,
    detections: Vec<Detection>,
}

impl Report {
    /// Runs every family and change, on as many threads as there are cores.
    fn measure(config: &DriftConfig, args: &EvalArgs) -> Report {
        let jobs: Vec<(Family, Option<(Change, u64)>)> = Family::ALL
            .iter()
            .map(|f| (*f, None))
            .chain(
                Change::ALL
                    .iter()
                    .flat_map(|c| INJECTED_AT.iter().map(move |at| (Family::Gaussian, Some((*c, *at))))),
            )
            .collect();
        let next = AtomicUsize::new(0);
        let done = AtomicUsize::new(0);
        let results = Mutex::new(Vec::new());
        let progress = std::io::stderr().is_terminal();
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|| {
                    while let Some(&(family, change)) = jobs.get(next.fetch_add(1, Ordering::Relaxed)) {
                        let samples = change.map_or(args.samples, |(_, at)| at + args.within);
                        let starts = run::run(config, family, change, args.series, samples);
                        results.lock().expect("not poisoned").push((family, change, starts));
                        let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                        if progress {
                            eprint!("\rdriftd eval: {n}/{} runs", jobs.len());
                        }
                    }
                });
            }
        });
        if progress {
            eprintln!();
        }
        let mut report = Report {
            series: args.series,
            in_control: Vec::new(),
            detections: Vec::new(),
        };
        let mut results = results.into_inner().expect("not poisoned");
        results.sort_by_key(|(f, c, _)| {
            (
                *f as usize,
                c.map(|(c, at)| (Change::ALL.iter().position(|x| *x == c), at)),
            )
        });
        for (family, change, starts) in results {
            match change {
                None => {
                    let mut first: Vec<u64> = starts.iter().filter_map(|s| s.first().copied()).collect();
                    first.sort_unstable();
                    report.in_control.push(InControl {
                        family,
                        alarmed: first.len() as u64,
                        starts: starts.iter().map(|s| s.len() as u64).sum(),
                        first,
                    })
                }
                Some((change, at)) => {
                    let mut d = Detection {
                        change,
                        at,
                        found: 0,
                        delays: Vec::new(),
                        early: 0,
                    };
                    for s in &starts {
                        d.early += u64::from(s.iter().any(|&i| i < at));
                        if let Some(first) = s.iter().find(|&&i| i >= at) {
                            d.found += 1;
                            d.delays.push(first - at);
                        }
                    }
                    report.detections.push(d);
                }
            }
        }
        report
    }

    fn markdown(&self, what: &str, args: &EvalArgs) -> String {
        let pct = |n: u64| 100.0 * n as f64 / self.series as f64;
        let mut out = String::new();
        let _ = writeln!(out, "### {what}\n");
        let intro = format!(
            "False alarms: {} series × {} samples per family.",
            self.series, args.samples
        );
        let columns = [
            "family",
            "series with a drift_start",
            "drift_starts per 100,000 samples",
            "first drift_start: quartiles (sample)",
        ];
        table_head(&mut out, &intro, &columns);
        for f in &self.in_control {
            let per_100k = f.starts as f64 * 100_000.0 / (self.series * args.samples) as f64;
            let quartiles = match f.first.len() {
                0 => "–".to_string(),
                n => format!("{}, {}, {}", f.first[n / 4], f.first[n / 2], f.first[3 * n / 4]),
            };
            let _ = writeln!(
                out,
                "| {} | {} ({:.2}%) | {per_100k:.2} | {quartiles} |",
                f.family.name(),
                f.alarmed,
                pct(f.alarmed)
            );
        }
        out.push('\n');
        let intro = format!(
            "Detections: {} Gaussian series (100 ± 10) per row, found within {} samples of the change.",
            self.series, args.within
        );
        let columns = [
            "change",
            "injected at sample",
            "found",
            "median delay",
            "series with a drift_start before it",
        ];
        table_head(&mut out, &intro, &columns);
        for d in &self.detections {
            let delay = d.median_delay().map_or("–".to_string(), |m| m.to_string());
            let _ = writeln!(
                out,
                "| {} | {} | {:.1}% | {delay} | {:.1}% |",
                d.change.name(),
                d.at,
                pct(d.found),
                pct(d.early)
            );
        }
        out.push('\n');
        out
    }

    /// The bars this report misses.
    fn failures(&self) -> Vec<String> {
        let rate = |n: u64| n as f64 / self.series as f64;
        let mut out = Vec::new();
        for f in &self.in_control {
            if rate(f.alarmed) > 0.0025 {
                out.push(format!(
                    "{}: {:.2}% of series raised drift (at most 0.25%)",
                    f.family.name(),
                    100.0 * rate(f.alarmed)
                ));
            }
        }
        for d in &self.detections {
            let (least, delay) = match d.change {
                Change::Step(2.0) => (0.95, Some(20)),
                Change::Step(1.0) => (0.80, None),
                _ => continue,
            };
            if rate(d.found) < least {
                out.push(format!(
                    "{} at {}: found in {:.1}% (at least {:.0}%)",
                    d.change.name(),
                    d.at,
                    100.0 * rate(d.found),
                    100.0 * least
                ));
            }
            if let (Some(most), Some(median)) = (delay, d.median_delay()) {
                if median > most {
                    out.push(format!(
                        "{} at {}: median delay {median} (at most {most})",
                        d.change.name(),
                        d.at
                    ));
                }
            }
        }
        out
    }
}
