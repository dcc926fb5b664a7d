//! Each format's payload, as the receiving service gets it.

use super::*;
use crate::storage::conformance::{sample_event, BASE_TIME, SECOND};
use driftd_core::time::{now_unix_nano, parse_rfc3339};
use driftd_core::EventKind;

fn start_and_end() -> [DriftEvent; 2] {
    [
        sample_event("latency_ms", "checkout", EventKind::DriftStart, BASE_TIME),
        sample_event("latency_ms", "checkout", EventKind::DriftEnd, BASE_TIME + 90 * SECOND),
    ]
}

const EXPLANATION: &str = "recent mean 148 ± 12.25 (20 samples) vs baseline 100 ± 10.5 (100 samples), z-score 4.5";

#[tokio::test]
async fn generic_posts_the_events_as_json_with_custom_headers() {
    let server = Server::start().await;
    let c = config(
        &server,
        Format::Generic,
        "headers: {Authorization: Bearer s3cret, X-Team: sre}",
    );
    let events = start_and_end();
    export(&sink(&c), &events).await;
    let [r] = &server.wait_for(1).await[..] else {
        panic!("one request")
    };
    assert_eq!(r.headers["authorization"], "Bearer s3cret");
    assert_eq!(r.headers["x-team"], "sre");
    assert_eq!(r.headers["content-type"], "application/json");
    let got: Vec<DriftEvent> = serde_json::from_value(r.body["events"].clone()).expect("events");
    assert_eq!(got, events);
    assert_eq!(r.body["text"], "driftd: 1 series drifted, 1 back to normal");
}

#[tokio::test]
async fn slack_gets_text_and_one_section_per_event() {
    let server = Server::start().await;
    export(&sink(&config(&server, Format::Slack, "")), &start_and_end()).await;
    let body = &server.wait_for(1).await[0].body;
    assert_eq!(body["text"], "driftd: 1 series drifted, 1 back to normal");
    let blocks = body["blocks"].as_array().expect("blocks");
    assert_eq!(blocks.len(), 2);
    assert_eq!(blocks[0]["type"], "section");
    assert_eq!(blocks[0]["text"]["type"], "mrkdwn");
    let first = blocks[0]["text"]["text"].as_str().expect("text");
    assert!(first.starts_with(":warning: *latency_ms{region=\"eu\",service.name=\"checkout\"} drifted (severe)*\n"));
    assert!(first.contains(EXPLANATION), "{first}");
    assert!(first.contains("change began about 2026-01-12T10:30:40Z"), "{first}");
    let second = blocks[1]["text"]["text"].as_str().expect("text");
    assert!(second.contains("back to normal (recovered)"), "{second}");
}

#[tokio::test]
async fn discord_gets_content_and_embeds() {
    let server = Server::start().await;
    export(&sink(&config(&server, Format::Discord, "")), &start_and_end()).await;
    let body = &server.wait_for(1).await[0].body;
    assert_eq!(body["content"], "driftd: 1 series drifted, 1 back to normal");
    let embeds = body["embeds"].as_array().expect("embeds");
    assert_eq!(embeds.len(), 2);
    assert_eq!(embeds[0]["color"], 0xD0_0000);
    assert_eq!(embeds[1]["color"], 0x2E_B886);
    assert_eq!(embeds[0]["timestamp"], "2026-01-12T10:30:45Z");
    assert!(embeds[0]["description"].as_str().expect("text").contains(EXPLANATION));
    assert_eq!(embeds[0]["fields"][1]["value"], "zscore");
}

#[tokio::test]
async fn a_label_value_cannot_mention_anyone_on_slack_or_discord() {
    let loud = "<!everyone> @here & <@U123>";
    let events = [sample_event("latency_ms", loud, EventKind::DriftStart, BASE_TIME)];
    let server = Server::start().await;
    export(&sink(&config(&server, Format::Slack, "")), &events).await;
    let slack = server.wait_for(1).await[0].body.clone();
    let section = slack["blocks"][0]["text"]["text"].as_str().expect("text");
    for text in [section, slack["text"].as_str().expect("text")] {
        assert!(text.contains("&lt;!everyone&gt; @here &amp; &lt;@U123&gt;"), "{text}");
        assert!(!text.contains('<') && !text.contains('>'), "{text}");
    }

    let server = Server::start().await;
    export(&sink(&config(&server, Format::Discord, "")), &events).await;
    let discord = server.wait_for(1).await[0].body.clone();
    assert!(discord["content"].as_str().expect("content").contains(loud));
    assert_eq!(discord["allowed_mentions"], serde_json::json!({"parse": []}));
}

#[tokio::test]
async fn pagerduty_triggers_and_resolves_by_series() {
    let server = Server::start().await;
    let c = config(&server, Format::Pagerduty, "routing_key: R0UT1NG");
    let events = start_and_end();
    export(&sink(&c), &events).await;
    let requests = server.wait_for(2).await;
    let (trigger, resolve) = (&requests[0].body, &requests[1].body);
    let series = events[0].series_id.to_string();
    assert_eq!(trigger["routing_key"], "R0UT1NG");
    assert_eq!(trigger["event_action"], "trigger");
    assert_eq!(trigger["dedup_key"], series);
    assert_eq!(trigger["payload"]["severity"], "critical");
    assert_eq!(trigger["payload"]["source"], "driftd");
    assert_eq!(trigger["payload"]["component"], "latency_ms");
    assert_eq!(trigger["payload"]["group"], "checkout");
    assert!(trigger["payload"]["summary"]
        .as_str()
        .expect("summary")
        .contains(EXPLANATION));
    assert_eq!(trigger["payload"]["custom_details"]["baseline"]["mean"], 100.0);
    assert_eq!(
        resolve,
        &serde_json::json!({"routing_key": "R0UT1NG", "event_action": "resolve", "dedup_key": series})
    );
}

#[tokio::test]
async fn alertmanager_fires_resolves_and_resends_while_firing() {
    let server = Server::start().await;
    let c = config(&server, Format::Alertmanager, "{resend_interval: 200ms, cooldown: 0s}");
    let sink = sink(&c);
    let [start, end] = start_and_end();
    export(&sink, std::slice::from_ref(&start)).await;
    let fired = server.wait_for(1).await[0].body.clone();
    let alert = &fired[0];
    let labels = &alert["labels"];
    assert_eq!(labels["alertname"], "DriftDetected");
    assert_eq!(labels["metric"], "latency_ms");
    assert_eq!(labels["service_name"], "checkout", "label names are sanitised");
    assert_eq!(labels["region"], "eu");
    assert_eq!(labels["severity"], "critical");
    assert_eq!(labels["series_id"], start.series_id.to_string());
    assert_eq!(alert["annotations"]["summary"], super::super::text::title(&start));
    assert!(alert["annotations"]["description"]
        .as_str()
        .expect("text")
        .contains(EXPLANATION));
    assert_eq!(alert["startsAt"], "2026-01-12T10:30:45Z");
    let ends = parse_rfc3339(alert["endsAt"].as_str().expect("endsAt")).expect("RFC 3339");
    assert!(ends > now_unix_nano(), "a firing alert ends in the future");

    // Still firing: sent again, with the same labels and endsAt pushed forward.
    let resent = server.wait_for(3).await;
    assert_eq!(resent[1].body[0]["labels"], *labels);
    assert!(resent[2].at - resent[1].at >= Duration::from_millis(150));
    let later = parse_rfc3339(resent[2].body[0]["endsAt"].as_str().expect("endsAt")).expect("RFC 3339");
    assert!(later > ends);

    export(&sink, std::slice::from_ref(&end)).await;
    let n = server.requests().len();
    let resolved = server.requests()[n - 1].body.clone();
    assert_eq!(resolved[0]["labels"], *labels, "resolved with the labels it fired with");
    assert_eq!(resolved[0]["endsAt"], "2026-01-12T10:32:15Z");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(server.requests().len(), n, "nothing is re-sent once resolved");

    // Dropping the sink (shutdown) stops the resend task.
    export(&sink, std::slice::from_ref(&start)).await;
    drop(sink);
    let n = server.requests().len();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(server.requests().len(), n, "no resends after shutdown");
}
