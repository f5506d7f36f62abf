//! What the benchmarks share: the naive `dagger-sdk` baseline, the mock engine's fixtures and
//! the statistics printed in the tables.

// Each bench target uses a part of this module.
#![allow(dead_code)]

pub(crate) mod fixtures;
pub(crate) mod naive;
pub(crate) mod stats;

/// Runs a bench's measurement on a fresh tokio runtime; any failure is printed with the bench's
/// name and becomes a failing exit code.
#[allow(dead_code)] // each bench is its own crate and uses one of the two
pub(crate) fn run_measurement<T, F>(bench: &str, measure: F) -> Result<T, std::process::ExitCode>
where
    F: std::future::Future<Output = Result<T, String>>,
{
    run_on(bench, tokio::runtime::Runtime::new(), measure)
}

/// [`run_measurement`] on a current-thread runtime whose clock is paused: a wait ends as soon
/// as every task waits (the mock engine's simulated latency costs no time and orders requests
/// exactly).
#[allow(dead_code)] // each bench is its own crate and uses one of the two
pub(crate) fn run_counted<T, F>(bench: &str, measure: F) -> Result<T, std::process::ExitCode>
where
    F: std::future::Future<Output = Result<T, String>>,
{
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build();
    run_on(bench, runtime, measure)
}

fn run_on<T, F>(
    bench: &str,
    runtime: std::io::Result<tokio::runtime::Runtime>,
    measure: F,
) -> Result<T, std::process::ExitCode>
where
    F: std::future::Future<Output = Result<T, String>>,
{
    let runtime = runtime.map_err(|e| {
        eprintln!("{bench}: no tokio runtime: {e}");
        std::process::ExitCode::FAILURE
    })?;
    runtime.block_on(measure).map_err(|e| {
        eprintln!("{bench}: {e}");
        std::process::ExitCode::FAILURE
    })
}
