//! WHERE clauses from optional filters, numbered `$n` for sqlx.

use super::rows;
use driftd_core::SeriesId;

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
    /// The filter on which series a query asks for (events and status rows both
    /// carry `series_id`, `metric` and `service`).
    pub fn series(id: Option<SeriesId>, metric: Option<&str>, service: Option<&str>) -> Filter {
        let mut f = Filter::default();
        if let Some(s) = id {
            f.add("series_id", "=", Param::Text(s.to_string()));
        }
        if let Some(m) = metric {
            f.add("metric", "=", Param::Text(m.to_string()));
        }
        if let Some(s) = service {
            f.add("service", "=", Param::Text(s.to_string()));
        }
        f
    }

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
