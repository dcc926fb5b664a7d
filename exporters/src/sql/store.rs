//! [`Store`] for [`SqlStore`]: the events and series-status tables here, the others in
//! their own files (`checkpoints`, `incidents`, `snapshots`).

use super::filter::{Filter, Param};
use super::rows::{self, EVENT_COLUMNS, STATUS_COLUMNS};
use super::{newest_per_key, SqlStore, ROWS_PER_INSERT};
use async_trait::async_trait;
use driftd_core::incident::{Incident, IncidentQuery};
use driftd_core::store::{Checkpoint, EventPage, EventQuery, SeriesStatus, StatusQuery, Store, StoreError};
use driftd_core::DriftEvent;
use std::collections::HashSet;

fn bigint(t: u64) -> i64 {
    i64::try_from(t).unwrap_or(i64::MAX)
}

#[async_trait]
impl Store for SqlStore {
    fn backend(&self) -> &'static str {
        self.backend
    }

    async fn append_events(&self, events: &[DriftEvent]) -> Result<(), StoreError> {
        let mut seen = HashSet::new();
        let unique: Vec<&DriftEvent> = events.iter().filter(|e| seen.insert(e.id.as_str())).collect();
        for chunk in unique.chunks(ROWS_PER_INSERT) {
            let sql = self
                .dialect
                .insert_unless_present(&self.tables.events, EVENT_COLUMNS, chunk.len());
            self.execute(&sql, "cannot insert events", |mut q| {
                for e in chunk {
                    q = rows::bind_event(q, e)?;
                }
                Ok(q)
            })
            .await?;
        }
        self.write_snapshots(&unique).await
    }

    async fn event(&self, id: &str) -> Result<Option<DriftEvent>, StoreError> {
        let sql = format!(
            "SELECT {} FROM {} WHERE id = $1",
            EVENT_COLUMNS.join(", "),
            self.tables.events
        );
        let rows = self
            .fetch(&sql, "cannot read an event", |q| Ok(q.bind(id.to_string())))
            .await?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        let mut event = rows::event(row)?;
        event.snapshot = self.read_snapshot(id).await?;
        Ok(Some(event))
    }

    async fn events(&self, query: &EventQuery) -> Result<EventPage, StoreError> {
        let mut f = Filter::series(query.series, query.metric.as_deref(), query.service.as_deref());
        if let Some(k) = query.kind {
            f.add("kind", "=", Param::Text(k.as_str().to_string()));
        }
        if let Some(i) = &query.incident {
            f.add("incident", "=", Param::Text(i.clone()));
        }
        if let Some(t) = query.since {
            f.add("time_unix_nano", ">=", Param::Int(bigint(t)));
        }
        if let Some(t) = query.until {
            f.add("time_unix_nano", "<", Param::Int(bigint(t)));
        }
        let table = &self.tables.events;
        let count_sql = format!("SELECT COUNT(*) AS n FROM {table}{}", f.sql);
        let counted = self.fetch(&count_sql, "cannot count events", |q| Ok(f.bind(q))).await?;
        let total: i64 = counted
            .first()
            .map(|r| sqlx::Row::try_get(r, "n"))
            .transpose()
            .map_err(|e| self.error("cannot count events", e))?
            .unwrap_or(0);
        let mut page = EventPage {
            events: Vec::new(),
            total: usize::try_from(total).unwrap_or(0),
        };
        if query.limit == 0 || query.offset >= page.total {
            return Ok(page);
        }
        let (paging, limit, offset) = f.page(query.limit, query.offset);
        let sql = format!(
            "SELECT {} FROM {table}{} ORDER BY time_unix_nano DESC, seq DESC{paging}",
            EVENT_COLUMNS.join(", "),
            f.sql
        );
        let found = self
            .fetch(&sql, "cannot read events", |q| Ok(f.bind(q).bind(limit).bind(offset)))
            .await?;
        for row in found {
            page.events.push(rows::event(&row)?);
        }
        Ok(page)
    }

    async fn acknowledge(&self, id: &str) -> Result<bool, StoreError> {
        // sqlx asks MySQL for rows matched, not changed: acknowledging twice is true.
        let sql = format!("UPDATE {} SET acknowledged = 1 WHERE id = $1", self.tables.events);
        let matched = self
            .execute(&sql, "cannot acknowledge an event", |q| Ok(q.bind(id.to_string())))
            .await?;
        Ok(matched > 0)
    }

    async fn upsert_status(&self, statuses: &[SeriesStatus]) -> Result<(), StoreError> {
        let newest = newest_per_key(statuses, |s| s.series_id, |s| s.updated_at);
        let table = &self.tables.status;
        for chunk in newest.chunks(ROWS_PER_INSERT) {
            let sql = self
                .dialect
                .upsert_unless_older(table, &["series_id"], STATUS_COLUMNS, chunk.len());
            self.execute(&sql, "cannot save series status", |mut q| {
                for s in chunk {
                    q = rows::bind_status(q, s)?;
                }
                Ok(q)
            })
            .await?;
        }
        Ok(())
    }

    async fn statuses(&self, query: &StatusQuery) -> Result<Vec<SeriesStatus>, StoreError> {
        let mut f = Filter::series(query.series, query.metric.as_deref(), query.service.as_deref());
        if let Some(s) = query.state {
            f.add("state", "=", Param::Text(s.as_str().to_string()));
        }
        let (paging, limit, offset) = f.page(query.limit.unwrap_or(usize::MAX), query.offset);
        let sql = format!(
            "SELECT {} FROM {}{} ORDER BY series_id{paging}",
            STATUS_COLUMNS.join(", "),
            self.tables.status,
            f.sql
        );
        let rows = self
            .fetch(&sql, "cannot read series status", |q| {
                Ok(f.bind(q).bind(limit).bind(offset))
            })
            .await?;
        rows.iter().map(rows::status).collect()
    }

    async fn save_checkpoints(&self, processor: &str, checkpoints: &[Checkpoint]) -> Result<(), StoreError> {
        self.write_checkpoints(processor, checkpoints).await
    }

    async fn load_checkpoints(&self, processor: &str) -> Result<Vec<Checkpoint>, StoreError> {
        self.read_checkpoints(processor).await
    }

    async fn save_incidents(&self, incidents: &[Incident]) -> Result<(), StoreError> {
        self.write_incidents(incidents).await
    }

    async fn incidents(&self, query: &IncidentQuery) -> Result<Vec<Incident>, StoreError> {
        self.read_incidents(query).await
    }

    async fn incident(&self, id: &str) -> Result<Option<Incident>, StoreError> {
        self.read_incident(id).await
    }

    async fn acknowledge_incident(&self, id: &str) -> Result<bool, StoreError> {
        self.acknowledge_stored_incident(id).await
    }

    async fn prune(&self, older_than: u64) -> Result<u64, StoreError> {
        let cutoff = bigint(older_than);
        let t = &self.tables;
        let mut removed = 0;
        for (table, column) in [
            (&t.events, "time_unix_nano"),
            (&t.status, "updated_unix_nano"),
            (&t.checkpoints, "updated_unix_nano"),
            (&t.incidents, "updated_unix_nano"),
            (&t.snapshots, "time_unix_nano"),
            (&t.points, "time_unix_nano"),
        ] {
            let sql = format!("DELETE FROM {table} WHERE {column} < $1");
            removed += self.execute(&sql, "cannot prune", |q| Ok(q.bind(cutoff))).await?;
        }
        Ok(removed)
    }
}
