//! The web console in real headless Chromium: driftd gets a latency step on one of two
//! services over OTLP; the overview lists that service's incident, the incident page
//! draws the series with points before and after the change and the baseline band,
//! and its screenshot is written to docs/console-incident.png (the README shows it);
//! the series search, the series page and the pipelines page work too.

mod common;

use common::otlp::send_latency_step;
use common::webdriver::{ChromeDriver, Session};
use common::{eventually, Driftd, TEST_CONFIG};
use serde_json::{json, Value};
use std::time::Duration;

const SERVICES: [&str; 2] = ["checkout", "search"];

/// What the page's charts hold (their data- attributes) and how many of each canvas'
/// pixels uPlot painted.
const CHARTS: &str = r#"
return [...document.querySelectorAll('.chart')].map((c) => {
  const canvas = c.querySelector('canvas');
  let painted = 0;
  if (canvas) {
    const px = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 3; i < px.length; i += 4) if (px[i] > 0) painted++;
  }
  return { points: +c.dataset.points, before: +c.dataset.pointsBefore, after: +c.dataset.pointsAfter,
           band: +c.dataset.band, painted, title: c.closest('.panel')?.querySelector('h3')?.textContent };
});
"#;

/// The texts of the links matching `css`, once there are some.
async fn link_texts(page: &Session, css: &str, what: &str) -> Vec<String> {
    eventually(Duration::from_secs(30), what, || async {
        let texts = page
            .run(
                "return [...document.querySelectorAll(arguments[0])].map((a) => a.textContent);",
                json!([css]),
            )
            .await;
        let texts: Vec<String> = serde_json::from_value(texts).unwrap_or_default();
        (!texts.is_empty()).then_some(texts)
    })
    .await
}

#[tokio::test]
async fn the_console_shows_the_incident_with_its_chart_in_real_chromium() {
    let driftd = Driftd::start(TEST_CONFIG);
    let api = driftd.url("api");
    send_latency_step(&driftd, &SERVICES).await;
    let browser = ChromeDriver::start().await;
    let page = browser.session(1280, 1100).await;
    page.goto(&format!("{api}/")).await;

    // The overview lists checkout's incident, and nothing for search.
    let links = link_texts(&page, "#incidents a", "the incident on the overview").await;
    assert_eq!(links, ["checkout"], "one incident, for the service that stepped");
    let open = page
        .run(
            "return document.querySelector('#open-incidents .n').textContent;",
            json!([]),
        )
        .await;
    assert_eq!(open, "1");

    // Its page: the summary, and a chart with the change in it, drawn.
    page.click("#incidents a").await;
    let charts = eventually(Duration::from_secs(30), "the incident's chart", || async {
        let charts = page.run(CHARTS, json!([])).await;
        charts
            .as_array()
            .filter(|c| !c.is_empty() && c.iter().all(|c| c["painted"].as_u64() > Some(0)))
            .cloned()
    })
    .await;
    let summary = page
        .run(
            "return document.querySelector('#incident-summary').textContent;",
            json!([]),
        )
        .await;
    assert!(summary.as_str().is_some_and(|s| s.contains("checkout")), "{summary}");
    for c in &charts {
        let n = |k: &str| c[k].as_u64().unwrap_or(0);
        assert!(c["title"].as_str().is_some_and(|t| t.starts_with("latency_ms")), "{c}");
        // The ring holds the last 120 samples as they came (60 before the step, 60
        // after) and the 180 before them in buckets of 30.
        assert!(n("before") >= 60, "points before the change: {c}");
        assert!(n("after") >= 50, "points after the change: {c}");
        assert!(n("band") >= 100, "the baseline band: {c}");
        assert!(n("painted") > 5_000, "uPlot drew the chart: {c}");
    }
    let shot = page.screenshot().await;
    assert!(shot.starts_with(b"\x89PNG"), "a PNG");
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/console-incident.png");
    std::fs::create_dir_all(concat!(env!("CARGO_MANIFEST_DIR"), "/docs")).expect("docs/");
    std::fs::write(path, &shot).expect("write the screenshot");

    // The series search finds checkout's series by its service; its page draws it live.
    page.goto(&format!("{api}/#/series?q=checkout")).await;
    let found = link_texts(&page, "#series a", "the search result").await;
    assert_eq!(found, ["latency_ms"], "only checkout's series matches");
    page.click("#series a").await;
    let series = eventually(Duration::from_secs(30), "the series chart", || async {
        let charts = page.run(CHARTS, json!([])).await;
        charts
            .as_array()
            .filter(|c| c.len() == 1 && c[0]["painted"].as_u64() > Some(5_000))
            .cloned()
    })
    .await;
    assert_eq!(series[0]["points"], 126, "the whole ring: {series:?}");

    // The pipelines page: every component of the pipeline, the receiver's own counters.
    page.goto(&format!("{api}/#/pipelines")).await;
    let shown = eventually(Duration::from_secs(30), "the pipelines page", || async {
        let text = page
            .run("return document.querySelector('main').innerText;", json!([]))
            .await;
        text.as_str()
            .filter(|t| t.contains("Effective config"))
            .map(str::to_string)
    })
    .await;
    for part in [
        "receiver otlp",
        "processor drift",
        "exporter api",
        "driftd_receiver_accepted_points_total",
    ] {
        assert!(shown.contains(part), "`{part}` on the pipelines page:\n{shown}");
    }
    page.close().await;

    // On a phone-sized window the incident page fits its width (wide tables scroll
    // inside their own box) and still draws its chart.
    let phone = browser.session(390, 844).await;
    phone
        .goto(&format!("{api}/#/incidents/{}", incident_id(&api).await))
        .await;
    let fits = eventually(Duration::from_secs(30), "the incident page on a phone", || async {
        let charts = phone.run(CHARTS, json!([])).await;
        let drawn = charts
            .as_array()
            .is_some_and(|c| !c.is_empty() && c[0]["painted"].as_u64() > Some(1_000));
        let widths = phone
            .run(
                "return [document.documentElement.scrollWidth, window.innerWidth];",
                json!([]),
            )
            .await;
        drawn.then_some(widths)
    })
    .await;
    assert!(
        fits[0].as_u64() <= fits[1].as_u64(),
        "page width {} in a window of {}",
        fits[0],
        fits[1]
    );
    phone.close().await;
}

/// The id of the one incident driftd holds.
async fn incident_id(api: &str) -> String {
    let body: Value = reqwest::get(format!("{api}/v1/incidents"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["incidents"][0]["id"].as_str().expect("an incident").to_string()
}

#[tokio::test]
async fn the_console_files_are_served_without_a_token_and_the_data_needs_one() {
    let config = TEST_CONFIG.replace(
        "  api:\n    endpoint: 127.0.0.1:0\n",
        "  api:\n    endpoint: 127.0.0.1:0\n    auth: {bearer_token: console-secret-0123456789}\n",
    );
    let driftd = Driftd::start(&config);
    let api = driftd.url("api");
    for path in ["/", "/console/app.js", "/console/uPlot.esm.js"] {
        let r = reqwest::get(format!("{api}{path}")).await.expect("get");
        assert_eq!(r.status(), 200, "{path}");
    }
    let r = reqwest::get(format!("{api}/console/nothing.js")).await.expect("get");
    assert_eq!(r.status(), 404);
    let r = reqwest::get(format!("{api}/v1/incidents")).await.expect("get");
    assert_eq!(r.status(), 401);
    let authorized = |path: &'static str| {
        let url = format!("{api}{path}");
        async move {
            let r = reqwest::Client::new()
                .get(url)
                .bearer_auth("console-secret-0123456789")
                .send()
                .await;
            r.expect("get").json::<Value>().await.expect("json")
        }
    };
    assert_eq!(authorized("/v1/incidents").await["incidents"], json!([]));
    // The running config is shown, its secret redacted.
    let pipelines = authorized("/debug/pipelines").await;
    let config = pipelines["config"].as_str().expect("the config");
    assert!(
        config.contains("bearer_token: '[redacted]'") && !config.contains("console-secret-0123456789"),
        "{config}"
    );
    assert_eq!(pipelines["pipelines"][0]["name"], "metrics", "{pipelines}");
}
