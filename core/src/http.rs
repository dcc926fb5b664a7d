//! Shared HTTP listeners. Components that configure the same endpoint (the JSON
//! receiver and the query API on 127.0.0.1:8000 by default) share one socket: each
//! adds its routes here, a route claimed twice is a build error, and the service binds
//! and serves every listener.

use crate::build_error::BuildError;
use axum::serve::ListenerExt;
use axum::Router;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

struct Pending {
    router: Router,
    routes: Vec<(String, String)>,
    components: Vec<String>,
}

/// Routes waiting to be served, by address.
#[derive(Default)]
pub struct HttpListeners {
    pending: BTreeMap<SocketAddr, Pending>,
}

/// A bound listener with its merged routes.
pub struct BoundHttp {
    /// The address actually bound (differs from the asked one for port 0).
    pub addr: SocketAddr,
    /// The components sharing it.
    pub components: Vec<String>,
    listener: TcpListener,
    router: Router,
}

impl HttpListeners {
    /// Adds `component`'s `routes` (served by `router`) on `addr`.
    pub fn add(
        &mut self,
        addr: SocketAddr,
        component: &str,
        routes: &[&str],
        router: Router,
    ) -> Result<(), BuildError> {
        let p = self.pending.entry(addr).or_insert_with(|| Pending {
            router: Router::new(),
            routes: Vec::new(),
            components: Vec::new(),
        });
        for route in routes {
            if let Some((_, first)) = p.routes.iter().find(|(r, _)| r == route) {
                return Err(BuildError::RouteClash {
                    addr,
                    path: route.to_string(),
                    first: first.clone(),
                    second: component.to_string(),
                });
            }
        }
        p.routes
            .extend(routes.iter().map(|r| (r.to_string(), component.to_string())));
        p.components.push(component.to_string());
        p.router = std::mem::take(&mut p.router).merge(router);
        Ok(())
    }

    /// Binds every listener.
    pub fn bind(self) -> Result<Vec<BoundHttp>, BuildError> {
        self.pending
            .into_iter()
            .map(|(addr, p)| {
                let listener = bind_tcp(addr)?;
                Ok(BoundHttp {
                    addr: listener
                        .local_addr()
                        .map_err(|source| BuildError::Bind { addr, source })?,
                    components: p.components,
                    listener,
                    router: p.router,
                })
            })
            .collect()
    }
}

impl BoundHttp {
    /// Serves until `shutdown`, then finishes in-flight requests.
    pub async fn serve(self, shutdown: CancellationToken) -> std::io::Result<()> {
        // Small requests are latency-bound: Nagle would hold their answers back.
        let listener = self.listener.tap_io(|stream| {
            if let Err(e) = stream.set_nodelay(true) {
                tracing::debug!(error = %e, "cannot set TCP_NODELAY on an accepted socket");
            }
        });
        axum::serve(listener, self.router)
            .with_graceful_shutdown(async move { shutdown.cancelled().await })
            .await
    }
}

/// Binds a TCP listener now (so port errors surface while building). The servers
/// that use it set TCP_NODELAY on the sockets they accept.
pub fn bind_tcp(addr: SocketAddr) -> Result<TcpListener, BuildError> {
    let std = std::net::TcpListener::bind(addr).map_err(|source| BuildError::Bind { addr, source })?;
    std.set_nonblocking(true)
        .map_err(|source| BuildError::Bind { addr, source })?;
    TcpListener::from_std(std).map_err(|source| BuildError::Bind { addr, source })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;

    #[test]
    fn a_route_claimed_twice_on_one_address_is_an_error() {
        let addr: SocketAddr = "127.0.0.1:8000".parse().unwrap();
        let mut l = HttpListeners::default();
        l.add(
            addr,
            "http_json",
            &["/v1/telemetry"],
            Router::new().route("/v1/telemetry", get(|| async { "" })),
        )
        .unwrap();
        l.add(
            addr,
            "api",
            &["/health"],
            Router::new().route("/health", get(|| async { "" })),
        )
        .unwrap();
        let err = l.add(addr, "api/2", &["/health"], Router::new()).expect_err("clash");
        assert!(err.to_string().contains("/health"), "{err}");
        assert!(err.to_string().contains("`api` and `api/2`"), "{err}");
    }
}
