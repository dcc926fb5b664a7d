//! `ConnectionUrl`: a database or cache URL whose password never reaches logs,
//! errors or `print-config`.

use serde::{Deserialize, Serialize, Serializer};
use std::fmt;

/// A server URL (`postgres://user:pass@host/db`, `redis://...`) from config.
/// Displayed and serialized with the password replaced by `***`.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct ConnectionUrl(String);

impl ConnectionUrl {
    /// A URL from text.
    pub fn new(url: impl Into<String>) -> Self {
        ConnectionUrl(url.into())
    }

    /// The URL itself, with its password, for the one place that connects.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The scheme (`postgres`), lowercased, if the URL has one.
    pub fn scheme(&self) -> Option<String> {
        self.0
            .split_once("://")
            .or_else(|| self.0.split_once(':'))
            .map(|(s, _)| s.to_ascii_lowercase())
            .filter(|s| !s.is_empty())
    }

    /// The URL with any password masked: the one before `@`, and the value of every
    /// query parameter that names a secret (`?password=`, `sslpassword`, `token`, ...;
    /// PostgreSQL and Redis clients take them there too).
    pub fn redacted(&self) -> String {
        match url::Url::parse(&self.0) {
            Ok(u) if u.password().is_none() && !u.query_pairs().any(|(k, _)| names_a_secret(&k)) => self.0.clone(),
            Ok(mut u) => {
                if u.password().is_some() {
                    let _ = u.set_password(Some("***"));
                }
                if u.query_pairs().any(|(k, _)| names_a_secret(&k)) {
                    let pairs: Vec<(String, String)> = u
                        .query_pairs()
                        .map(|(k, v)| {
                            let v = if names_a_secret(&k) {
                                "***".into()
                            } else {
                                v.into_owned()
                            };
                            (k.into_owned(), v)
                        })
                        .collect();
                    u.query_pairs_mut().clear().extend_pairs(pairs);
                }
                u.to_string()
            }
            // Not parseable: mask everything between `://` and the last `@`.
            Err(_) => match (self.0.find("://"), self.0.rfind('@')) {
                (Some(start), Some(at)) if at > start => format!("{}***{}", &self.0[..start + 3], &self.0[at..]),
                _ => self.0.clone(),
            },
        }
    }
}

/// Whether a query parameter's name says its value is a credential.
fn names_a_secret(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    ["pass", "pwd", "secret", "token", "key", "auth"]
        .iter()
        .any(|s| key.contains(s))
}

impl fmt::Display for ConnectionUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Debug for ConnectionUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.redacted())
    }
}

impl Serialize for ConnectionUrl {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.redacted())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_show() {
        let u = ConnectionUrl::new("postgres://driftd:s3cret@db.internal:5432/driftd");
        assert_eq!(u.to_string(), "postgres://driftd:***@db.internal:5432/driftd");
        assert!(!format!("{u:?}").contains("s3cret"));
        assert!(!serde_json::to_string(&u).expect("serializes").contains("s3cret"));
        assert_eq!(u.expose(), "postgres://driftd:s3cret@db.internal:5432/driftd");
        let query = ConnectionUrl::new("postgres://db/driftd?sslmode=require&password=s3cret&sslpassword=k3y");
        assert_eq!(
            query.to_string(),
            "postgres://db/driftd?sslmode=require&password=***&sslpassword=***"
        );
        let both = ConnectionUrl::new("rediss://:s3cret@cache:6380/0?auth_token=s3cret&timeout=5");
        assert_eq!(both.to_string(), "rediss://:***@cache:6380/0?auth_token=***&timeout=5");
        let plain = ConnectionUrl::new("redis://127.0.0.1:6379");
        assert_eq!(plain.to_string(), "redis://127.0.0.1:6379");
        assert_eq!(plain.scheme().as_deref(), Some("redis"));
        assert_eq!(
            ConnectionUrl::new("sqlite:driftd.db").scheme().as_deref(),
            Some("sqlite")
        );
    }
}
