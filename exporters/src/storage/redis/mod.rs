//! `redis`: events, statuses, checkpoints and incidents in Redis.
//!
//! Keys (after `key_prefix`): `events` (hash id → event JSON), `events:by_time` (sorted
//! set ordered by event time then arrival), `events:seq`, `events:acked` (set);
//! `status` (hash series id → JSON) with `status:updated` and `status:by_updated`;
//! per processor `checkpoints:{processor}` (hash series id → labels JSON, newline, raw
//! state) with `:updated` and `:by_updated`; `checkpoint_processors` (set);
//! `incidents` (hash id → incident JSON) with `:updated` and `:by_updated`, and
//! `incidents:acked` (set). Writes are
//! Lua scripts, so each is atomic. Retention is the same periodic prune as every other
//! backend: Redis 7.0 cannot expire single hash fields or set members, and a TTL on a
//! whole key would drop fresh data with old.

mod checkpoints;
mod codec;
mod config;
mod incidents;
mod scripts;
mod snapshots;

pub use config::RedisConfig;

use async_trait::async_trait;
use driftd_core::incident::{Incident, IncidentQuery};
use driftd_core::store::{Checkpoint, EventPage, EventQuery, SeriesStatus, StatusQuery, Store, StoreError};
use driftd_core::DriftEvent;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{RedisError, RetryMethod};
use scripts::sort_key;

/// Items per script call or HMGET: small enough not to stall Redis.
const CHUNK: usize = 500;

/// A [`Store`] in Redis.
pub struct RedisStore {
    conn: ConnectionManager,
    prefix: String,
    /// The URL without password, for errors.
    target: String,
}

/// Builds the store without connecting: the connection is made on first use and
/// remade after failures. Only a URL the client cannot read fails here.
pub(crate) fn open(config: &RedisConfig) -> Result<RedisStore, StoreError> {
    let client = redis::Client::open(config.url.expose())
        .map_err(|e| StoreError::Rejected(format!("redis: `{}` is not a usable URL: {e}", config.url)))?;
    let settings = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(config.timeout))
        .set_response_timeout(Some(config.timeout))
        .set_number_of_retries(1);
    let conn = ConnectionManager::new_lazy_with_config(client, settings)
        .map_err(|e| StoreError::Rejected(format!("redis at {}: {e}", config.url)))?;
    Ok(RedisStore {
        conn,
        prefix: config.key_prefix.clone(),
        target: config.url.to_string(),
    })
}

impl RedisStore {
    /// Checks that the server answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        redis::cmd("PING")
            .query_async::<String>(&mut conn)
            .await
            .map(|_| ())
            .map_err(|e| self.fail("cannot reach the server", e))
    }

    fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// data, updated and index keys of a map with update times.
    fn versioned(&self, name: &str) -> [String; 3] {
        let data = self.key(name);
        [data.clone(), format!("{data}:updated"), format!("{data}:by_updated")]
    }

    fn fail(&self, doing: &str, e: RedisError) -> StoreError {
        let message = format!("redis at {}: {doing}: {e}", self.target);
        // Refused logins and bad config are not fixed by waiting.
        let permanent = matches!(
            e.kind(),
            redis::ErrorKind::AuthenticationFailed | redis::ErrorKind::InvalidClientConfig
        ) || matches!(e.retry_method(), RetryMethod::NoRetry);
        if permanent {
            StoreError::Rejected(message)
        } else {
            StoreError::Unavailable(message.into())
        }
    }

    /// Events by id, with their acknowledged flag; ids whose body is gone are skipped.
    async fn bodies(&self, ids: &[String]) -> Result<Vec<DriftEvent>, StoreError> {
        let mut events = Vec::with_capacity(ids.len());
        let mut conn = self.conn.clone();
        for chunk in ids.chunks(CHUNK) {
            let (bodies, acked): (Vec<Option<Vec<u8>>>, Vec<bool>) = redis::pipe()
                .cmd("HMGET")
                .arg(self.key("events"))
                .arg(chunk)
                .cmd("SMISMEMBER")
                .arg(self.key("events:acked"))
                .arg(chunk)
                .query_async(&mut conn)
                .await
                .map_err(|e| self.fail("cannot read events", e))?;
            for (body, acked) in bodies.into_iter().zip(acked) {
                let Some(body) = body else { continue };
                let mut event: DriftEvent = serde_json::from_slice(&body)
                    .map_err(|e| StoreError::Rejected(format!("a stored event is unreadable: {e}")))?;
                event.acknowledged |= acked;
                events.push(event);
            }
        }
        Ok(events)
    }

    /// Every field and value of a hash, a page at a time.
    async fn hash_entries(&self, key: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let mut conn = self.conn.clone();
        let mut cursor = 0u64;
        let mut entries = Vec::new();
        loop {
            let (next, page): (u64, Vec<(String, Vec<u8>)>) = redis::cmd("HSCAN")
                .arg(key)
                .arg(cursor)
                .arg("COUNT")
                .arg(CHUNK)
                .query_async(&mut conn)
                .await
                .map_err(|e| self.fail("cannot read a hash", e))?;
            entries.extend(page);
            if next == 0 {
                return Ok(entries);
            }
            cursor = next;
        }
    }

    /// Runs a pruning script until it removes less than a batch.
    async fn prune_with(&self, script: &redis::Script, keys: &[String], cutoff: &str) -> Result<u64, StoreError> {
        let mut conn = self.conn.clone();
        let mut removed = 0;
        loop {
            let mut call = script.prepare_invoke();
            for k in keys {
                call.key(k);
            }
            let n: u64 = call
                .arg(cutoff)
                .arg(CHUNK)
                .invoke_async(&mut conn)
                .await
                .map_err(|e| self.fail("cannot prune", e))?;
            removed += n;
            if n < CHUNK as u64 {
                return Ok(removed);
            }
        }
    }

    async fn upsert_newer(
        &self,
        keys: &[String; 3],
        entries: Vec<(String, String, Vec<u8>)>,
    ) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        for chunk in entries.chunks(CHUNK) {
            let mut call = scripts::UPSERT_NEWER.prepare_invoke();
            for k in keys {
                call.key(k);
            }
            for (field, updated, value) in chunk {
                call.arg(field).arg(updated).arg(value.as_slice());
            }
            call.invoke_async::<()>(&mut conn)
                .await
                .map_err(|e| self.fail("cannot save", e))?;
        }
        Ok(())
    }
}

#[async_trait]
impl Store for RedisStore {
    fn backend(&self) -> &'static str {
        "redis"
    }

    async fn append_events(&self, events: &[DriftEvent]) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        for chunk in events.chunks(CHUNK) {
            let mut call = scripts::APPEND_EVENTS.prepare_invoke();
            call.key(self.key("events"))
                .key(self.key("events:by_time"))
                .key(self.key("events:seq"))
                .key(self.key("events:snapshots"));
            for e in chunk {
                let (body, snapshot) = codec::encode_event(e)?;
                call.arg(&e.id).arg(sort_key(e.timestamp)).arg(body).arg(snapshot);
            }
            call.invoke_async::<()>(&mut conn)
                .await
                .map_err(|e| self.fail("cannot append events", e))?;
        }
        Ok(())
    }

    async fn events(&self, query: &EventQuery) -> Result<EventPage, StoreError> {
        let min = query.since.map_or("-".to_string(), |t| format!("[{}", sort_key(t)));
        let max = query.until.map_or("+".to_string(), |t| format!("({}", sort_key(t)));
        let index = self.key("events:by_time");
        let mut conn = self.conn.clone();
        let id_of = |member: String| member.get(41..).unwrap_or_default().to_string();
        let only_time = query.series.is_none()
            && query.metric.is_none()
            && query.service.is_none()
            && query.kind.is_none()
            && query.incident.is_none();
        let mut page = EventPage::default();
        if only_time {
            // The index alone answers: count, then read just the page.
            page.total = redis::cmd("ZLEXCOUNT")
                .arg(&index)
                .arg(&min)
                .arg(&max)
                .query_async(&mut conn)
                .await
                .map_err(|e| self.fail("cannot count events", e))?;
            if query.limit == 0 || query.offset >= page.total {
                return Ok(page);
            }
            let members: Vec<String> = redis::cmd("ZRANGE")
                .arg(&index)
                .arg(&max)
                .arg(&min)
                .arg("BYLEX")
                .arg("REV")
                .arg("LIMIT")
                .arg(query.offset)
                .arg(query.limit)
                .query_async(&mut conn)
                .await
                .map_err(|e| self.fail("cannot read events", e))?;
            let ids: Vec<String> = members.into_iter().map(id_of).collect();
            page.events = self.bodies(&ids).await?;
            return Ok(page);
        }
        // Other filters look inside events: walk the time window newest first.
        let members: Vec<String> = redis::cmd("ZRANGE")
            .arg(&index)
            .arg(&max)
            .arg(&min)
            .arg("BYLEX")
            .arg("REV")
            .query_async(&mut conn)
            .await
            .map_err(|e| self.fail("cannot read events", e))?;
        let ids: Vec<String> = members.into_iter().map(id_of).collect();
        let page_end = query.offset.saturating_add(query.limit);
        for chunk in ids.chunks(CHUNK) {
            for event in self.bodies(chunk).await? {
                if !query.matches(&event) {
                    continue;
                }
                if (query.offset..page_end).contains(&page.total) {
                    page.events.push(event);
                }
                page.total += 1;
            }
        }
        Ok(page)
    }

    async fn event(&self, id: &str) -> Result<Option<DriftEvent>, StoreError> {
        self.read_event(id).await
    }

    async fn acknowledge(&self, id: &str) -> Result<bool, StoreError> {
        let mut conn = self.conn.clone();
        let found: i64 = scripts::ACKNOWLEDGE
            .key(self.key("events"))
            .key(self.key("events:acked"))
            .arg(id)
            .invoke_async(&mut conn)
            .await
            .map_err(|e| self.fail("cannot acknowledge an event", e))?;
        Ok(found == 1)
    }

    async fn upsert_status(&self, statuses: &[SeriesStatus]) -> Result<(), StoreError> {
        let entries = statuses
            .iter()
            .map(|s| {
                let json = codec::encode_status(s)?;
                Ok((s.series_id.to_string(), sort_key(s.updated_at), json.into_bytes()))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.upsert_newer(&self.versioned("status"), entries).await
    }

    async fn statuses(&self, query: &StatusQuery) -> Result<Vec<SeriesStatus>, StoreError> {
        let mut all = Vec::new();
        for (field, json) in self.hash_entries(&self.key("status")).await? {
            let status = codec::decode_status(&field, &json)?;
            if query.matches(&status) {
                all.push(status);
            }
        }
        all.sort_by_key(|s| s.series_id);
        let limit = query.limit.unwrap_or(usize::MAX);
        Ok(all.into_iter().skip(query.offset).take(limit).collect())
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
        let cutoff = sort_key(older_than);
        let events = [
            self.key("events"),
            self.key("events:by_time"),
            self.key("events:acked"),
            self.key("events:snapshots"),
        ];
        let mut removed = self.prune_with(&scripts::PRUNE_EVENTS, &events, &cutoff).await?;
        removed += self
            .prune_with(&scripts::PRUNE_OLDER, &self.versioned("status"), &cutoff)
            .await?;
        // (An acknowledged incident pruned leaves its id in `incidents:acked`: a few
        // bytes per acknowledgement, harmless: an id names one entity's incident opened at one instant.)
        removed += self
            .prune_with(&scripts::PRUNE_OLDER, &self.versioned("incidents"), &cutoff)
            .await?;
        let mut conn = self.conn.clone();
        let processors: Vec<String> = redis::cmd("SMEMBERS")
            .arg(self.key("checkpoint_processors"))
            .query_async(&mut conn)
            .await
            .map_err(|e| self.fail("cannot prune", e))?;
        for p in processors {
            removed += self
                .prune_with(&scripts::PRUNE_OLDER, &self.checkpoints(&p), &cutoff)
                .await?;
        }
        Ok(removed)
    }
}
