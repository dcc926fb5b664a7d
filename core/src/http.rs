//! Shared HTTP listeners. Components that configure the same endpoint (the JSON
//! receiver and the query API on 127.0.0.1:8000 by default) share one socket: each
//! adds its routes here, a route claimed twice is a build error, and the service binds
//! and serves every listener.

use crate::build_error::BuildError;
use crate::listener::{self, bind_tcp, ListenerLimits};
use crate::tls::{Tls, TlsConfig};
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::collections::btree_map::Entry;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_stream::StreamExt;
use tokio_util::sync::CancellationToken;

struct Pending {
    router: Router,
    routes: Vec<(String, String)>,
    components: Vec<String>,
    tls: Option<Arc<Tls>>,
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
    limits: ListenerLimits,
    tls: Option<Arc<Tls>>,
}

impl HttpListeners {
    /// Adds `component`'s `routes` (served by `router`) on `addr`, over TLS when `tls`
    /// is given. Components sharing an address must have the same `tls:`.
    pub fn add(
        &mut self,
        addr: SocketAddr,
        component: &str,
        routes: &[&str],
        router: Router,
        tls: Option<&TlsConfig>,
    ) -> Result<(), BuildError> {
        let p = match self.pending.entry(addr) {
            Entry::Occupied(p) => p.into_mut(),
            Entry::Vacant(v) => v.insert(Pending {
                router: Router::new(),
                routes: Vec::new(),
                components: Vec::new(),
                tls: tls
                    .map(|t| Tls::load(t, HTTP_ALPN))
                    .transpose()
                    .map_err(|e| BuildError::setting(format!("tls.{}", e.field), e))?,
            }),
        };
        let same_tls = match (&p.tls, tls) {
            (None, None) => true,
            (Some(loaded), Some(asked)) => loaded.is_from(asked),
            _ => false,
        };
        if !same_tls {
            return Err(BuildError::setting(
                "tls",
                format!(
                    "{addr} is shared with `{}`, whose `tls:` differs: give both the same `tls:` or different endpoints",
                    p.components.join("`, `")
                ),
            ));
        }
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

    /// Binds every listener; each will hold `limits`.
    pub fn bind(self, limits: &ListenerLimits) -> Result<Vec<BoundHttp>, BuildError> {
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
                    limits: limits.clone(),
                    tls: p.tls,
                })
            })
            .collect()
    }
}

impl BoundHttp {
    /// Serves until `shutdown`, then finishes in-flight requests.
    pub async fn serve(self, shutdown: CancellationToken) {
        let limits = &self.limits;
        let timeouts = listener::timeouts(&self.addr.to_string());
        let request_timeout = limits.request_timeout;
        let router = self
            .router
            .layer(axum::middleware::from_fn(move |req: Request, next: Next| {
                within(request_timeout, req, next)
            }));
        let service = TowerToHyperService::new(router);
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_read_timeout);
        builder
            .http2()
            .timer(TokioTimer::new())
            .max_concurrent_streams(limits.max_concurrent_streams.get())
            .keep_alive_interval(listener::KEEP_ALIVE_INTERVAL)
            .keep_alive_timeout(limits.header_read_timeout);
        let graceful = GracefulShutdown::new();
        let mut incoming = listener::incoming(self.listener, limits, self.tls, shutdown.clone());
        loop {
            let conn = tokio::select! {
                Some(Ok(conn)) = incoming.next() => conn,
                _ = shutdown.cancelled() => break,
            };
            let served = graceful.watch(
                builder
                    .serve_connection(TokioIo::new(conn), service.clone())
                    .into_owned(),
            );
            let timeouts = timeouts.clone();
            tokio::spawn(async move {
                if let Err(e) = served.await {
                    if e.downcast_ref::<hyper::Error>().is_some_and(hyper::Error::is_timeout) {
                        timeouts.increment(1);
                    } else {
                        tracing::debug!(error = %e, "an HTTP connection ended with an error");
                    }
                }
            });
        }
        graceful.shutdown().await;
    }
}

/// The protocols an HTTP listener offers over TLS.
const HTTP_ALPN: &[&[u8]] = &[b"h2", b"http/1.1"];

/// Answers 408 when a request is not read and answered within `limit`.
async fn within(limit: Duration, req: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(answer) => answer,
        Err(_) => (
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "the request was not read and answered within service.listeners.request_timeout ({})",
                humantime::format_duration(limit)
            ),
        )
            .into_response(),
    }
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
            None,
        )
        .unwrap();
        l.add(
            addr,
            "api",
            &["/health"],
            Router::new().route("/health", get(|| async { "" })),
            None,
        )
        .unwrap();
        let err = l
            .add(addr, "api/2", &["/health"], Router::new(), None)
            .expect_err("clash");
        assert!(err.to_string().contains("/health"), "{err}");
        assert!(err.to_string().contains("`api` and `api/2`"), "{err}");
    }

    #[test]
    fn components_sharing_an_address_must_share_tls_and_a_missing_file_is_named() {
        let addr: SocketAddr = "127.0.0.1:8000".parse().unwrap();
        let tls = TlsConfig {
            cert_file: "/nonexistent/server.pem".into(),
            key_file: "/nonexistent/server.key".into(),
            client_ca_file: None,
        };
        let mut l = HttpListeners::default();
        l.add(addr, "http_json", &["/v1/telemetry"], Router::new(), None)
            .unwrap();
        let err = l
            .add(addr, "api", &["/health"], Router::new(), Some(&tls))
            .expect_err("tls differs");
        assert!(err.to_string().contains("shared with `http_json`"), "{err}");
        let other: SocketAddr = "127.0.0.1:8001".parse().unwrap();
        let err = l
            .add(other, "api", &["/health"], Router::new(), Some(&tls))
            .expect_err("no file");
        assert!(
            err.to_string().starts_with("tls.cert_file: /nonexistent/server.pem: "),
            "{err}"
        );
    }
}
