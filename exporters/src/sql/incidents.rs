//! The incidents table: one row per incident id (its JSON body, with copies of the
//! fields queries filter and order by) and an `acknowledged` flag only acknowledging
//! writes touch.

use super::filter::{Filter, Param};
use super::rows::{self, INCIDENT_COLUMNS};
use super::{newest_per_key, SqlStore, ROWS_PER_INSERT};
use driftd_core::incident::{Incident, IncidentQuery, IncidentState};
use driftd_core::store::StoreError;

impl SqlStore {
    pub(super) async fn write_incidents(&self, incidents: &[Incident]) -> Result<(), StoreError> {
        let newest = newest_per_key(incidents, |i| i.id.clone(), |i| i.updated_at);
        let table = &self.tables.incidents;
        for chunk in newest.chunks(ROWS_PER_INSERT / 4) {
            let sql = self
                .dialect
                .upsert_unless_older(table, &["id"], INCIDENT_COLUMNS, chunk.len());
            self.execute(&sql, "cannot save incidents", |mut q| {
                for i in chunk {
                    q = rows::bind_incident(q, i)?;
                }
                Ok(q)
            })
            .await?;
        }
        Ok(())
    }

    pub(super) async fn read_incidents(&self, query: &IncidentQuery) -> Result<Vec<Incident>, StoreError> {
        let mut f = Filter::default();
        match query.state {
            None => {}
            Some(IncidentState::Resolved) => f.add("state", "=", Param::Text("resolved".into())),
            Some(shown) => {
                f.add("state", "=", Param::Text("open".into()));
                let acked = i64::from(shown == IncidentState::Acknowledged);
                f.add("acknowledged", "=", Param::Int(acked));
            }
        }
        if let Some(e) = &query.entity {
            f.add("entity", "=", Param::Text(e.clone()));
        }
        if let Some(t) = query.since {
            f.add(
                "updated_unix_nano",
                ">=",
                Param::Int(i64::try_from(t).unwrap_or(i64::MAX)),
            );
        }
        let (paging, limit, offset) = f.page(query.limit, 0);
        let sql = format!(
            "SELECT {}, acknowledged FROM {}{} ORDER BY opened_unix_nano DESC, id{paging}",
            INCIDENT_COLUMNS.join(", "),
            self.tables.incidents,
            f.sql
        );
        let rows = self
            .fetch(&sql, "cannot read incidents", |q| {
                Ok(f.bind(q).bind(limit).bind(offset))
            })
            .await?;
        rows.iter().map(rows::incident).collect()
    }

    pub(super) async fn read_incident(&self, id: &str) -> Result<Option<Incident>, StoreError> {
        let sql = format!(
            "SELECT {}, acknowledged FROM {} WHERE id = $1",
            INCIDENT_COLUMNS.join(", "),
            self.tables.incidents
        );
        let rows = self
            .fetch(&sql, "cannot read an incident", |q| Ok(q.bind(id.to_string())))
            .await?;
        rows.first().map(rows::incident).transpose()
    }

    pub(super) async fn acknowledge_stored_incident(&self, id: &str) -> Result<bool, StoreError> {
        let sql = format!("UPDATE {} SET acknowledged = 1 WHERE id = $1", self.tables.incidents);
        let matched = self
            .execute(&sql, "cannot acknowledge an incident", |q| Ok(q.bind(id.to_string())))
            .await?;
        Ok(matched > 0)
    }
}
