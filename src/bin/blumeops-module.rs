//! The `blumeops` Dagger module's entrypoint: the engine runs this program inside a session
//! (`DAGGER_SESSION_PORT`, `DAGGER_SESSION_TOKEN`) once per call, to register the module or to
//! run one of its functions. See `dagger_module_runtime` and `blumeops::module`.
//!
//! Log lines (warnings such as an existing-tag check that could not reach the registry, and
//! retries) go to stderr, which `dagger call` shows; `RUST_LOG` changes the level.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    blumeops::logging::init(tracing_subscriber::filter::LevelFilter::INFO);
    dagger_module_runtime::run(blumeops::module::Blumeops::new()).await
}
