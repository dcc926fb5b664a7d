//! The component model: what receivers, processors, exporters and storage backends
//! implement, and what they get at build time.

use crate::config::{ComponentConfig, ComponentId};
use crate::consumer::Consumer;
use crate::durability::Durability;
use crate::event::DriftEvent;
use crate::http::HttpListeners;
use crate::incident::Incident;
use crate::model::{Point, SeriesId};
use crate::queue::QueueSettings;
use crate::store::Store;
use crate::view::SeriesViews;
use async_trait::async_trait;
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

/// Why a component could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// A listener could not bind.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// Two components claim the same route on one shared listener.
    #[error("route {path} on {addr} is claimed by both `{first}` and `{second}`")]
    RouteClash {
        /// Listener address.
        addr: SocketAddr,
        /// The path.
        path: String,
        /// Component that registered it first.
        first: String,
        /// Component that registered it again.
        second: String,
    },
    /// Anything else, with a message that says what to change.
    #[error("{0}")]
    Other(String),
}

/// Shared services handed to components while they are built.
pub struct BuildContext {
    /// The storage backend.
    pub store: Arc<dyn Store>,
    /// Series tables, for pull exporters.
    pub views: Arc<SeriesViews>,
    /// Shared HTTP listeners: components add routes, the service binds and serves.
    pub http: HttpListeners,
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

/// A running receiver's future.
pub type RunFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

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

/// Why an export failed, so the queue knows whether to retry.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Worth retrying (timeout, 5xx, connection refused).
    #[error("{0}")]
    Transient(String),
    /// Retrying will not help (4xx, rejected data); the events are dropped and counted.
    #[error("{0}")]
    Permanent(String),
}

/// Where a pushed exporter sends events. Driven by the core's queue worker.
#[async_trait]
pub trait EventSink: Send + Sync {
    /// Sends one batch of events.
    async fn export(&self, events: &[DriftEvent]) -> Result<(), ExportError>;
    /// Sends one batch of incident updates (each the incident's whole state after the
    /// change it names). Sinks that only speak of events ignore them.
    async fn export_incidents(&self, incidents: &[Incident]) -> Result<(), ExportError> {
        let _ = incidents;
        Ok(())
    }
    /// Flushes anything buffered (at shutdown).
    async fn flush(&self) -> Result<(), ExportError> {
        Ok(())
    }
}

/// One data point as a point queue holds it: owned and compact (no labels; the series'
/// labels are known by `series_id`, e.g. from drift events and series status).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PointRecord {
    /// The series the point belongs to.
    pub series_id: SeriesId,
    /// Event time, nanoseconds since the Unix epoch.
    pub time_unix_nano: u64,
    /// The measured value.
    pub value: f64,
}

impl From<&Point> for PointRecord {
    fn from(p: &Point) -> Self {
        PointRecord {
            series_id: p.series,
            time_unix_nano: p.time_unix_nano,
            value: p.value,
        }
    }
}

/// Where a pushed exporter that stores raw points sends them. Driven by the core's
/// point queue (bounded, retried, dropping and counting when full), like [`EventSink`].
#[async_trait]
pub trait PointSink: Send + Sync {
    /// Sends one batch of points.
    async fn export_points(&self, points: &[PointRecord]) -> Result<(), ExportError>;
}
