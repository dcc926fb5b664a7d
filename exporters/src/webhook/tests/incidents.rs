//! Per-incident notifications (the default): one message when an incident opens, one
//! when it escalates, one when it resolves, keyed by the incident id; per-series events
//! send nothing in this mode.

use super::*;
use crate::storage::conformance::{resolved, sample_event, sample_incident, BASE_TIME, SECOND};
use driftd_core::{EventKind, Incident, IncidentChange, Severity};

fn opened(entity: &str) -> Incident {
    sample_incident(entity, BASE_TIME)
}

fn with_change(i: &Incident, change: IncidentChange, severity: Severity, s: u64) -> Incident {
    Incident {
        change,
        severity,
        updated_at: BASE_TIME + s * SECOND,
        ..i.clone()
    }
}

async fn send(sink: &WebhookSink, incidents: &[Incident]) {
    sink.export_incidents(incidents).await.expect("exports");
}

#[tokio::test]
async fn one_message_on_open_and_one_on_resolve_updates_and_events_stay_quiet() {
    let server = Server::start().await;
    let sink = sink(&incident_config(&server, Format::Generic, ""));
    let i = opened("checkout");
    send(&sink, std::slice::from_ref(&i)).await;
    // Per-series events and an update that raises nothing notify no one.
    export(
        &sink,
        &[sample_event("latency_ms", "checkout", EventKind::DriftStart, BASE_TIME)],
    )
    .await;
    send(
        &sink,
        &[with_change(&i, IncidentChange::Updated, Severity::Moderate, 20)],
    )
    .await;
    send(&sink, &[resolved(&i, BASE_TIME + 300 * SECOND)]).await;
    let got = server.wait_for(2).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(server.requests().len(), 2, "exactly an open and a resolve");
    assert_eq!(got[0].body["text"], "checkout: incident opened (moderate)");
    assert_eq!(got[0].body["incidents"][0]["id"], i.id.as_str());
    assert_eq!(got[0].body["incidents"][0]["summary"], i.summary.as_str());
    assert_eq!(got[1].body["text"], "checkout: incident resolved (moderate)");
    assert_eq!(got[1].body["incidents"][0]["state"], "resolved");
}

#[tokio::test]
async fn pagerduty_triggers_and_resolves_under_the_incident_id() {
    let server = Server::start().await;
    let sink = sink(&incident_config(&server, Format::Pagerduty, "routing_key: R123"));
    let i = opened("checkout");
    send(&sink, std::slice::from_ref(&i)).await;
    send(
        &sink,
        &[with_change(&i, IncidentChange::Escalated, Severity::Severe, 30)],
    )
    .await;
    send(&sink, &[resolved(&i, BASE_TIME + 300 * SECOND)]).await;
    let got = server.wait_for(3).await;
    let actions: Vec<(&str, &str)> = got
        .iter()
        .map(|r| {
            (
                r.body["event_action"].as_str().unwrap(),
                r.body["dedup_key"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        [
            ("trigger", i.id.as_str()),
            ("trigger", i.id.as_str()),
            ("resolve", i.id.as_str())
        ]
    );
    assert_eq!(got[0].body["payload"]["severity"], "warning");
    assert_eq!(
        got[1].body["payload"]["severity"], "critical",
        "an escalation updates the severity"
    );
    assert_eq!(got[0].body["payload"]["group"], "checkout");
    assert_eq!(got[0].body["routing_key"], "R123");
}

#[tokio::test]
async fn alertmanager_holds_one_alert_per_incident_through_an_escalation() {
    let server = Server::start().await;
    let sink = sink(&incident_config(&server, Format::Alertmanager, ""));
    let i = opened("shop/checkout");
    send(&sink, std::slice::from_ref(&i)).await;
    send(
        &sink,
        &[with_change(&i, IncidentChange::Escalated, Severity::Severe, 30)],
    )
    .await;
    send(
        &sink,
        &[resolved(
            &with_change(&i, IncidentChange::Escalated, Severity::Severe, 30),
            BASE_TIME + 300 * SECOND,
        )],
    )
    .await;
    let got = server.wait_for(3).await;
    let alerts = |n: usize| got[n].body.as_array().expect("an array").clone();

    let first = alerts(0);
    assert_eq!(first.len(), 1);
    assert_eq!(
        first[0]["labels"],
        serde_json::json!({"alertname": "DriftIncident", "incident_id": i.id, "entity": "shop/checkout", "severity": "warning"})
    );
    assert_eq!(first[0]["annotations"]["summary"], i.summary.as_str());

    // The escalation resolves the warning alert and fires the critical one.
    let second = alerts(1);
    assert_eq!(second.len(), 2);
    assert_eq!(second[0]["labels"]["severity"], "warning");
    assert_eq!(second[1]["labels"]["severity"], "critical");
    let ends = |a: &Value| driftd_core::time::parse_rfc3339(a["endsAt"].as_str().unwrap()).unwrap();
    let now = driftd_core::time::now_unix_nano();
    assert!(ends(&second[0]) <= now && ends(&second[1]) > now);

    let third = alerts(2);
    assert_eq!(third.len(), 1);
    assert_eq!(third[0]["labels"]["severity"], "critical");
    assert_eq!(
        ends(&third[0]),
        BASE_TIME + 300 * SECOND,
        "resolved at the incident's resolve time"
    );
}

#[tokio::test]
async fn slack_and_discord_say_what_the_incident_is() {
    let server = Server::start().await;
    let i = opened("checkout");
    send(
        &sink(&incident_config(&server, Format::Slack, "")),
        std::slice::from_ref(&i),
    )
    .await;
    send(
        &sink(&incident_config(&server, Format::Discord, "")),
        std::slice::from_ref(&i),
    )
    .await;
    let got = server.wait_for(2).await;
    let slack = got[0].body["blocks"][0]["text"]["text"].as_str().unwrap();
    assert!(
        slack.contains(&i.summary) && slack.contains("120 → 336 (+180%)"),
        "{slack}"
    );
    assert_eq!(got[1].body["content"], "checkout: incident opened (moderate)");
    assert_eq!(got[1].body["embeds"][0]["fields"][0]["value"], i.id.as_str());
}

#[tokio::test]
async fn an_entity_name_cannot_mention_anyone_on_slack_or_discord() {
    let server = Server::start().await;
    let i = opened("<!channel> @everyone");
    for format in [Format::Slack, Format::Discord] {
        send(&sink(&incident_config(&server, format, "")), std::slice::from_ref(&i)).await;
    }
    let got = server.wait_for(2).await;
    for text in [
        got[0].body["text"].as_str().unwrap(),
        got[0].body["blocks"][0]["text"]["text"].as_str().unwrap(),
    ] {
        assert!(text.contains("&lt;!channel&gt; @everyone"), "{text}");
        assert!(!text.contains("<!channel>"), "{text}");
    }
    assert_eq!(got[1].body["allowed_mentions"], serde_json::json!({"parse": []}));
}

#[tokio::test]
async fn past_the_rate_limit_incidents_are_named_in_the_next_message_and_resolves_still_go() {
    let server = Server::start().await;
    let counters = crate::testing::Counters::default();
    let c = incident_config(&server, Format::Generic, "max_per_minute: 1");
    let sink = metrics::with_local_recorder(&counters, || sink(&c));
    let many: Vec<Incident> = ["a", "b", "c"].iter().map(|e| opened(e)).collect();
    send(&sink, &many).await;
    send(&sink, &[resolved(&many[1], BASE_TIME + 300 * SECOND)]).await;
    let got = server.wait_for(2).await;
    assert_eq!(
        got[0].body["incidents"].as_array().unwrap().len(),
        1,
        "one announcement this minute"
    );
    assert_eq!(
        got[1].body["incidents"][0]["state"], "resolved",
        "a resolve is never held back"
    );
    let text = got[1].body["text"].as_str().unwrap();
    assert!(
        text.contains("2 more incident updates") && text.contains("b: ") && text.contains("c: "),
        "{text}"
    );
    assert_eq!(
        counters.get("driftd_webhook_rate_limited_incidents_total{exporter=webhook/test}"),
        2
    );
}
