//! Helpers for native container pipelines on Dagger whose every step shows its own error; the
//! images they build are published with `dagger-publish` ([`PublishBuilt`]).
//!
//! - [`Pipeline`]: a name, a pinned upstream version, and a lazy build from a [`BuildContext`]
//!   to a `dagger_sdk::Container`.
//! - [`helpers`]: [`git_tag_source`](helpers::git_tag_source) (a forge mirror, see
//!   [`ForgeConfig`]), [`GoBuild`](helpers::GoBuild), [`NodeBuild`](helpers::NodeBuild),
//!   [`AlpineRuntime`](helpers::AlpineRuntime), [`OciLabels`](helpers::OciLabels).
//! - [`StepLog`] / [`StepError`]: every helper records its commands; an engine exec error is
//!   explained as pipeline, step, command, exit code and the last lines of stderr.
//! - [`TargetPlatform`]: the platform a build is for ([`BuildContext::platform`]); Go builds
//!   cross-compile or run in a builder of the target platform, see
//!   [`GoBuild`](helpers::GoBuild).
//! - [`SmokeCheck`] / [`run_smoke_checks`]: the final image runs its program before it is
//!   published, in one engine round trip, without changing the image.
//! - [`BuildContext::input`] / [`StageInputs`]: the objects one stage hands to the next, their
//!   IDs looked up in one request per level of stages instead of one per object argument.
//! - [`BuildContext::build`] gives a [`BuiltImage`] (the container and its step log), which
//!   [`PublishBuilt::publish_built`] publishes, naming a failed step.

mod built;
mod context;
pub mod helpers;
mod inputs;
mod platform;
mod smoke;
pub mod steps;

pub use built::{BuiltImage, PublishBuilt, PublishBuiltError};
pub use context::{BuildContext, BuildContextError, ForgeConfig, ForgeConfigError, Pipeline};
pub use inputs::{EngineObject, InputId, StageInputError, StageInputs};
pub use platform::{PlatformError, TargetPlatform};
pub use smoke::{run_smoke_checks, CheckedImage, SmokeCheck, SmokeCheckError, WrongOutput};
pub use steps::{Step, StepError, StepLog};

/// The README's example, compiled and run as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
