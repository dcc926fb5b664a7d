//! Incidents in Redis: `incidents` (hash id → JSON) with `:updated` and `:by_updated`
//! (the same upsert-newer map as statuses), and `incidents:acked` (set).

use super::{scripts, sort_key, RedisStore};
use driftd_core::incident::{Incident, IncidentQuery};
use driftd_core::store::{self, StoreError};

impl RedisStore {
    /// Incidents from their JSON, with their acknowledgement.
    async fn decode_incidents(&self, bodies: Vec<Vec<u8>>) -> Result<Vec<Incident>, StoreError> {
        let incidents = bodies
            .iter()
            .map(|b| {
                serde_json::from_slice::<Incident>(b)
                    .map_err(|e| StoreError::Rejected(format!("a stored incident is unreadable: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if incidents.is_empty() {
            return Ok(incidents);
        }
        let ids: Vec<&str> = incidents.iter().map(|i| i.id.as_str()).collect();
        let mut conn = self.conn.clone();
        let acked: Vec<bool> = redis::cmd("SMISMEMBER")
            .arg(self.key("incidents:acked"))
            .arg(&ids)
            .query_async(&mut conn)
            .await
            .map_err(|e| self.fail("cannot read incidents", e))?;
        Ok(incidents
            .into_iter()
            .zip(acked)
            .map(|(i, acked)| store::with_acknowledgement(i, acked))
            .collect())
    }

    pub(super) async fn write_incidents(&self, incidents: &[Incident]) -> Result<(), StoreError> {
        let entries = incidents
            .iter()
            .map(|i| {
                let json = serde_json::to_vec(i)
                    .map_err(|e| StoreError::Rejected(format!("incident {} is not serializable: {e}", i.id)))?;
                Ok((i.id.clone(), sort_key(i.updated_at), json))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.upsert_newer(&self.versioned("incidents"), entries).await
    }

    pub(super) async fn read_incidents(&self, query: &IncidentQuery) -> Result<Vec<Incident>, StoreError> {
        let bodies = self.hash_entries(&self.key("incidents")).await?;
        let all = self
            .decode_incidents(bodies.into_iter().map(|(_, b)| b).collect())
            .await?;
        let matching = all.into_iter().filter(|i| query.matches(i)).collect();
        Ok(store::newest_incidents(matching, query.limit))
    }

    pub(super) async fn read_incident(&self, id: &str) -> Result<Option<Incident>, StoreError> {
        let mut conn = self.conn.clone();
        let body: Option<Vec<u8>> = redis::cmd("HGET")
            .arg(self.key("incidents"))
            .arg(id)
            .query_async(&mut conn)
            .await
            .map_err(|e| self.fail("cannot read an incident", e))?;
        Ok(self.decode_incidents(body.into_iter().collect()).await?.pop())
    }

    pub(super) async fn acknowledge_stored_incident(&self, id: &str) -> Result<bool, StoreError> {
        let mut conn = self.conn.clone();
        let found: i64 = scripts::ACKNOWLEDGE
            .key(self.key("incidents"))
            .key(self.key("incidents:acked"))
            .arg(id)
            .invoke_async(&mut conn)
            .await
            .map_err(|e| self.fail("cannot acknowledge an incident", e))?;
        Ok(found == 1)
    }
}
