//! The `blumeops` Dagger module's entrypoint: the engine runs this program inside a session
//! (`DAGGER_SESSION_PORT`, `DAGGER_SESSION_TOKEN`) once per call, to register the module or to
//! run one of its functions. See `blumeops::runtime` and `blumeops::module`.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    blumeops::runtime::run(blumeops::module::Blumeops::new()).await
}
