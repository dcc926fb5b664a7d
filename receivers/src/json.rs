//! Decoding untrusted JSON into typed structs with errors a sender can act on: which
//! field is wrong and why, and a 400-class "this is not JSON" kept apart from a
//! 422-class "this is JSON, but not a valid point".

use driftd_core::bounds;
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use std::fmt;

/// Why a JSON body was not taken.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum JsonError {
    /// The bytes are not JSON (HTTP 400).
    #[error("the body is not valid JSON: {0}")]
    Syntax(String),
    /// Valid JSON that breaks a rule (HTTP 422); `field` is empty when the rule is about
    /// the whole document.
    #[error("{message}")]
    Invalid {
        /// The field at fault (`latency_ms`, `labels.region`).
        field: String,
        /// What is wrong and what to send instead.
        message: String,
    },
}

impl JsonError {
    /// An invalid-field error.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        JsonError::Invalid {
            field: field.to_string(),
            message: message.into(),
        }
    }
}

/// Deserializes `text` into `T`, turning serde's errors into [`JsonError`]s that name
/// the field.
pub fn from_str<'a, T: Deserialize<'a>>(text: &'a str) -> Result<T, JsonError> {
    let mut de = serde_json::Deserializer::from_str(text);
    match serde_path_to_error::deserialize(&mut de) {
        Ok(value) => {
            de.end().map_err(|e| classify(text, String::new(), e))?;
            Ok(value)
        }
        Err(e) => {
            let path = e.path().to_string();
            Err(classify(text, path, e.into_inner()))
        }
    }
}

fn classify(text: &str, path: String, error: serde_json::Error) -> JsonError {
    let path = if path == "." { String::new() } else { path };
    match error.classify() {
        serde_json::error::Category::Data => {
            let message = strip_position(&error.to_string());
            // serde names an unknown field in the message but not in the path.
            let field = match message
                .strip_prefix("unknown field `")
                .and_then(|r| r.split('`').next())
            {
                Some(f) if path.is_empty() => f.to_string(),
                Some(f) if !path.ends_with(f) => format!("{path}.{f}"),
                _ => path,
            };
            let message = if field.is_empty() || message.contains(&format!("`{field}`")) {
                message
            } else {
                format!("{field}: {message}")
            };
            JsonError::Invalid { field, message }
        }
        _ => match bare_non_number(text.as_bytes(), error.line(), error.column()) {
            Some((field, token)) => JsonError::Invalid {
                message: if field.is_empty() {
                    format!("{token} is not a JSON number: send a finite number")
                } else {
                    format!("{field} is {token}, which is not a JSON number: send a finite number")
                },
                field,
            },
            None => JsonError::Syntax(error.to_string()),
        },
    }
}

/// Drops serde_json's " at line 1 column 30" from a data error: the field is named.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// Senders that serialize NaN or infinity with JavaScript's or Python's defaults write
/// bare `NaN`/`Infinity`, which is not JSON. Finds such a token at the error position
/// and the key it was the value of, so the answer can be a 422 naming the field.
fn bare_non_number(text: &[u8], line: usize, column: usize) -> Option<(String, &'static str)> {
    let line_start = if line <= 1 {
        0
    } else {
        text.iter()
            .enumerate()
            .filter(|(_, c)| **c == b'\n')
            .nth(line - 2)
            .map(|(i, _)| i + 1)?
    };
    let at = line_start + column.saturating_sub(1);
    let token = [("-Infinity", "-Infinity"), ("Infinity", "Infinity"), ("NaN", "NaN")]
        .into_iter()
        .find_map(|(t, name)| {
            // The error points at the token or just past its first character.
            (at.saturating_sub(2)..=at)
                .find(|s| text.get(*s..).is_some_and(|r| r.starts_with(t.as_bytes())))
                .map(|s| (s, name))
        })?;
    let before = text.get(..token.0)?;
    let before = trim_end(before);
    let field = before
        .strip_suffix(b":")
        .map(trim_end)
        .and_then(|b| b.strip_suffix(b"\""))
        .and_then(|b| {
            let open = b.iter().rposition(|c| *c == b'"')?;
            std::str::from_utf8(&b[open + 1..]).ok().map(str::to_string)
        })
        .unwrap_or_default();
    Some((field, token.1))
}

fn trim_end(b: &[u8]) -> &[u8] {
    let end = b.iter().rposition(|c| !c.is_ascii_whitespace()).map_or(0, |i| i + 1);
    &b[..end]
}

/// A JSON number, or one of the strings senders use for the values JSON cannot carry
/// (`"NaN"`, `"Infinity"`, `"-Infinity"`), so they can be refused with a clear reason
/// rather than a type error.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Number(pub f64);

impl<'de> Deserialize<'de> for Number {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct NumberVisitor;
        impl Visitor<'_> for NumberVisitor {
            type Value = Number;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Number, E> {
                Ok(Number(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Number, E> {
                Ok(Number(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Number, E> {
                Ok(Number(v as f64))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Number, E> {
                match v {
                    "NaN" | "nan" => Ok(Number(f64::NAN)),
                    "Infinity" | "+Infinity" | "inf" => Ok(Number(f64::INFINITY)),
                    "-Infinity" | "-inf" => Ok(Number(f64::NEG_INFINITY)),
                    _ => Err(E::invalid_type(de::Unexpected::Str(v), &self)),
                }
            }
        }
        d.deserialize_any(NumberVisitor)
    }
}

/// Checks that a measurement is finite and within [`driftd_core::bounds`] (and, with
/// `non_negative`, not below zero).
pub fn finite(field: &str, v: f64, non_negative: bool) -> Result<f64, JsonError> {
    if v.is_nan() {
        Err(JsonError::invalid(
            field,
            format!("{field} is NaN: send a finite number"),
        ))
    } else if v.is_infinite() {
        Err(JsonError::invalid(
            field,
            format!("{field} is infinite: send a finite number"),
        ))
    } else if non_negative && v < 0.0 {
        Err(JsonError::invalid(
            field,
            format!("{field} is negative ({v}): send a number >= 0"),
        ))
    } else {
        bounds::check_value(v).map_err(|why| JsonError::invalid(field, format!("{field} {v:e}: {why}")))
    }
}

/// Checks that an event time (nanoseconds since the epoch) is not too far ahead of
/// `now` ([`driftd_core::bounds`]).
pub fn not_ahead(field: &str, time: u64, now: u64) -> Result<u64, JsonError> {
    bounds::check_time(time, now).map_err(|why| {
        let at = driftd_core::time::rfc3339(time);
        JsonError::invalid(field, format!("{field} {at}: {why}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Doc {
        a: Option<Number>,
        b: Option<String>,
    }

    #[test]
    fn errors_name_the_field_and_split_syntax_from_validity() {
        assert!(matches!(from_str::<Doc>("{\"a\": 1"), Err(JsonError::Syntax(_))));
        assert!(matches!(from_str::<Doc>("{} x"), Err(JsonError::Syntax(_))));
        match from_str::<Doc>(r#"{"a": true}"#) {
            Err(JsonError::Invalid { field, message }) => {
                assert_eq!(field, "a");
                assert!(message.contains("expected a number"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        match from_str::<Doc>(r#"{"c": 1}"#) {
            Err(JsonError::Invalid { field, message }) => {
                assert_eq!(field, "c");
                assert!(message.contains("unknown field `c`"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bare_nan_and_infinity_are_invalid_values_of_their_field() {
        for (text, token) in [
            ("{\"b\": \"x\", \"a\": NaN}", "NaN"),
            ("{\"a\":Infinity}", "Infinity"),
            ("{\n  \"a\" :  -Infinity\n}", "-Infinity"),
        ] {
            match from_str::<Doc>(text) {
                Err(JsonError::Invalid { field, message }) => {
                    assert_eq!(field, "a", "{text}");
                    assert!(message.contains(token), "{message}");
                }
                other => panic!("{text}: {other:?}"),
            }
        }
        let Ok(Doc { a: Some(n), .. }) = from_str::<Doc>(r#"{"a": "NaN"}"#) else {
            panic!()
        };
        assert!(n.0.is_nan());
    }
}
