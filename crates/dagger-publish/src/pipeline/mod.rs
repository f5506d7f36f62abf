//! Helpers for native container pipelines whose every step shows its own error.
//!
//! - [`Pipeline`]: a name, a pinned upstream version, and a lazy build from a [`BuildContext`]
//!   to a `dagger_sdk::Container`.
//! - [`helpers`]: [`git_tag_source`](helpers::git_tag_source) (a forge mirror, see
//!   [`ForgeConfig`]), [`GoBuild`](helpers::GoBuild), [`NodeBuild`](helpers::NodeBuild),
//!   [`AlpineRuntime`](helpers::AlpineRuntime), [`OciLabels`](helpers::OciLabels).
//! - [`StepLog`] / [`StepError`]: every helper records its commands; an engine exec error is
//!   explained as pipeline, step, command, exit code and the last lines of stderr.

mod context;
pub mod helpers;
pub mod steps;

pub use context::{BuildContext, ForgeConfig, ForgeConfigError, Pipeline};
pub use steps::{Step, StepError, StepLog};
