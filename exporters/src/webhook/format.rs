//! Bodies for chat-style receivers: `generic`, `slack`, `discord`. One message per
//! group of events, within each service's size limits.

use super::text;
use driftd_core::event::{DriftEvent, EventKind};
use driftd_core::time::rfc3339;
use serde_json::{json, Value};

/// Slack allows 50 blocks per message; one is kept for "and N more".
const SLACK_BLOCKS: usize = 49;
/// Discord allows 10 embeds per message.
const DISCORD_EMBEDS: usize = 10;

/// At most `max` characters, with `…` when cut.
pub(crate) fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut cut: String = s.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// `{"text": summary, "events": [event JSON...]}`.
pub(crate) fn generic(events: &[&DriftEvent]) -> Value {
    json!({ "text": text::summary(events), "events": events })
}

/// A Slack message: a plain-text summary (for notifications) and one section per event.
pub(crate) fn slack(events: &[&DriftEvent]) -> Value {
    let mut blocks: Vec<Value> = events
        .iter()
        .take(SLACK_BLOCKS)
        .map(|e| {
            let icon = if e.kind == EventKind::DriftStart {
                ":warning:"
            } else {
                ":white_check_mark:"
            };
            json!({
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    // Section text is limited to 3000 characters.
                    "text": clip(&format!("{icon} *{}*\n{}", text::title(e), text::details(e)), 3000),
                }
            })
        })
        .collect();
    if events.len() > SLACK_BLOCKS {
        blocks.push(json!({
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": format!("and {} more", events.len() - SLACK_BLOCKS)}]
        }));
    }
    json!({ "text": text::summary(events), "blocks": blocks })
}

/// A Discord message: the summary as `content` and one embed per event.
pub(crate) fn discord(events: &[&DriftEvent]) -> Value {
    let embeds: Vec<Value> = events
        .iter()
        .take(DISCORD_EMBEDS)
        .map(|e| {
            let color = if e.kind == EventKind::DriftStart {
                0xD0_0000
            } else {
                0x2E_B886
            };
            json!({
                "title": clip(&text::title(e), 256),
                "description": clip(&text::details(e), 4096),
                "color": color,
                "timestamp": rfc3339(e.timestamp),
                "fields": [
                    {"name": "series id", "value": e.series_id.to_string(), "inline": true},
                    {"name": "detector", "value": e.detector, "inline": true},
                    {"name": "status", "value": text::status_word(e), "inline": true},
                ],
            })
        })
        .collect();
    let mut content = text::summary(events);
    if events.len() > DISCORD_EMBEDS {
        content.push_str(&format!(" (showing {DISCORD_EMBEDS} of {})", events.len()));
    }
    json!({ "content": clip(&content, 2000), "embeds": embeds })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clipping_counts_characters() {
        assert_eq!(clip("ééé", 3), "ééé");
        assert_eq!(clip("éééé", 3), "éé…");
    }
}
