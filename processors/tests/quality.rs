//! The detection quality bar of the `auto` detector, on synthetic series with known
//! truth and fixed seeds (QUALITY.md has the figures). Runs: cargo test -p
//! driftd-processors --test quality -- --nocapture

mod synthetic;

use driftd_processors::drift::DriftConfig;
use synthetic::{detection, false_alarms, run, Change, Noise, Series};

fn auto() -> DriftConfig {
    DriftConfig::default()
}

fn seasonal() -> DriftConfig {
    serde_yaml::from_str("baseline: {seasonality: daily}").unwrap()
}

#[test]
fn a_3_sigma_step_is_found_in_99_percent_with_median_delay_5() {
    let d = detection(&auto(), 1_000, Noise::Gaussian, Change::Step(3.0), 200, 100);
    assert!(d.rate() >= 0.99, "detection rate {}", d.rate());
    assert!(d.median_delay() <= 5, "median delay {}", d.median_delay());
}

#[test]
fn a_1_sigma_step_is_found_in_95_percent_within_100() {
    let d = detection(&auto(), 2_000, Noise::Gaussian, Change::Step(1.0), 200, 100);
    assert!(d.rate() >= 0.95, "detection rate {}", d.rate());
}

#[test]
fn a_tripled_variance_is_found_in_95_percent_within_100() {
    let d = detection(&auto(), 3_000, Noise::Gaussian, Change::VarianceTimes(3.0), 200, 100);
    assert!(d.rate() >= 0.95, "detection rate {}", d.rate());
}

#[test]
fn a_3_sigma_creep_over_1000_is_found_in_95_percent_before_2_sigma() {
    // 2 σ of the 3 σ ramp is reached after 2/3 of 1000 samples.
    let d = detection(
        &auto(),
        4_000,
        Noise::Gaussian,
        Change::Creep {
            sigmas: 3.0,
            over: 1_000,
        },
        200,
        666,
    );
    assert!(d.rate() >= 0.95, "detection rate {}", d.rate());
}

#[test]
fn gaussian_noise_raises_at_most_a_quarter_false_alarm_per_100k() {
    assert!(false_alarms(&auto(), 10_000, Noise::Gaussian, 20, 100_000) <= 0.25);
}

#[test]
fn heavy_tailed_noise_raises_at_most_half_a_false_alarm_per_100k() {
    assert!(false_alarms(&auto(), 20_000, Noise::StudentT3, 20, 100_000) <= 0.5);
}

#[test]
fn autocorrelated_noise_raises_at_most_half_a_false_alarm_per_100k() {
    assert!(false_alarms(&auto(), 30_000, Noise::Ar1(0.7), 20, 100_000) <= 0.5);
}

#[test]
fn daily_seasonal_noise_raises_at_most_half_a_false_alarm_per_100k_with_seasonality_on() {
    assert!(false_alarms(&seasonal(), 40_000, Noise::DailySeasonal(5.0), 20, 100_000) <= 0.5);
}

/// Detectors are causal: the alarms raised on a prefix of a series do not change when
/// more data follows.
#[test]
fn alarms_on_a_prefix_do_not_depend_on_what_follows() {
    for (noise, change) in [
        (Noise::Gaussian, Change::Step(2.0)),
        (Noise::StudentT3, Change::VarianceTimes(4.0)),
    ] {
        let series = |n| {
            (0..20)
                .map(|i| Series::new(50_000 + i, noise, change, 1_500))
                .take(n)
                .collect()
        };
        let short = run(&auto(), series(20), 2_000);
        let long = run(&auto(), series(20), 6_000);
        for (s, l) in short.iter().zip(&long) {
            let prefix: Vec<u64> = l.iter().copied().filter(|&i| i < 2_000).collect();
            assert_eq!(s, &prefix);
        }
        assert!(
            long.iter().any(|l| l.iter().any(|&i| i >= 1_500)),
            "the change was detected at all"
        );
    }
}
