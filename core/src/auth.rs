//! Bearer-token auth for listeners, written once: `auth: {bearer_token: ...}` on any
//! HTTP or gRPC component. The token usually comes from the environment
//! (`${env:DRIFTD_TOKEN}`) and is never printed. A token that is empty (an unset
//! variable with an empty default would let everyone in), shorter than
//! [`MIN_TOKEN_LEN`] or not printable ASCII is refused when the config loads.

use crate::config::Secret;
use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde::{Deserialize, Deserializer, Serialize};

/// The shortest bearer token accepted, in characters: a token short enough to guess
/// protects nothing.
pub const MIN_TOKEN_LEN: usize = 16;

/// `auth:`: clients must send `Authorization: Bearer <token>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BearerAuth {
    /// The token clients must present: at least [`MIN_TOKEN_LEN`] printable ASCII
    /// characters.
    #[serde(deserialize_with = "token")]
    pub bearer_token: Secret,
}

fn token<'de, D: Deserializer<'de>>(d: D) -> Result<Secret, D::Error> {
    use serde::de::Error;
    let secret = Secret::deserialize(d)?;
    let t = secret.expose();
    if t.is_empty() {
        return Err(D::Error::custom(
            "the token is empty, which would let everyone in: set one of at least 16 characters (e.g. `openssl rand -hex 16`)",
        ));
    }
    if t.len() < MIN_TOKEN_LEN || !t.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(D::Error::custom(format!(
            "the token must be at least {MIN_TOKEN_LEN} printable ASCII characters without spaces (it has {}): e.g. `openssl rand -hex 16`",
            t.chars().count()
        )));
    }
    Ok(secret)
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
        let a = auth("s3cret-s3cret-s3cret");
        assert!(a.admits(Some("Bearer s3cret-s3cret-s3cret")));
        assert!(!a.admits(Some("Bearer s3cret-s3cret-s3cre")));
        assert!(!a.admits(Some("Bearer s3cret-s3cret-s3cretx")));
        assert!(!a.admits(Some("Basic s3cret-s3cret-s3cret")));
        assert!(!a.admits(Some("Bearer ")));
        assert!(!a.admits(None));
    }

    #[test]
    fn empty_short_and_unprintable_tokens_are_refused() {
        let refused = |yaml: &str| serde_yaml::from_str::<BearerAuth>(yaml).unwrap_err().to_string();
        assert!(
            refused("bearer_token: ''").contains("empty"),
            "{}",
            refused("bearer_token: ''")
        );
        assert!(refused("bearer_token: s3cret").contains("at least 16"));
        assert!(refused("bearer_token: 'sixteen chars ok'").contains("without spaces"));
        assert!(refused("bearer_token: 'sixteen-chars-oké'").contains("printable ASCII"));
        assert_eq!(auth("0123456789abcdef").bearer_token.expose(), "0123456789abcdef");
    }

    #[test]
    fn the_token_is_never_serialized_or_debug_printed() {
        let a = auth("s3cret-s3cret-s3cret");
        assert!(!serde_yaml::to_string(&a).unwrap().contains("s3cret"));
        assert!(!format!("{a:?}").contains("s3cret"));
    }
}
