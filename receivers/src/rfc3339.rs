//! A strict RFC 3339 timestamp parser for untrusted input: `2026-01-12T10:30:45.123Z`,
//! `2026-01-12T12:30:45+02:00`. Written here because `humantime` (used by core for its
//! own output) takes only `Z` and also accepts forms RFC 3339 does not (a space for
//! `T`, no offset), which a receiver must refuse with a clear message.

const NANOS: i128 = 1_000_000_000;

/// Parses an RFC 3339 date-time into nanoseconds since the Unix epoch.
pub fn parse(s: &str) -> Result<u64, String> {
    parse_inner(s.as_bytes())
        .ok_or_else(|| {
            format!(
                "`{}` is not an RFC 3339 timestamp (e.g. 2026-01-12T10:30:45.123Z)",
                shorten(s)
            )
        })
        .and_then(|ns| u64::try_from(ns).map_err(|_| format!("`{}` is before 1970-01-01T00:00:00Z", shorten(s))))
}

/// At most 40 characters of untrusted text for an error message.
fn shorten(s: &str) -> String {
    match s.char_indices().nth(40) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s.to_string(),
    }
}

fn digits(b: &[u8], n: usize) -> Option<i64> {
    let part = b.get(..n)?;
    part.iter().try_fold(0i64, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
    })
}

fn expect(b: &[u8], at: usize, c: u8) -> Option<()> {
    (b.get(at)? == &c).then_some(())
}

fn parse_inner(b: &[u8]) -> Option<i128> {
    let year = digits(b, 4)?;
    expect(b, 4, b'-')?;
    let month = digits(&b[5..], 2)?;
    expect(b, 7, b'-')?;
    let day = digits(&b[8..], 2)?;
    if !matches!(b.get(10)?, b'T' | b't') {
        return None;
    }
    let hour = digits(&b[11..], 2)?;
    expect(b, 13, b':')?;
    let minute = digits(&b[14..], 2)?;
    expect(b, 16, b':')?;
    // 60 is a leap second; it is read as the next second's start, as most systems do.
    let second = digits(&b[17..], 2)?;
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut at = 19;
    let mut fraction: i128 = 0;
    if b.get(at) == Some(&b'.') {
        at += 1;
        let start = at;
        while b.get(at).is_some_and(u8::is_ascii_digit) {
            // Digits past nanoseconds are dropped, not rounded.
            if at - start < 9 {
                fraction = fraction * 10 + i128::from(b[at] - b'0');
            }
            at += 1;
        }
        let n = at - start;
        if n == 0 {
            return None;
        }
        if n < 9 {
            fraction *= 10i128.pow(9 - n as u32);
        }
    }
    let offset_seconds: i64 = match b.get(at)? {
        b'Z' | b'z' if at + 1 == b.len() => 0,
        sign @ (b'+' | b'-') if at + 6 == b.len() => {
            let oh = digits(&b[at + 1..], 2)?;
            expect(b, at + 3, b':')?;
            let om = digits(&b[at + 4..], 2)?;
            if oh > 23 || om > 59 {
                return None;
            }
            let o = oh * 3600 + om * 60;
            if *sign == b'-' {
                -o
            } else {
                o
            }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_seconds;
    Some(i128::from(seconds) * NANOS + fraction)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

pub(crate) fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
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
    use super::parse;
    use rand::{RngExt, SeedableRng};

    #[test]
    fn agrees_with_core_formatting() {
        for ns in [
            0u64,
            1,
            1_768_213_845_123_000_000,
            951_782_400_000_000_000,
            4_102_444_800_999_999_999,
        ] {
            let text = driftd_core::time::rfc3339(ns);
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
            assert!(err.contains("not an RFC 3339 timestamp"), "{bad}: {err}");
        }
        assert!(parse("1969-12-31T23:59:59Z").unwrap_err().contains("before 1970"));
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let seed = b"2026-01-12T10:30:45.123+02:00";
        for _ in 0..10_000 {
            let mut b = seed.to_vec();
            for _ in 0..rng.random_range(1..4) {
                let i = rng.random_range(0..b.len());
                b[i] = rng.random();
            }
            b.truncate(rng.random_range(0..=b.len()));
            let _ = parse(&String::from_utf8_lossy(&b));
        }
    }
}
