//! Assembly and lifecycle: build downstream-first (storage, exporters, processors,
//! receivers; every socket bound before anything runs), run, then stop upstream-first
//! (receivers, then exporter queues drain and flush).

use crate::assembly::Config;
use crate::component::{
    BuildContext, BuildError, Components, Exporter, ExporterFactory, ProcessorFactory, Receiver, ReceiverFactory,
    RunError, StoreFactory, Task,
};
use crate::config::ComponentId;
use crate::consumer::{Consumer, Discard, FanOut};
use crate::http::BoundHttp;
use crate::memory::{MemoryGate, MemoryLimiter};
use crate::queue::{ExportQueue, PointQueue, QueueWorker};
use crate::view::{RunningConfig, SeriesViews};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// Why a running service stopped before it was asked to.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// A receiver failed.
    #[error("receiver `{id}`: {source}")]
    Receiver {
        /// The receiver's id.
        id: ComponentId,
        /// Why.
        source: RunError,
    },
    /// A receiver returned while it should have kept serving.
    #[error("a receiver stopped unexpectedly")]
    Stopped,
    /// A receiver panicked.
    #[error("a receiver panicked: {0}")]
    Panicked(tokio::task::JoinError),
}

/// A component that failed to build, and why.
#[derive(Debug, thiserror::Error)]
#[error("{role} `{id}`: {source}")]
pub struct ServiceBuildError {
    /// receiver, processor, exporter or storage.
    pub role: &'static str,
    /// The component id.
    pub id: String,
    /// The cause.
    #[source]
    pub source: BuildError,
}

/// `service.shutdown`: how long each phase of a shutdown may take. Each phase has its
/// own deadline, so a slow one cannot eat the time of the next: a stuck exporter does
/// not cost the final checkpoint, nor a slow client the exporters' drain.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShutdownDeadlines {
    /// Receivers stop taking data and finish the requests in flight.
    #[serde(default = "ShutdownDeadlines::phase", with = "humantime_serde")]
    pub receivers: Duration,
    /// Processors write their final checkpoint, and receivers commit what it covers.
    #[serde(default = "ShutdownDeadlines::phase", with = "humantime_serde")]
    pub processors: Duration,
    /// Exporters send what is queued and flush; what is left after it is dropped.
    #[serde(default = "ShutdownDeadlines::phase", with = "humantime_serde")]
    pub exporters: Duration,
}

impl ShutdownDeadlines {
    fn phase() -> Duration {
        Duration::from_secs(10)
    }
}

impl Default for ShutdownDeadlines {
    fn default() -> Self {
        ShutdownDeadlines {
            receivers: Self::phase(),
            processors: Self::phase(),
            exporters: Self::phase(),
        }
    }
}

/// When `run_with` stops serving.
enum Until {
    /// A shutdown signal (or a failed receiver).
    Shutdown,
    /// Every receiver returned (replay).
    ReceiversDone,
}

/// One listening socket, for the startup summary.
#[derive(Debug, Clone)]
pub struct Listener {
    /// Components served there, joined by `+`.
    pub components: String,
    /// `grpc`, `http`.
    pub protocol: &'static str,
    /// The bound address.
    pub addr: SocketAddr,
}

/// A built driftd: every socket bound, nothing running yet.
pub struct Service {
    receivers: Vec<(ComponentId, Box<dyn Receiver>)>,
    http: Vec<BoundHttp>,
    tasks: Vec<(String, Box<dyn Task>)>,
    workers: Vec<QueueWorker>,
    listeners: Vec<Listener>,
    deadlines: ShutdownDeadlines,
    /// The series tables, for callers that want to read state (tests, replay).
    pub views: Arc<SeriesViews>,
}

fn fail(role: &'static str, id: impl ToString) -> impl FnOnce(BuildError) -> ServiceBuildError {
    move |source| ServiceBuildError {
        role,
        id: id.to_string(),
        source,
    }
}

impl Service {
    /// Builds every component the pipelines use.
    pub async fn build<C: Components>(config: &Config<C>) -> Result<Service, ServiceBuildError> {
        let store = config.storage.build().await.map_err(fail("storage", "storage"))?;
        let mut ctx = BuildContext {
            store,
            views: Arc::new(SeriesViews::default()),
            http: Default::default(),
            limits: config.service.listeners.clone(),
            memory: MemoryLimiter::new(&config.service.memory_limiter),
            listeners: Vec::new(),
            tasks: Vec::new(),
            durability: Default::default(),
            started_at: SystemTime::now(),
            running: Arc::new(RunningConfig {
                pipelines: config.service.pipelines.clone(),
                yaml: serde_yaml::to_string(config).unwrap_or_default(),
            }),
        };
        let pipelines = &config.service.pipelines;

        // Exporters, once each however many pipelines use them.
        let mut exporters: BTreeMap<&ComponentId, Option<Arc<dyn Consumer>>> = BTreeMap::new();
        let mut workers = Vec::new();
        for id in pipelines.values().flat_map(|p| &p.exporters) {
            if exporters.contains_key(id) {
                continue;
            }
            let built = config.exporters[id]
                .build(id, &mut ctx)
                .await
                .map_err(fail("exporter", id))?;
            let consumer = match built {
                Exporter::Events { sink, queue, points } => {
                    let name = id.to_string();
                    let mut consumers = Vec::new();
                    if let Some(points) = points {
                        let (queue, worker) = PointQueue::start(&name, points, queue.clone());
                        workers.push(worker);
                        consumers.push(Arc::new(queue) as Arc<dyn Consumer>);
                    }
                    let (queue, worker) = ExportQueue::start(&name, sink, queue);
                    workers.push(worker);
                    consumers.push(Arc::new(queue) as Arc<dyn Consumer>);
                    Some(FanOut::of(consumers))
                }
                Exporter::Pull => None,
            };
            exporters.insert(id, consumer);
        }

        // Processors, one chain per pipeline, built back to front.
        let mut heads: BTreeMap<&str, Arc<dyn Consumer>> = BTreeMap::new();
        for (name, p) in pipelines {
            let pushed: Vec<_> = p.exporters.iter().filter_map(|id| exporters[id].clone()).collect();
            let mut next = if pushed.is_empty() {
                Arc::new(Discard) as Arc<dyn Consumer>
            } else {
                FanOut::of(pushed)
            };
            for id in p.processors.iter().rev() {
                next = config.processors[id]
                    .build(id, name, &mut ctx, next)
                    .await
                    .map_err(fail("processor", id))?;
            }
            heads.insert(name, MemoryGate::in_front_of(ctx.memory.clone(), next));
        }

        // Receivers, once each, feeding every pipeline that lists them.
        let mut receivers = Vec::new();
        let mut seen = Vec::new();
        for id in pipelines.values().flat_map(|p| &p.receivers) {
            if seen.contains(&id) {
                continue;
            }
            seen.push(id);
            let outputs = pipelines
                .iter()
                .filter(|(_, p)| p.receivers.contains(id))
                .map(|(name, _)| heads[name.as_str()].clone())
                .collect();
            if let Some(r) = config.receivers[id]
                .build(id, &mut ctx, FanOut::of(outputs))
                .await
                .map_err(fail("receiver", id))?
            {
                receivers.push((id.clone(), r));
            }
        }

        if let Some(watch) = ctx.memory.watch(config.service.memory_limiter.check_interval) {
            ctx.tasks.push(("memory limiter".to_string(), watch));
        }
        let http = ctx.http.bind(&ctx.limits).map_err(fail("listener", "http"))?;
        let mut listeners: Vec<Listener> = ctx
            .listeners
            .into_iter()
            .map(|(components, protocol, addr)| Listener {
                components,
                protocol,
                addr,
            })
            .collect();
        listeners.extend(http.iter().map(|h| Listener {
            components: h.components.join("+"),
            protocol: "http",
            addr: h.addr,
        }));
        Ok(Service {
            receivers,
            http,
            tasks: ctx.tasks,
            workers,
            listeners,
            deadlines: config.service.shutdown.clone(),
            views: ctx.views,
        })
    }

    /// Every socket driftd listens on.
    pub fn listeners(&self) -> &[Listener] {
        &self.listeners
    }

    /// Runs until `shutdown` is cancelled (or a receiver fails), then stops receivers,
    /// writes the final checkpoints, drains exporter queues and flushes, each phase
    /// within its `service.shutdown` deadline.
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), ServiceError> {
        self.run_with(shutdown, Until::Shutdown).await
    }

    /// Runs until every receiver has finished on its own (a `file` receiver at the end of
    /// its input: replay), then drains and flushes exactly as a shutdown does.
    pub async fn run_to_completion(self) -> Result<(), ServiceError> {
        self.run_with(CancellationToken::new(), Until::ReceiversDone).await
    }

    async fn run_with(self, shutdown: CancellationToken, until: Until) -> Result<(), ServiceError> {
        let deadlines = self.deadlines;
        let stop_receivers = CancellationToken::new();
        let mut receivers = JoinSet::new();
        for (id, r) in self.receivers {
            let stop = stop_receivers.clone();
            receivers.spawn(async move {
                r.run(stop)
                    .await
                    .map_err(|source| ServiceError::Receiver { id, source })
            });
        }
        let mut listeners = JoinSet::new();
        for h in self.http {
            let stop = stop_receivers.clone();
            listeners.spawn(async move {
                h.serve(stop).await;
                Ok(())
            });
        }
        let stop_tasks = CancellationToken::new();
        let mut tasks = JoinSet::new();
        for (name, t) in self.tasks {
            let stop = stop_tasks.clone();
            tasks.spawn(async move { t.run(stop).await.map_err(|e| format!("{name}: {e}")) });
        }
        let unexpected = |done: Option<Result<Result<(), ServiceError>, tokio::task::JoinError>>| match done {
            Some(Ok(Ok(()))) | None => Err(ServiceError::Stopped),
            Some(Ok(Err(e))) => Err(e),
            Some(Err(e)) => Err(ServiceError::Panicked(e)),
        };

        let mut outcome = Ok(());
        match until {
            Until::Shutdown => tokio::select! {
                _ = shutdown.cancelled() => {}
                done = receivers.join_next(), if !receivers.is_empty() => outcome = unexpected(done),
                done = listeners.join_next(), if !listeners.is_empty() => outcome = unexpected(done),
            },
            Until::ReceiversDone => {
                while let Some(done) = receivers.join_next().await {
                    if let Err(e) = done.map_err(ServiceError::Panicked).and_then(|r| r) {
                        outcome = outcome.and(Err(e));
                    }
                }
            }
        }

        tracing::info!("shutting down: stopping receivers");
        stop_receivers.cancel();
        let stopped = tokio::time::timeout(deadlines.receivers, async {
            for set in [&mut receivers, &mut listeners] {
                while let Some(r) = set.join_next().await {
                    if let Ok(Err(e)) = r {
                        tracing::warn!(error = %e, "while stopping");
                    }
                }
            }
        })
        .await;
        if stopped.is_err() {
            tracing::warn!(deadline = ?deadlines.receivers, "receivers did not stop within service.shutdown.receivers: requests in flight were cut");
            receivers.abort_all();
            listeners.abort_all();
        }

        // Tasks finish their last work before exporters drain: processors write a final
        // checkpoint, then receivers commit what it covers (see `durability`).
        stop_tasks.cancel();
        let finished = tokio::time::timeout(deadlines.processors, async {
            while let Some(r) = tasks.join_next().await {
                if let Ok(Err(e)) = r {
                    tracing::warn!(error = %e, "while stopping");
                }
            }
        })
        .await;
        if finished.is_err() {
            tracing::warn!(deadline = ?deadlines.processors, "processors did not finish within service.shutdown.processors: the last checkpoint or commit may be missing");
            tasks.abort_all();
        }

        tracing::info!("draining exporters");
        let deadline = tokio::time::Instant::now() + deadlines.exporters;
        for w in self.workers {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            w.drain(left).await;
        }
        tracing::info!("stopped");
        outcome
    }
}
