//! `receivers.http_json`: where the JSON API listens and how much it reads.
//!
//! ```yaml
//! http_json:
//!   endpoint: 127.0.0.1:8000          # the query API's default: they share one listener
//!   max_request_body_size: 4194304    # bytes, as sent and once gzip is inflated
//!   auth:
//!     bearer_token: ${env:DRIFTD_TOKEN}
//! ```

use driftd_core::auth::BearerAuth;
use driftd_core::config::FieldError;
use driftd_core::tls::TlsConfig;
use serde::{Deserialize, Serialize};
use std::net::{Ipv4Addr, SocketAddr};
use std::num::NonZeroUsize;

/// The HTTP JSON receiver's config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpJsonConfig {
    /// Address to listen on (`ip:port`); shared with the query API (and any other HTTP
    /// component) configured on the same address.
    #[serde(default = "HttpJsonConfig::default_endpoint")]
    pub endpoint: SocketAddr,
    /// Largest body accepted, in bytes; a gzip body is limited both as sent and once
    /// decompressed. Larger requests get 413.
    #[serde(default = "HttpJsonConfig::default_max_request_body_size")]
    pub max_request_body_size: NonZeroUsize,
    /// Require `Authorization: Bearer <token>` on `/v1/telemetry` and `/v1/points`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<BearerAuth>,
    /// Serve over TLS (mTLS with `client_ca_file`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsConfig>,
}

impl HttpJsonConfig {
    fn default_endpoint() -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, 8000))
    }

    fn default_max_request_body_size() -> NonZeroUsize {
        const FOUR_MIB: NonZeroUsize = NonZeroUsize::new(4 << 20).unwrap();
        FOUR_MIB
    }

    /// No cross-field rules yet: every field is checked by its type.
    pub fn validate(&self) -> Vec<FieldError> {
        Vec::new()
    }
}

impl Default for HttpJsonConfig {
    fn default() -> Self {
        HttpJsonConfig {
            endpoint: Self::default_endpoint(),
            max_request_body_size: Self::default_max_request_body_size(),
            auth: None,
            tls: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use driftd_core::config::{parse_body, ParseError};

    fn parse(yaml: &str) -> Result<HttpJsonConfig, ParseError> {
        parse_body(serde_yaml::from_str(yaml).unwrap())
    }

    #[test]
    fn an_empty_body_means_defaults_on_the_query_api_address() {
        let c = parse("").unwrap();
        assert_eq!(c, HttpJsonConfig::default());
        assert_eq!(c.endpoint.to_string(), "127.0.0.1:8000");
        assert_eq!(c.max_request_body_size.get(), 4 << 20);
        assert!(c.validate().is_empty());
    }

    #[test]
    fn unknown_keys_and_bad_values_name_their_path() {
        match parse("endpont: 127.0.0.1:1") {
            Err(ParseError::Invalid { path, message }) => {
                assert_eq!(path, "endpont");
                assert!(message.contains("unknown field"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        match parse("max_request_body_size: 0") {
            Err(ParseError::Invalid { path, .. }) => assert_eq!(path, "max_request_body_size"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_token_is_redacted_when_printed() {
        let c = parse("auth: {bearer_token: s3cret-s3cret-s3cret}").unwrap();
        assert!(!serde_yaml::to_string(&c).unwrap().contains("s3cret"));
    }
}
