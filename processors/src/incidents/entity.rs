//! Which entity (service) and instance a series belongs to, and which signal (OTLP
//! metric) it is a view of.

use super::config::EntityConfig;
use crate::drift::DERIVED;
use driftd_core::SeriesLabels;

/// The entity of series that carry none of the service labels (OpenTelemetry's name
/// for a service that did not say who it is).
pub const UNKNOWN_SERVICE: &str = "unknown_service";

impl EntityConfig {
    /// The entity of a series: its service labels' values joined with `/`.
    pub fn entity_of(&self, labels: &SeriesLabels) -> String {
        let parts: Vec<&str> = self.service.iter().filter_map(|k| labels.get(k)).collect();
        if parts.is_empty() {
            UNKNOWN_SERVICE.to_string()
        } else {
            parts.join("/")
        }
    }

    /// The instance of a series, if it names one.
    pub fn instance_of<'a>(&self, labels: &'a SeriesLabels) -> Option<&'a str> {
        self.instance.iter().find_map(|k| labels.get(k))
    }
}

/// The signal a series is a view of: its metric name without the suffix of a series
/// derived from a histogram (`http.server.duration_p99` → `http.server.duration`), so
/// a histogram's distribution, mean, quantiles and rate fold into one member.
pub fn signal_of(metric: &str) -> &str {
    DERIVED
        .iter()
        .find_map(|suffix| metric.strip_suffix(suffix))
        .filter(|base| !base.is_empty())
        .unwrap_or(metric)
}

/// What a series of a signal shows, for people: `p99`, `mean`, `count`, or
/// `distribution` for the histogram itself.
pub fn aspect_of<'a>(metric: &'a str, signal: &str) -> &'a str {
    match metric.strip_prefix(signal).and_then(|s| s.strip_prefix('_')) {
        Some(aspect) if !aspect.is_empty() => aspect,
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> SeriesLabels {
        SeriesLabels::new("m", pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    #[test]
    fn entities_join_the_service_labels_present() {
        let c = EntityConfig::default();
        assert_eq!(c.entity_of(&labels(&[("service.name", "checkout")])), "checkout");
        assert_eq!(
            c.entity_of(&labels(&[
                ("service.name", "checkout"),
                ("service.namespace", "shop"),
                ("deployment.environment.name", "prod"),
                ("host.name", "h1"),
            ])),
            "shop/checkout/prod"
        );
        assert_eq!(c.entity_of(&labels(&[("host.name", "h1")])), UNKNOWN_SERVICE);
    }

    #[test]
    fn the_preferred_instance_label_wins() {
        let c = EntityConfig::default();
        let l = labels(&[("host.name", "h1"), ("service.instance.id", "i-7")]);
        assert_eq!(c.instance_of(&l), Some("i-7"));
        assert_eq!(c.instance_of(&labels(&[("service.name", "a")])), None);
    }

    #[test]
    fn derived_series_fold_into_their_histogram() {
        assert_eq!(signal_of("http.server.duration_p99"), "http.server.duration");
        assert_eq!(signal_of("http.server.duration_count"), "http.server.duration");
        assert_eq!(signal_of("http.server.duration"), "http.server.duration");
        assert_eq!(signal_of("_mean"), "_mean");
        assert_eq!(aspect_of("http.server.duration_p99", "http.server.duration"), "p99");
        assert_eq!(aspect_of("http.server.duration", "http.server.duration"), "");
    }
}
