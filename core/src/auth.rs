//! Bearer-token auth for listeners, written once: `auth: {bearer_token: ...}` on any
//! HTTP or gRPC component. The token usually comes from the environment
//! (`${env:DRIFTD_TOKEN}`) and is never printed.

use crate::config::Secret;
use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde::{Deserialize, Serialize};

/// `auth:`: clients must send `Authorization: Bearer <token>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BearerAuth {
    /// The token clients must present.
    pub bearer_token: Secret,
}

impl BearerAuth {
    /// Whether an `Authorization` header value carries the token. Compares in constant
    /// time so response timing does not leak how much of a guess was right.
    pub fn admits(&self, authorization: Option<&str>) -> bool {
        let Some(presented) = authorization.and_then(|v| v.strip_prefix("Bearer ")) else {
            return false;
        };
        let (a, b) = (presented.as_bytes(), self.bearer_token.expose().as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }

    /// Wraps every route of `router` so requests without the token get 401.
    pub fn protect<S: Clone + Send + Sync + 'static>(&self, router: Router<S>) -> Router<S> {
        let auth = self.clone();
        router.route_layer(axum::middleware::from_fn(move |req: Request, next: Next| {
            let auth = auth.clone();
            async move {
                let presented = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
                if auth.admits(presented) {
                    next.run(req).await
                } else {
                    unauthorized()
                }
            }
        }))
    }
}

/// Applies `auth` to `router` when it is configured.
pub fn protect<S: Clone + Send + Sync + 'static>(auth: Option<&BearerAuth>, router: Router<S>) -> Router<S> {
    match auth {
        Some(a) => a.protect(router),
        None => router,
    }
}

fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, "Bearer")],
        axum::Json(serde_json::json!({
            "error": "missing or wrong bearer token: send `Authorization: Bearer <token>`"
        })),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(token: &str) -> BearerAuth {
        serde_yaml::from_str(&format!("bearer_token: {token}")).unwrap()
    }

    #[test]
    fn admits_only_the_exact_token() {
        let a = auth("s3cret");
        assert!(a.admits(Some("Bearer s3cret")));
        assert!(!a.admits(Some("Bearer s3cre")));
        assert!(!a.admits(Some("Bearer s3cretx")));
        assert!(!a.admits(Some("Basic s3cret")));
        assert!(!a.admits(None));
    }

    #[test]
    fn the_token_is_never_serialized_or_debug_printed() {
        let a = auth("s3cret");
        assert!(!serde_yaml::to_string(&a).unwrap().contains("s3cret"));
        assert!(!format!("{a:?}").contains("s3cret"));
    }
}
