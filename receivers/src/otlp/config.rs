//! `receivers.otlp`: which transports to serve and which attributes identify a series.
//!
//! ```yaml
//! otlp:
//!   protocols:
//!     grpc:                      # present => enabled
//!       endpoint: 127.0.0.1:4317
//!       max_recv_msg_size_mib: 4
//!     http:
//!       endpoint: 127.0.0.1:4318
//!       max_request_body_size: 4194304
//!   identity:
//!     # the service, and the instance within it (the incidents' entity and instance)
//!     resource_attributes: [service.name, service.namespace, deployment.environment.name,
//!                           deployment.environment, service.instance.id, host.name, k8s.pod.name]
//!     point_attributes: all
//! ```

use driftd_core::auth::BearerAuth;
use driftd_core::config::FieldError;
use driftd_core::tls::TlsConfig;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::num::NonZeroUsize;

/// The OTLP receiver's config.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OtlpConfig {
    /// The transports to serve; at least one must be present.
    #[serde(default, deserialize_with = "null_as_default")]
    pub protocols: ProtocolsConfig,
    /// Which attributes make up a series' identity.
    #[serde(default, deserialize_with = "null_as_default")]
    pub identity: IdentityConfig,
}

/// `protocols`: a transport is enabled by being present, even with an empty body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProtocolsConfig {
    /// OTLP/gRPC (`ExportMetricsServiceRequest` over HTTP/2); `grpc:` alone means defaults.
    #[serde(
        default,
        deserialize_with = "present_means_enabled",
        skip_serializing_if = "Option::is_none"
    )]
    pub grpc: Option<GrpcConfig>,
    /// OTLP/HTTP (`POST /v1/metrics`, protobuf or JSON); `http:` alone means defaults.
    #[serde(
        default,
        deserialize_with = "present_means_enabled",
        skip_serializing_if = "Option::is_none"
    )]
    pub http: Option<HttpConfig>,
}

/// `protocols.grpc`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrpcConfig {
    /// Address to listen on (`ip:port`); the default serves this machine only.
    #[serde(default = "GrpcConfig::default_endpoint")]
    pub endpoint: SocketAddr,
    /// Largest request accepted, in MiB, after decompression.
    #[serde(default = "GrpcConfig::default_max_recv_msg_size_mib")]
    pub max_recv_msg_size_mib: NonZeroUsize,
    /// Require `authorization: Bearer <token>` metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<BearerAuth>,
    /// Serve over TLS (mTLS with `client_ca_file`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsConfig>,
}

impl GrpcConfig {
    fn default_endpoint() -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, 4317))
    }

    fn default_max_recv_msg_size_mib() -> NonZeroUsize {
        const FOUR: NonZeroUsize = NonZeroUsize::new(4).unwrap();
        FOUR
    }

    /// The request size limit in bytes.
    pub fn max_recv_msg_size(&self) -> usize {
        self.max_recv_msg_size_mib.get().saturating_mul(1 << 20)
    }
}

impl Default for GrpcConfig {
    fn default() -> Self {
        GrpcConfig {
            endpoint: Self::default_endpoint(),
            max_recv_msg_size_mib: Self::default_max_recv_msg_size_mib(),
            auth: None,
            tls: None,
        }
    }
}

/// `protocols.http`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// Address to listen on (`ip:port`); shared with other HTTP components configured
    /// on the same address.
    #[serde(default = "HttpConfig::default_endpoint")]
    pub endpoint: SocketAddr,
    /// Largest body accepted, in bytes; a gzip body is limited both as sent and once
    /// decompressed.
    #[serde(default = "HttpConfig::default_max_request_body_size")]
    pub max_request_body_size: NonZeroUsize,
    /// Require `Authorization: Bearer <token>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<BearerAuth>,
    /// Serve over TLS (mTLS with `client_ca_file`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsConfig>,
}

impl HttpConfig {
    fn default_endpoint() -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, 4318))
    }

    fn default_max_request_body_size() -> NonZeroUsize {
        const FOUR_MIB: NonZeroUsize = NonZeroUsize::new(4 << 20).unwrap();
        FOUR_MIB
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            endpoint: Self::default_endpoint(),
            max_request_body_size: Self::default_max_request_body_size(),
            auth: None,
            tls: None,
        }
    }
}

/// How many resource attributes `identity` may name.
pub const MAX_RESOURCE_ATTRIBUTES: usize = 64;

/// `identity`: the metric name plus these attributes identify a series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityConfig {
    /// Resource attributes that identify a series (most resource attributes, such as
    /// `process.pid`, change on every restart and would split a series).
    #[serde(default = "IdentityConfig::default_resource_attributes")]
    pub resource_attributes: Vec<String>,
    /// Data point attributes that identify a series: `all` or a list of keys. When a
    /// point and its resource carry the same selected key, the resource's value wins.
    #[serde(default)]
    pub point_attributes: AttributeSelection,
}

impl IdentityConfig {
    /// The service and its instance: what incidents group by (see the drift
    /// processor's `incidents.entity`). Attributes a resource lacks are simply absent.
    fn default_resource_attributes() -> Vec<String> {
        [
            driftd_core::SERVICE_LABEL,
            "service.namespace",
            "deployment.environment.name",
            "deployment.environment",
            "service.instance.id",
            "host.name",
            "k8s.pod.name",
        ]
        .map(str::to_string)
        .to_vec()
    }

    /// Where a resource attribute sits in `resource_attributes`, if it is part of the
    /// identity (decoding tracks which ones a resource carries in a 64-bit set).
    pub fn resource_index(&self, key: impl AsRef<[u8]>) -> Option<usize> {
        self.resource_attributes
            .iter()
            .position(|k| k.as_bytes() == key.as_ref())
    }

    fn validate(&self, errors: &mut Vec<FieldError>) {
        check_keys("identity.resource_attributes", &self.resource_attributes, errors);
        if self.resource_attributes.len() > MAX_RESOURCE_ATTRIBUTES {
            errors.push(FieldError::new(
                "identity.resource_attributes",
                format!("at most {MAX_RESOURCE_ATTRIBUTES} resource attributes can identify a series"),
            ));
        }
        if let AttributeSelection::Only(keys) = &self.point_attributes {
            check_keys("identity.point_attributes", keys, errors);
        }
    }
}

impl Default for IdentityConfig {
    fn default() -> Self {
        IdentityConfig {
            resource_attributes: Self::default_resource_attributes(),
            point_attributes: AttributeSelection::All,
        }
    }
}

fn check_keys(path: &str, keys: &[String], errors: &mut Vec<FieldError>) {
    for (i, key) in keys.iter().enumerate() {
        if key.is_empty() {
            errors.push(FieldError::new(
                format!("{path}[{i}]"),
                "an attribute key must not be empty",
            ));
        } else if keys[..i].contains(key) {
            errors.push(FieldError::new(
                format!("{path}[{i}]"),
                format!("`{key}` is listed twice: remove one"),
            ));
        }
    }
}

/// Which data point attributes identify a series.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum AttributeSelection {
    /// Every attribute the point carries.
    #[default]
    All,
    /// Only these keys.
    Only(Vec<String>),
}

impl AttributeSelection {
    /// Whether a point attribute is selected.
    pub fn selects(&self, key: impl AsRef<[u8]>) -> bool {
        match self {
            AttributeSelection::All => true,
            AttributeSelection::Only(keys) => keys.iter().any(|k| k.as_bytes() == key.as_ref()),
        }
    }
}

impl Serialize for AttributeSelection {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            AttributeSelection::All => s.serialize_str("all"),
            AttributeSelection::Only(keys) => keys.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for AttributeSelection {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Hand-written so a mistake gets a message naming both spellings, which an
        // untagged enum cannot give.
        struct SelectionVisitor;
        impl<'de> Visitor<'de> for SelectionVisitor {
            type Value = AttributeSelection;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("`all` or a list of attribute keys")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                match v {
                    "all" => Ok(AttributeSelection::All),
                    _ => Err(E::custom(format!(
                        "`{v}` is not a selection: use `all` or a list of attribute keys (`[route]`)"
                    ))),
                }
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut keys = Vec::new();
                while let Some(k) = seq.next_element::<String>()? {
                    keys.push(k);
                }
                Ok(AttributeSelection::Only(keys))
            }
        }
        d.deserialize_any(SelectionVisitor)
    }
}

impl OtlpConfig {
    /// Cross-field rules: a transport must be enabled, and gRPC and HTTP need their own
    /// addresses.
    pub fn validate(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        match (&self.protocols.grpc, &self.protocols.http) {
            (None, None) => errors.push(FieldError::new(
                "protocols",
                "no protocol is enabled: add `grpc:` and/or `http:` under `protocols` \
                 (e.g. `protocols: {grpc: {}, http: {}}` serves 127.0.0.1:4317 and 127.0.0.1:4318)",
            )),
            // Port 0 asks the OS for a fresh port each, so two of them never clash.
            (Some(g), Some(h)) if g.endpoint == h.endpoint && g.endpoint.port() != 0 => errors.push(FieldError::new(
                "protocols.http.endpoint",
                format!(
                    "gRPC and HTTP both use {}: give them different ports \
                         (OTLP uses 4317 for gRPC and 4318 for HTTP)",
                    h.endpoint
                ),
            )),
            _ => {}
        }
        self.identity.validate(&mut errors);
        errors
    }
}

/// A null body (`identity:` with nothing under it) means defaults.
fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A present key enables a transport even when its body is null (`grpc:`), as in the
/// OpenTelemetry Collector; an absent key leaves it off (via `#[serde(default)]`).
fn present_means_enabled<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Some(Option::<T>::deserialize(d)?.unwrap_or_default()))
}
