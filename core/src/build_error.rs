//! Why a component could not be built: the one error type of assembly, used by the
//! factories and by the shared HTTP listeners they register routes on.

use std::net::SocketAddr;

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
    /// Anything else, with a message that says what to change.
    #[error("{0}")]
    Other(String),
}
