//! Query parameters: pure parsers from the decoded query string to typed filters.
//! Unknown parameters are ignored; an empty value means the parameter is not given;
//! when a parameter repeats, the last value counts.

use super::error::ApiError;
use driftd_core::incident::{IncidentQuery, IncidentState};
use driftd_core::store::EventQuery;
use driftd_core::time::parse_rfc3339;
use driftd_core::view::{SeriesSnapshot, SeriesState};
use driftd_core::{EventKind, SeriesId};
use std::cmp::Ordering;

/// Page size when none is asked for.
pub const DEFAULT_LIMIT: usize = 100;
/// Largest page a client may ask for.
pub const MAX_LIMIT: usize = 1000;

/// Which slice of a sorted result to return.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Page {
    /// Items per page.
    pub limit: usize,
    /// Items to skip.
    pub offset: usize,
}

impl Page {
    /// The page's slice of `items` once sorted by `order`. Only the items up to the
    /// end of the page are sorted: a first page of 100 out of 100,000 series costs a
    /// linear selection, not a full sort.
    pub fn of_sorted<'a, T>(&self, items: &'a mut [T], order: impl Fn(&T, &T) -> Ordering) -> &'a [T] {
        let end = self.offset.saturating_add(self.limit).min(items.len());
        if end == 0 {
            return &[];
        }
        if end < items.len() {
            items.select_nth_unstable_by(end - 1, &order);
        }
        items[..end].sort_unstable_by(&order);
        &items[self.offset.min(end)..end]
    }
}

/// `GET /v1/series` filters.
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesFilter {
    /// Only series in this state.
    pub state: Option<SeriesState>,
    /// Only series of this metric name.
    pub metric: Option<String>,
    /// Only series of this service.
    pub service: Option<String>,
    /// Only series whose metric name or a label value contains this (any case).
    pub text: Option<String>,
    /// The page.
    pub page: Page,
}

impl SeriesFilter {
    /// Whether a series passes the filters (not the paging).
    pub fn matches(&self, s: &SeriesSnapshot) -> bool {
        let contains = |t: &str| {
            self.text
                .as_deref()
                .is_none_or(|q| t.to_lowercase().contains(&q.to_lowercase()))
        };
        self.state.is_none_or(|st| st == s.state)
            && self.metric.as_deref().is_none_or(|m| m == s.labels.metric)
            && self.service.as_deref().is_none_or(|v| Some(v) == s.labels.service())
            && (contains(&s.labels.metric) || s.labels.labels.iter().any(|(_, v)| contains(v)))
    }
}

/// `GET /v1/series/{id}/history` parameters: a window and a bucket width.
#[derive(Clone, Debug, PartialEq)]
pub struct HistoryWindow {
    /// Unix seconds, inclusive.
    pub since: f64,
    /// Unix seconds, exclusive.
    pub until: f64,
    /// Bucket width in seconds; `None` returns what is kept as it is.
    pub step: Option<f64>,
    /// The same window for the series' events (ns).
    pub events: EventQuery,
}

/// The value of `name`, when given and not empty.
fn value<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

/// `limit` and `offset`.
pub fn page(params: &[(String, String)]) -> Result<Page, ApiError> {
    let limit = match value(params, "limit") {
        None => DEFAULT_LIMIT,
        Some(v) => match v.parse::<usize>() {
            Ok(n) if n <= MAX_LIMIT => n,
            Ok(_) => {
                return Err(ApiError::param(
                    "limit",
                    format!("{v} is more than {MAX_LIMIT}: use 0 to {MAX_LIMIT} and page with `offset`"),
                ))
            }
            Err(_) => {
                return Err(ApiError::param(
                    "limit",
                    format!("`{v}` is not a whole number: use 0 to {MAX_LIMIT} (default {DEFAULT_LIMIT})"),
                ))
            }
        },
    };
    let offset = match value(params, "offset") {
        None => 0,
        Some(v) => v
            .parse()
            .map_err(|_| ApiError::param("offset", format!("`{v}` is not a whole number: use 0 or more")))?,
    };
    Ok(Page { limit, offset })
}

/// `state`, `metric`, `service`, `q`, `limit`, `offset`.
pub fn series_filter(params: &[(String, String)]) -> Result<SeriesFilter, ApiError> {
    let state = value(params, "state")
        .map(|v| v.parse::<SeriesState>().map_err(|e| ApiError::param("state", e)))
        .transpose()?;
    Ok(SeriesFilter {
        state,
        metric: value(params, "metric").map(str::to_string),
        service: value(params, "service").map(str::to_string),
        text: value(params, "q").map(str::to_string),
        page: page(params)?,
    })
}

/// `since`, `until` (RFC 3339) and `step` (`30s`, `5m`, or seconds) of `series`.
pub fn history_window(params: &[(String, String)], series: SeriesId) -> Result<HistoryWindow, ApiError> {
    let mut events = event_query(params)?;
    events.series = Some(series);
    events.offset = 0;
    let seconds = |t: Option<u64>, default: f64| t.map_or(default, |t| t as f64 / 1e9);
    let step = value(params, "step")
        .map(|v| {
            let parsed = v
                .parse::<f64>()
                .ok()
                .or_else(|| humantime::parse_duration(v).ok().map(|d| d.as_secs_f64()));
            match parsed {
                Some(s) if s.is_finite() && s > 0.0 => Ok(s),
                _ => Err(ApiError::param(
                    "step",
                    format!("`{v}` is not a positive duration: use e.g. `30s`, `5m` or seconds"),
                )),
            }
        })
        .transpose()?;
    Ok(HistoryWindow {
        since: seconds(events.since, f64::NEG_INFINITY),
        until: seconds(events.until, f64::INFINITY),
        step,
        events,
    })
}

/// `series`, `metric`, `service`, `kind`, `incident`, `since`, `until`, `limit`, `offset`.
pub fn event_query(params: &[(String, String)]) -> Result<EventQuery, ApiError> {
    let series = value(params, "series").map(series_id).transpose()?;
    let kind = value(params, "kind")
        .map(|v| v.parse::<EventKind>().map_err(|e| ApiError::param("kind", e)))
        .transpose()?;
    let since = value(params, "since").map(|v| time("since", v)).transpose()?;
    let until = value(params, "until").map(|v| time("until", v)).transpose()?;
    if let (Some(s), Some(u)) = (since, until) {
        if s >= u {
            return Err(ApiError::param("until", "must be later than `since`"));
        }
    }
    let Page { limit, offset } = page(params)?;
    Ok(EventQuery {
        series,
        metric: value(params, "metric").map(str::to_string),
        service: value(params, "service").map(str::to_string),
        kind,
        incident: value(params, "incident").map(str::to_string),
        since,
        until,
        limit,
        offset,
    })
}

/// `state`, `entity`, `since`, `limit`.
pub fn incident_query(params: &[(String, String)]) -> Result<IncidentQuery, ApiError> {
    let state = value(params, "state")
        .map(|v| v.parse::<IncidentState>().map_err(|e| ApiError::param("state", e)))
        .transpose()?;
    Ok(IncidentQuery {
        state,
        entity: value(params, "entity").map(str::to_string),
        since: value(params, "since").map(|v| time("since", v)).transpose()?,
        limit: page(params)?.limit,
    })
}

/// A series id as the API prints it: exactly 16 hex digits.
pub fn series_id(v: &str) -> Result<SeriesId, ApiError> {
    let invalid = || {
        ApiError::param(
            "series",
            format!("`{v}` is not a series id: use the 16 hex digits of a `series_id`"),
        )
    };
    if v.len() != 16 || !v.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(invalid());
    }
    v.parse().map_err(|_| invalid())
}

fn time(param: &'static str, v: &str) -> Result<u64, ApiError> {
    parse_rfc3339(v).map_err(|e| ApiError::param(param, format!("{e}: use a time like 2026-01-12T10:30:45Z")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn message(r: Result<impl std::fmt::Debug, ApiError>) -> String {
        r.expect_err("should be refused").to_string()
    }

    #[test]
    fn paging_defaults_and_bounds() {
        assert_eq!(page(&[]).ok(), Some(Page { limit: 100, offset: 0 }));
        assert_eq!(
            page(&params(&[("limit", "1000"), ("offset", "5")])).ok(),
            Some(Page { limit: 1000, offset: 5 })
        );
        assert_eq!(
            page(&params(&[("limit", ""), ("other", "x")])).ok(),
            Some(Page { limit: 100, offset: 0 })
        );
        let m = message(page(&params(&[("limit", "1001")])));
        assert!(m.contains("`limit`") && m.contains("1000"), "{m}");
        let m = message(page(&params(&[("limit", "-1")])));
        assert!(m.contains("`limit`") && m.contains("whole number"), "{m}");
        let m = message(page(&params(&[("offset", "x")])));
        assert!(m.contains("`offset`"), "{m}");
    }

    #[test]
    fn a_page_is_a_sorted_clamped_slice() {
        let page = |limit, offset| {
            let mut items = [5, 3, 9, 1, 4, 8, 2];
            Page { limit, offset }.of_sorted(&mut items, Ord::cmp).to_vec()
        };
        assert_eq!(page(2, 0), [1, 2]);
        assert_eq!(page(3, 2), [3, 4, 5]);
        assert_eq!(page(10, 5), [8, 9]);
        assert_eq!(page(100, 0), [1, 2, 3, 4, 5, 8, 9]);
        assert!(page(10, 7).is_empty());
        assert!(page(0, 0).is_empty());
        assert!(page(usize::MAX, usize::MAX).is_empty());
    }

    #[test]
    fn series_filters_parse_and_name_accepted_values() {
        let f = series_filter(&params(&[("state", "drift_detected"), ("metric", "latency_ms")])).expect("parses");
        assert_eq!(f.state, Some(SeriesState::DriftDetected));
        assert_eq!(f.metric.as_deref(), Some("latency_ms"));
        let m = message(series_filter(&params(&[("state", "broken")])));
        assert!(
            m.contains("`state`") && m.contains("STABLE") && m.contains("DRIFT_DETECTED"),
            "{m}"
        );
    }

    #[test]
    fn event_filters_parse() {
        let q = event_query(&params(&[
            ("series", "00abcdef01234567"),
            ("kind", "drift_end"),
            ("service", "checkout"),
            ("since", "2026-01-12T10:30:45Z"),
            ("until", "2026-01-12T11:00:00Z"),
            ("limit", "5"),
            ("unknown", "ignored"),
        ]))
        .expect("parses");
        assert_eq!(q.series, Some(SeriesId(0x00ab_cdef_0123_4567)));
        assert_eq!(q.kind, Some(EventKind::DriftEnd));
        assert_eq!(q.service.as_deref(), Some("checkout"));
        assert_eq!(q.since, Some(1_768_213_845_000_000_000));
        assert_eq!(q.until, Some(1_768_215_600_000_000_000));
        assert_eq!((q.limit, q.offset), (5, 0));
    }

    #[test]
    fn incident_filters_parse_and_name_accepted_values() {
        let q = incident_query(&params(&[
            ("state", "acknowledged"),
            ("entity", "shop/checkout"),
            ("since", "2026-01-12T10:30:45Z"),
        ]))
        .expect("parses");
        assert_eq!(q.state, Some(IncidentState::Acknowledged));
        assert_eq!(q.entity.as_deref(), Some("shop/checkout"));
        assert_eq!(q.since, Some(1_768_213_845_000_000_000));
        assert_eq!(q.limit, DEFAULT_LIMIT);
        let m = message(incident_query(&params(&[("state", "closed")])));
        assert!(m.contains("`state`") && m.contains("resolved"), "{m}");
    }

    #[test]
    fn invalid_event_filters_name_the_parameter() {
        for (param, bad, hint) in [
            ("series", "abc", "16 hex digits"),
            ("series", "+0abcdef01234567", "16 hex digits"),
            ("kind", "drift", "drift_start"),
            ("since", "yesterday", "2026-01-12T10:30:45Z"),
            ("until", "12:00", "2026-01-12T10:30:45Z"),
        ] {
            let m = message(event_query(&params(&[(param, bad)])));
            assert!(m.contains(&format!("`{param}`")) && m.contains(hint), "{param}: {m}");
        }
        let m = message(event_query(&params(&[
            ("since", "2026-01-12T11:00:00Z"),
            ("until", "2026-01-12T10:00:00Z"),
        ])));
        assert!(m.contains("`until`") && m.contains("`since`"), "{m}");
    }
}
