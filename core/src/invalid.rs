//! Why a string does not spell a value: the one error of the `FromStr`s of driftd's
//! public types (series states and ids, event kinds, incident states, component ids,
//! API timestamps).

/// A string that is not a value of its type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{given}` is not {what}: {hint}")]
pub struct Invalid {
    /// The text given (at most 40 characters of it).
    pub given: String,
    /// What it should have been, e.g. "a series state".
    pub what: &'static str,
    /// How to spell one.
    pub hint: &'static str,
}

impl Invalid {
    /// `given` is not `what`; `hint` says how to spell one.
    pub fn new(given: &str, what: &'static str, hint: &'static str) -> Self {
        let given = match given.char_indices().nth(40) {
            Some((i, _)) => format!("{}...", &given[..i]),
            None => given.to_string(),
        };
        Invalid { given, what, hint }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_what_was_given_shortened() {
        let e = Invalid::new("sideways", "a series state", "use STABLE");
        assert_eq!(e.to_string(), "`sideways` is not a series state: use STABLE");
        let long = "x".repeat(100);
        assert_eq!(
            Invalid::new(&long, "an id", "use hex").given,
            format!("{}...", "x".repeat(40))
        );
    }
}
