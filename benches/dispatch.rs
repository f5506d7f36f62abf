//! Dispatch latency of the module binary: from process start to its exit, `returnValue` being
//! its last request, on the mock engine's HTTP session with an injected per-request latency of
//! 0, 5 and 20 ms (a remote engine), against the naive `dagger-sdk` dispatcher
//! (`common/naive.rs`), which this bench binary runs when it re-executes itself with
//! `BLUMEOPS_BENCH_NAIVE_MODULE=1` (same transport, same module code, same process start-up).
//!
//! Run: `cargo bench --bench dispatch` (`BLUMEOPS_BENCH_SAMPLES=N` to change
//! the 15 samples per cell). Under `cargo test --all-targets` each cell runs once, untimed.
//! Round trips are shown as waited for one after another, then `/requests` when the module
//! sent some together.

mod common;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use blumeops::module::Blumeops;
use common::fixtures;
use common::stats::{ms, ratio, samples, Samples};
use dagger_engine::EngineClient;
use dagger_mock_engine::{FunctionCallSpec, MockEngine, SessionServer};

const NAIVE_ENV: &str = "BLUMEOPS_BENCH_NAIVE_MODULE";

/// The naive module process: what `blumeops-module` does, the naive way.
fn naive_module() -> ExitCode {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: no tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        let client = match EngineClient::from_session_env() {
            Ok(Some(client)) => client,
            Ok(None) => {
                eprintln!("error: DAGGER_SESSION_PORT and DAGGER_SESSION_TOKEN are not set");
                return ExitCode::FAILURE;
            }
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        };
        match common::naive::serve(&Blumeops::new(), &client).await {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::from(1),
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(1)
            }
        }
    })
}

#[derive(Clone, Copy, PartialEq)]
enum Way {
    Library,
    Naive,
}

/// One run: spawn, wait for the exit, check that a value was returned.
async fn run_once(
    engine: &MockEngine,
    server: &SessionServer,
    spec: &FunctionCallSpec,
    way: Way,
) -> Result<(Duration, String), String> {
    engine.set_function_call(spec.clone());
    engine.reset_recorder();
    let mut cmd = match way {
        Way::Library => tokio::process::Command::new(env!("CARGO_BIN_EXE_blumeops-module")),
        Way::Naive => {
            let exe = std::env::current_exe().map_err(|e| e.to_string())?;
            let mut cmd = tokio::process::Command::new(exe);
            cmd.env(NAIVE_ENV, "1");
            cmd
        }
    };
    cmd.envs(server.env_vars())
        .env("RUST_LOG", "warn")
        .kill_on_drop(true)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    let start = Instant::now();
    // A guard against a hang, not a timing assertion.
    let out = tokio::time::timeout(Duration::from_secs(120), cmd.output())
        .await
        .map_err(|_| "the module process did not finish within 120 s".to_string())?
        .map_err(|e| format!("the module process did not start: {e}"))?;
    let elapsed = start.elapsed();
    if !out.status.success() || engine.returned_value().is_none() {
        return Err(format!(
            "the module process failed ({}): {} / returned error {:?}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim(),
            engine.returned_error()
        ));
    }
    Ok((elapsed, trips(engine)))
}

/// Round trips waited for one after another, and requests: `4 (5)`, or `4` when equal.
fn trips(engine: &MockEngine) -> String {
    let (sequential, requests) = (engine.sequential_round_trips(), engine.round_trips());
    if sequential == requests {
        sequential.to_string()
    } else {
        format!("{sequential}/{requests}")
    }
}

struct Cell {
    latency: Duration,
    scenario: &'static str,
    library: Samples,
    naive: Samples,
    library_trips: String,
    naive_trips: String,
}

/// A scenario: its name, and its call for run number `n` (a checked publish needs tags of its
/// own each run, or it would find its earlier pushes).
type Scenario = (&'static str, Box<dyn Fn(u64) -> FunctionCallSpec>);

async fn measure() -> Result<Vec<Cell>, String> {
    let engine = fixtures::engine();
    let src = fixtures::legacy_src(&engine).await?;
    let password = fixtures::password(&engine).await?;
    let server = dagger_mock_engine::SessionServer::start(&engine)
        .await
        .map_err(|e| e.to_string())?;
    let scenarios: Vec<Scenario> = vec![
        (
            "registration",
            Box::new(|_| FunctionCallSpec::registration()),
        ),
        (
            "container-version (native)",
            Box::new(|_| fixtures::version_native()),
        ),
        (
            "container-version (Dockerfile)",
            Box::new({
                let src = src.clone();
                move |_| fixtures::version_legacy(&src)
            }),
        ),
        (
            "publish, 3 tags, no check",
            Box::new({
                let (src, password) = (src.clone(), password.clone());
                move |_| fixtures::publish_call(&src, &password, 3, false, 1)
            }),
        ),
        (
            "publish, 3 tags, existing-tag check",
            Box::new(move |run| fixtures::publish_call(&src, &password, 3, true, run)),
        ),
    ];
    let mut run = 0u64;
    let mut next = |scenario: &Scenario| {
        run += 1;
        (scenario.1)(run)
    };
    let n = samples(15);
    let mut cells = Vec::new();
    for latency in [
        Duration::ZERO,
        Duration::from_millis(5),
        Duration::from_millis(20),
    ] {
        server.set_latency(latency);
        for scenario in &scenarios {
            let mut cell = Cell {
                latency,
                scenario: scenario.0,
                library: Samples::default(),
                naive: Samples::default(),
                library_trips: String::new(),
                naive_trips: String::new(),
            };
            // One unmeasured run each (page cache, lazy statics), then alternate the two ways
            // so that drift in the machine's load hits both alike.
            run_once(&engine, &server, &next(scenario), Way::Library).await?;
            run_once(&engine, &server, &next(scenario), Way::Naive).await?;
            for _ in 0..n {
                let (t, trips) = run_once(&engine, &server, &next(scenario), Way::Library).await?;
                cell.library.0.push(t);
                cell.library_trips = trips;
                let (t, trips) = run_once(&engine, &server, &next(scenario), Way::Naive).await?;
                cell.naive.0.push(t);
                cell.naive_trips = trips;
            }
            cells.push(cell);
        }
    }
    Ok(cells)
}

fn main() -> ExitCode {
    if std::env::var_os(NAIVE_ENV).is_some() {
        return naive_module();
    }
    let cells = match common::run_measurement("dispatch", measure()) {
        Ok(cells) => cells,
        Err(code) => return code,
    };
    println!(
        "\nDispatch latency, process start to exit after returnValue (ms; median, then min / p25 / p75 / max)\n"
    );
    println!(
        "| latency | scenario                       | library (trips) | spread                    | naive (trips) | spread                    | naive / library |"
    );
    println!("|---|---|---|---|---|---|---|");
    for c in &cells {
        println!(
            "| {} ms | {} | {:.1} ({}) | {} | {:.1} ({}) | {} | {} |",
            c.latency.as_millis(),
            c.scenario,
            ms(c.library.median()),
            c.library_trips,
            c.library.spread(),
            ms(c.naive.median()),
            c.naive_trips,
            c.naive.spread(),
            ratio(c.naive.median(), c.library.median())
        );
    }
    println!();
    ExitCode::SUCCESS
}
