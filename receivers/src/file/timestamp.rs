//! Timestamps as recorded data spells them: RFC 3339 (`2014-04-01T00:00:00Z`,
//! `...+02:00`), the same with a space for `T` and no zone (`2014-04-01 00:00:00`, as
//! NAB and most spreadsheet exports write it; read as UTC), or Unix seconds, integer or
//! fractional (`1396310400`, `1396310400.25`).
//!
//! Hand-written rather than `driftd_core::time::parse_rfc3339` (humantime's weak
//! parser): that one takes no numeric offsets, and this one runs once per line of a
//! replay, so it works on bytes and never allocates.

use crate::rfc3339::{days_from_civil, days_in_month};
use thiserror::Error;

const NANOS_PER_SECOND: i128 = 1_000_000_000;

/// Why a timestamp did not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum TimestampError {
    /// Neither a date-time nor Unix seconds.
    #[error("expected RFC 3339 (2014-04-01T00:00:00Z), `2014-04-01 00:00:00` (UTC) or Unix seconds")]
    Format,
    /// A field out of its range (month 13, day 32, hour 24, ...).
    #[error("a date or time field is out of range")]
    OutOfRange,
    /// Before 1970-01-01T00:00:00Z.
    #[error("before 1970")]
    BeforeEpoch,
    /// Past what nanoseconds since 1970 hold in 64 bits (the year 2554).
    #[error("too far in the future (are these milliseconds? Unix timestamps here are seconds)")]
    TooLate,
}

/// Parses a timestamp into nanoseconds since the Unix epoch. Surrounding ASCII
/// whitespace is ignored.
pub fn parse_timestamp(text: &[u8]) -> Result<u64, TimestampError> {
    let text = text.trim_ascii();
    let nanos = if text.first().is_some_and(u8::is_ascii_digit) && text.get(4) != Some(&b'-') {
        unix_seconds(text)?
    } else {
        date_time(text)?
    };
    if nanos < 0 {
        return Err(TimestampError::BeforeEpoch);
    }
    u64::try_from(nanos).map_err(|_| TimestampError::TooLate)
}

/// Converts Unix seconds given as a JSON number.
pub fn from_unix_seconds(seconds: f64) -> Result<u64, TimestampError> {
    if !seconds.is_finite() {
        return Err(TimestampError::Format);
    }
    if seconds < 0.0 {
        return Err(TimestampError::BeforeEpoch);
    }
    let nanos = (seconds * 1e9).round();
    // u64::MAX as f64 rounds up to 2^64, so `<` keeps the cast below exact.
    if nanos >= u64::MAX as f64 {
        return Err(TimestampError::TooLate);
    }
    Ok(nanos as u64)
}

/// `123` or `123.456`: digits, then optionally a point and more digits.
fn unix_seconds(text: &[u8]) -> Result<i128, TimestampError> {
    let (whole, fraction) = match text.iter().position(|&b| b == b'.') {
        Some(dot) => (&text[..dot], Some(&text[dot + 1..])),
        None => (text, None),
    };
    // 20 digits already overflow nanoseconds in u64; refusing early keeps i128 safe.
    if whole.is_empty() || whole.len() > 20 {
        return Err(if whole.len() > 20 {
            TimestampError::TooLate
        } else {
            TimestampError::Format
        });
    }
    let seconds = digits(whole).ok_or(TimestampError::Format)?;
    let nanos = match fraction {
        Some(f) => fraction_nanos(f).ok_or(TimestampError::Format)?,
        None => 0,
    };
    Ok(i128::from(seconds) * NANOS_PER_SECOND + i128::from(nanos))
}

/// `YYYY-MM-DD(T| )HH:MM:SS[.fraction][Z|±HH:MM]`; no zone means UTC.
fn date_time(b: &[u8]) -> Result<i128, TimestampError> {
    use TimestampError::{Format, OutOfRange};
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return Err(Format);
    }
    let field = |range: std::ops::Range<usize>| digits(&b[range]).ok_or(Format);
    let (year, month, day) = (field(0..4)?, field(5..7)?, field(8..10)?);
    let (hour, minute, second) = (field(11..13)?, field(14..16)?, field(17..19)?);
    // 60 is a leap second, which RFC 3339 allows; it counts as the next minute's first.
    if !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return Err(OutOfRange);
    }
    let mut rest = &b[19..];
    let mut nanos = 0;
    if let Some(after_dot) = rest.strip_prefix(b".") {
        let len = after_dot.iter().take_while(|c| c.is_ascii_digit()).count();
        nanos = fraction_nanos(&after_dot[..len]).ok_or(Format)?;
        rest = &after_dot[len..];
    }
    let offset_seconds = match rest {
        [] | [b'Z'] | [b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let (h, m) = (digits(&[*h1, *h2]).ok_or(Format)?, digits(&[*m1, *m2]).ok_or(Format)?);
            if h > 23 || m > 59 {
                return Err(OutOfRange);
            }
            let s = h * 3600 + m * 60;
            if *sign == b'-' {
                -s
            } else {
                s
            }
        }
        _ => return Err(Format),
    };
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_seconds;
    Ok(i128::from(seconds) * NANOS_PER_SECOND + i128::from(nanos))
}

/// Decimal digits as a number; `None` for an empty slice or a non-digit.
fn digits(b: &[u8]) -> Option<i64> {
    if b.is_empty() {
        return None;
    }
    b.iter().try_fold(0i64, |acc, &c| {
        c.is_ascii_digit()
            .then(|| acc.saturating_mul(10).saturating_add(i64::from(c - b'0')))
    })
}

/// Fraction digits as nanoseconds; digits past the ninth are dropped (truncated).
fn fraction_nanos(f: &[u8]) -> Option<u32> {
    if f.is_empty() || !f.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut nanos = 0u32;
    for i in 0..9 {
        nanos = nanos * 10 + f.get(i).map_or(0, |c| u32::from(c - b'0'));
    }
    Some(nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Result<u64, TimestampError> {
        parse_timestamp(s.as_bytes())
    }

    #[test]
    fn rfc3339_forms_parse() {
        let base = 1_396_310_400_000_000_000; // 2014-04-01T00:00:00Z
        assert_eq!(ts("2014-04-01T00:00:00Z"), Ok(base));
        assert_eq!(ts("2014-04-01t00:00:00z"), Ok(base));
        assert_eq!(ts("2014-04-01T02:00:00+02:00"), Ok(base));
        assert_eq!(ts("2014-03-31T23:30:00-00:30"), Ok(base));
        assert_eq!(ts("2014-04-01T00:00:00.5Z"), Ok(base + 500_000_000));
        assert_eq!(ts("2014-04-01T00:00:00.123456789999Z"), Ok(base + 123_456_789));
    }

    #[test]
    fn nab_and_spreadsheet_forms_are_utc() {
        let base = 1_396_310_400_000_000_000;
        assert_eq!(ts("2014-04-01 00:00:00"), Ok(base));
        assert_eq!(ts("2014-04-01 00:00:00.000000"), Ok(base));
        assert_eq!(ts("  2014-04-01T00:00:00 "), Ok(base));
    }

    #[test]
    fn unix_seconds_parse() {
        assert_eq!(ts("1396310400"), Ok(1_396_310_400_000_000_000));
        assert_eq!(ts("1396310400.25"), Ok(1_396_310_400_250_000_000));
        assert_eq!(ts("0"), Ok(0));
        assert_eq!(from_unix_seconds(1.5), Ok(1_500_000_000));
        assert_eq!(from_unix_seconds(-1.0), Err(TimestampError::BeforeEpoch));
        assert_eq!(from_unix_seconds(f64::NAN), Err(TimestampError::Format));
        assert_eq!(from_unix_seconds(1e30), Err(TimestampError::TooLate));
    }

    #[test]
    fn agrees_with_core_on_utc_forms() {
        for s in [
            "1970-01-01T00:00:00Z",
            "2000-02-29T12:34:56.789Z",
            "2038-01-19T03:14:08Z",
            "2100-12-31T23:59:59Z",
        ] {
            assert_eq!(ts(s).ok(), driftd_core::time::parse_rfc3339(s).ok(), "{s}");
        }
    }

    #[test]
    fn bad_timestamps_say_why() {
        assert_eq!(ts(""), Err(TimestampError::Format));
        assert_eq!(ts("yesterday"), Err(TimestampError::Format));
        assert_eq!(ts("2014-13-01 00:00:00"), Err(TimestampError::OutOfRange));
        assert_eq!(ts("2014-02-29 00:00:00"), Err(TimestampError::OutOfRange));
        assert_eq!(ts("2014-04-01 24:00:00"), Err(TimestampError::OutOfRange));
        assert_eq!(ts("2014-04-01 00:00:00+25:00"), Err(TimestampError::OutOfRange));
        assert_eq!(ts("2014-04-01 00:00:00 UTC"), Err(TimestampError::Format));
        assert_eq!(ts("1969-12-31T23:59:59Z"), Err(TimestampError::BeforeEpoch));
        assert_eq!(ts("1700000000000"), Err(TimestampError::TooLate));
        assert_eq!(ts("99999999999999999999999"), Err(TimestampError::TooLate));
        assert_eq!(ts("12.3.4"), Err(TimestampError::Format));
        assert_eq!(ts("12."), Err(TimestampError::Format));
        assert_eq!(ts("-5"), Err(TimestampError::Format));
    }
}
