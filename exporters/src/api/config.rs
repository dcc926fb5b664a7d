//! `exporters.api`.

use driftd_core::auth::BearerAuth;
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
        }
    }
}
