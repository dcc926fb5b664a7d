//! A fleet of service instances sending a latency histogram every second, through one
//! drift processor, and what came out: for the canary and incident tests.
#![allow(dead_code)] // each test uses a different part

use driftd_core::consumer::Buckets;
use driftd_core::{Batch, ConsumeError, Consumer, DriftEvent, Incident, LabelSource, Point, SeriesLabels, ValueKind};
use driftd_processors::drift::DriftProcessor;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, LogNormal};
use std::collections::BTreeMap;
use std::sync::Mutex;

pub const SECOND: u64 = 1_000_000_000;
/// 2026-01-01T00:00:07Z: not on a slice boundary.
pub const T0: u64 = 1_767_225_607 * SECOND;
const BOUNDS: [f64; 12] = [
    10.0, 25.0, 50.0, 75.0, 100.0, 150.0, 200.0, 300.0, 500.0, 750.0, 1000.0, 2500.0,
];

/// What the processor passed on.
#[derive(Default)]
pub struct Out {
    pub events: Mutex<Vec<DriftEvent>>,
    pub incidents: Mutex<Vec<Incident>>,
}

impl Consumer for Out {
    fn consume(&self, batch: &Batch<'_>) -> Result<(), ConsumeError> {
        self.events.lock().unwrap().extend_from_slice(batch.events);
        self.incidents.lock().unwrap().extend_from_slice(batch.incidents);
        Ok(())
    }
}

impl Out {
    /// The newest state of every incident, by id.
    pub fn incidents(&self) -> BTreeMap<String, Incident> {
        let mut newest = BTreeMap::new();
        for i in self.incidents.lock().unwrap().iter() {
            newest.insert(i.id.clone(), i.clone());
        }
        newest
    }

    pub fn canary_events(&self) -> Vec<DriftEvent> {
        let events = self.events.lock().unwrap();
        events.iter().filter(|e| e.detector == "canary").cloned().collect()
    }
}

/// One instance: its labels and how slow it is.
pub struct Instance {
    pub labels: SeriesLabels,
    /// Latency multiplier (1.0: as the others).
    pub slower: f64,
}

/// Instance `n` of `service` at `version`, `slower` times as slow as the others.
pub fn instance(service: &str, n: usize, version: &str, slower: f64) -> Instance {
    let labels = vec![
        ("service.name".to_string(), service.to_string()),
        ("service.instance.id".to_string(), format!("{service}-{n}")),
        ("service.version".to_string(), version.to_string()),
    ];
    Instance {
        labels: SeriesLabels::new("http.server.duration", labels),
        slower,
    }
}

/// One second of every instance: a delta histogram of 50 requests each, with the sum.
pub struct Second {
    labels: Vec<SeriesLabels>,
    buckets: Vec<Buckets>,
}

impl LabelSource for Second {
    fn labels(&self, origin: u32) -> SeriesLabels {
        self.labels[origin as usize].clone()
    }

    fn buckets(&self, origin: u32, out: &mut Buckets) -> bool {
        let b = &self.buckets[origin as usize];
        out.bounds.extend_from_slice(&b.bounds);
        out.counts.extend_from_slice(&b.counts);
        out.sum = b.sum;
        true
    }
}

/// Latencies around 100 ms (log-normal, σ 0.5 unless [`Service::with_sigma`]), each
/// instance a little off the others (±1%, as hosts are).
pub struct Service {
    rng: StdRng,
    offsets: Vec<f64>,
    sigma: f64,
}

impl Service {
    pub fn new(seed: u64, instances: usize) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let offsets = (0..instances).map(|_| rng.random_range(0.99..1.01)).collect();
        Service {
            rng,
            offsets,
            sigma: 0.5,
        }
    }

    /// The same with latencies of log-normal σ `sigma`.
    pub fn with_sigma(self, sigma: f64) -> Self {
        Service { sigma, ..self }
    }

    pub fn second(&mut self, at: u64, instances: &[Instance]) -> (Vec<Point>, Second) {
        let latency = LogNormal::new(100f64.ln(), self.sigma).unwrap();
        let mut second = Second {
            labels: Vec::new(),
            buckets: Vec::new(),
        };
        let mut points = Vec::new();
        for (k, i) in instances.iter().enumerate() {
            let mut counts = vec![0u64; BOUNDS.len() + 1];
            let mut sum = 0.0;
            for _ in 0..50 {
                let x = latency.sample(&mut self.rng) * i.slower * self.offsets[k];
                counts[BOUNDS.partition_point(|&b| b < x)] += 1;
                sum += x;
            }
            points.push(Point {
                series: i.labels.id(),
                time_unix_nano: T0 + at * SECOND,
                value: 50.0,
                kind: ValueKind::Histogram { cumulative: false },
                origin: k as u32,
            });
            second.labels.push(i.labels.clone());
            second.buckets.push(Buckets {
                bounds: BOUNDS.to_vec(),
                counts,
                sum: Some(sum),
                start_time_unix_nano: 0,
            });
        }
        (points, second)
    }
}

/// Feeds seconds `from..to` of `instances`.
pub fn run(p: &DriftProcessor, service: &mut Service, instances: &[Instance], from: u64, to: u64) {
    for at in from..to {
        let (points, second) = service.second(at, instances);
        p.consume(&Batch::new(&points, &second)).unwrap();
    }
}
