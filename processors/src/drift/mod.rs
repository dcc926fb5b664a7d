//! The drift processor: for every series, learn a baseline, judge each new point
//! against it, and raise drift_start / drift_end events that say why.

mod baseline;
#[cfg(test)]
mod baseline_tests;
mod checkpoint;
mod config;
pub mod detectors;
mod expiry;
mod histogram;
mod history;
mod lifecycle;
mod min_change;
mod rules;
mod seasonal;
mod series;
#[cfg(test)]
mod series_tests;
mod shards;
pub(crate) mod stats;
mod table;
mod tails;
mod trend;

pub use baseline::{BaselineConfig, Estimator, Seasonality};
pub use config::DriftConfig;
pub use detectors::{
    AutoConfig, CusumConfig, DetectorConfig, HistogramConfig, PageHinkleyConfig, RollingConfig, ZScoreConfig,
};
pub use expiry::Expired;
pub use histogram::{HistogramTable, DERIVED};
pub use history::HistoryConfig;
pub use min_change::MinChange;
pub use rules::{Matcher, RuleConfig};
pub use table::SeriesTable;

use crate::incidents::{Canary, Entities, EntityConfig, IncidentBook};
use driftd_core::component::{BuildContext, BuildError};
use driftd_core::config::ComponentId;
use driftd_core::consumer::Buckets;
use driftd_core::memory::{MemoryLimiter, Pressure, Refusal};
use driftd_core::store::{Checkpoint, Store};
use driftd_core::view::{SeriesSnapshot, SeriesState, SeriesView};
use driftd_core::{Batch, ConsumeError, Consumer, DriftEvent, EventKind, LabelSource, Point, ValueKind};
use driftd_core::{Incident, IncidentQuery, IncidentState};
use histogram::{DerivedLabels, HistogramUpdate};
use metrics::{Counter, Histogram};
use rules::Profiles;
use series::{Outcome, Skip};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use table::{SeriesBudget, Update};

struct Counters {
    starts: Counter,
    ends: Counter,
    out_of_order: Counter,
    overflow: Counter,
    /// How long judging one batch takes (two clock reads per batch, none per point).
    batch_seconds: Histogram,
}

/// Builds the `drift` processor `id` of `pipeline`: restores its checkpoints from a
/// persistent store, and schedules its checkpoint saves and its series expiry.
pub async fn build(
    config: &DriftConfig,
    id: &ComponentId,
    pipeline: &str,
    ctx: &mut BuildContext,
    next: Arc<dyn Consumer>,
) -> Result<Arc<dyn Consumer>, BuildError> {
    let processor =
        Arc::new(DriftProcessor::new(&id.to_string(), config.clone(), next).with_memory(ctx.memory.clone()));
    ctx.memory.register(Arc::new(expiry::Evictor::new(&processor)));
    ctx.views.register(processor.table());
    ctx.views.register(processor.histograms.clone());
    ctx.views.register_entities(Arc::new(processor.entities()));
    // Checkpoints are keyed by pipeline too: one processor config may serve several.
    let name = format!("{pipeline}/{id}");
    if !config.series_ttl.is_zero() {
        let sweeper = expiry::Sweeper::new(processor.clone(), config.series_ttl);
        ctx.tasks.push((format!("{name} expiry"), Box::new(sweeper)));
    }
    if !ctx.store.persistent() {
        return Ok(processor);
    }
    if config.checkpoint_interval.is_zero() {
        processor.restore_incidents(ctx.store.clone()).await;
        return Ok(processor);
    }
    match ctx.store.load_checkpoints(&name).await {
        Ok(saved) => {
            let total = saved.len();
            // A checkpoint older than the TTL belongs to a series that has expired since.
            let ttl = u64::try_from(config.series_ttl.as_nanos()).unwrap_or(u64::MAX);
            let stale_before = match ttl {
                0 => 0,
                ttl => driftd_core::time::now_unix_nano().saturating_sub(ttl),
            };
            let restored = processor.restore(saved, stale_before);
            tracing::info!(processor = %name, restored, skipped = total - restored, "restored detector checkpoints");
        }
        Err(e) => tracing::warn!(processor = %name, error = %e, "cannot load checkpoints: series learn from scratch"),
    }
    processor.restore_incidents(ctx.store.clone()).await;
    let saver = checkpoint::Checkpointer::new(
        name.clone(),
        processor.table.clone(),
        ctx.store.clone(),
        config.checkpoint_interval,
        ctx.durability.register(),
    );
    ctx.tasks.push((name, Box::new(saver)));
    Ok(processor)
}

/// The `drift` processor stage.
pub struct DriftProcessor {
    name: String,
    table: Arc<SeriesTable>,
    histograms: Arc<HistogramTable>,
    next: Arc<dyn Consumer>,
    counters: Counters,
    overflow_logged: AtomicBool,
    incidents: Arc<parking_lot::Mutex<IncidentBook>>,
    /// Whether an incident waits out its window (then every batch ticks the book).
    resolving: AtomicBool,
    entity: EntityConfig,
    /// The cohort comparisons, when `incidents.canary` is set.
    canary: Option<Canary>,
    /// Over its soft limit, batches that would add a series are refused.
    memory: Arc<MemoryLimiter>,
}

impl DriftProcessor {
    /// A processor named `name` (its config id) feeding `next`.
    pub fn new(name: &str, config: DriftConfig, next: Arc<dyn Consumer>) -> Self {
        let p = name.to_string();
        // One cap for scalar and histogram series together.
        let budget = SeriesBudget::new(config.max_series.get());
        let entity = config.incidents.entity.clone();
        let incidents = Arc::new(parking_lot::Mutex::new(IncidentBook::new(config.incidents.clone())));
        let canary = config.incidents.canary.as_ref().map(|c| Canary::new(c, entity.clone()));
        DriftProcessor {
            name: p.clone(),
            table: Arc::new(
                SeriesTable::with_budget(Profiles::new(&config), budget.clone()).with_history(config.history.clone()),
            ),
            histograms: Arc::new(HistogramTable::new(Profiles::new(&config), budget)),
            next,
            counters: Counters {
                starts: metrics::counter!("driftd_processor_events_total", "processor" => p.clone(), "kind" => "drift_start"),
                ends: metrics::counter!("driftd_processor_events_total", "processor" => p.clone(), "kind" => "drift_end"),
                out_of_order: metrics::counter!("driftd_processor_out_of_order_points_total", "processor" => p.clone()),
                overflow: metrics::counter!("driftd_processor_overflow_points_total", "processor" => p.clone()),
                batch_seconds: metrics::histogram!("driftd_processor_batch_duration_seconds", "processor" => p),
            },
            overflow_logged: AtomicBool::new(false),
            incidents,
            resolving: AtomicBool::new(false),
            entity,
            canary,
            memory: Arc::default(),
        }
    }

    /// This processor refusing new series while `memory` is over its soft limit.
    pub fn with_memory(mut self, memory: Arc<MemoryLimiter>) -> Self {
        self.memory = memory;
        self
    }

    /// Every series' detector state (with its history), as the save at shutdown writes
    /// it, stamped `now`.
    pub fn checkpoints(&self, now: u64) -> Vec<Checkpoint> {
        let changed = self.table.changed_since(&HashMap::new(), now, true);
        changed.into_iter().map(|c| c.checkpoint).collect()
    }

    /// Takes back saved series state; returns how many series were restored. A
    /// checkpoint that does not decode, no longer fits its series' rule, or was saved
    /// before `stale_before` (ns; 0 keeps all) is skipped: that series learns again.
    pub fn restore(&self, checkpoints: Vec<Checkpoint>, stale_before: u64) -> usize {
        self.table.restore(checkpoints, stale_before)
    }

    /// The series table, for pull exporters.
    pub fn table(&self) -> Arc<dyn SeriesView> {
        self.table.clone()
    }

    /// The histogram series, for pull exporters.
    pub fn histograms(&self) -> Arc<dyn SeriesView> {
        self.histograms.clone()
    }

    fn record(&self, update: Update, events: &mut Vec<DriftEvent>) {
        match update {
            Update::Fed(Outcome::Event(e)) => events.push(*e),
            Update::Fed(Outcome::Quiet) | Update::Skipped(Skip::CounterStart | Skip::Distribution) => {}
            Update::Skipped(Skip::OutOfOrder) => self.counters.out_of_order.increment(1),
            Update::Overflow => self.overflowed(),
        }
    }

    fn overflowed(&self) {
        self.counters.overflow.increment(1);
        if !self.overflow_logged.swap(true, Ordering::Relaxed) {
            tracing::warn!(processor = %self.name, "series limit reached: points of new series are dropped (raise max_series)");
        }
    }

    /// Folds this batch's events into incidents and resolves those whose window has
    /// passed by the batch's newest time: nothing to do (one load) unless there are
    /// events or an incident is resolving.
    fn incidents(&self, events: &mut [DriftEvent], points: &[Point]) -> Vec<Incident> {
        if events.is_empty() && !self.resolving.load(Ordering::Relaxed) {
            return Vec::new();
        }
        let now = events
            .iter()
            .map(|e| e.timestamp)
            .chain(points.last().map(|p| p.time_unix_nano))
            .max()
            .unwrap_or(0);
        // Counted once per entity and batch: a scan of the table, on events only.
        let counted = std::cell::RefCell::new(HashMap::new());
        let instances = |entity: &str| {
            *counted
                .borrow_mut()
                .entry(entity.to_string())
                .or_insert_with(|| self.instances_of(entity))
        };
        let mut book = self.incidents.lock();
        let mut changed = book.observe(events, &instances);
        changed.extend(book.tick(now));
        self.resolving.store(book.resolving(), Ordering::Relaxed);
        drop(book);
        for i in &changed {
            tracing::info!(incident = %i.id, entity = %i.entity, change = ?i.change, severity = ?i.severity, summary = %i.summary, "incident");
        }
        changed
    }

    /// Takes back the incidents the store holds as open or acknowledged, after the
    /// checkpoints (which say which series still drift) are restored.
    async fn restore_incidents(&self, store: Arc<dyn Store>) {
        let mut open = Vec::new();
        for state in [IncidentState::Open, IncidentState::Acknowledged] {
            let query = IncidentQuery {
                state: Some(state),
                limit: usize::MAX,
                ..IncidentQuery::default()
            };
            match store.incidents(&query).await {
                Ok(found) => open.extend(found),
                Err(e) => {
                    tracing::warn!(processor = %self.name, error = %e, "cannot load open incidents: they stay open in the store")
                }
            }
        }
        if open.is_empty() {
            return;
        }
        let (mut drifting, mut entities) = (Vec::new(), HashSet::new());
        let mut keep = |s: SeriesSnapshot| {
            entities.insert(self.entity.entity_of(&s.labels));
            if s.state == SeriesState::DriftDetected {
                drifting.push((s.id, s.labels));
            }
        };
        self.table.for_each(&mut keep);
        self.histograms.for_each(&mut keep);
        // Another processor's incidents (one store may serve several) are left to it;
        // with no series restored, there is no telling: all are taken.
        let service = |i: &Incident| i.entity.split('@').next().unwrap_or_default().to_string();
        open.retain(|i| entities.is_empty() || entities.contains(&service(i)));
        let labels: Vec<_> = drifting.iter().map(|(id, l)| (*id, l.as_ref())).collect();
        let restored = open.len();
        let mut book = self.incidents.lock();
        book.restore(open, &labels, driftd_core::time::now_unix_nano());
        self.resolving.store(book.resolving(), Ordering::Relaxed);
        tracing::info!(processor = %self.name, restored, "restored open incidents");
    }

    /// Its series grouped into entities, for the API and `/metrics`.
    pub fn entities(&self) -> Entities {
        Entities {
            config: self.entity.clone(),
            table: self.table.clone(),
            histograms: self.histograms.clone(),
            book: self.incidents.clone(),
        }
    }

    /// How many instances of `entity` the series table knows.
    fn instances_of(&self, entity: &str) -> u32 {
        let mut seen = HashSet::new();
        self.table.for_each(&mut |s| {
            if let Some(i) = self.entity.instance_of(&s.labels) {
                if self.entity.entity_of(&s.labels) == entity && !seen.contains(i) {
                    seen.insert(i.to_string());
                }
            }
        });
        u32::try_from(seen.len()).unwrap_or(u32::MAX)
    }

    /// Whether any of `points` belongs to a series neither table tracks yet.
    fn adds_series(&self, points: &[Point]) -> bool {
        points.iter().any(|p| match p.kind {
            ValueKind::Histogram { .. } => !self.histograms.contains(p.series),
            _ => !self.table.contains(p.series),
        })
    }

    /// A histogram point: its distribution, then its derived series (whose points the
    /// canary comparison also gets in `compared`, but for the `_count` volume).
    fn histogram(
        &self,
        p: &Point,
        labels: &dyn LabelSource,
        buckets: &mut Buckets,
        events: &mut Vec<DriftEvent>,
        compared: &mut Vec<Point>,
        now: u32,
    ) {
        match self.histograms.update(p, labels, buckets, now) {
            HistogramUpdate::Fed { event, derived } => {
                events.extend(event);
                if let Some((points, labels)) = derived {
                    for q in points.iter() {
                        self.record(self.table.update(q, &DerivedLabels(&labels), now), events);
                    }
                    if self.canary.is_some() {
                        compared.extend(points.iter().filter(|q| DERIVED[q.origin as usize] != "_count"));
                    }
                }
            }
            HistogramUpdate::Skipped(Skip::OutOfOrder) => self.counters.out_of_order.increment(1),
            HistogramUpdate::Skipped(Skip::CounterStart | Skip::Distribution) => {}
            HistogramUpdate::Overflow => self.overflowed(),
        }
    }
}

impl Consumer for DriftProcessor {
    fn consume(&self, batch: &Batch<'_>) -> Result<(), ConsumeError> {
        if self.memory.pressure() != Pressure::Normal && self.adds_series(batch.points) {
            // Refused whole, before any point is judged: the retry judges none twice.
            return Err(self.memory.refuse(Refusal::NewSeries, batch.points.len()));
        }
        let began = std::time::Instant::now();
        // Events are rare: the vector allocates only when one fires.
        let mut events: Vec<DriftEvent> = Vec::new();
        // Reused by every histogram point of the batch; empty (no allocation) otherwise.
        let mut buckets = Buckets::default();
        // Derived histogram points for the canary comparison (empty when it is off).
        let mut derived = Vec::new();
        let now = self.table.clock();
        self.table.update_all(batch.points, batch.labels, now, |update| {
            self.record(update, &mut events)
        });
        for p in batch.points {
            if let ValueKind::Histogram { .. } = p.kind {
                self.histogram(p, batch.labels, &mut buckets, &mut events, &mut derived, now);
            }
        }
        if let Some(canary) = &self.canary {
            canary.observe(batch.points.iter().chain(&derived), self.table.as_ref(), &mut events);
        }
        self.table.count_points(batch.points.len());
        self.counters.batch_seconds.record(began.elapsed().as_secs_f64());
        self.emit(batch, events)
    }
}

impl DriftProcessor {
    /// Counts and logs `events`, folds them into incidents, and hands them on with
    /// `batch`.
    fn emit(&self, batch: &Batch<'_>, mut events: Vec<DriftEvent>) -> Result<(), ConsumeError> {
        for e in &events {
            match e.kind {
                EventKind::DriftStart => {
                    self.counters.starts.increment(1);
                    tracing::info!(series = %e.series, detector = %e.detector, severity = ?e.severity, scores = ?e.scores, baseline_mean = e.baseline.mean, "drift detected");
                }
                EventKind::DriftEnd => {
                    self.counters.ends.increment(1);
                    tracing::info!(series = %e.series, reason = ?e.reason, "drift ended");
                }
            }
        }
        let incidents = self.incidents(&mut events, batch.points);
        self.next
            .consume(&batch.with_events(&events).with_incidents(&incidents))
    }
}
