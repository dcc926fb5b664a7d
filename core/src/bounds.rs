//! The bounds every receiver holds a point's value and time to, so that no input can
//! make a series' statistics infinite or its time unstorable. A point outside them is
//! refused with the reason, and counted, by the receiver that got it.

use std::fmt;

/// The largest magnitude a point's value may have. Beyond it the squares and sums a
/// baseline keeps could overflow to infinity (and scores become NaN); no measurement
/// comes near it.
pub const MAX_VALUE: f64 = 1e100;

/// How far ahead of this machine's clock a point may be stamped (10 minutes), in
/// nanoseconds. More is a broken clock or a wrong unit, and such a point would make its
/// series take every later, correct point as out of order (and a time past 2262 does
/// not fit a database's nanosecond column). Points from the past (a replay of history)
/// are not limited.
pub const MAX_AHEAD_NANOS: u64 = 600_000_000_000;

/// Why a point is out of bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutOfBounds {
    /// The value's magnitude is above [`MAX_VALUE`] (or it is not a number).
    Value,
    /// The time is more than [`MAX_AHEAD_NANOS`] ahead of the clock.
    Future,
}

/// `value`, if its magnitude is at most [`MAX_VALUE`].
pub fn check_value(value: f64) -> Result<f64, OutOfBounds> {
    if value.abs() <= MAX_VALUE {
        Ok(value)
    } else {
        Err(OutOfBounds::Value)
    }
}

/// `time` (nanoseconds since the epoch), if it is at most [`MAX_AHEAD_NANOS`] ahead of
/// `now`, this machine's clock.
pub fn check_time(time: u64, now: u64) -> Result<u64, OutOfBounds> {
    if time <= now.saturating_add(MAX_AHEAD_NANOS) {
        Ok(time)
    } else {
        Err(OutOfBounds::Future)
    }
}

impl fmt::Display for OutOfBounds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OutOfBounds::Value => write!(f, "value is beyond ±{MAX_VALUE:e}"),
            OutOfBounds::Future => f.write_str("time is more than 10 minutes ahead of the receiver's clock"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_and_times_inside_the_bounds_pass_and_outside_are_named() {
        assert_eq!(check_value(-1e100), Ok(-1e100));
        assert_eq!(check_value(1e300), Err(OutOfBounds::Value));
        assert_eq!(check_value(f64::NAN), Err(OutOfBounds::Value));
        let now = 1_800_000_000_000_000_000;
        assert_eq!(check_time(now + MAX_AHEAD_NANOS, now), Ok(now + MAX_AHEAD_NANOS));
        assert_eq!(check_time(0, now), Ok(0));
        assert_eq!(check_time(now + MAX_AHEAD_NANOS + 1, now), Err(OutOfBounds::Future));
        assert_eq!(check_time(u64::MAX, u64::MAX), Ok(u64::MAX));
        assert_eq!(OutOfBounds::Value.to_string(), "value is beyond ±1e100");
    }
}
