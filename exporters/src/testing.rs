//! Test fixtures shared by the pull exporters' tests: a series table with fixed contents.

use driftd_core::event::Stats;
use driftd_core::view::{SeriesSnapshot, SeriesState, SeriesView, SeriesViews};
use driftd_core::{SeriesId, SeriesLabels};
use std::sync::Arc;

/// A series table whose contents the test decides.
pub struct FixedView {
    pub series: Vec<SeriesSnapshot>,
    pub points: u64,
}

impl SeriesView for FixedView {
    fn series_count(&self) -> usize {
        self.series.len()
    }
    fn points_processed(&self) -> u64 {
        self.points
    }
    fn get(&self, id: SeriesId) -> Option<SeriesSnapshot> {
        self.series.iter().find(|s| s.id == id).cloned()
    }
    fn for_each(&self, visit: &mut dyn FnMut(SeriesSnapshot)) {
        self.series.iter().cloned().for_each(visit);
    }
}

/// Views holding one fixed table.
pub fn views(series: Vec<SeriesSnapshot>, points: u64) -> Arc<SeriesViews> {
    let views = Arc::new(SeriesViews::default());
    views.register(Arc::new(FixedView { series, points }));
    views
}

/// A series of `metric` with `labels`, in `state`; a baseline exists unless learning.
pub fn snapshot(metric: &str, labels: &[(&str, &str)], state: SeriesState) -> SeriesSnapshot {
    let labels = SeriesLabels::new(
        metric,
        labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
    );
    let learning = state == SeriesState::InsufficientData;
    SeriesSnapshot {
        id: labels.id(),
        labels: Arc::new(labels),
        state,
        transition_time: 1_768_213_845_000_000_000,
        sample_count: if learning { 12 } else { 250 },
        last_time: 1_768_213_900_000_000_000,
        last_value: 120.5,
        last_score: if learning { 0.0 } else { 1.25 },
        baseline: (!learning).then_some(Stats {
            mean: 100.0,
            stddev: 15.5,
            samples: 100,
        }),
        detector: "zscore",
    }
}

/// A build context around `views` and a fresh memory store.
pub fn context(views: Arc<SeriesViews>) -> driftd_core::component::BuildContext {
    driftd_core::component::BuildContext {
        store: Arc::new(crate::storage::memory::MemoryStore::new(
            std::num::NonZeroUsize::new(1_000).expect("non-zero"),
        )),
        views,
        http: Default::default(),
        limits: Default::default(),
        memory: Default::default(),
        listeners: Vec::new(),
        tasks: Vec::new(),
        durability: Default::default(),
        started_at: std::time::SystemTime::now(),
        running: Default::default(),
    }
}

/// Binds and serves every listener in `ctx` until the returned token is cancelled;
/// returns the bound addresses.
pub fn serve(
    ctx: driftd_core::component::BuildContext,
) -> (Vec<std::net::SocketAddr>, tokio_util::sync::CancellationToken) {
    let stop = tokio_util::sync::CancellationToken::new();
    let bound = ctx.http.bind(&ctx.limits).expect("binds");
    let addrs = bound.iter().map(|b| b.addr).collect();
    for b in bound {
        tokio::spawn(b.serve(stop.clone()));
    }
    (addrs, stop)
}

/// A plain HTTP/1.1 GET over a real socket: (status code, head, body).
pub async fn http_get(addr: std::net::SocketAddr, path: &str) -> (u16, String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut socket = tokio::net::TcpStream::connect(addr).await.expect("connects");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    socket.write_all(request.as_bytes()).await.expect("sends");
    let mut response = String::new();
    socket.read_to_string(&mut response).await.expect("reads");
    let (head, body) = response.split_once("\r\n\r\n").expect("a head and a body");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status code");
    (status, head.to_string(), body.to_string())
}

/// A `metrics` recorder that keeps counters by `name{label=value,...}` (labels sorted);
/// install it around the code that registers the counters with
/// `metrics::with_local_recorder`.
#[derive(Default)]
pub struct Counters {
    counters: std::sync::Mutex<std::collections::BTreeMap<String, Arc<std::sync::atomic::AtomicU64>>>,
}

impl Counters {
    /// The value of one counter, 0 if never registered.
    pub fn get(&self, name: &str) -> u64 {
        self.counters
            .lock()
            .expect("not poisoned")
            .get(name)
            .map_or(0, |c| c.load(std::sync::atomic::Ordering::Relaxed))
    }
}

impl metrics::Recorder for Counters {
    fn describe_counter(&self, _: metrics::KeyName, _: Option<metrics::Unit>, _: metrics::SharedString) {}
    fn describe_gauge(&self, _: metrics::KeyName, _: Option<metrics::Unit>, _: metrics::SharedString) {}
    fn describe_histogram(&self, _: metrics::KeyName, _: Option<metrics::Unit>, _: metrics::SharedString) {}

    fn register_counter(&self, key: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Counter {
        let mut labels: Vec<String> = key.labels().map(|l| format!("{}={}", l.key(), l.value())).collect();
        labels.sort();
        let name = format!("{}{{{}}}", key.name(), labels.join(","));
        let c = self
            .counters
            .lock()
            .expect("not poisoned")
            .entry(name)
            .or_default()
            .clone();
        metrics::Counter::from_arc(c)
    }

    fn register_gauge(&self, _: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Gauge {
        metrics::Gauge::noop()
    }

    fn register_histogram(&self, _: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Histogram {
        metrics::Histogram::noop()
    }
}
