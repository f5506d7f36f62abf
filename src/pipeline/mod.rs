//! Native container pipelines, their helpers, and the container catalog.

pub mod dockerfile;
pub mod steps;
pub mod versions;

pub use steps::{Step, StepError, StepLog};
