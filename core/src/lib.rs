//! driftd-core: the data model, the component traits, config loading and pipeline
//! assembly. It knows no concrete component: the binary hands it the closed set of
//! component configs (see `Components`).

pub mod assembly;
pub mod auth;
pub mod bounds;
pub mod build_error;
pub mod component;
pub mod config;
pub mod consumer;
pub mod durability;
pub mod event;
pub mod history;
pub mod http;
pub mod incident;
pub mod invalid;
pub mod listener;
pub mod memory;
pub mod model;
pub mod queue;
pub mod service;
pub mod sink;
pub mod store;
pub mod time;
pub mod tls;
pub mod view;

pub use consumer::{Batch, Buckets, ConsumeError, Consumer, FanOut, LabelSource};
pub use event::{DriftEvent, EndReason, EventKind, Severity, Stats};
pub use incident::{Incident, IncidentChange, IncidentQuery, IncidentState, Member};
pub use model::{Point, SeriesId, SeriesLabels, ValueKind, SERVICE_LABEL};
