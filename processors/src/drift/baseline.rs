//! What normal looks like, learned from the data: level **and trend**, spread and
//! lag-1 autocorrelation, optionally per hour of the day or week.
//!
//! The level and trend are a discounted least-squares line with forgetting
//! `1 − ln 2 / half_life` ([`Line`]): a steady climb is not a drift, while a jump off
//! it, or a change of its slope, is. The spread and the autocorrelation use the weight
//! `max(1/n, ln 2 / half_life)`: the exact running mean while few samples exist and a
//! slow exponential average afterwards. The baseline is frozen
//! while a series drifts (the series decides when to call `learn`); its forecast then
//! follows the learned trend.

use super::seasonal::Seasonal;
use super::tails::Tails;
use super::trend::Line;
use driftd_core::Stats;
use serde::{Deserialize, Serialize};
use std::num::NonZeroU32;

/// `baseline:` settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineConfig {
    /// Samples before a series is judged at all. Judging starts early and is stricter
    /// while the baseline rests on few samples (see `min_samples`).
    #[serde(default = "BaselineConfig::default_warmup")]
    pub warmup_samples: NonZeroU32,
    /// Half-life, in samples, of the slow update while the series is stable.
    #[serde(default = "BaselineConfig::default_half_life")]
    pub half_life: NonZeroU32,
    /// `mean` (mean and standard deviation) or `median` (median and MAD, robust to
    /// outliers in the learning period).
    #[serde(default)]
    pub estimator: Estimator,
    /// `none`, `daily` (a baseline per hour of the day) or `weekly` (per hour of the
    /// week); seasonal series are judged only after one whole season.
    #[serde(default)]
    pub seasonality: Seasonality,
}

impl BaselineConfig {
    fn default_warmup() -> NonZeroU32 {
        NonZeroU32::new(100).expect("non-zero")
    }
    fn default_half_life() -> NonZeroU32 {
        NonZeroU32::new(2_000).expect("non-zero")
    }
}

impl Default for BaselineConfig {
    fn default() -> Self {
        BaselineConfig {
            warmup_samples: Self::default_warmup(),
            half_life: Self::default_half_life(),
            estimator: Estimator::default(),
            seasonality: Seasonality::default(),
        }
    }
}

/// Location and spread estimator.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Estimator {
    /// Mean and standard deviation.
    #[default]
    Mean,
    /// Median and median absolute deviation (streaming estimates).
    Median,
}

/// Seasonal profile.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Seasonality {
    /// One baseline for all times.
    #[default]
    None,
    /// One expected level per hour of the day (UTC).
    Daily,
    /// One expected level per hour of the week (UTC).
    Weekly,
}

impl Seasonality {
    /// Hour buckets of the profile (0: none).
    fn buckets(self) -> usize {
        match self {
            Seasonality::None => 0,
            Seasonality::Daily => 24,
            Seasonality::Weekly => 168,
        }
    }
}

/// Per-processor constants derived from the config once.
#[derive(Debug, Clone, Copy)]
pub struct BaselineParams {
    /// Samples before judging.
    pub warmup: u64,
    /// Weight floor of the slow update.
    pub alpha: f64,
    /// Estimator.
    pub estimator: Estimator,
    /// Seasonality.
    pub seasonality: Seasonality,
}

impl From<&BaselineConfig> for BaselineParams {
    fn from(c: &BaselineConfig) -> Self {
        BaselineParams {
            warmup: u64::from(c.warmup_samples.get()),
            alpha: std::f64::consts::LN_2 / f64::from(c.half_life.get()),
            estimator: c.estimator,
            seasonality: c.seasonality,
        }
    }
}

/// A series' learned normal behaviour: 64 bytes, plus the seasonal profile when one
/// is configured.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Baseline {
    n: u32,
    /// Level and trend of the deseasonalised values (level about 0 when seasonal).
    line: Line,
    /// Samples judged since the newest learned one, that one included: the next
    /// sample is this many ahead of it on the line.
    ahead: u32,
    /// Spread: variance (mean estimator) or MAD (median estimator).
    spread: f64,
    /// Lag-1 autocorrelation of the standardised deviations.
    rho: f32,
    /// The newest standardised deviation, for prewhitening the next one.
    prev_dev: f32,
    /// How heavy the tails are: the clip and the spread test are calibrated to them.
    tails: Tails,
    seasonal: Option<Box<Seasonal>>,
}

/// Samples after which the spread, the autocorrelation and the spread calibration follow
/// only at the slow rate (`half_life`). Until then they are exact running means (the
/// variance is then known to about 7%); after, the running mean's weight 1/n would
/// learn a widening of the spread that is not yet detected several times faster than
/// the slow rate does (at 1,000 samples, 3 times).
const NOISE_SETTLED: u64 = 400;

/// A value judged against the baseline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Judged {
    /// Deviation in baseline standard deviations (small-sample inflated).
    pub z: f64,
    /// `z` with lag-1 autocorrelation removed, so neighbouring samples count as
    /// independent evidence only as far as they are.
    pub r: f64,
    /// The value with the seasonal level removed.
    pub residual: f64,
    /// The absolute deviation clipped at `clip`, standardised by its own baseline mean
    /// and spread: about 0 ± 1 under normal behaviour whatever the tails, larger when
    /// the spread grows; 0 until the tails are known. Absolute rather than squared, and
    /// clipped where the tails say: a few outliers do not pass for a wider spread.
    pub spread: f64,
    /// How far one deviation may count, in standard deviations: 4 for Gaussian tails,
    /// down to 2 for heavy ones (see [`Tails`]).
    pub clip: f64,
    /// The baseline's standard deviation at judging time.
    pub sd: f64,
    /// The seasonal level at judging time. With `sd`, what [`Baseline::learn`] starts
    /// from (computed once, not twice per sample).
    season: f64,
}

impl Baseline {
    /// Whether a seasonal profile, if there is one yet, has the buckets `seasonality`
    /// asks for.
    pub fn fits(&self, seasonality: Seasonality) -> bool {
        self.seasonal
            .as_ref()
            .is_none_or(|s| s.has_buckets(seasonality.buckets()))
    }

    /// Samples learned from (read ahead of an update, to bring the state into cache).
    pub fn samples(&self) -> u64 {
        u64::from(self.n)
    }

    /// Whether enough has been learned to judge.
    pub fn ready(&self, p: &BaselineParams, time: u64) -> bool {
        u64::from(self.n) >= p.warmup && self.seasonal.as_ref().is_none_or(|s| s.complete(time))
    }

    /// The expected value at `time`: the location plus the seasonal level.
    pub fn level(&self, time: u64) -> f64 {
        self.forecast() + self.season(time)
    }

    /// The level expected at the next sample, deseasonalised.
    fn forecast(&self) -> f64 {
        self.line.at(self.ahead)
    }

    fn season(&self, time: u64) -> f64 {
        self.seasonal.as_ref().map_or(0.0, |s| s.expected(time))
    }

    /// Standard deviation of the deseasonalised values.
    pub fn stddev(&self, p: &BaselineParams) -> f64 {
        let raw = match p.estimator {
            // EW variance is the population form; correct it while n is small.
            Estimator::Mean if self.n > 1 => (self.spread * f64::from(self.n) / f64::from(self.n - 1)).sqrt(),
            Estimator::Mean => 0.0,
            Estimator::Median => 1.4826 * self.spread,
        };
        // A flat baseline has no spread: the floor keeps z finite and still makes any
        // real change of a flat series stand out.
        raw.max(1e-9 * self.line.level.abs().max(1.0))
    }

    fn phi(&self) -> f64 {
        // Too few pairs to tell correlation from noise: assume none.
        if self.n < 30 {
            0.0
        } else {
            f64::from(self.rho).clamp(-0.5, 0.95)
        }
    }

    /// Judges `x` at `time` (does not learn it).
    pub fn judge(&self, p: &BaselineParams, x: f64, time: u64) -> Judged {
        // Stricter while the baseline is young: the prediction interval of a new value
        // is wider than the spread by sqrt(1 + the forecast's variance), which is
        // sqrt(1 + 1/n) for a mean, and a t quantile is wider still. Correlated
        // samples know less than their count: n of them with lag-1 correlation φ are
        // worth n (1 − φ) / (1 + φ) independent ones.
        let phi = self.phi();
        let worth = (1.0 + phi.max(0.0)) / (1.0 - phi.max(0.0));
        let n = (f64::from(self.n.max(2)) / worth).max(2.0);
        let known = if self.n == 0 {
            1.0
        } else {
            self.line.var_at(self.ahead) * worth
        };
        let inflation = (1.0 + known).sqrt() * (1.0 + 2.0 / n);
        let season = self.season(time);
        let residual = x - season;
        let sd = self.stddev(p);
        let z = (residual - self.forecast()) / (sd * inflation);
        let r = (z - phi * f64::from(self.prev_dev)) / (1.0 - phi * phi).sqrt();
        let (clip, spread) = self.tails.judge(self.n, r);
        Judged {
            z,
            r,
            residual,
            spread,
            clip,
            sd,
            season,
        }
    }

    /// Whether each sample still moves the baseline by about 1/n (the first
    /// [`NOISE_SETTLED`] samples), so a change under way would be absorbed fast.
    pub fn learns_fast(&self) -> bool {
        u64::from(self.n) <= NOISE_SETTLED
    }

    /// Remembers the newest deviation without learning from it (prewhitening needs the
    /// previous deviation even while the baseline is frozen).
    pub fn observe(&mut self, j: &Judged) {
        self.prev_dev = j.z.clamp(-10.0, 10.0) as f32;
        self.ahead = self.ahead.saturating_add(1);
    }

    /// Learns `x` at `time`. Past the first few samples an outlier moves the baseline
    /// only as far as a value 5 standard deviations out would, so one wild sample does
    /// not redefine normal. `judged` is this baseline's [`Baseline::judge`] of the same
    /// `x` at the same `time`: learning starts from the spread and season it found.
    pub fn learn(&mut self, p: &BaselineParams, x: f64, time: u64, judged: &Judged) {
        // Judged from this same state: its spread and season are this sample's.
        let (sd, season) = (judged.sd, judged.season);
        let clip = |d: f64| if self.n > 10 { d.clamp(-5.0 * sd, 5.0 * sd) } else { d };
        let level = self.forecast();
        if p.seasonality != Seasonality::None {
            let s = self
                .seasonal
                .get_or_insert_with(|| Box::new(Seasonal::new(p.seasonality.buckets(), time)));
            s.learn(time, season + level + clip(x - season - level), p.alpha);
            if !s.settled && s.complete(time) {
                // Deviations measured against a half-learned profile say little about
                // the noise: learn the residual statistics again, against the whole one.
                s.settled = true;
                self.n = 0;
                self.line = Line::default();
                self.ahead = 0;
                self.spread = 0.0;
                self.rho = 0.0;
                self.tails = Tails::default();
                return;
            }
        }
        let d = clip(x - season - level);
        let prev = f64::from(self.prev_dev);
        self.n = self.n.saturating_add(1);
        let w = (1.0 / f64::from(self.n)).max(p.alpha);
        let settled = u64::from(self.n) > NOISE_SETTLED;
        match p.estimator {
            Estimator::Mean => {
                if self.n == 1 {
                    self.line = Line::start(level + d, 1.0);
                } else {
                    self.line.learn(self.ahead, d, p.alpha);
                }
                let w = if settled { p.alpha } else { w };
                self.spread = (1.0 - w) * (self.spread + w * d * d);
            }
            Estimator::Median if self.n == 1 => self.line = Line::level_only(x - season),
            Estimator::Median => {
                // Streaming median and MAD: steps shrink like the weight and scale
                // with the spread (or with the deviation while no spread is known).
                let step = 1.5 * w * sd.max(0.1 * d.abs());
                self.line.level += step * d.signum();
                self.spread = (self.spread + step * (d.abs() - self.spread).signum()).max(0.0);
                self.line.learned_level_only(p.alpha);
            }
        }
        self.ahead = 0;
        // The first deviations are measured against almost nothing: keep them out of
        // the autocorrelation and the spread calibration, and clip so a few outliers
        // cannot fake correlation.
        if self.n > 10 {
            let w = if settled {
                p.alpha
            } else {
                w.max(1.0 / f64::from(self.n - 10))
            };
            let z = (d / self.stddev(p)).clamp(-5.0, 5.0);
            let rho = f64::from(self.rho);
            self.rho = (rho + w * (z * prev.clamp(-5.0, 5.0) - rho)) as f32;
            self.tails.learn(judged.r, judged.clip, w);
        }
    }

    /// Replaces what was learned with `stats` of deseasonalised values (a drift
    /// accepted as the new normal). The seasonal profile, the autocorrelation and the
    /// tail calibration are kept: they describe the noise, which `stats` cannot, and
    /// relearning them from zero after a long drift would take as long again.
    pub fn reset_to(&mut self, p: &BaselineParams, stats: Stats) {
        self.n = u32::try_from(stats.samples.min(p.warmup)).unwrap_or(u32::MAX);
        // The trend is learned again from the new level.
        self.line = Line::start(stats.mean, 1.0 / f64::from(self.n.max(1)));
        self.ahead = 0;
        self.spread = match p.estimator {
            Estimator::Mean => stats.stddev * stats.stddev,
            Estimator::Median => stats.stddev / 1.4826,
        };
        self.rho = 0.0;
    }

    /// The figures events report.
    pub fn stats(&self, p: &BaselineParams) -> Stats {
        Stats {
            mean: self.forecast(),
            stddev: self.stddev(p),
            samples: u64::from(self.n),
        }
    }
}
