//! A store that goes down mid-run: ingestion goes on (the storage exporter's queue takes
//! events without waiting), writes fail as Unavailable and are retried, and once the
//! server is back the queued events and new checkpoints are written. Uses a private
//! redis-server on its own port, started and stopped by this test, so other tests'
//! Redis is never touched.

mod common;

use common::*;
use driftd_core::consumer::{Batch, Consumer, LabelSource};
use driftd_core::queue::{ExportQueue, QueueSettings};
use driftd_core::store::{EventQuery, Store, StoreError};
use driftd_core::{EventKind, SeriesLabels};
use driftd_exporters::conformance::{sample_checkpoint, sample_event, BASE_TIME, SECOND};
use driftd_exporters::storage::StoreSink;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A redis-server child process on `port`, killed when dropped.
struct PrivateRedis(Child);

impl PrivateRedis {
    fn start(port: u16) -> PrivateRedis {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start redis-server (install Debian's redis-server): {e}"));
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not listen on {port}");
            std::thread::sleep(Duration::from_millis(20));
        }
        PrivateRedis(child)
    }

    fn stop(mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

struct NoLabels;
impl LabelSource for NoLabels {
    fn labels(&self, _: u32) -> SeriesLabels {
        SeriesLabels::new("m", vec![])
    }
}

async fn stored(store: &dyn Store) -> Result<usize, StoreError> {
    store
        .events(&EventQuery {
            limit: 100,
            ..EventQuery::default()
        })
        .await
        .map(|p| p.total)
}

async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_going_down_does_not_stop_ingestion_and_writes_resume() {
    let port = free_port();
    let redis = PrivateRedis::start(port);
    let store = store(
        "redis",
        &format!("{{url: \"redis://127.0.0.1:{port}\", key_prefix: \"outage:\", retention: 100y, timeout: 500ms}}"),
    )
    .await;
    let settings: QueueSettings = serde_yaml::from_str(
        "{queue_size: 1000, retry_on_failure: {initial_interval: 50ms, max_interval: 200ms, max_elapsed_time: 60s}}",
    )
    .expect("parses");
    let (queue, worker) = ExportQueue::start("storage", Arc::new(StoreSink::new(store.clone())), settings);
    let event = |i: u64| {
        sample_event(
            "latency_ms",
            &format!("svc-{i}"),
            EventKind::DriftStart,
            BASE_TIME + i * SECOND,
        )
    };

    queue
        .consume(&Batch::new(&[], &NoLabels).with_events(&[event(0)]))
        .expect("takes");
    eventually("the first event is stored", async || {
        stored(store.as_ref()).await.ok() == Some(1)
    })
    .await;

    redis.stop();
    let started = Instant::now();
    for i in 1..=20 {
        queue
            .consume(&Batch::new(&[], &NoLabels).with_events(&[event(i)]))
            .expect("ingestion goes on while the store is down");
    }
    assert!(
        started.elapsed() < Duration::from_millis(200),
        "handing events over never waits on the store"
    );
    assert!(
        matches!(stored(store.as_ref()).await, Err(StoreError::Unavailable(_))),
        "reads say the store is unavailable"
    );
    let cp = sample_checkpoint("latency_ms", "svc-1", b"detector state", BASE_TIME);
    assert!(matches!(
        store.save_checkpoints("drift", std::slice::from_ref(&cp)).await,
        Err(StoreError::Unavailable(_))
    ));
    // Let the queue fail and retry a few times while the server is gone.
    tokio::time::sleep(Duration::from_millis(600)).await;

    // Back on the same port (empty: this Redis keeps nothing on disk).
    let redis = PrivateRedis::start(port);
    eventually("the queued events are written once the store is back", async || {
        stored(store.as_ref()).await.ok() == Some(20)
    })
    .await;
    store
        .save_checkpoints("drift", std::slice::from_ref(&cp))
        .await
        .expect("checkpoints are saved again");
    assert_eq!(store.load_checkpoints("drift").await.expect("loads"), [cp]);
    worker.drain(Duration::from_secs(5)).await;
    drop(redis);
}
