use super::*;
use crate::testing::snapshot;
use driftd_core::view::SeriesState;

fn labels(metric: &str, pairs: &[(&str, &str)]) -> SeriesLabels {
    SeriesLabels::new(
        metric,
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
    )
}

fn scrape(recorded: &str, series: &[SeriesSnapshot]) -> String {
    render(&Exposition {
        recorded,
        series_tracked: series.len(),
        points_processed: 4_200,
        series,
        entities: &[],
        format: Format::Text,
    })
}

/// The sample lines of one family.
fn samples<'a>(text: &'a str, family: &str) -> Vec<&'a str> {
    text.lines()
        .filter(|l| l.strip_prefix(family).is_some_and(|r| r.starts_with(['{', ' '])))
        .collect()
}

#[test]
fn label_keys_are_sanitised() {
    let l = labels(
        "m",
        &[("service.name", "api"), ("9lives", "x"), ("", "e"), ("ünï", "u")],
    );
    assert_eq!(
        label_block(&l),
        r#"{metric="m",_="e",_9lives="x",service_name="api",_n_="u"}"#
    );
}

#[test]
fn clashing_label_names_get_a_prefix() {
    let l = labels(
        "m",
        &[
            ("a.b", "1"),
            ("a_b", "2"),
            ("label_a_b", "3"),
            ("metric", "4"),
            ("__name__", "5"),
        ],
    );
    // Keys are sorted: __name__, a.b, a_b, label_a_b, metric.
    assert_eq!(
        label_block(&l),
        r#"{metric="m",label___name__="5",a_b="1",label_a_b="2",label_label_a_b="3",label_metric="4"}"#
    );
}

#[test]
fn label_values_are_escaped() {
    let l = labels("lat\"ency\\", &[("path", "/a\"b\\c\nd"), ("plain", "ok")]);
    assert_eq!(
        label_block(&l),
        r#"{metric="lat\"ency\\",path="/a\"b\\c\nd",plain="ok"}"#
    );
}

#[test]
fn states_map_to_gauge_values() {
    let series = [
        snapshot("a", &[], SeriesState::InsufficientData),
        snapshot("b", &[], SeriesState::Stable),
        snapshot("c", &[], SeriesState::DriftDetected),
    ];
    let text = scrape("", &series);
    assert_eq!(
        samples(&text, "driftd_series_state"),
        [
            r#"driftd_series_state{metric="a"} 0.0"#,
            r#"driftd_series_state{metric="b"} 1.0"#,
            r#"driftd_series_state{metric="c"} 2.0"#,
        ]
    );
}

#[test]
fn baseline_gauges_appear_once_a_baseline_exists() {
    let series = [
        snapshot("learning", &[("service.name", "a")], SeriesState::InsufficientData),
        snapshot("known", &[("service.name", "a")], SeriesState::Stable),
    ];
    let text = scrape("", &series);
    assert_eq!(
        samples(&text, "driftd_series_baseline_mean"),
        [r#"driftd_series_baseline_mean{metric="known",service_name="a"} 100.0"#]
    );
    assert_eq!(
        samples(&text, "driftd_series_baseline_stddev"),
        [r#"driftd_series_baseline_stddev{metric="known",service_name="a"} 15.5"#]
    );
    assert_eq!(samples(&text, "driftd_series_samples_total").len(), 2);
    assert_eq!(samples(&text, "driftd_series_score").len(), 2);
    assert!(text.contains(r#"driftd_series_samples_total{metric="learning",service_name="a"} 12"#));
}

#[test]
fn families_have_help_and_type_once() {
    let series: Vec<_> = (0..3)
        .map(|i| snapshot("m", &[("i", &i.to_string())], SeriesState::Stable))
        .collect();
    let text = scrape("# TYPE other counter\nother 1\n", &series);
    for (name, kind) in [
        ("driftd_series_tracked", "gauge"),
        ("driftd_points_processed_total", "counter"),
        ("driftd_series_state", "gauge"),
        ("driftd_series_score", "gauge"),
        ("driftd_series_baseline_mean", "gauge"),
        ("driftd_series_baseline_stddev", "gauge"),
        ("driftd_series_samples_total", "counter"),
    ] {
        let help = format!("# HELP {name} ");
        let ty = format!("# TYPE {name} {kind}");
        assert_eq!(text.lines().filter(|l| l.starts_with(&help)).count(), 1, "{name}");
        assert_eq!(text.lines().filter(|l| *l == ty).count(), 1, "{name}");
    }
    assert!(text.starts_with("# TYPE other counter\nother 1\n"));
    assert_eq!(samples(&text, "driftd_series_tracked"), ["driftd_series_tracked 3"]);
    assert_eq!(
        samples(&text, "driftd_points_processed_total"),
        ["driftd_points_processed_total 4200"]
    );
}

#[test]
fn families_the_recorder_already_exposes_are_not_repeated() {
    let recorded = "# TYPE driftd_series_tracked gauge\ndriftd_series_tracked 7";
    let text = scrape(recorded, &[]);
    assert_eq!(text.matches("# TYPE driftd_series_tracked ").count(), 1);
    assert!(text.contains("driftd_series_tracked 7\n# HELP driftd_points_processed_total"));
    // A family whose name merely starts the same way is still written.
    assert!(!exposes(
        "# TYPE driftd_series_tracked_x gauge",
        "driftd_series_tracked"
    ));
}

#[test]
fn no_series_means_no_series_families() {
    let text = scrape("", &[]);
    assert!(!text.contains("driftd_series_state"));
    assert!(text.contains("driftd_series_tracked 0\n"));
}

#[test]
fn special_floats_use_prometheus_spelling() {
    let mut s = snapshot("m", &[], SeriesState::Stable);
    s.last_score = f64::NAN;
    let mut t = snapshot("n", &[], SeriesState::Stable);
    t.last_score = f64::INFINITY;
    let mut u = snapshot("o", &[], SeriesState::Stable);
    u.last_score = f64::NEG_INFINITY;
    let mut v = snapshot("p", &[], SeriesState::Stable);
    v.last_score = 1e-300;
    let text = scrape("", &[s, t, u, v]);
    assert_eq!(
        samples(&text, "driftd_series_score"),
        [
            r#"driftd_series_score{metric="m"} NaN"#,
            r#"driftd_series_score{metric="n"} +Inf"#,
            r#"driftd_series_score{metric="o"} -Inf"#,
            r#"driftd_series_score{metric="p"} 1e-300"#,
        ]
    );
}

#[test]
fn a_hundred_thousand_series_render_in_one_buffer() {
    let base = snapshot(
        "latency_ms",
        &[("service.name", "svc"), ("route", "/x")],
        SeriesState::Stable,
    );
    let series: Vec<_> = (0..100_000)
        .map(|i| {
            let mut s = base.clone();
            s.labels = std::sync::Arc::new(labels(
                "latency_ms",
                &[("service.name", &format!("svc-{i}")), ("route", "/x")],
            ));
            s
        })
        .collect();
    let started = std::time::Instant::now();
    let text = scrape("", &series);
    let took = started.elapsed();
    assert_eq!(samples(&text, "driftd_series_state").len(), 100_000);
    assert_eq!(text.lines().count(), 2 * 3 + 5 * 2 + 5 * 100_000);
    // The estimate must cover the output, or the buffer would have grown (and copied).
    let labels = LabelBlocks::of(&series);
    let per_series: usize = SERIES_FAMILIES
        .iter()
        .map(|f| 100_000 * (f.name.len() + VALUE_WIDTH) + labels.text.len() + f.help.len() + 64)
        .sum();
    assert!(text.len() <= per_series + 1024);
    eprintln!("rendered 100,000 series ({} bytes) in {took:?}", text.len());
}

#[test]
fn chunks_are_whole_lines_that_add_up_to_the_scrape() {
    let series: Vec<_> = (0..1_000)
        .map(|i| snapshot("m", &[("n", &i.to_string())], SeriesState::Stable))
        .collect();
    let exposition = Exposition {
        recorded: "# TYPE x counter\nx 1\n",
        series_tracked: series.len(),
        points_processed: 1,
        series: &series,
        entities: &[],
        format: Format::Text,
    };
    let mut chunks = Vec::new();
    render_chunks(&exposition, 4096, &mut |c| chunks.push(c));
    assert!(chunks.len() > 10, "{} chunks", chunks.len());
    assert!(chunks.iter().all(|c| c.ends_with('\n') && c.len() < 4096 + 200));
    assert_eq!(chunks.concat(), render(&exposition));
}

#[test]
fn entity_health_is_one_gauge_per_entity() {
    let entity = |id: &str, health| EntitySnapshot {
        id: id.to_string(),
        series: 3,
        drifting: 1,
        instances: 0,
        health,
        incident: None,
    };
    let entities = [entity("checkout", 80.0), entity("shop/\"search\"", 100.0)];
    let text = render(&Exposition {
        recorded: "",
        series_tracked: 0,
        points_processed: 0,
        series: &[],
        entities: &entities,
        format: Format::Text,
    });
    assert_eq!(
        samples(&text, "driftd_entity_health"),
        [
            "driftd_entity_health{entity=\"checkout\"} 80.0",
            "driftd_entity_health{entity=\"shop/\\\"search\\\"\"} 100.0"
        ]
    );
    assert_eq!(text.matches("# TYPE driftd_entity_health gauge").count(), 1);
}

#[test]
fn scrapers_get_openmetrics_when_they_prefer_it() {
    // Prometheus 2.x's own Accept header.
    let prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
    assert_eq!(Format::negotiate(Some(prometheus)), Format::OpenMetrics);
    assert_eq!(
        Format::negotiate(Some("application/openmetrics-text")),
        Format::OpenMetrics
    );
    assert_eq!(Format::negotiate(None), Format::Text);
    assert_eq!(Format::negotiate(Some("*/*")), Format::Text);
    assert_eq!(
        Format::negotiate(Some("text/plain, application/openmetrics-text")),
        Format::Text
    );
    assert_eq!(
        Format::negotiate(Some("text/plain;q=0.2, application/openmetrics-text;q=0.9")),
        Format::OpenMetrics
    );
    assert_eq!(
        Format::negotiate(Some("application/openmetrics-text;q=0")),
        Format::Text
    );
}

#[test]
fn openmetrics_names_counter_families_without_total_and_ends_with_eof() {
    let recorded = "# HELP driftd_receiver_requests_total Requests answered.\n\
                    # TYPE driftd_receiver_requests_total counter\n\
                    driftd_receiver_requests_total{outcome=\"ok\"} 3\n\n\
                    # HELP driftd_exporter_queue_size Batches waiting.\n\
                    # TYPE driftd_exporter_queue_size gauge\n\
                    driftd_exporter_queue_size 0\n\n";
    let series = [snapshot("m", &[], SeriesState::Stable)];
    let text = render(&Exposition {
        recorded,
        series_tracked: 1,
        points_processed: 7,
        series: &series,
        entities: &[],
        format: Format::OpenMetrics,
    });
    let lines: Vec<&str> = text.lines().collect();
    assert!(!lines.contains(&""), "no blank lines:\n{text}");
    assert_eq!(lines.last(), Some(&"# EOF"));
    assert_eq!(text.matches("# EOF").count(), 1);
    for want in [
        "# HELP driftd_receiver_requests Requests answered.",
        "# TYPE driftd_receiver_requests counter",
        "driftd_receiver_requests_total{outcome=\"ok\"} 3",
        "# TYPE driftd_exporter_queue_size gauge",
        "# TYPE driftd_points_processed counter",
        "driftd_points_processed_total 7",
        "# TYPE driftd_series_samples counter",
        "# TYPE driftd_series_tracked gauge",
    ] {
        assert!(lines.contains(&want), "`{want}` missing:\n{text}");
    }
    // The text format keeps the names as they are.
    let plain = scrape(recorded, &series);
    assert!(
        plain.contains("# TYPE driftd_points_processed_total counter\n"),
        "{plain}"
    );
    assert!(!plain.contains("# EOF"));
}
