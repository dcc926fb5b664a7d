//! CSV lines: a header names the columns; `timestamp` and `value` are required,
//! `metric` (or, when there is no `metric` column, `series`) names the metric, and
//! every other column is a label.
//!
//! Fields follow RFC 4180 on one line: `"a,b"` and `"say ""hi"""` are quoted fields;
//! a quoted field may not span lines (telemetry labels have no newlines, and reading
//! line by line keeps bad input from swallowing the rest of a file). Unquoted fields
//! are trimmed of spaces and tabs; quoted ones are taken exactly.

use super::parse::{parse_value, Identity, LineError, Sample, Scratch};
use driftd_core::model::SeriesHasher;
use driftd_core::SeriesLabels;
use thiserror::Error;

/// Why a header cannot be read.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum HeaderError {
    /// The header line itself is malformed.
    #[error("the header line: {0}")]
    Line(#[from] LineError),
    /// A required column is missing.
    #[error("no `{missing}` column: the header must name `timestamp` and `value` columns (found: {found})")]
    Missing {
        /// The missing column.
        missing: &'static str,
        /// The header as read.
        found: String,
    },
    /// A column with no name.
    #[error("column {0} has no name")]
    Unnamed(usize),
    /// Two columns with one name.
    #[error("column `{0}` appears twice")]
    Duplicate(String),
    /// A label column that the receiver's `labels` also set.
    #[error("column `{0}` is also set in the receiver's `labels`: remove one")]
    Clash(String),
}

/// Where a field sits in its line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    start: usize,
    end: usize,
    /// Quoted with `""` inside, which must be unescaped to get the text.
    escaped: bool,
}

/// The columns of a CSV file, from its header.
#[derive(Debug, Clone, PartialEq)]
pub struct CsvLayout {
    width: usize,
    timestamp: usize,
    value: usize,
    metric: Option<usize>,
    labels: Vec<(usize, String)>,
}

impl CsvLayout {
    /// Reads a header line (a UTF-8 byte order mark before it is ignored).
    pub fn from_header(header: &[u8], identity: &Identity) -> Result<Self, HeaderError> {
        let header = header.strip_prefix("\u{feff}".as_bytes()).unwrap_or(header);
        let header = std::str::from_utf8(header).map_err(|_| LineError::NotUtf8)?;
        let mut fields = Vec::new();
        split_fields(header, &mut fields)?;
        let mut text = String::new();
        let names: Vec<String> = fields
            .iter()
            .map(|f| field_text(header, f, &mut text).to_string())
            .collect();
        for (i, name) in names.iter().enumerate() {
            if name.is_empty() {
                return Err(HeaderError::Unnamed(i + 1));
            }
            if names[..i].contains(name) {
                return Err(HeaderError::Duplicate(name.clone()));
            }
        }
        let find = |name: &'static str| names.iter().position(|n| n == name);
        let missing = |missing| HeaderError::Missing {
            missing,
            found: names.join(","),
        };
        let timestamp = find("timestamp").ok_or_else(|| missing("timestamp"))?;
        let value = find("value").ok_or_else(|| missing("value"))?;
        let metric = find("metric").or_else(|| find("series"));
        let mut labels = Vec::new();
        for (i, name) in names.iter().enumerate() {
            if i == timestamp || i == value || Some(i) == metric {
                continue;
            }
            if identity.sets(name) {
                return Err(HeaderError::Clash(name.clone()));
            }
            labels.push((i, name.clone()));
        }
        Ok(CsvLayout {
            width: names.len(),
            timestamp,
            value,
            metric,
            labels,
        })
    }
}

/// Parses one data line.
pub fn parse_line(
    layout: &CsvLayout,
    identity: &Identity,
    line: &[u8],
    scratch: &mut Scratch,
) -> Result<Sample, LineError> {
    let line = std::str::from_utf8(line).map_err(|_| LineError::NotUtf8)?;
    let Scratch {
        fields,
        text,
        last_time,
    } = scratch;
    split_fields(line, fields)?;
    if fields.len() != layout.width {
        return Err(LineError::FieldCount {
            expected: layout.width,
            found: fields.len(),
        });
    }
    let raw = |i: usize| &line.as_bytes()[fields[i].start..fields[i].end];
    let time_unix_nano = last_time.parse(raw(layout.timestamp))?;
    let value = parse_value(raw(layout.value))?;
    let mut series = match layout.metric {
        Some(i) => {
            let name = field_text(line, &fields[i], text);
            if name.is_empty() {
                return Err(LineError::EmptyMetric);
            }
            SeriesHasher::new(name)
        }
        None => SeriesHasher::new(identity.default_metric()),
    };
    series.merge(identity.label_hash());
    for (i, key) in &layout.labels {
        series.label(key, field_text(line, &fields[*i], text));
    }
    Ok(Sample {
        series: series.finish(),
        time_unix_nano,
        value,
    })
}

/// The labels of the series of a line [`parse_line`] accepted.
pub fn line_labels(layout: &CsvLayout, identity: &Identity, line: &[u8]) -> Result<SeriesLabels, LineError> {
    let line = std::str::from_utf8(line).map_err(|_| LineError::NotUtf8)?;
    let mut fields = Vec::new();
    split_fields(line, &mut fields)?;
    if fields.len() != layout.width {
        return Err(LineError::FieldCount {
            expected: layout.width,
            found: fields.len(),
        });
    }
    let mut text = String::new();
    let metric = match layout.metric {
        Some(i) => field_text(line, &fields[i], &mut text).to_string(),
        None => identity.default_metric().to_string(),
    };
    let own = layout
        .labels
        .iter()
        .map(|(i, key)| (key.clone(), field_text(line, &fields[*i], &mut text).to_string()))
        .collect();
    Ok(identity.series_labels(&metric, own))
}

fn is_blank(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

/// Splits one line into fields (see the module doc for the quoting rules).
pub(crate) fn split_fields(line: &str, out: &mut Vec<Field>) -> Result<(), LineError> {
    out.clear();
    let b = line.as_bytes();
    let mut i = 0;
    loop {
        while i < b.len() && is_blank(b[i]) {
            i += 1;
        }
        if b.get(i) == Some(&b'"') {
            let start = i + 1;
            let mut end = start;
            let mut escaped = false;
            loop {
                match b[end..].iter().position(|&c| c == b'"') {
                    None => return Err(LineError::UnclosedQuote),
                    Some(k) if b.get(end + k + 1) == Some(&b'"') => {
                        escaped = true;
                        end += k + 2;
                    }
                    Some(k) => {
                        end += k;
                        break;
                    }
                }
            }
            out.push(Field { start, end, escaped });
            i = end + 1;
            while i < b.len() && is_blank(b[i]) {
                i += 1;
            }
            match b.get(i) {
                None => return Ok(()),
                Some(b',') => i += 1,
                Some(_) => return Err(LineError::TextAfterQuote),
            }
        } else {
            let comma = b[i..].iter().position(|&c| c == b',').map(|k| i + k);
            let mut end = comma.unwrap_or(b.len());
            while end > i && is_blank(b[end - 1]) {
                end -= 1;
            }
            out.push(Field {
                start: i,
                end,
                escaped: false,
            });
            match comma {
                Some(c) => i = c + 1,
                None => return Ok(()),
            }
        }
    }
}

/// The text of a field: borrowed from the line, or unescaped into `buf` when it holds
/// `""`.
fn field_text<'a>(line: &'a str, f: &Field, buf: &'a mut String) -> &'a str {
    // Field bounds sit next to ASCII quotes, commas or blanks, so they are char
    // boundaries; `get` keeps a bug here from becoming a panic.
    let raw = line.get(f.start..f.end).unwrap_or("");
    if !f.escaped {
        return raw;
    }
    buf.clear();
    let mut rest = raw;
    while let Some(k) = rest.find("\"\"") {
        buf.push_str(&rest[..=k]);
        rest = &rest[k + 2..];
    }
    buf.push_str(rest);
    buf
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(line: &str) -> Result<Vec<String>, LineError> {
        let mut fields = Vec::new();
        split_fields(line, &mut fields)?;
        let mut buf = String::new();
        Ok(fields
            .iter()
            .map(|f| field_text(line, f, &mut buf).to_string())
            .collect())
    }

    #[test]
    fn fields_split_with_quotes_and_trimming() {
        assert_eq!(split("a,b,c").unwrap(), ["a", "b", "c"]);
        assert_eq!(split(" a , b ,c").unwrap(), ["a", "b", "c"]);
        assert_eq!(split("a,,").unwrap(), ["a", "", ""]);
        assert_eq!(split("\"a,b\",c").unwrap(), ["a,b", "c"]);
        assert_eq!(split("\"say \"\"hi\"\"\" , x").unwrap(), ["say \"hi\"", "x"]);
        assert_eq!(split("\" padded \"").unwrap(), [" padded "]);
        assert_eq!(split("").unwrap(), [""]);
        assert_eq!(split("\"open,b"), Err(LineError::UnclosedQuote));
        assert_eq!(split("\"a\"b,c"), Err(LineError::TextAfterQuote));
    }

    #[test]
    fn header_roles() {
        let id = Identity::new("value", vec![("env".into(), "prod".into())]);
        let l = CsvLayout::from_header(b"\xef\xbb\xbftimestamp,host,value,metric", &id).unwrap();
        assert_eq!((l.timestamp, l.value, l.metric, l.width), (0, 2, Some(3), 4));
        assert_eq!(l.labels, [(1, "host".to_string())]);
        let l = CsvLayout::from_header(b"series,timestamp,value", &id).unwrap();
        assert_eq!(l.metric, Some(0));
        let l = CsvLayout::from_header(b"metric,series,timestamp,value", &id).unwrap();
        assert_eq!((l.metric, l.labels.clone()), (Some(0), vec![(1, "series".to_string())]));
    }

    #[test]
    fn bad_headers_say_what_to_change() {
        let id = Identity::new("value", vec![("env".into(), "prod".into())]);
        let err = |h: &str| CsvLayout::from_header(h.as_bytes(), &id).unwrap_err().to_string();
        assert!(
            err("time,value").contains("no `timestamp` column"),
            "{}",
            err("time,value")
        );
        assert!(err("timestamp,v").contains("found: timestamp,v"));
        assert!(err("timestamp,value,,x").contains("column 3 has no name"));
        assert!(err("timestamp,value,x,x").contains("`x` appears twice"));
        assert!(err("timestamp,value,env").contains("also set in the receiver's `labels`"));
    }
}
