//! The HELP text of every metric driftd records through the `metrics` crate, in one
//! list, described to the recorder when it is installed. The series and entity
//! families driftd renders itself (`driftd_series_*`, `driftd_entity_health`, …) carry
//! theirs in `render.rs`. A test checks that every name recorded in the source is here,
//! and `tests/exposition.rs` that `promtool check metrics` finds nothing to say.

/// What kind of family a name is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

/// Name, kind and HELP text of each recorded metric.
pub const RECORDED: &[(&str, Kind, &str)] = &[
    // Receivers.
    (
        "driftd_receiver_accepted_points_total",
        Kind::Counter,
        "Points a receiver handed to its pipelines.",
    ),
    (
        "driftd_receiver_refused_points_total",
        Kind::Counter,
        "Data points a receiver refused (NaN, missing timestamp, unsupported type).",
    ),
    (
        "driftd_receiver_requests_total",
        Kind::Counter,
        "Requests a receiver answered, by outcome.",
    ),
    (
        "driftd_kafka_messages_total",
        Kind::Counter,
        "Kafka messages a receiver handled, by outcome (ok, undecodable, duplicate, late).",
    ),
    (
        "driftd_kafka_commits_total",
        Kind::Counter,
        "Offset commits a Kafka receiver made (sent to the broker; failures are logged).",
    ),
    // Listeners.
    // The memory limiter.
    (
        "driftd_memory_resident_bytes",
        Kind::Gauge,
        "driftd's resident memory at the memory limiter's last check.",
    ),
    (
        "driftd_memory_limit_bytes",
        Kind::Gauge,
        "The memory limiter's limits: soft (no new series above it) and hard (no data above it).",
    ),
    (
        "driftd_memory_pressure",
        Kind::Gauge,
        "0 under the soft memory limit, 1 over it (new series refused), 2 over the hard limit (all data refused, oldest series evicted).",
    ),
    (
        "driftd_memory_refused_points_total",
        Kind::Counter,
        "Points refused with a retryable answer because memory was over a limit, by reason (new_series, hard_limit).",
    ),
    (
        "driftd_processor_evicted_series_total",
        Kind::Counter,
        "Series a drift processor let go because memory was over the hard limit, those longest without a point first.",
    ),
    (
        "driftd_listener_connections",
        Kind::Gauge,
        "Connections a listener has open (at most service.listeners.max_connections).",
    ),
    (
        "driftd_listener_timeouts_total",
        Kind::Counter,
        "Connections a listener closed because the client did not send its request headers within header_read_timeout.",
    ),
    (
        "driftd_listener_handshake_failures_total",
        Kind::Counter,
        "Connections a listener closed before their first request: a failed TLS handshake (no trusted client certificate, plain HTTP on a TLS port) or a read error.",
    ),
    // The drift processor.
    (
        "driftd_processor_events_total",
        Kind::Counter,
        "Drift events a processor raised, by kind (drift_start, drift_end).",
    ),
    (
        "driftd_processor_out_of_order_points_total",
        Kind::Counter,
        "Points a processor skipped because they were older than the newest point of their series.",
    ),
    (
        "driftd_processor_overflow_points_total",
        Kind::Counter,
        "Points of new series a processor refused because it already tracked max_series.",
    ),
    (
        "driftd_processor_expired_series_total",
        Kind::Counter,
        "Series a processor forgot after they sent nothing for series_ttl.",
    ),
    (
        "driftd_processor_batch_duration_seconds",
        Kind::Histogram,
        "Time a drift processor took to judge one batch of points and raise its events.",
    ),
    // Exporter queues.
    (
        "driftd_exporter_sent_events_total",
        Kind::Counter,
        "Events and incidents an exporter delivered.",
    ),
    (
        "driftd_exporter_dropped_events_total",
        Kind::Counter,
        "Events and incidents an exporter gave up on, by reason (queue_full, export_failed).",
    ),
    (
        "driftd_exporter_sent_points_total",
        Kind::Counter,
        "Points an exporter delivered.",
    ),
    (
        "driftd_exporter_dropped_points_total",
        Kind::Counter,
        "Points an exporter gave up on, by reason (queue_full, export_failed).",
    ),
    (
        "driftd_exporter_retries_total",
        Kind::Counter,
        "Deliveries an exporter tried again after a retryable failure.",
    ),
    (
        "driftd_exporter_queue_size",
        Kind::Gauge,
        "Batches waiting in an exporter's sending queue.",
    ),
    (
        "driftd_exporter_queue_capacity",
        Kind::Gauge,
        "Batches an exporter's sending queue holds at most.",
    ),
    // Webhooks.
    (
        "driftd_webhook_suppressed_events_total",
        Kind::Counter,
        "Events a webhook held back within the cooldown of an earlier notification of their series.",
    ),
    (
        "driftd_webhook_rate_limited_incidents_total",
        Kind::Counter,
        "Incident notifications a webhook held back by its max_per_minute limit.",
    ),
    (
        "driftd_webhook_resend_failures_total",
        Kind::Counter,
        "Periodic re-sends of firing alerts (Alertmanager format) that failed.",
    ),
    // Storage.
    (
        "driftd_storage_pruned_items_total",
        Kind::Counter,
        "Rows or keys removed from the store for being older than the retention.",
    ),
    (
        "driftd_storage_prune_failures_total",
        Kind::Counter,
        "Prune rounds of the store that failed (tried again at the next).",
    ),
];

/// Describes every recorded metric to the installed recorder.
pub fn describe() {
    for &(name, kind, help) in RECORDED {
        match kind {
            Kind::Counter => metrics::describe_counter!(name, help),
            Kind::Gauge => metrics::describe_gauge!(name, help),
            Kind::Histogram => metrics::describe_histogram!(name, help),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// Every `metrics::counter!("driftd_…"` (gauge, histogram) in the workspace's
    /// non-test sources, by name.
    fn recorded_in_source() -> Vec<String> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut names = Vec::new();
        for dir in ["core/src", "receivers/src", "processors/src", "exporters/src", "src"] {
            walk(&root.join(dir), &mut |text| {
                for macro_call in ["counter!(", "gauge!(", "histogram!("] {
                    for (at, _) in text.match_indices(macro_call) {
                        let rest = text[at + macro_call.len()..].trim_start();
                        if let Some(name) = rest.strip_prefix('"').and_then(|r| r.split('"').next()) {
                            let metric_name = name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
                            if name.starts_with("driftd_") && metric_name {
                                names.push(name.to_string());
                            }
                        }
                    }
                }
            });
        }
        names.sort();
        names.dedup();
        names
    }

    fn walk(dir: &Path, read: &mut dyn FnMut(&str)) {
        for entry in std::fs::read_dir(dir).expect("a source directory") {
            let path = entry.expect("an entry").path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            if path.is_dir() {
                if name != "tests" {
                    walk(&path, read);
                }
            } else if name.ends_with(".rs") && !name.contains("test") {
                read(&std::fs::read_to_string(&path).expect("a source file"));
            }
        }
    }

    #[test]
    fn every_recorded_metric_has_help_text() {
        let source = recorded_in_source();
        assert!(source.len() >= 20, "the scan finds the recorded metrics: {source:?}");
        let described: Vec<&str> = RECORDED.iter().map(|r| r.0).collect();
        let missing: Vec<&String> = source.iter().filter(|n| !described.contains(&n.as_str())).collect();
        assert!(missing.is_empty(), "recorded without HELP text in help.rs: {missing:?}");
        let unused: Vec<&&str> = described.iter().filter(|n| !source.iter().any(|s| s == *n)).collect();
        assert!(unused.is_empty(), "described but never recorded: {unused:?}");
    }

    #[test]
    fn names_follow_prometheus_conventions() {
        for &(name, kind, help) in RECORDED {
            assert!(name.starts_with("driftd_"), "{name}");
            assert_eq!(
                kind == Kind::Counter,
                name.ends_with("_total"),
                "{name}: counters and only counters end in _total"
            );
            assert!(help.ends_with('.') && !help.is_empty(), "{name}: {help}");
        }
    }
}
