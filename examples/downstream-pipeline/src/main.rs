//! Releases the app from the current directory:
//!
//! ```text
//! GHCR_TOKEN=... dagger run cargo run -- v1.2.0
//! ```

use std::process::ExitCode;

use dagger_publish::dagger_sdk::HostDirectoryOpts;
use dagger_publish::EngineClient;
use downstream_pipeline::{release, Release};

#[tokio::main]
async fn main() -> ExitCode {
    let Some(version) = std::env::args().nth(1) else {
        eprintln!("usage: downstream-pipeline VERSION (inside `dagger run`)");
        return ExitCode::from(2);
    };
    let client = match EngineClient::from_session_env() {
        Ok(Some(client)) => client,
        Ok(None) => {
            eprintln!("error: not inside a Dagger session; run it with `dagger run`");
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    // The checkout without what the build does not need (cargo's target/ alone can be gigabytes).
    let src = client.dagger().host().directory_opts(
        ".",
        HostDirectoryOpts {
            exclude: Some(vec!["target", ".git"]),
            include: None,
            gitignore: None,
            no_cache: None,
        },
    );
    match release(&client, src, &version, &Release::ghcr()).await {
        Ok(report) => {
            for tag in &report.tags {
                println!("{}", tag.reference);
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}
