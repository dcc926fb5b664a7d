//! WHERE clauses from optional filters, numbered `$n` for sqlx.

use super::rows;

/// A WHERE clause built from optional filters, with its parameters.
#[derive(Default)]
pub(super) struct Filter {
    pub sql: String,
    params: Vec<Param>,
}

pub(super) enum Param {
    Text(String),
    Int(i64),
}

impl Filter {
    pub fn add(&mut self, column: &str, op: &str, param: Param) {
        self.sql
            .push_str(if self.params.is_empty() { " WHERE " } else { " AND " });
        self.params.push(param);
        self.sql.push_str(&format!("{column} {op} ${}", self.params.len()));
    }

    pub fn bind<'q>(&self, mut q: rows::Statement<'q>) -> rows::Statement<'q> {
        for p in &self.params {
            q = match p {
                Param::Text(s) => q.bind(s.clone()),
                Param::Int(i) => q.bind(*i),
            };
        }
        q
    }

    /// ` LIMIT $n OFFSET $m` after the filter's parameters.
    pub fn page(&self, limit: usize, offset: usize) -> (String, i64, i64) {
        let n = self.params.len();
        let clamp = |v: usize| i64::try_from(v).unwrap_or(i64::MAX);
        (
            format!(" LIMIT ${} OFFSET ${}", n + 1, n + 2),
            clamp(limit),
            clamp(offset),
        )
    }
}
