//! The main job: call a function of the `blumeops` module from a shell, as `dagger call` does
//! (`blumeops --help`; the flow is in [`blumeops::cli`]).
//!
//! Inside a Dagger session (`dagger run blumeops ...`, or `DAGGER_SESSION_PORT` and
//! `DAGGER_SESSION_TOKEN` set) it runs on that engine, with progress on standard error.
//! Anywhere else, or with `--plan`, it runs on the built-in recording engine: nothing is built
//! or pushed, and the plan goes to standard error. Standard output carries only the result.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    blumeops::cli::main().await
}
