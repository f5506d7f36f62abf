//! The main job (`blumeops` binary): call a function of the `blumeops` module from a shell, as
//! `dagger call` does.
//!
//! ```text
//! blumeops publish --container-name navidrome --version v0.61.1 --commit-sha c86b5d7 \
//!     --registry-password env:ZOT_CI_API_KEY
//! ```
//!
//! - [`command`]: the command line, generated from the module's definition (clap's builder):
//!   one subcommand per function, one flag per argument, with its type, default and allowed
//!   values; `completions <shell>`.
//! - [`args`]: the arguments given, checked, then loaded as the engine's `inputArgs`.
//! - [`source`]: which paths a Directory argument leaves out; loading the recording engine.
//! - [`plan`]: the recording engine for a call, and its plan.
//! - [`progress`]: phase lines in a real session; round trips counted.
//! - [`json`]: the `--json` object.
//! - [`output`]: standard output for the result only; exit codes.
//! - [`run`]: the flow.

pub mod args;
pub mod command;
pub mod completions;
pub mod json;
pub mod output;
pub mod plan;
pub mod progress;
pub mod run;
pub mod source;

pub use run::main;
