//! Bodies for chat-style receivers: `generic`, `slack`, `discord`. One message per
//! group of events, within each service's size limits.

use super::text;
use driftd_core::event::{DriftEvent, EventKind, Severity};
use driftd_core::time::rfc3339;
use driftd_core::{Incident, IncidentChange};
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

/// Text for Slack's mrkdwn, with `&`, `<` and `>` escaped as Slack asks: a label value
/// can then neither mention anyone (`<!everyone>`, `<!here>`, `<@U123>`) nor make a link.
fn slack_text(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Discord's `allowed_mentions` that pings no one, whatever a label value says
/// (`@everyone`, `<@id>`): messages from driftd inform, they never mention.
fn discord_mentions() -> Value {
    json!({ "parse": [] })
}

/// `{"text": summary, "events": [event JSON...]}`.
pub(crate) fn generic(events: &[&DriftEvent]) -> Value {
    // Without snapshots: a notification names the drift; the evidence is in the console.
    let bodies: Vec<DriftEvent> = events.iter().map(|e| e.without_snapshot()).collect();
    json!({ "text": text::summary(events), "events": bodies })
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
                    "text": clip(&format!("{icon} *{}*\n{}", slack_text(&text::title(e)), slack_text(&text::details(e))), 3000),
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
    json!({ "text": slack_text(&text::summary(events)), "blocks": blocks })
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
    json!({ "content": clip(&content, 2000), "embeds": embeds, "allowed_mentions": discord_mentions() })
}

/// The heading of an incident message, with the rate limiter's note.
fn incidents_heading(incidents: &[&Incident], note: Option<&str>) -> String {
    let mut heading = text::incidents_summary(incidents);
    if let Some(note) = note {
        heading.push_str(" — ");
        heading.push_str(note);
    }
    heading
}

/// `{"text": heading, "incidents": [incident JSON...]}`.
pub(crate) fn generic_incidents(incidents: &[&Incident], note: Option<&str>) -> Value {
    json!({ "text": incidents_heading(incidents, note), "incidents": incidents })
}

fn incident_icon(i: &Incident) -> &'static str {
    match (i.change, i.severity) {
        (IncidentChange::Resolved, _) => ":white_check_mark:",
        (_, Severity::Severe) => ":rotating_light:",
        _ => ":warning:",
    }
}

fn incident_color(i: &Incident) -> u32 {
    match (i.change, i.severity) {
        (IncidentChange::Resolved, _) => 0x2E_B886,
        (_, Severity::Severe) => 0xD0_0000,
        _ => 0xE8_A317,
    }
}

/// A Slack message: the heading and one section per incident.
pub(crate) fn slack_incidents(incidents: &[&Incident], note: Option<&str>) -> Value {
    let mut blocks: Vec<Value> = incidents
        .iter()
        .take(SLACK_BLOCKS)
        .map(|i| {
            let body = format!(
                "{} *{}*\n{}",
                incident_icon(i),
                slack_text(&text::incident_title(i)),
                slack_text(&text::incident_details(i))
            );
            json!({"type": "section", "text": {"type": "mrkdwn", "text": clip(&body, 3000)}})
        })
        .collect();
    if incidents.len() > SLACK_BLOCKS {
        blocks.push(json!({
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": format!("and {} more", incidents.len() - SLACK_BLOCKS)}]
        }));
    }
    json!({ "text": slack_text(&incidents_heading(incidents, note)), "blocks": blocks })
}

/// A Discord message: the heading as `content` and one embed per incident.
pub(crate) fn discord_incidents(incidents: &[&Incident], note: Option<&str>) -> Value {
    let embeds: Vec<Value> = incidents
        .iter()
        .take(DISCORD_EMBEDS)
        .map(|i| {
            json!({
                "title": clip(&text::incident_title(i), 256),
                "description": clip(&text::incident_details(i), 4096),
                "color": incident_color(i),
                "timestamp": rfc3339(i.updated_at),
                "fields": [
                    {"name": "incident", "value": i.id, "inline": true},
                    {"name": "entity", "value": i.entity, "inline": true},
                    {"name": "status", "value": text::incident_word(i), "inline": true},
                ],
            })
        })
        .collect();
    let mut content = incidents_heading(incidents, note);
    if incidents.len() > DISCORD_EMBEDS {
        content.push_str(&format!(" (showing {DISCORD_EMBEDS} of {})", incidents.len()));
    }
    json!({ "content": clip(&content, 2000), "embeds": embeds, "allowed_mentions": discord_mentions() })
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
