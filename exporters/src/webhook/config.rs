//! `exporters.webhook`.

use driftd_core::config::{FieldError, Secret};
use driftd_core::queue::QueueSettings;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// The shape of the HTTP body, for the receiving service.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// `{"text": ..., "events": [DriftEvent, ...]}`.
    #[default]
    Generic,
    /// A Slack incoming webhook message (`text` and `blocks`).
    Slack,
    /// A Discord webhook message (`content` and `embeds`).
    Discord,
    /// PagerDuty Events API v2: a trigger when an incident opens or escalates, a
    /// resolve when it resolves, `dedup_key` = incident id (per series: series id).
    Pagerduty,
    /// Alertmanager `POST /api/v2/alerts`, re-sent while firing.
    Alertmanager,
}

/// What one notification is about.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    /// One notification when an incident opens, one when it escalates, one when it
    /// resolves; the dedup key is the incident id.
    #[default]
    Incident,
    /// One per drift_start and drift_end of each series (with `cooldown`); the dedup
    /// key is the series id.
    Series,
}

/// Where drift alerts are posted and how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// The endpoint (`https://hooks.slack.com/services/...`,
    /// `http://alertmanager:9093/api/v2/alerts`). A secret: Slack and Discord URLs carry
    /// their token, so it is never printed.
    pub url: Secret,
    /// Body format.
    #[serde(default)]
    pub format: Format,
    /// Notify per incident (default) or per series.
    #[serde(default)]
    pub group_by: GroupBy,
    /// `group_by: incident`: at most this many incidents opened or escalated are
    /// announced per minute; the rest are named in the next message. Resolves are
    /// always sent.
    #[serde(default = "WebhookConfig::default_max_per_minute")]
    pub max_per_minute: u32,
    /// Extra request headers (e.g. `Authorization`); values are secrets.
    #[serde(default)]
    pub headers: BTreeMap<String, Secret>,
    /// How long one request may take; a timeout is retried.
    #[serde(default = "WebhookConfig::default_timeout", with = "humantime_serde")]
    pub timeout: Duration,
    /// `group_by: series`: a drift_start of a series within this long (event time) of
    /// the last one sent for it is suppressed, and so is the drift_end that closes it;
    /// both are counted.
    #[serde(default = "WebhookConfig::default_cooldown", with = "humantime_serde")]
    pub cooldown: Duration,
    /// After each message, wait this long; events that arrive meanwhile go out
    /// together as one message. `0s`: each batch the queue hands over is one message.
    #[serde(default, with = "humantime_serde")]
    pub group_window: Duration,
    /// `pagerduty`: the integration's routing key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routing_key: Option<Secret>,
    /// `alertmanager`: how often alerts still firing are sent again.
    #[serde(default = "WebhookConfig::default_resend", with = "humantime_serde")]
    pub resend_interval: Duration,
    /// Queue and retry settings.
    #[serde(default)]
    pub sending_queue: QueueSettings,
}

impl WebhookConfig {
    fn default_timeout() -> Duration {
        Duration::from_secs(5)
    }
    fn default_cooldown() -> Duration {
        Duration::from_secs(300)
    }
    fn default_resend() -> Duration {
        Duration::from_secs(60)
    }
    fn default_max_per_minute() -> u32 {
        20
    }

    /// A config for `url` in `format`, everything else default.
    pub fn new(url: &str, format: Format) -> Self {
        let yaml = format!("{{url: {url:?}}}");
        let mut c: WebhookConfig = serde_yaml::from_str(&yaml).expect("a URL-only config parses");
        c.format = format;
        c
    }

    /// Rules serde cannot express.
    pub fn validate(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let url = self.url.expose();
        if !(url.starts_with("http://") || url.starts_with("https://")) || url::Url::parse(url).is_err() {
            errors.push(FieldError::new("url", "give an http:// or https:// URL"));
        }
        for (name, value) in &self.headers {
            if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
                errors.push(FieldError::new(format!("headers.{name}"), "not a valid header name"));
            } else if reqwest::header::HeaderValue::from_str(value.expose()).is_err() {
                errors.push(FieldError::new(
                    format!("headers.{name}"),
                    "the value holds characters a header cannot",
                ));
            }
        }
        if self.max_per_minute == 0 {
            errors.push(FieldError::new("max_per_minute", "must be at least 1, e.g. 20"));
        }
        if self.timeout.is_zero() {
            errors.push(FieldError::new("timeout", "must be longer than 0s, e.g. 5s"));
        }
        match (self.format, &self.routing_key) {
            (Format::Pagerduty, None) => errors.push(FieldError::new(
                "routing_key",
                "format pagerduty needs the integration's routing_key (e.g. ${env:PAGERDUTY_ROUTING_KEY})",
            )),
            (Format::Pagerduty, Some(_)) | (_, None) => {}
            (_, Some(_)) => errors.push(FieldError::new(
                "routing_key",
                "only format pagerduty uses a routing_key",
            )),
        }
        if self.format == Format::Alertmanager && self.resend_interval.is_zero() {
            errors.push(FieldError::new("resend_interval", "must be longer than 0s, e.g. 1m"));
        }
        errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> WebhookConfig {
        serde_yaml::from_str(yaml).expect("parses")
    }

    #[test]
    fn defaults() {
        let c = parse("url: http://127.0.0.1:9093/api/v2/alerts");
        assert_eq!(c.format, Format::Generic);
        assert_eq!(c.group_by, GroupBy::Incident);
        assert_eq!(c.max_per_minute, 20);
        assert_eq!(c.timeout, Duration::from_secs(5));
        assert_eq!(c.cooldown, Duration::from_secs(300));
        assert_eq!(c.group_window, Duration::ZERO);
        assert_eq!(c.resend_interval, Duration::from_secs(60));
        assert!(c.validate().is_empty());
    }

    #[test]
    fn cross_field_rules() {
        let paths = |c: WebhookConfig| c.validate().into_iter().map(|e| e.path).collect::<Vec<_>>();
        assert_eq!(paths(parse("{url: ftp://x, timeout: 0s}")), ["url", "timeout"]);
        assert_eq!(paths(parse("{url: http://x, format: pagerduty}")), ["routing_key"]);
        assert_eq!(paths(parse("{url: http://x, routing_key: k}")), ["routing_key"]);
        assert_eq!(
            paths(parse("{url: http://x, headers: {\"bad name\": v}}")),
            ["headers.bad name"]
        );
    }

    #[test]
    fn secrets_are_redacted_when_printed() {
        let c = parse("{url: https://hooks.slack.com/services/T0/B0/XYZ, headers: {Authorization: Bearer abc}}");
        let printed = serde_yaml::to_string(&c).expect("serializes");
        assert!(!printed.contains("XYZ") && !printed.contains("abc"), "{printed}");
    }
}
