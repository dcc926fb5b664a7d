//! The baseline and summary statistics.

use super::baseline::{Baseline, BaselineConfig, BaselineParams};
use super::stats::{Ewma, Welford};

fn params(yaml: &str) -> BaselineParams {
    BaselineParams::from(&serde_yaml::from_str::<BaselineConfig>(yaml).unwrap())
}

const MINUTE: u64 = 60_000_000_000;

#[test]
fn welford_matches_the_textbook_figures() {
    let mut w = Welford::default();
    for x in [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0] {
        w.add(x);
    }
    let s = w.stats();
    assert_eq!((s.mean, s.samples), (5.0, 8));
    assert!((s.stddev - 2.138_089_935).abs() < 1e-9);
}

#[test]
fn ewma_follows_a_level_change() {
    let mut e = Ewma::default();
    (0..100).for_each(|_| e.add(1.0, 0.1));
    (0..100).for_each(|_| e.add(3.0, 0.1));
    let s = e.stats(20);
    assert!((s.mean - 3.0).abs() < 1e-3, "{s:?}");
    assert_eq!(s.samples, 20);
}

/// Learns `xs` one minute apart, as the series does (judge, learn, observe).
fn learned(p: &BaselineParams, xs: impl Iterator<Item = f64>) -> Baseline {
    let mut b = Baseline::default();
    for (i, x) in xs.enumerate() {
        let t = i as u64 * MINUTE;
        let j = b.judge(p, x, t);
        b.learn(p, x, t, &j);
        b.observe(&j);
    }
    b
}

#[test]
fn the_mean_estimator_learns_location_and_spread() {
    let p = params("{}");
    let b = learned(&p, (0..1000).map(|i| if i % 2 == 0 { 11.0 } else { 9.0 }));
    let s = b.stats(&p);
    assert!((s.mean - 10.0).abs() < 0.01 && (s.stddev - 1.0).abs() < 0.01, "{s:?}");
    assert!(b.ready(&p, 0));
    // 5 standard deviations out, judged against what was learned.
    assert!((b.judge(&p, 15.0, 0).z - 5.0).abs() < 0.1);
}

#[test]
fn a_flat_baseline_gives_finite_but_huge_z_for_any_change() {
    let p = params("{}");
    let b = learned(&p, std::iter::repeat_n(5.0, 200));
    assert_eq!(b.judge(&p, 5.0, 0).z, 0.0);
    let z = b.judge(&p, 5.1, 0).z;
    assert!(z.is_finite() && z > 1e6, "{z}");
}

#[test]
fn the_median_estimator_shrugs_off_outliers_in_the_learning_period() {
    let p = params("estimator: median");
    let xs = (0..2000).map(|i| if i % 50 == 0 { 1e6 } else { 10.0 + (i % 5) as f64 - 2.0 });
    let s = learned(&p, xs).stats(&p);
    assert!((s.mean - 10.0).abs() < 0.5, "{s:?}");
    assert!(s.stddev < 5.0, "{s:?}");
}

#[test]
fn a_daily_profile_removes_the_cycle_and_waits_one_season() {
    let p = params("seasonality: daily");
    let day = 24 * 60;
    let level = |i: u64| 100.0 + 20.0 * (2.0 * std::f64::consts::PI * (i % day) as f64 / day as f64).sin();
    let b = learned(&p, (0..day - 1).map(level));
    assert!(!b.ready(&p, (day - 1) * MINUTE), "not before a whole day");
    let b = learned(&p, (0..3 * day).map(level));
    assert!(b.ready(&p, 3 * day * MINUTE));
    // The peak of the cycle is normal at its hour, and far off at the trough's hour.
    let peak = day / 4;
    assert!(b.judge(&p, level(peak), (3 * day + peak) * MINUTE).z.abs() < 3.0);
    assert!(b.judge(&p, level(peak), (3 * day + 3 * peak) * MINUTE).z > 10.0);
}

#[test]
fn heavier_tails_get_a_shorter_clip() {
    use rand::SeedableRng;
    use rand_distr::{Distribution, Normal, StudentT};
    let p = params("{}");
    let clip = |b: &Baseline| b.judge(&p, 0.0, 0).clip;
    assert_eq!(clip(&Baseline::default()), 4.0, "Gaussian until the tails are known");
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let normal = Normal::new(0.0, 1.0).unwrap();
    let gaussian = learned(&p, (0..5000).map(|_| normal.sample(&mut rng)));
    assert!(clip(&gaussian) > 3.7, "{}", clip(&gaussian));
    let t3 = StudentT::new(3.0).unwrap();
    let heavy = learned(&p, (0..5000).map(|_| t3.sample(&mut rng)));
    assert!((2.0..3.0).contains(&clip(&heavy)), "{}", clip(&heavy));
}

#[test]
fn a_steady_climb_is_learned_and_a_jump_off_it_stands_out() {
    let p = params("{}");
    // 0.05 a sample on noise of about ±1, the same every run.
    let climb = |i: u64| 100.0 + 0.05 * i as f64 + ((i * 7_919) % 13) as f64 / 6.0 - 1.0;
    let b = learned(&p, (0..3_000).map(climb));
    let next = 3_000.0 * 0.05 + 100.0;
    let s = b.stats(&p);
    assert!((s.mean - next).abs() < 0.5, "the level follows the climb: {s:?}");
    let t = 3_000 * MINUTE;
    let on = b.judge(&p, next, t).z;
    assert!(on.abs() < 1.0, "a value on the line is normal: z {on}");
    let off = b.judge(&p, next + 6.0 * s.stddev, t).z;
    assert!(off > 5.0, "a jump off the line is not: z {off}");
}

#[test]
fn a_young_baseline_is_judged_against_its_mean() {
    // Fifty samples that happen to rise a little: too few to tell a trend from noise,
    // so the forecast stays at their mean instead of extrapolating the rise.
    let p = params("{}");
    let b = learned(
        &p,
        (0..50).map(|i| 10.0 + 0.02 * i as f64 + if i % 2 == 0 { 1.0 } else { -1.0 }),
    );
    let mean = 10.0 + 0.02 * 24.5;
    assert!((b.stats(&p).mean - mean).abs() < 0.1, "{:?}", b.stats(&p));
}
