//! `webhook`: drift alerts posted over HTTP as generic JSON, Slack, Discord,
//! PagerDuty (Events API v2) or Alertmanager messages: per incident (the default: one
//! notification when it opens, escalates and resolves, rate-limited per receiver) or
//! per series (`group_by: series`, with a per-series cooldown).
//!
//! The core's queue drives it: 5xx, 408, 429, timeouts and connection errors are
//! transient (retried with backoff and jitter), other 4xx permanent (dropped and
//! counted); a hanging endpoint fills the queue, which then drops and counts, so
//! ingestion never waits on it.

mod alertmanager;
mod config;
mod cooldown;
mod format;
mod limit;
mod pagerduty;
#[cfg(test)]
mod tests;
mod text;

pub use config::{Format, GroupBy, WebhookConfig};

use async_trait::async_trait;
use cooldown::Cooldown;
use driftd_core::component::{BuildError, EventSink, ExportError, Exporter};
use driftd_core::config::ComponentId;
use driftd_core::{DriftEvent, Incident};
use limit::Limit;
use metrics::Counter;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE};
use serde_json::Value;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Posts drift events to one endpoint.
pub struct WebhookSink {
    inner: Arc<Inner>,
}

struct Inner {
    client: reqwest::Client,
    url: String,
    format: Format,
    group_by: GroupBy,
    routing_key: String,
    group_window: Duration,
    resend_interval: Duration,
    cooldown: Mutex<Cooldown>,
    limit: Mutex<Limit>,
    firing: Mutex<alertmanager::Firing>,
    suppressed: Counter,
    rate_limited: Counter,
    resend_failures: Counter,
    stop: CancellationToken,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // State stays consistent across a panic elsewhere: every update is one insert.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl WebhookSink {
    /// A sink for `config` (validated); `name` labels its counters.
    pub fn new(config: &WebhookConfig, name: &str) -> Result<Self, BuildError> {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        for (k, v) in &config.headers {
            let name =
                HeaderName::from_bytes(k.as_bytes()).map_err(|e| BuildError::setting(format!("headers.{k}"), e))?;
            let mut value =
                HeaderValue::from_str(v.expose()).map_err(|e| BuildError::setting(format!("headers.{k}"), e))?;
            value.set_sensitive(true);
            headers.insert(name, value);
        }
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .default_headers(headers)
            .build()
            .map_err(|e| BuildError::Client {
                what: "the HTTP client",
                source: e.into(),
            })?;
        let inner = Arc::new(Inner {
            client,
            url: config.url.expose().to_string(),
            format: config.format,
            group_by: config.group_by,
            routing_key: config
                .routing_key
                .as_ref()
                .map(|k| k.expose().to_string())
                .unwrap_or_default(),
            group_window: config.group_window,
            resend_interval: config.resend_interval,
            cooldown: Mutex::new(Cooldown::new(config.cooldown)),
            limit: Mutex::new(Limit::new(config.max_per_minute)),
            firing: Mutex::default(),
            suppressed: metrics::counter!("driftd_webhook_suppressed_events_total", "exporter" => name.to_string()),
            rate_limited: metrics::counter!("driftd_webhook_rate_limited_incidents_total", "exporter" => name.to_string()),
            resend_failures: metrics::counter!("driftd_webhook_resend_failures_total", "exporter" => name.to_string()),
            stop: CancellationToken::new(),
        });
        if config.format == Format::Alertmanager {
            tokio::spawn(resend_firing(
                Arc::downgrade(&inner),
                inner.stop.clone(),
                config.resend_interval,
            ));
        }
        Ok(WebhookSink { inner })
    }
}

impl Drop for WebhookSink {
    fn drop(&mut self) {
        self.inner.stop.cancel();
    }
}

impl Inner {
    async fn post(&self, body: &Value) -> Result<(), ExportError> {
        let response = self.client.post(&self.url).json(body).send().await.map_err(|e| {
            // reqwest names the URL in its errors; Slack and Discord URLs are secrets.
            let e = e.without_url();
            if e.is_builder() {
                ExportError::Permanent(format!("webhook request is invalid: {e}"))
            } else {
                ExportError::Transient(format!("webhook request failed: {e}"))
            }
        })?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let text = response.text().await.unwrap_or_default();
        let message = format!("webhook answered {status}: {}", format::clip(text.trim(), 200));
        if status.is_server_error() || status.as_u16() == 408 || status.as_u16() == 429 {
            Err(ExportError::Transient(message))
        } else {
            Err(ExportError::Permanent(message))
        }
    }

    async fn deliver(&self, events: &[&DriftEvent]) -> Result<(), ExportError> {
        match self.format {
            Format::Generic => self.post(&format::generic(events)).await,
            Format::Slack => self.post(&format::slack(events)).await,
            Format::Discord => self.post(&format::discord(events)).await,
            // The Events API takes one event per request.
            Format::Pagerduty => {
                for e in events {
                    self.post(&pagerduty::event(&self.routing_key, e)).await?;
                }
                Ok(())
            }
            Format::Alertmanager => {
                let body = lock(&self.firing).body(events, self.resend_interval);
                self.post(&body).await
            }
        }
    }
}

impl Inner {
    async fn deliver_incidents(&self, incidents: &[&Incident], note: Option<&str>) -> Result<(), ExportError> {
        match self.format {
            Format::Generic => self.post(&format::generic_incidents(incidents, note)).await,
            Format::Slack => self.post(&format::slack_incidents(incidents, note)).await,
            Format::Discord => self.post(&format::discord_incidents(incidents, note)).await,
            Format::Pagerduty => {
                for i in incidents {
                    self.post(&pagerduty::incident(&self.routing_key, i)).await?;
                }
                Ok(())
            }
            Format::Alertmanager => {
                let body = lock(&self.firing).incident_body(incidents, self.resend_interval);
                self.post(&body).await
            }
        }
    }

    /// After a message, waits `group_window` so that what arrives meanwhile waits in
    /// the queue and is handed over as one batch, which becomes one message.
    async fn hold_the_line(&self) {
        if !self.group_window.is_zero() {
            tokio::select! {
                _ = tokio::time::sleep(self.group_window) => {}
                _ = self.stop.cancelled() => {}
            }
        }
    }
}

/// Re-sends firing alerts every `every` until the sink is dropped or `stop` fires.
async fn resend_firing(inner: Weak<Inner>, stop: CancellationToken, every: Duration) {
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = ticks.tick() => {}
        }
        let Some(inner) = inner.upgrade() else { return };
        let body = lock(&inner.firing).resend_body(inner.resend_interval);
        if let Some(body) = body {
            if let Err(e) = inner.post(&body).await {
                inner.resend_failures.increment(1);
                tracing::warn!(error = %e, "re-sending firing alerts failed; next try in {every:?}");
            }
        }
    }
}

#[async_trait]
impl EventSink for WebhookSink {
    async fn export(&self, events: &[DriftEvent]) -> Result<(), ExportError> {
        let inner = &self.inner;
        if inner.group_by != GroupBy::Series {
            return Ok(());
        }
        let plan = lock(&inner.cooldown).plan(events);
        if !plan.send.is_empty() {
            inner.deliver(&plan.send).await?;
        }
        if inner.format == Format::Alertmanager {
            lock(&inner.firing).apply(&plan.send);
        }
        inner.suppressed.increment(plan.suppressed);
        let sent = !plan.send.is_empty();
        lock(&inner.cooldown).commit(plan);
        if sent {
            inner.hold_the_line().await;
        }
        Ok(())
    }

    async fn export_incidents(&self, incidents: &[Incident]) -> Result<(), ExportError> {
        let inner = &self.inner;
        if inner.group_by != GroupBy::Incident {
            return Ok(());
        }
        let plan = lock(&inner.limit).plan(incidents, std::time::Instant::now());
        if !plan.send.is_empty() {
            inner.deliver_incidents(&plan.send, plan.note.as_deref()).await?;
        }
        if inner.format == Format::Alertmanager {
            lock(&inner.firing).apply_incidents(&plan.send);
        }
        inner.rate_limited.increment(plan.held.len() as u64);
        let sent = !plan.send.is_empty();
        lock(&inner.limit).commit(plan);
        if sent {
            inner.hold_the_line().await;
        }
        Ok(())
    }

    async fn flush(&self) -> Result<(), ExportError> {
        self.inner.stop.cancel();
        Ok(())
    }
}

/// Builds the exporter.
pub(crate) fn build(config: &WebhookConfig, id: &ComponentId) -> Result<Exporter, BuildError> {
    Ok(Exporter::Events {
        sink: Arc::new(WebhookSink::new(config, &id.to_string())?),
        queue: config.sending_queue.clone(),
        points: None,
    })
}
