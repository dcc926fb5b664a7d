//! `exporters.api`.

use driftd_core::auth::BearerAuth;
use driftd_core::tls::TlsConfig;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;

/// Where the query API listens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiConfig {
    /// Listen address; shared with the JSON receiver when they are configured alike.
    #[serde(default = "ApiConfig::default_endpoint")]
    pub endpoint: SocketAddr,
    /// Require `Authorization: Bearer <token>` on every route but `/health` and the
    /// console's static files (its pages ask for the token once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<BearerAuth>,
    /// Serve over TLS (mTLS with `client_ca_file`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsConfig>,
}

impl ApiConfig {
    fn default_endpoint() -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 8000))
    }
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            endpoint: Self::default_endpoint(),
            auth: None,
            tls: None,
        }
    }
}
