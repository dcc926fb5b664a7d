//! Parsing timestamps, once for every input: strict RFC 3339 for API fields
//! ([`parse_rfc3339`]: `2026-01-12T10:30:45.123Z`, `...+02:00`), and what recorded data
//! spells ([`parse_timestamp`]): RFC 3339, the same with a space for `T` and no zone
//! (`2014-04-01 00:00:00`, as NAB and most spreadsheet exports write it; read as UTC),
//! or Unix seconds, integer or fractional (`1396310400`, `1396310400.25`). Both work on
//! bytes and never allocate unless they fail: a replay parses one per line.

use crate::invalid::Invalid;
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

/// Parses a timestamp as recorded data spells it (see the module's head) into
/// nanoseconds since the Unix epoch. Surrounding ASCII whitespace is ignored.
pub fn parse_timestamp(text: &[u8]) -> Result<u64, TimestampError> {
    let text = text.trim_ascii();
    let nanos = if text.first().is_some_and(u8::is_ascii_digit) && text.get(4) != Some(&b'-') {
        unix_seconds(text)?
    } else {
        date_time(text, Form::Lenient)?
    };
    since_epoch(nanos)
}

/// Parses a strict RFC 3339 date-time (`T` between date and time, a zone: `Z` or
/// `±HH:MM`), as an API field must be, into nanoseconds since the Unix epoch.
pub fn parse_rfc3339(s: &str) -> Result<u64, Invalid> {
    date_time(s.as_bytes(), Form::Strict)
        .and_then(since_epoch)
        .map_err(|e| match e {
            TimestampError::BeforeEpoch => Invalid::new(s, "a time since 1970", "it is before 1970-01-01T00:00:00Z"),
            TimestampError::TooLate => Invalid::new(s, "a time before 2554", "nanoseconds since 1970 end there"),
            _ => Invalid::new(s, "an RFC 3339 timestamp", "use e.g. 2026-01-12T10:30:45.123Z"),
        })
}

fn since_epoch(nanos: i128) -> Result<u64, TimestampError> {
    if nanos < 0 {
        return Err(TimestampError::BeforeEpoch);
    }
    u64::try_from(nanos).map_err(|_| TimestampError::TooLate)
}

/// How much a date-time may leave out.
#[derive(Clone, Copy, PartialEq)]
enum Form {
    /// RFC 3339 as written: `T` (or `t`) and a zone.
    Strict,
    /// Also a space for `T` and no zone (UTC).
    Lenient,
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

/// `YYYY-MM-DD(T| )HH:MM:SS[.fraction][Z|±HH:MM]`; no zone means UTC (lenient form
/// only, as is the space).
fn date_time(b: &[u8], form: Form) -> Result<i128, TimestampError> {
    use TimestampError::{Format, OutOfRange};
    let separator = match form {
        Form::Strict => matches!(b.get(10), Some(b'T' | b't')),
        Form::Lenient => matches!(b.get(10), Some(b'T' | b't' | b' ')),
    };
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !separator || b[13] != b':' || b[16] != b':' {
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
        [] if form == Form::Strict => return Err(Format),
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

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
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
    fn both_forms_agree_on_rfc3339() {
        for s in [
            "1970-01-01T00:00:00Z",
            "2000-02-29T12:34:56.789Z",
            "2038-01-19T03:14:08Z",
            "2100-12-31T23:59:59Z",
        ] {
            assert_eq!(ts(s).ok(), parse_rfc3339(s).ok(), "{s}");
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

#[cfg(test)]
mod strict_tests {
    use super::parse_rfc3339 as parse;

    #[test]
    fn agrees_with_core_formatting() {
        for ns in [
            0u64,
            1,
            1_768_213_845_123_000_000,
            951_782_400_000_000_000,
            4_102_444_800_999_999_999,
        ] {
            let text = crate::time::rfc3339(ns);
            assert_eq!(parse(&text), Ok(ns), "{text}");
        }
    }

    #[test]
    fn offsets_fractions_and_case() {
        let utc = parse("2026-01-12T10:30:45.123Z").unwrap();
        assert_eq!(utc, 1_768_213_845_123_000_000);
        assert_eq!(parse("2026-01-12T12:30:45.123+02:00"), Ok(utc));
        assert_eq!(parse("2026-01-12T08:00:45.123-02:30"), Ok(utc));
        assert_eq!(parse("2026-01-12t10:30:45.123z"), Ok(utc));
        assert_eq!(parse("2026-01-12T10:30:45.1234567891Z"), Ok(utc + 456_789));
        assert!(parse("2024-02-29T00:00:00Z").is_ok());
    }

    #[test]
    fn refuses_what_rfc3339_does_not_allow() {
        for bad in [
            "",
            "yesterday",
            "2026-01-12",
            "2026-01-12 10:30:45Z",
            "2026-01-12T10:30:45",
            "2026-01-12T10:30:45.Z",
            "2026-13-01T00:00:00Z",
            "2025-02-29T00:00:00Z",
            "2026-01-12T24:00:00Z",
            "2026-01-12T10:30:45+0200",
            "2026-01-12T10:30:45Zjunk",
            "１２３４-01-12T10:30:45Z",
        ] {
            let err = parse(bad).expect_err(bad);
            assert_eq!(err.what, "an RFC 3339 timestamp", "{bad}: {err}");
        }
        assert!(parse("1969-12-31T23:59:59Z")
            .unwrap_err()
            .to_string()
            .contains("before 1970"));
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut x: u64 = 3;
        let mut next = |n: usize| {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (x >> 33) as usize % n.max(1)
        };
        let seed = b"2026-01-12T10:30:45.123+02:00";
        for _ in 0..10_000 {
            let mut b = seed.to_vec();
            for _ in 0..1 + next(3) {
                let i = next(b.len());
                b[i] = next(256) as u8;
            }
            b.truncate(next(b.len() + 1));
            let _ = parse(&String::from_utf8_lossy(&b));
            let _ = super::parse_timestamp(&b);
        }
    }
}
