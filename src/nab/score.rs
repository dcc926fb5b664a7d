//! NAB scoring of binary detections, as NAB v1.1 scores a detector's alarms at its
//! chosen threshold (numenta/NAB `nab/sweeper.py`: `scaledSigmoid`,
//! `Sweeper.calcSweepScore`, `Sweeper.calcScoreByThreshold`; `nab/runner.py`:
//! `Runner.normalize`; profiles from `config/profiles.json`):
//!
//! - Rows before the probationary length, `min(floor(0.15 × rows), 0.15 × 5000)`, are
//!   not scored at all, and a window whose rows all fall there is not counted.
//! - A detection inside a window scores `A_TP × S(−(right − i + 1) / width) / S(−1)`
//!   (so a detection on a window's first row scores exactly `A_TP`); only the best,
//!   i.e. the first, detection of a window counts.
//! - A window with no detection scores `−A_FN`.
//! - A detection outside every window scores `A_FP × S(|prevRight − i| / (prevWidth − 1))`
//!   relative to the window that ended before it, or `−A_FP` when none did.
//! - `S(x) = −1` when `x > 3`, else `2 / (1 + e^(5x)) − 1`.
//! - The corpus score is `100 × (raw − null) / (perfect − null)`, each summed over all
//!   files: null is the score of no detections at all, perfect is `A_TP` × every labelled
//!   window (NAB counts windows from the label file for this).

/// A NAB scoring profile (cost matrix).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Profile {
    /// The name NAB gives it.
    pub name: &'static str,
    /// Weight of a detected window.
    pub tp: f64,
    /// Weight of a false detection.
    pub fp: f64,
    /// Weight of a missed window.
    pub fn_: f64,
}

/// NAB's three profiles, in NAB's order.
pub const PROFILES: [Profile; 3] = [
    Profile {
        name: "standard",
        tp: 1.0,
        fp: 0.11,
        fn_: 1.0,
    },
    Profile {
        name: "reward_low_FP_rate",
        tp: 1.0,
        fp: 0.22,
        fn_: 1.0,
    },
    Profile {
        name: "reward_low_FN_rate",
        tp: 1.0,
        fp: 0.11,
        fn_: 2.0,
    },
];

/// A labelled anomaly window, as row indices (both inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// First row.
    pub left: usize,
    /// Last row.
    pub right: usize,
}

impl Window {
    fn width(&self) -> f64 {
        (self.right - self.left + 1) as f64
    }
}

/// NAB's scaled sigmoid of a relative position.
pub fn scaled_sigmoid(x: f64) -> f64 {
    if x > 3.0 {
        -1.0
    } else {
        2.0 / (1.0 + (5.0 * x).exp()) - 1.0
    }
}

/// The rows NAB leaves unscored at the start of a file of `rows` rows.
pub fn probationary_rows(rows: usize) -> f64 {
    (0.15 * rows as f64).floor().min(0.15 * 5000.0)
}

/// How one detection was judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// In the probationary period: not scored.
    Probationary,
    /// The first detection of window `n`.
    TruePositive(usize),
    /// A later detection of a window already detected: not scored.
    Repeat(usize),
    /// Outside every window.
    FalsePositive,
}

/// The score of one file under one profile.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FileScore {
    /// The raw NAB score.
    pub raw: f64,
    /// The score of no detections.
    pub null: f64,
    /// The best possible score (`A_TP` × labelled windows).
    pub perfect: f64,
    /// Windows detected.
    pub tp: usize,
    /// Detections outside every window (after probation).
    pub fp: usize,
    /// Windows scored but missed.
    pub fn_: usize,
}

impl FileScore {
    /// Adds another file's score.
    pub fn add(&mut self, other: &FileScore) {
        self.raw += other.raw;
        self.null += other.null;
        self.perfect += other.perfect;
        self.tp += other.tp;
        self.fp += other.fp;
        self.fn_ += other.fn_;
    }

    /// `100 × (raw − null) / (perfect − null)`: 0 for no detections, 100 for perfect.
    pub fn normalised(&self) -> f64 {
        let span = self.perfect - self.null;
        if span == 0.0 {
            0.0
        } else {
            100.0 * (self.raw - self.null) / span
        }
    }
}

/// Judges each detection (row indices, any order) of a file of `rows` rows with
/// `windows` (sorted, disjoint); the verdicts come back in the order given.
pub fn judge(rows: usize, windows: &[Window], detections: &[usize]) -> Vec<Verdict> {
    let probation = probationary_rows(rows);
    let mut order: Vec<usize> = (0..detections.len()).collect();
    order.sort_by_key(|&k| detections[k]);
    let mut verdicts = vec![Verdict::Probationary; detections.len()];
    let mut detected = vec![false; windows.len()];
    for k in order {
        let i = detections[k];
        if (i as f64) < probation {
            continue;
        }
        verdicts[k] = match windows.iter().position(|w| w.left <= i && i <= w.right) {
            Some(w) if detected[w] => Verdict::Repeat(w),
            Some(w) => {
                detected[w] = true;
                Verdict::TruePositive(w)
            }
            None => Verdict::FalsePositive,
        };
    }
    verdicts
}

/// Scores the detections of one file.
pub fn score_file(rows: usize, windows: &[Window], detections: &[usize], profile: &Profile) -> FileScore {
    let probation = probationary_rows(rows);
    // NAB names a window only on rows past probation, so a window entirely inside
    // probation is neither detected nor missed.
    let scored: Vec<bool> = windows.iter().map(|w| (w.right as f64) >= probation).collect();
    let mut window_scores: Vec<f64> = scored.iter().map(|&s| if s { -profile.fn_ } else { 0.0 }).collect();
    let mut score = FileScore {
        null: -profile.fn_ * scored.iter().filter(|&&s| s).count() as f64,
        perfect: profile.tp * windows.len() as f64,
        ..FileScore::default()
    };
    let max_tp = scaled_sigmoid(-1.0);
    let mut fp_score = 0.0;
    for (&i, verdict) in detections.iter().zip(judge(rows, windows, detections)) {
        match verdict {
            Verdict::Probationary | Verdict::Repeat(_) => {}
            Verdict::TruePositive(w) => {
                let win = windows[w];
                let position = -((win.right - i + 1) as f64) / win.width();
                let s = scaled_sigmoid(position) * profile.tp / max_tp;
                window_scores[w] = window_scores[w].max(s);
                score.tp += 1;
            }
            Verdict::FalsePositive => {
                let before = windows.iter().rev().find(|w| w.right < i);
                let unweighted = match before {
                    // NAB divides by (width − 1): a one-row window leaves every later
                    // row "far past" it, which the limit of the sigmoid gives.
                    Some(w) if w.width() > 1.0 => scaled_sigmoid((i - w.right) as f64 / (w.width() - 1.0)),
                    _ => -1.0,
                };
                fp_score += unweighted * profile.fp;
                score.fp += 1;
            }
        }
    }
    score.fn_ = scored.iter().filter(|&&s| s).count() - score.tp;
    score.raw = window_scores.iter().sum::<f64>() + fp_score;
    score
}

#[cfg(test)]
mod tests {
    use super::*;

    const STANDARD: Profile = PROFILES[0];
    /// 1000 rows: probation is 150 rows.
    const ROWS: usize = 1000;
    const WINDOW: Window = Window { left: 500, right: 599 };

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn the_sigmoid_matches_nab() {
        assert!(close(scaled_sigmoid(-1.0), 0.986_614_298_151_430_3));
        assert!(close(scaled_sigmoid(-0.5), 0.848_283_639_957_512_9));
        assert!(close(scaled_sigmoid(0.0), 0.0));
        assert!(close(scaled_sigmoid(1.0), -0.986_614_298_151_430_3));
        assert!(close(scaled_sigmoid(3.5), -1.0));
        assert_eq!(probationary_rows(1000), 150.0);
        assert_eq!(probationary_rows(22_695), 750.0);
    }

    #[test]
    fn a_detection_on_the_first_row_of_the_window_is_perfect() {
        let s = score_file(ROWS, &[WINDOW], &[500], &STANDARD);
        assert!(close(s.raw, 1.0), "{s:?}");
        assert!(close(s.normalised(), 100.0));
        assert_eq!((s.tp, s.fp, s.fn_), (1, 0, 0));
    }

    #[test]
    fn no_detection_is_the_null_score() {
        let s = score_file(ROWS, &[WINDOW], &[], &STANDARD);
        assert!(close(s.raw, -1.0) && close(s.null, -1.0) && close(s.perfect, 1.0));
        assert!(close(s.normalised(), 0.0));
        assert_eq!((s.tp, s.fp, s.fn_), (0, 0, 1));
    }

    #[test]
    fn only_the_first_detection_in_a_window_counts_and_later_ones_earn_less() {
        let early = score_file(ROWS, &[WINDOW], &[550], &STANDARD);
        let both = score_file(ROWS, &[WINDOW], &[550, 590], &STANDARD);
        let late = score_file(ROWS, &[WINDOW], &[599], &STANDARD);
        assert_eq!(early, both);
        let expected = scaled_sigmoid(-50.0 / 100.0) / scaled_sigmoid(-1.0);
        assert!(close(early.raw, expected), "{early:?}");
        assert!(late.raw > 0.0 && late.raw < early.raw);
    }

    #[test]
    fn false_positives_before_and_after_windows() {
        // Before any window: the full −A_FP.
        let s = score_file(ROWS, &[WINDOW], &[300], &STANDARD);
        assert!(close(s.raw, -1.0 - 0.11));
        assert_eq!((s.tp, s.fp, s.fn_), (0, 1, 1));
        // Just after a window costs little; far after costs the full weight.
        let near = score_file(ROWS, &[WINDOW], &[500, 600], &STANDARD);
        let far = score_file(ROWS, &[WINDOW], &[500, 999], &STANDARD);
        let near_fp = scaled_sigmoid(1.0 / 99.0) * 0.11;
        assert!(close(near.raw, 1.0 + near_fp), "{near:?}");
        assert!(close(far.raw, 1.0 + scaled_sigmoid(400.0 / 99.0) * 0.11));
        assert!(close(far.raw, 1.0 - 0.11));
        // The low-FP profile doubles the cost, the low-FN profile doubles a miss.
        assert!(close(
            score_file(ROWS, &[WINDOW], &[300], &PROFILES[1]).raw,
            -1.0 - 0.22
        ));
        assert!(close(score_file(ROWS, &[WINDOW], &[], &PROFILES[2]).raw, -2.0));
    }

    #[test]
    fn probationary_detections_and_windows_are_not_scored() {
        let s = score_file(ROWS, &[WINDOW], &[10, 149], &STANDARD);
        assert!(close(s.raw, -1.0));
        assert_eq!(s.fp, 0);
        let early_window = Window { left: 20, right: 100 };
        let s = score_file(ROWS, &[early_window, WINDOW], &[50], &STANDARD);
        assert!(close(s.null, -1.0) && close(s.perfect, 2.0), "{s:?}");
        assert_eq!((s.tp, s.fn_), (0, 1));
        assert_eq!(
            judge(ROWS, &[WINDOW], &[590, 10, 520, 700]),
            [
                Verdict::Repeat(0),
                Verdict::Probationary,
                Verdict::TruePositive(0),
                Verdict::FalsePositive
            ]
        );
    }

    #[test]
    fn corpus_scores_add_before_normalising() {
        let mut total = score_file(ROWS, &[WINDOW], &[500], &STANDARD);
        total.add(&score_file(ROWS, &[WINDOW], &[], &STANDARD));
        assert!(close(total.normalised(), 50.0));
    }
}
