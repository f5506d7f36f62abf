//! What the benchmarks share: the naive `dagger-sdk` baseline, the mock engine's fixtures and
//! the statistics printed in the tables.

// Each bench target uses a part of this module.
#![allow(dead_code)]

pub mod fixtures;
pub mod naive;
pub mod stats;

/// Runs a bench's measurement on a fresh tokio runtime; any failure is printed with the bench's
/// name and becomes a failing exit code.
pub fn run_measurement<T, F>(bench: &str, measure: F) -> Result<T, std::process::ExitCode>
where
    F: std::future::Future<Output = Result<T, String>>,
{
    let runtime = tokio::runtime::Runtime::new().map_err(|e| {
        eprintln!("{bench}: no tokio runtime: {e}");
        std::process::ExitCode::FAILURE
    })?;
    runtime.block_on(measure).map_err(|e| {
        eprintln!("{bench}: {e}");
        std::process::ExitCode::FAILURE
    })
}
