//! The NAB corpus on disk: `data/<category>/<name>.csv` (`timestamp,value`) and
//! `labels/combined_windows.json` (`{"<category>/<name>.csv": [[start, end], ...]}`),
//! turned into rows and windows as row indices.

use super::score::Window;
use anyhow::{bail, Context};
use driftd_core::time::parse_timestamp;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One data file of the corpus.
#[derive(Debug, Clone)]
pub struct CorpusFile {
    /// Path relative to `data/`, as the labels name it.
    pub name: String,
    /// The CSV file.
    pub path: PathBuf,
    /// Event time of every row, in file order (a few repeat, or step back, at
    /// daylight-saving changes).
    pub rows: Vec<u64>,
    /// Labelled anomaly windows.
    pub windows: Vec<Window>,
}

impl CorpusFile {
    /// The row a detection at `time` fired on: the first row at or after `from` with
    /// exactly that time (detections of one series arrive in row order, so `from` is
    /// the previous detection's row), else the first row at or after `time`.
    pub fn row_of(&self, time: u64, from: usize) -> Option<usize> {
        let from = from.min(self.rows.len());
        self.rows[from..]
            .iter()
            .position(|&t| t == time)
            .map(|k| from + k)
            .or_else(|| self.rows.iter().position(|&t| t >= time))
    }
}

/// Reads every labelled file under `dir` (NAB's `data/` and `labels/` beside each
/// other), in the labels' (sorted) order.
pub fn load_corpus(dir: &Path) -> anyhow::Result<Vec<CorpusFile>> {
    let labels_path = dir.join("labels/combined_windows.json");
    let text = std::fs::read_to_string(&labels_path)
        .with_context(|| format!("cannot read the NAB labels at {}", labels_path.display()))?;
    let labels: BTreeMap<String, Vec<[String; 2]>> =
        serde_json::from_str(&text).with_context(|| format!("{} is not NAB's window list", labels_path.display()))?;
    labels
        .into_iter()
        .map(|(name, windows)| {
            let path = dir.join("data").join(&name);
            let rows = read_rows(&path)?;
            let windows = windows
                .iter()
                .map(|[start, end]| window(&rows, start, end))
                .collect::<anyhow::Result<Vec<_>>>()
                .with_context(|| format!("a window of {name}"))?;
            Ok(CorpusFile {
                name,
                path,
                rows,
                windows,
            })
        })
        .collect()
}

/// The timestamps of a NAB CSV's rows.
fn read_rows(path: &Path) -> anyhow::Result<Vec<u64>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut lines = text.lines();
    if lines.next().map(|h| h.split(',').next()) != Some(Some("timestamp")) {
        bail!("{}: expected a `timestamp,value` header", path.display());
    }
    lines
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            let stamp = l.split(',').next().unwrap_or_default();
            parse_timestamp(stamp.as_bytes())
                .with_context(|| format!("{}:{}: timestamp `{stamp}`", path.display(), i + 2))
        })
        .collect()
}

/// A window as rows: as NAB's sweeper enters it at the first row stamped with its start
/// and leaves it at the first row stamped with its end. Labels whose times match no
/// row exactly fall back to the rows between them.
fn window(rows: &[u64], start: &str, end: &str) -> anyhow::Result<Window> {
    let (start, end) = (parse_timestamp(start.as_bytes())?, parse_timestamp(end.as_bytes())?);
    let left = rows
        .iter()
        .position(|&t| t == start)
        .or_else(|| rows.iter().position(|&t| t >= start));
    let right = rows
        .iter()
        .position(|&t| t == end)
        .or_else(|| rows.iter().rposition(|&t| t <= end));
    match (left, right) {
        (Some(left), Some(right)) if left <= right => Ok(Window { left, right }),
        _ => bail!("no rows between its start and end"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(rows: Vec<u64>) -> CorpusFile {
        CorpusFile {
            name: "x.csv".into(),
            path: PathBuf::new(),
            rows,
            windows: Vec::new(),
        }
    }

    #[test]
    fn detections_map_to_rows_through_repeated_times() {
        let f = file(vec![10, 20, 30, 30, 40]);
        assert_eq!(f.row_of(30, 0), Some(2));
        assert_eq!(
            f.row_of(30, 3),
            Some(3),
            "a second detection at a repeated time is the later row"
        );
        assert_eq!(f.row_of(35, 0), Some(4), "an unknown time maps to the next row");
        assert_eq!(f.row_of(50, 0), None);
    }

    #[test]
    fn windows_become_row_ranges() {
        let rows = vec![1_000_000_000, 2_000_000_000, 3_000_000_000, 4_000_000_000];
        let w = window(&rows, "1970-01-01 00:00:02.000000", "1970-01-01 00:00:03.000000").unwrap();
        assert_eq!(w, Window { left: 1, right: 2 });
        let w = window(&rows, "1970-01-01 00:00:01.500000", "1970-01-01 00:00:09").unwrap();
        assert_eq!(w, Window { left: 1, right: 3 });
        assert!(window(&rows, "1970-01-01 00:00:09", "1970-01-01 00:00:10").is_err());
    }
}
