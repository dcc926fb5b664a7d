//! The synthetic quality figures of every detector, as the rows of QUALITY.md's tables:
//! the same series, seeds and sizes as tests/quality.rs, which holds `auto` to its bars.
//!
//!     cargo run --release -p driftd-processors --example quality_table

#[path = "../tests/synthetic/mod.rs"]
mod synthetic;

use driftd_processors::drift::DriftConfig;
use synthetic::{detection, false_alarms, Change, Noise};

fn config(detector: &str, baseline: &str) -> DriftConfig {
    serde_yaml::from_str(&format!("detector: {{type: {detector}}}\nbaseline: {{{baseline}}}")).expect("config")
}

fn main() {
    let mut rows = Vec::new();
    for detector in ["auto", "zscore", "cusum", "page_hinkley", "rolling"] {
        let c = config(detector, "");
        let step3 = detection(&c, 1_000, Noise::Gaussian, Change::Step(3.0), 200, 100);
        let step1 = detection(&c, 2_000, Noise::Gaussian, Change::Step(1.0), 200, 100);
        let variance = detection(&c, 3_000, Noise::Gaussian, Change::VarianceTimes(3.0), 200, 50);
        let creep = Change::Creep {
            sigmas: 3.0,
            over: 1_000,
        };
        let creep = detection(&c, 4_000, Noise::Gaussian, creep, 200, 666);
        let gaussian = false_alarms(&c, 10_000, Noise::Gaussian, 20, 100_000);
        let t3 = false_alarms(&c, 20_000, Noise::StudentT3, 20, 100_000);
        let ar1 = false_alarms(&c, 30_000, Noise::Ar1(0.7), 20, 100_000);
        let seasonal = config(detector, "seasonality: daily");
        let daily = false_alarms(&seasonal, 40_000, Noise::DailySeasonal(5.0), 20, 100_000);
        let found = |d: &synthetic::Detection| match d.detected {
            0 => format!("0/{}", d.runs),
            n => format!("{n}/{}, median {}", d.runs, d.median_delay()),
        };
        rows.push(format!(
            "| `{detector}` | {} | {} | {} | {} | {gaussian:.2} | {t3:.2} | {ar1:.2} | {daily:.2} |",
            found(&step3),
            found(&step1),
            found(&variance),
            found(&creep),
        ));
    }
    println!();
    println!("| detector | step 3σ (within 100) | step 1σ (within 100) | variance ×3 (within 50) | creep 3σ/1000 (before 2σ) | false alarms per 100k: Gaussian | t(3) | AR(1) 0.7 | daily seasonal |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for row in rows {
        println!("{row}");
    }
}
