//! Time, once for all of driftd: nanoseconds since the Unix epoch, shown as RFC 3339,
//! parsed from RFC 3339 or from what recorded data spells (`parse.rs`), and the serde
//! adapters. (Durations in config are `humantime`'s `1s`, `7d`.)

mod parse;

pub use parse::{from_unix_seconds, parse_rfc3339, parse_timestamp, TimestampError};

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Formats nanoseconds since the epoch as RFC 3339, with as many fraction digits as
/// the value needs (0, 3, 6 or 9).
pub fn rfc3339(unix_nano: u64) -> String {
    let t = UNIX_EPOCH + Duration::from_nanos(unix_nano);
    let text = match unix_nano % 1_000_000_000 {
        0 => humantime::format_rfc3339_seconds(t),
        n if n % 1_000_000 == 0 => humantime::format_rfc3339_millis(t),
        n if n % 1_000 == 0 => humantime::format_rfc3339_micros(t),
        _ => humantime::format_rfc3339_nanos(t),
    };
    text.to_string()
}

/// Wall-clock now, for receivers that stamp points without a timestamp.
pub fn now_unix_nano() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

/// Where synthetic traffic of one sample a second per series starts so that `samples`
/// of it end by now, on a whole second: receivers refuse points stamped more than 10
/// minutes ahead of their clock ([`crate::bounds`]), so generated time must not run
/// ahead of real time however fast it is sent.
pub fn synthetic_start(samples: u64) -> u64 {
    const SECOND: u64 = 1_000_000_000;
    now_unix_nano().saturating_sub(samples.saturating_mul(SECOND)) / SECOND * SECOND
}

/// Serde adapter: `u64` nanoseconds <-> RFC 3339 string.
pub mod serde_rfc3339 {
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serializes as RFC 3339.
    pub fn serialize<S: Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::rfc3339(*v))
    }

    /// Deserializes from RFC 3339.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        let s = String::deserialize(d)?;
        super::parse_rfc3339(&s).map_err(serde::de::Error::custom)
    }

    /// The same for an optional time (`None` is skipped or null).
    pub mod option {
        use serde::{Deserialize, Deserializer, Serializer};

        /// Serializes `Some` as RFC 3339, `None` as null.
        pub fn serialize<S: Serializer>(v: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
            match v {
                Some(v) => super::serialize(v, s),
                None => s.serialize_none(),
            }
        }

        /// Deserializes RFC 3339 or null.
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
            Option::<String>::deserialize(d)?
                .map(|s| super::super::parse_rfc3339(&s).map_err(serde::de::Error::custom))
                .transpose()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trips() {
        let ns = 1_768_213_845_123_000_000;
        let s = rfc3339(ns);
        assert_eq!(s, "2026-01-12T10:30:45.123Z");
        assert_eq!(rfc3339(1), "1970-01-01T00:00:00.000000001Z");
        assert_eq!(parse_rfc3339(&s), Ok(ns));
        assert_eq!(parse_rfc3339("2026-01-12T10:30:45.123Z"), Ok(ns));
        assert!(parse_rfc3339("yesterday").is_err());
    }
}
