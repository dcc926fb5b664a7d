//! `exporters.prometheus`.

use driftd_core::auth::BearerAuth;
use driftd_core::config::FieldError;
use driftd_core::tls::TlsConfig;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;

/// Where Prometheus scrapes driftd, and what it finds there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrometheusConfig {
    /// Listen address; shared with other HTTP components configured on the same one.
    #[serde(default = "PrometheusConfig::default_endpoint")]
    pub endpoint: SocketAddr,
    /// The scrape path.
    #[serde(default = "PrometheusConfig::default_path")]
    pub path: String,
    /// Export one set of drift gauges per series (off for very high cardinality).
    #[serde(default = "PrometheusConfig::default_series_metrics")]
    pub series_metrics: bool,
    /// `{bearer_token: ...}`: scrapes must send `Authorization: Bearer <token>`
    /// (Prometheus: `authorization: {credentials: <token>}` in the scrape config).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<BearerAuth>,
    /// Serve over TLS (mTLS with `client_ca_file`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsConfig>,
}

impl PrometheusConfig {
    fn default_endpoint() -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 9464))
    }

    fn default_path() -> String {
        "/metrics".to_string()
    }

    fn default_series_metrics() -> bool {
        true
    }

    /// Rules serde cannot express.
    pub fn validate(&self) -> Vec<FieldError> {
        match check_route_path(&self.path) {
            Ok(()) => Vec::new(),
            Err(message) => vec![FieldError::new("path", message)],
        }
    }
}

impl Default for PrometheusConfig {
    fn default() -> Self {
        PrometheusConfig {
            endpoint: Self::default_endpoint(),
            path: Self::default_path(),
            series_metrics: Self::default_series_metrics(),
            auth: None,
            tls: None,
        }
    }
}

/// A fixed HTTP path: `/` followed by URL-safe characters. Anything else would either
/// be read by the router as a capture (`{x}`, `*x`) or make it panic.
pub(crate) fn check_route_path(path: &str) -> Result<(), String> {
    let safe = |c: char| c.is_ascii_alphanumeric() || matches!(c, '/' | '-' | '_' | '.' | '~');
    if !path.starts_with('/') || !path.chars().all(safe) {
        return Err(format!(
            "`{path}` is not a usable path: start with `/` and use only letters, digits and / - _ . ~ (e.g. /metrics)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_the_router_would_misread_are_refused() {
        for bad in ["metrics", "", "/m/{id}", "/m/*rest", "/a b", "/x?y"] {
            let c = PrometheusConfig {
                path: bad.into(),
                ..PrometheusConfig::default()
            };
            assert_eq!(c.validate().len(), 1, "{bad}");
        }
        assert!(PrometheusConfig::default().validate().is_empty());
        assert!(check_route_path("/internal/metrics-v2").is_ok());
    }
}
