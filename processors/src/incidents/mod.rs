//! Incidents: the drift events of one entity that belong to one problem, grouped at the
//! source so that people get one notification per problem, not one per series. Runs on
//! events only (a handful per drift), never on points.

mod book;
pub mod canary;
mod config;
mod entities;
mod entity;
mod summary;
#[cfg(test)]
mod tests;

pub use book::IncidentBook;
pub use canary::{Canary, CanaryConfig};
pub use config::{EntityConfig, IncidentsConfig};
pub use entities::{health, Entities};
pub use entity::{signal_of, UNKNOWN_SERVICE};
