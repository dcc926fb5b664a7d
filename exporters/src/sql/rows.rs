//! Rows <-> driftd's types for the SQL stores. Times are integer nanoseconds, ids
//! hex text, labels a JSON object, detector state raw bytes: every value comes back
//! exactly as written.

use driftd_core::event::{DriftEvent, EndReason, Severity, Stats};
use driftd_core::incident::Incident;
use driftd_core::store::{self, Checkpoint, SeriesStatus, StoreError};
use driftd_core::view::SeriesState;
use driftd_core::{SeriesId, SeriesLabels};
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, Row};
use std::collections::BTreeMap;
use std::sync::Arc;

/// A statement being bound.
pub(crate) type Statement<'q> = Query<'q, Any, AnyArguments<'q>>;

/// Columns of the events table, in bind order (the table also has `seq`).
pub(crate) const EVENT_COLUMNS: &[&str] = &[
    "id",
    "kind",
    "series_id",
    "metric",
    "labels",
    "service",
    "time_unix_nano",
    "onset_unix_nano",
    "detector",
    "severity",
    "reason",
    "value",
    "scores",
    "baseline_mean",
    "baseline_stddev",
    "baseline_samples",
    "recent_mean",
    "recent_stddev",
    "recent_samples",
    "acknowledged",
    "incident",
];

/// Columns of the status table, in bind order.
pub(crate) const STATUS_COLUMNS: &[&str] = &[
    "series_id",
    "metric",
    "labels",
    "service",
    "state",
    "transition_unix_nano",
    "sample_count",
    "baseline_mean",
    "baseline_stddev",
    "baseline_samples",
    "updated_unix_nano",
];

/// Columns of the checkpoints table, in bind order.
pub(crate) const CHECKPOINT_COLUMNS: &[&str] = &[
    "processor",
    "series_id",
    "metric",
    "labels",
    "state",
    "updated_unix_nano",
];

/// Columns of the incidents table, in bind order (the table also has `acknowledged`,
/// which only acknowledging writes). The body is the incident's JSON; the other columns
/// are copies of its fields to filter and order by.
pub(crate) const INCIDENT_COLUMNS: &[&str] =
    &["id", "entity", "state", "opened_unix_nano", "updated_unix_nano", "body"];

/// A u64 as SQL's signed BIGINT; values past i64::MAX (year 2262 in ns) are refused.
pub(crate) fn int(value: u64, what: &str) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::Rejected(format!("{what} {value} does not fit a BIGINT")))
}

fn uint(value: i64, what: &str) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| unreadable(what, "negative"))
}

fn unreadable(what: &str, why: impl std::fmt::Display) -> StoreError {
    StoreError::Rejected(format!("stored {what} is unreadable: {why}"))
}

/// The labels (not the metric name) as a JSON object.
pub(crate) fn labels_json(labels: &SeriesLabels) -> String {
    let map: BTreeMap<&str, &str> = labels.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    serde_json::to_string(&map).unwrap_or_else(|_| "{}".to_string())
}

fn get<'r, T>(row: &'r AnyRow, column: &str) -> Result<T, StoreError>
where
    T: sqlx::Decode<'r, Any> + sqlx::Type<Any>,
{
    row.try_get(column).map_err(|e| unreadable(column, e))
}

/// A text column that may be NULL. MySQL's TEXT types reach sqlx's `Any` driver as
/// BLOBs, so a column that is not text is read as UTF-8 bytes.
pub(crate) fn text_or_null(row: &AnyRow, column: &str) -> Result<Option<String>, StoreError> {
    match row.try_get::<Option<String>, _>(column) {
        Ok(text) => Ok(text),
        Err(sqlx::Error::ColumnDecode { .. }) => {
            let bytes: Option<Vec<u8>> = get(row, column)?;
            bytes
                .map(|b| String::from_utf8(b).map_err(|e| unreadable(column, e)))
                .transpose()
        }
        Err(e) => Err(unreadable(column, e)),
    }
}

/// A text column that may not be NULL (see [`text_or_null`]).
pub(crate) fn text(row: &AnyRow, column: &str) -> Result<String, StoreError> {
    text_or_null(row, column)?.ok_or_else(|| unreadable(column, "NULL"))
}

fn series(row: &AnyRow) -> Result<(SeriesId, Arc<SeriesLabels>), StoreError> {
    let id = text(row, "series_id")?;
    let id = id.parse::<SeriesId>().map_err(|e| unreadable("series_id", e))?;
    let labels = text(row, "labels")?;
    let labels: BTreeMap<String, String> = serde_json::from_str(&labels).map_err(|e| unreadable("labels", e))?;
    let metric = text(row, "metric")?;
    Ok((id, Arc::new(SeriesLabels::new(metric, labels.into_iter().collect()))))
}

fn severity_str(s: Severity) -> &'static str {
    match s {
        Severity::Moderate => "moderate",
        Severity::Severe => "severe",
    }
}

fn reason_str(r: EndReason) -> &'static str {
    match r {
        EndReason::Recovered => "recovered",
        EndReason::Rebaselined => "rebaselined",
        EndReason::Expired => "expired",
        EndReason::Evicted => "evicted",
    }
}

/// Binds one event's columns (see [`EVENT_COLUMNS`]).
pub(crate) fn bind_event<'q>(q: Statement<'q>, e: &DriftEvent) -> Result<Statement<'q>, StoreError> {
    let scores = serde_json::to_string(&e.scores).map_err(|err| StoreError::Rejected(format!("scores: {err}")))?;
    Ok(q.bind(e.id.clone())
        .bind(e.kind.as_str())
        .bind(e.series_id.to_string())
        .bind(e.series.metric.clone())
        .bind(labels_json(&e.series))
        .bind(e.series.service().map(str::to_string))
        .bind(int(e.timestamp, "timestamp")?)
        .bind(int(e.onset, "onset")?)
        .bind(e.detector.clone())
        .bind(e.severity.map(severity_str))
        .bind(e.reason.map(reason_str))
        .bind(e.value)
        .bind(scores)
        .bind(e.baseline.mean)
        .bind(e.baseline.stddev)
        .bind(int(e.baseline.samples, "baseline samples")?)
        .bind(e.recent.mean)
        .bind(e.recent.stddev)
        .bind(int(e.recent.samples, "recent samples")?)
        .bind(i64::from(e.acknowledged))
        .bind(e.incident.clone()))
}

/// Reads an event row.
pub(crate) fn event(row: &AnyRow) -> Result<DriftEvent, StoreError> {
    let (series_id, series) = series(row)?;
    let kind = text(row, "kind")?;
    let severity = text_or_null(row, "severity")?;
    let reason = text_or_null(row, "reason")?;
    let scores = text(row, "scores")?;
    let stats = |prefix: &str| -> Result<Stats, StoreError> {
        Ok(Stats {
            mean: get(row, &format!("{prefix}_mean"))?,
            stddev: get(row, &format!("{prefix}_stddev"))?,
            samples: uint(get(row, &format!("{prefix}_samples"))?, prefix)?,
        })
    };
    Ok(DriftEvent {
        id: text(row, "id")?,
        kind: kind.parse().map_err(|e| unreadable("kind", e))?,
        series_id,
        series,
        timestamp: uint(get(row, "time_unix_nano")?, "time")?,
        onset: uint(get(row, "onset_unix_nano")?, "onset")?,
        detector: text(row, "detector")?,
        severity: match severity.as_deref() {
            None => None,
            Some("moderate") => Some(Severity::Moderate),
            Some("severe") => Some(Severity::Severe),
            Some(other) => return Err(unreadable("severity", other)),
        },
        reason: match reason.as_deref() {
            None => None,
            Some("recovered") => Some(EndReason::Recovered),
            Some("rebaselined") => Some(EndReason::Rebaselined),
            Some("expired") => Some(EndReason::Expired),
            Some("evicted") => Some(EndReason::Evicted),
            Some(other) => return Err(unreadable("reason", other)),
        },
        value: get(row, "value")?,
        scores: serde_json::from_str(&scores).map_err(|e| unreadable("scores", e))?,
        baseline: stats("baseline")?,
        recent: stats("recent")?,
        acknowledged: get::<i64>(row, "acknowledged")? != 0,
        incident: text_or_null(row, "incident")?,
        snapshot: None,
    })
}

/// Binds one status's columns (see [`STATUS_COLUMNS`]).
pub(crate) fn bind_status<'q>(q: Statement<'q>, s: &SeriesStatus) -> Result<Statement<'q>, StoreError> {
    let baseline_samples = s.baseline.map(|b| int(b.samples, "baseline samples")).transpose()?;
    Ok(q.bind(s.series_id.to_string())
        .bind(s.series.metric.clone())
        .bind(labels_json(&s.series))
        .bind(s.series.service().map(str::to_string))
        .bind(s.state.as_str())
        .bind(int(s.transition_time, "transition time")?)
        .bind(int(s.sample_count, "sample count")?)
        .bind(s.baseline.map(|b| b.mean))
        .bind(s.baseline.map(|b| b.stddev))
        .bind(baseline_samples)
        .bind(int(s.updated_at, "updated_at")?))
}

/// Reads a status row.
pub(crate) fn status(row: &AnyRow) -> Result<SeriesStatus, StoreError> {
    let (series_id, series) = series(row)?;
    let state = text(row, "state")?;
    let mean: Option<f64> = get(row, "baseline_mean")?;
    let stddev: Option<f64> = get(row, "baseline_stddev")?;
    let samples: Option<i64> = get(row, "baseline_samples")?;
    let baseline = match (mean, stddev, samples) {
        (Some(mean), Some(stddev), Some(samples)) => Some(Stats {
            mean,
            stddev,
            samples: uint(samples, "baseline samples")?,
        }),
        _ => None,
    };
    Ok(SeriesStatus {
        series_id,
        series,
        state: state.parse::<SeriesState>().map_err(|e| unreadable("state", e))?,
        transition_time: uint(get(row, "transition_unix_nano")?, "transition time")?,
        sample_count: uint(get(row, "sample_count")?, "sample count")?,
        baseline,
        updated_at: uint(get(row, "updated_unix_nano")?, "updated_at")?,
    })
}

/// Binds one checkpoint's columns (see [`CHECKPOINT_COLUMNS`]).
pub(crate) fn bind_checkpoint<'q>(
    q: Statement<'q>,
    processor: &str,
    c: &Checkpoint,
) -> Result<Statement<'q>, StoreError> {
    Ok(q.bind(processor.to_string())
        .bind(c.series_id.to_string())
        .bind(c.labels.metric.clone())
        .bind(labels_json(&c.labels))
        .bind(c.state.clone())
        .bind(int(c.updated_at, "updated_at")?))
}

/// Reads a checkpoint row.
pub(crate) fn checkpoint(row: &AnyRow) -> Result<Checkpoint, StoreError> {
    let (series_id, labels) = series(row)?;
    // SQLite hands back an empty BLOB as NULL.
    let state: Option<Vec<u8>> = get(row, "state")?;
    Ok(Checkpoint {
        series_id,
        labels,
        state: state.unwrap_or_default(),
        updated_at: uint(get(row, "updated_unix_nano")?, "updated_at")?,
    })
}

/// Binds one incident's columns (see [`INCIDENT_COLUMNS`]).
pub(crate) fn bind_incident<'q>(q: Statement<'q>, i: &Incident) -> Result<Statement<'q>, StoreError> {
    let body = serde_json::to_string(i).map_err(|e| StoreError::Rejected(format!("incident {}: {e}", i.id)))?;
    Ok(q.bind(i.id.clone())
        .bind(i.entity.clone())
        .bind(i.state.as_str())
        .bind(int(i.opened_at, "opened_at")?)
        .bind(int(i.updated_at, "updated_at")?)
        .bind(body))
}

/// Reads an incident row (its columns and `acknowledged`).
pub(crate) fn incident(row: &AnyRow) -> Result<Incident, StoreError> {
    let body = text(row, "body")?;
    let incident: Incident = serde_json::from_str(&body).map_err(|e| unreadable("incident", e))?;
    Ok(store::with_acknowledgement(
        incident,
        get::<i64>(row, "acknowledged")? != 0,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_past_bigint_are_refused() {
        assert_eq!(int(5, "t").ok(), Some(5));
        assert!(matches!(int(u64::MAX, "t"), Err(StoreError::Rejected(_))));
    }
}
