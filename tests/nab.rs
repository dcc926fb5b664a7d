//! `driftd nab` through the real binary: on a tiny hand-made corpus, and on the real
//! NAB v1.1 corpus, which ships with the tests (`tests/data/nab`, MIT, see its
//! SOURCES.md).

mod common;

use common::{driftd_bin, TempDir, ZSCORE_CONFIG};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The standard-profile score the embedded default config must reach on NAB; raised as
/// detection improves. `DRIFTD_NAB_MIN_SCORE` overrides it. Lowered from 50 to 43.5 on
/// 2026-12-07, knowingly: the spread test that scored 50.7 did it by alarming on two or
/// three outliers, which NAB rewards (one found window outweighs 18 false alarms) and
/// which was also the main source of false alarms on in-control noise (QUALITY.md).
const MIN_STANDARD_SCORE: f64 = 43.5;

fn nab(args: &[&str], config: Option<&Path>) -> Output {
    let mut cmd = Command::new(driftd_bin());
    cmd.arg("nab").args(args);
    if let Some(c) = config {
        cmd.arg("--config").arg(c);
    }
    cmd.output().expect("run driftd nab")
}

/// The score column of a profile's row in the table.
fn score(stdout: &str, profile: &str) -> Option<(f64, Vec<u64>)> {
    let line = stdout.lines().find(|l| l.split_whitespace().next() == Some(profile))?;
    let cols: Vec<&str> = line.split_whitespace().collect();
    let counts = cols.get(2..5)?.iter().filter_map(|c| c.parse().ok()).collect();
    Some((cols.get(1)?.parse().ok()?, counts))
}

/// `YYYY-MM-DD HH:MM:SS` of second `s` of 2014-04-01, as NAB writes timestamps.
fn stamp(s: u64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_396_310_400 + s);
    humantime::format_rfc3339_seconds(t)
        .to_string()
        .replace('T', " ")
        .trim_end_matches('Z')
        .to_string()
}

#[test]
fn a_hand_made_corpus_scores_its_one_detected_window() {
    let dir = TempDir::new("nab-small");
    std::fs::create_dir_all(dir.0.join("data/synthetic")).expect("mkdir data");
    std::fs::create_dir_all(dir.0.join("labels")).expect("mkdir labels");
    // 2000 rows of 100 ± 1 stepping to 120 at row 1000; probation covers 300 rows.
    let mut x: u64 = 7;
    let mut step = String::from("timestamp,value\n");
    let mut flat = String::from("timestamp,value\n");
    for i in 0..2000u64 {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let e = ((x >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 2.0;
        let level = if i >= 1000 { 120.0 } else { 100.0 };
        step.push_str(&format!("{},{:.4}\n", stamp(i * 60), level + e));
        flat.push_str(&format!("{},{:.4}\n", stamp(i * 60), 100.0 + e));
    }
    std::fs::write(dir.0.join("data/synthetic/step.csv"), step).expect("write step");
    std::fs::write(dir.0.join("data/synthetic/flat.csv"), flat).expect("write flat");
    let window = [
        format!("{}.000000", stamp(990 * 60)),
        format!("{}.000000", stamp(1100 * 60)),
    ];
    let labels = serde_json::json!({"synthetic/step.csv": [window], "synthetic/flat.csv": []});
    std::fs::write(dir.0.join("labels/combined_windows.json"), labels.to_string()).expect("write labels");
    let config = dir.0.join("config.yaml");
    std::fs::write(&config, ZSCORE_CONFIG).expect("write config");
    let detections = dir.0.join("detections.jsonl");

    let data = dir.0.display().to_string();
    let out = nab(
        &[
            "--data",
            &data,
            "--detections-out",
            &detections.display().to_string(),
            "--verbose",
        ],
        Some(&config),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("2 files, 4000 points, 1 windows"), "{stdout}");
    let (standard, counts) = score(&stdout, "standard").expect("a standard row");
    assert_eq!(counts, [1, 0, 0], "TP FP FN:\n{stdout}");
    // Detected on row 1004 of a window 990..=1100: early, so close to perfect.
    assert!(standard > 90.0 && standard < 100.0, "{stdout}");
    assert!(score(&stdout, "reward_low_FP_rate").is_some() && score(&stdout, "reward_low_FN_rate").is_some());
    assert!(
        stdout.contains("synthetic/flat.csv"),
        "per-file rows with --verbose:\n{stdout}"
    );

    let written = std::fs::read_to_string(&detections).expect("detections written");
    let lines: Vec<serde_json::Value> = written
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    assert_eq!(lines.len(), 1, "{written}");
    assert_eq!(lines[0]["file"], "synthetic/step.csv");
    assert_eq!(lines[0]["row"], 1004);
    assert_eq!(lines[0]["verdict"], "true_positive");
    assert_eq!(lines[0]["event"]["kind"], "drift_start");

    let out = nab(&["--data", &data, "--profile", "standard"], Some(&config));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        score(&stdout, "standard").is_some() && score(&stdout, "reward_low_FP_rate").is_none(),
        "{stdout}"
    );
}

/// Where the NAB corpus is: `$DRIFTD_NAB_DIR`, or `tests/data/nab` in the repo.
fn corpus_dir() -> PathBuf {
    std::env::var_os("DRIFTD_NAB_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/nab"))
}

#[test]
fn the_nab_corpus_reaches_the_recorded_score_with_the_default_config() {
    let dir = corpus_dir();
    // Written straight to stderr: the test harness captures `eprintln!` of passing tests.
    let say = |text: String| {
        let _ = writeln!(std::io::stderr(), "{text}");
    };
    assert!(
        dir.join("labels/combined_windows.json").is_file(),
        "the NAB corpus is missing at {} (it ships in tests/data/nab; DRIFTD_NAB_DIR points elsewhere)",
        dir.display()
    );
    let out = nab(&["--data", &dir.display().to_string()], None);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("58 files") && stdout.contains("116 windows"),
        "{stdout}"
    );
    let (standard, _) = score(&stdout, "standard").expect("a standard row");
    let min = std::env::var("DRIFTD_NAB_MIN_SCORE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(MIN_STANDARD_SCORE);
    say(format!("NAB standard score {standard:.2} (bar {min:.2})\n{stdout}"));
    assert!(
        standard >= min,
        "NAB standard score {standard:.2} is below {min:.2}:\n{stdout}"
    );
}
