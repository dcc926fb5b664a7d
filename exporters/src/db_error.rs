//! Which sqlx errors are worth retrying, shared by the SQL stores and the `sql`
//! exporter: connection trouble and lock contention are transient; bad SQL, bad data,
//! missing databases and failed logins are not.

/// Whether retrying later may succeed.
pub(crate) fn is_transient(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => {
            if let Some(my) = db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>() {
                // lock wait timeout, deadlock, too many connections, shutdown, gone away, lost
                return matches!(my.number(), 1205 | 1213 | 1040 | 1053 | 2006 | 2013);
            }
            let code = db.code().unwrap_or_default();
            // SQLSTATE classes (PostgreSQL): connection exception, insufficient
            // resources, operator intervention; serialization failure, deadlock, lock
            // not available. SQLite result codes: BUSY, LOCKED and their extended codes.
            code.starts_with("08")
                || code.starts_with("53")
                || code.starts_with("57P")
                || matches!(&*code, "40001" | "40P01" | "55P03" | "5" | "6" | "261" | "262" | "517")
        }
        _ => false,
    }
}

/// Whether the database aborted the statement to resolve a conflict with another
/// transaction (a deadlock victim, a serialization failure, a busy SQLite file):
/// running it again at once usually succeeds.
pub(crate) fn is_conflict(e: &sqlx::Error) -> bool {
    let sqlx::Error::Database(db) = e else { return false };
    if let Some(my) = db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>() {
        return matches!(my.number(), 1205 | 1213);
    }
    matches!(
        db.code().unwrap_or_default().as_ref(),
        "40001" | "40P01" | "5" | "6" | "261" | "262" | "517"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_problems_are_transient_and_configuration_is_not() {
        let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert!(is_transient(&sqlx::Error::Io(refused)));
        assert!(is_transient(&sqlx::Error::PoolTimedOut));
        assert!(!is_transient(&sqlx::Error::RowNotFound));
        assert!(!is_transient(&sqlx::Error::Configuration("bad url".into())));
    }
}
