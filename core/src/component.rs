//! The component model: what receivers, processors, exporters and storage backends
//! implement, and what they get at build time.

pub use crate::build_error::BuildError;
pub use crate::sink::{EventSink, ExportError, PointRecord, PointSink};

use crate::config::{ComponentConfig, ComponentId};
use crate::consumer::Consumer;
use crate::durability::Durability;
use crate::http::HttpListeners;
use crate::listener::ListenerLimits;
use crate::memory::MemoryLimiter;
use crate::queue::QueueSettings;
use crate::store::Store;
use crate::view::SeriesViews;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::SystemTime;
use tokio_util::sync::CancellationToken;

/// What flows through a pipeline.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Signal {
    /// Data points.
    Metrics,
    /// Drift events raised by the drift processor.
    Events,
}

impl Signal {
    /// The config spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Signal::Metrics => "metrics",
            Signal::Events => "events",
        }
    }
}

/// The closed set of components a binary ships (see `src/components.rs`).
pub trait Components {
    /// Every receiver config.
    type Receiver: ReceiverFactory;
    /// Every processor config.
    type Processor: ProcessorFactory;
    /// Every exporter config.
    type Exporter: ExporterFactory;
    /// Every storage backend config.
    type Storage: StoreFactory;
}

/// Shared services handed to components while they are built.
pub struct BuildContext {
    /// The storage backend.
    pub store: Arc<dyn Store>,
    /// Series tables, for pull exporters.
    pub views: Arc<SeriesViews>,
    /// Shared HTTP listeners: components add routes, the service binds and serves.
    pub http: HttpListeners,
    /// The limits every listener holds (`service.listeners`).
    pub limits: ListenerLimits,
    /// The memory limiter: processors that hold series register with it, and refuse
    /// new series while it says so.
    pub memory: Arc<MemoryLimiter>,
    /// Non-HTTP listeners bound so far, for the startup summary.
    pub listeners: Vec<(String, &'static str, SocketAddr)>,
    /// Background jobs (checkpoints, a receiver's last commit): started with the
    /// service, stopped after the receivers and before the exporters drain, so their
    /// last work is sent.
    pub tasks: Vec<(String, Box<dyn Task>)>,
    /// Checkpointing processors announce their save rounds here; receivers that
    /// acknowledge their source wait for them (see `durability`).
    pub durability: Durability,
    /// When the service started (for uptime).
    pub started_at: SystemTime,
    /// The config being run, for the API's `/debug/pipelines`.
    pub running: Arc<crate::view::RunningConfig>,
}

/// A running receiver's (or task's) future.
pub type RunFuture = Pin<Box<dyn Future<Output = Result<(), RunError>> + Send>>;

/// Why a running receiver or task stopped with an error: what it was doing, and the
/// cause.
#[derive(Debug, thiserror::Error)]
#[error("{doing}: {source}")]
pub struct RunError {
    /// What failed, e.g. "OTLP/gRPC server" or a file's path.
    pub doing: String,
    /// The cause.
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

impl RunError {
    /// `doing` failed because of `source`.
    pub fn new(doing: impl Into<String>, source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        RunError {
            doing: doing.into(),
            source: source.into(),
        }
    }
}

/// A built receiver: its sockets are bound; `run` serves until `shutdown`.
pub trait Receiver: Send {
    /// Serves until `shutdown` is cancelled, then returns once in-flight requests are done.
    fn run(self: Box<Self>, shutdown: CancellationToken) -> RunFuture;
}

/// Builds a receiver from its config.
#[allow(async_fn_in_trait)]
pub trait ReceiverFactory: ComponentConfig {
    /// Binds sockets and returns the receiver; `output` is the pipeline(s) it feeds.
    /// Receivers that only serve HTTP routes add them to `ctx.http` and return `None`.
    async fn build(
        &self,
        id: &ComponentId,
        ctx: &mut BuildContext,
        output: Arc<dyn Consumer>,
    ) -> Result<Option<Box<dyn Receiver>>, BuildError>;
}

/// A component's background job.
pub trait Task: Send {
    /// Works until `stop` is cancelled, then finishes (e.g. writes a last checkpoint).
    fn run(self: Box<Self>, stop: CancellationToken) -> RunFuture;
}

/// Builds a processor, one instance per pipeline.
#[allow(async_fn_in_trait)]
pub trait ProcessorFactory: ComponentConfig {
    /// Whether the processor raises drift events.
    fn emits_events(&self) -> bool;
    /// Builds the stage of `pipeline` that feeds `next` (restoring saved state first).
    async fn build(
        &self,
        id: &ComponentId,
        pipeline: &str,
        ctx: &mut BuildContext,
        next: Arc<dyn Consumer>,
    ) -> Result<Arc<dyn Consumer>, BuildError>;
}

/// A built exporter.
pub enum Exporter {
    /// Events pushed through the core's bounded queue and retry loop.
    Events {
        /// Where events go.
        sink: Arc<dyn EventSink>,
        /// Queue and retry settings (the point queue, when there is one, uses them too).
        queue: QueueSettings,
        /// Where raw points go, for exporters that store them; `None` (most exporters)
        /// leaves the hot path as it is: no point is copied.
        points: Option<Arc<dyn PointSink>>,
    },
    /// Reads state at request time (routes added to `ctx.http`); nothing is pushed.
    Pull,
}

/// Builds an exporter from its config.
#[allow(async_fn_in_trait)]
pub trait ExporterFactory: ComponentConfig {
    /// The signals this exporter takes.
    fn accepts(&self) -> &'static [Signal];
    /// Builds it (binding listeners for pull exporters).
    async fn build(&self, id: &ComponentId, ctx: &mut BuildContext) -> Result<Exporter, BuildError>;
}

/// Builds the storage backend.
#[allow(async_fn_in_trait)]
pub trait StoreFactory: ComponentConfig {
    /// Connects (or opens) the store.
    async fn build(&self) -> Result<Arc<dyn Store>, BuildError>;
}
