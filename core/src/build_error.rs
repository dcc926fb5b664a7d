//! Why a component could not be built: the one error type of assembly, used by the
//! factories and by the shared HTTP listeners they register routes on.

use std::net::SocketAddr;

impl BuildError {
    /// Setting `field` cannot be used: `message` says why.
    pub fn setting(field: impl Into<String>, message: impl std::fmt::Display) -> Self {
        BuildError::Setting {
            field: field.into(),
            message: message.to_string(),
        }
    }
}

/// Why a component could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// A listener could not bind.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// Two components claim the same route on one shared listener.
    #[error("route {path} on {addr} is claimed by both `{first}` and `{second}`")]
    RouteClash {
        /// Listener address.
        addr: SocketAddr,
        /// The path.
        path: String,
        /// Component that registered it first.
        first: String,
        /// Component that registered it again.
        second: String,
    },
    /// A setting that parses but cannot be used: a path that cannot be opened, a
    /// header that is not one, a URL the driver refuses.
    #[error("{field}: {message}")]
    Setting {
        /// The setting's path inside the component, e.g. `path` or `headers.x-key`.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// A client library refused to set up a client (a Kafka consumer, an HTTP client).
    #[error("cannot create {what}: {source}")]
    Client {
        /// What was being created, e.g. "the Kafka consumer".
        what: &'static str,
        /// The library's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The storage backend refused driftd.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}
