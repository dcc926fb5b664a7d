//! One Prometheus scrape's rendering of 100,000 series (every per-series family), the
//! part of `/metrics` that grows with the series count.
//!
//!     cargo bench -p driftd-exporters --bench prometheus

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use driftd_core::view::{SeriesSnapshot, SeriesState};
use driftd_core::{SeriesLabels, Stats};
use driftd_exporters::prometheus::render::{render, Exposition, Format};
use std::hint::black_box;
use std::sync::Arc;

const SERIES: usize = 100_000;

fn series() -> Vec<SeriesSnapshot> {
    (0..SERIES)
        .map(|i| {
            let labels = SeriesLabels::new(
                "latency_ms",
                vec![
                    ("service.name".into(), format!("sim-{i}")),
                    ("route".into(), "/checkout".into()),
                ],
            );
            SeriesSnapshot {
                id: labels.id(),
                labels: Arc::new(labels),
                state: SeriesState::Stable,
                transition_time: 1_767_225_600_000_000_000,
                sample_count: 1_000 + i as u64,
                last_time: 1_767_225_700_000_000_000,
                last_value: 10.0 + (i % 97) as f64 / 7.0,
                last_score: (i % 13) as f64 / 3.0 - 2.0,
                baseline: Some(Stats {
                    mean: 10.0 + (i % 89) as f64 / 11.0,
                    stddev: 1.0 + (i % 7) as f64 / 9.0,
                    samples: 1_000,
                }),
                detector: "auto",
            }
        })
        .collect()
}

fn scrape(c: &mut Criterion) {
    let series = series();
    let mut group = c.benchmark_group("prometheus_render");
    group.throughput(Throughput::Elements(SERIES as u64));
    group.sample_size(20);
    group.bench_function("100k_series", |b| {
        b.iter(|| {
            black_box(render(&Exposition {
                recorded: "",
                series_tracked: SERIES,
                points_processed: 1,
                series: &series,
                entities: &[],
                format: Format::Text,
            }))
        })
    });
    group.finish();
}

criterion_group!(benches, scrape);
criterion_main!(benches);
