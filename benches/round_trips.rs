//! Engine round trips of the module, counted on the mock engine's recorder (not timed), against
//! the naive `dagger-sdk` way (`common/naive.rs`): registration, `publish` with 1, 3 and 10 tags
//! with and without the existing-tag check, `container-version`. Two counts each: the requests
//! sent, and the round trips waited for one after another (requests in flight together count
//! once; `MockEngine::sequential_round_trips`). Targets apply to the second, the wait.
//!
//! Run: `cargo bench --bench round_trips`. Counts do not vary between runs,
//! so the same table comes out under `cargo test --all-targets`. The process fails when a
//! target of issues 5 and 6 is missed, or when the two ways disagree on what they did.

mod common;

use std::process::ExitCode;

use blumeops::module::Blumeops;
use blumeops::pipeline::recording::assume_smoke_checks_pass;
use blumeops::pipeline::Catalog;
use common::fixtures;
use dagger_mock_engine::{AccountRights, FunctionCallSpec, MockEngine};
use dagger_module_runtime::{serve, Module, Outcome};

/// What one way did: round trips, and what it left in the engine.
#[derive(Debug, PartialEq)]
struct Effect {
    round_trips: usize,
    sequential: usize,
    published: Vec<String>,
    returned: Option<String>,
    registered: Option<String>,
}

fn effect(engine: &MockEngine) -> Effect {
    let mut published: Vec<String> = engine.published().into_iter().map(|p| p.address).collect();
    published.sort();
    Effect {
        round_trips: engine.round_trips(),
        sequential: engine.sequential_round_trips(),
        published,
        // The value without the digest (the digest is the same content's either way, but the
        // comparison should not hinge on it).
        returned: engine.returned_value().map(|v| {
            v.to_string()
                .split('@')
                .next()
                .unwrap_or_default()
                .to_string()
        }),
        registered: engine.registered_module().map(|m| format!("{m:?}")),
    }
}

/// Runs `spec` once each way on fresh engines, made by `setup` (which returns the call).
async fn both<F, Fut>(setup: F) -> Result<(Effect, Effect), String>
where
    F: Fn(MockEngine) -> Fut,
    Fut: std::future::Future<Output = Result<FunctionCallSpec, String>>,
{
    let engine = fixtures::engine();
    let spec = setup(engine.clone()).await?;
    engine.set_function_call(spec);
    engine.reset_recorder();
    // A network's wait on each answer (no time on the paused clock), so that requests sent
    // together are counted in flight together.
    engine.set_latency(std::time::Duration::from_millis(10));
    let module = Blumeops::new();
    match serve(&module, &engine.client()).await {
        Ok(Outcome::Registered(_)) | Ok(Outcome::Returned(_)) => {}
        Ok(Outcome::Failed { message, .. }) => return Err(format!("library: {message}")),
        Err(e) => return Err(format!("library: {e}")),
    }
    let ours = effect(&engine);

    let engine = fixtures::engine();
    let spec = setup(engine.clone()).await?;
    engine.set_function_call(spec);
    engine.reset_recorder();
    let module = Blumeops::new();
    match common::naive::serve(&module, &engine.client()).await {
        Ok(true) => {}
        Ok(false) => {
            return Err(format!(
                "naive: returned error {:?}",
                engine.returned_error().unwrap_or_default()
            ))
        }
        Err(e) => return Err(format!("naive: {e}")),
    }
    Ok((ours, effect(&engine)))
}

struct Row {
    scenario: String,
    /// Requests the library sent.
    ours: usize,
    /// Round trips the library waited for one after another.
    ours_sequential: usize,
    /// The naive way's requests (`None`: not measured).
    naive: Option<usize>,
    target: Option<usize>,
}

async fn publish_row(tags: usize, check: bool) -> Result<Row, String> {
    let (ours, naive) = both(|engine| async move {
        let src = fixtures::legacy_src(&engine).await?;
        let password = fixtures::password(&engine).await?;
        Ok(fixtures::publish_call(&src, &password, tags, check, 1))
    })
    .await?;
    same_work(&ours, &naive)?;
    if ours.published.len() != tags {
        return Err(format!(
            "{} tags published, {tags} asked",
            ours.published.len()
        ));
    }
    Ok(Row {
        scenario: format!(
            "publish, {tags} tag{}, {}",
            if tags == 1 { "" } else { "s" },
            if check {
                "existing-tag check"
            } else {
                "no check"
            }
        ),
        ours: ours.round_trips,
        ours_sequential: ours.sequential,
        naive: Some(naive.round_trips),
        // Read the call, [the version guard's read of the Dockerfile beside the existing-tag
        // check], push, return.
        target: Some(4),
    })
}

fn same_work(ours: &Effect, naive: &Effect) -> Result<(), String> {
    if ours.sequential > ours.round_trips {
        return Err(format!(
            "more sequential round trips than requests: {ours:?}"
        ));
    }
    if (&ours.published, &ours.returned, &ours.registered)
        != (&naive.published, &naive.returned, &naive.registered)
    {
        return Err(format!(
            "the library and the naive way did different work:\n  library: {ours:?}\n  naive:   {naive:?}"
        ));
    }
    Ok(())
}

async fn rows() -> Result<Vec<Row>, String> {
    let mut rows = Vec::new();
    let (ours, naive) = both(|_| async { Ok(FunctionCallSpec::registration()) }).await?;
    same_work(&ours, &naive)?;
    let def = Blumeops::new().definition();
    let args: usize = def.object.functions.iter().map(|f| f.args.len()).sum();
    rows.push(Row {
        scenario: format!(
            "registration ({} functions, {args} arguments)",
            def.object.functions.len()
        ),
        ours: ours.round_trips,
        ours_sequential: ours.sequential,
        naive: Some(naive.round_trips),
        // read the call, leaf types, lists, functions, object, module, return.
        target: Some(7),
    });
    for check in [false, true] {
        for tags in [1, 3, 10] {
            rows.push(publish_row(tags, check).await?);
        }
    }
    let (ours, naive) = both(|_| async { Ok(fixtures::version_native()) }).await?;
    same_work(&ours, &naive)?;
    rows.push(Row {
        scenario: "container-version, native pipeline".into(),
        ours: ours.round_trips,
        ours_sequential: ours.sequential,
        naive: Some(naive.round_trips),
        // read the call, return: a native pipeline's version needs no engine work.
        target: Some(2),
    });
    let (ours, naive) = both(|engine| async move {
        Ok(fixtures::version_legacy(
            &fixtures::legacy_src(&engine).await?,
        ))
    })
    .await?;
    same_work(&ours, &naive)?;
    rows.push(Row {
        scenario: "container-version, Dockerfile".into(),
        ours: ours.round_trips,
        ours_sequential: ours.sequential,
        naive: Some(naive.round_trips),
        // read the call, read the Dockerfile, return.
        target: Some(3),
    });
    rows.push(native_row().await?);
    Ok(rows)
}

/// The native Navidrome pipeline published by the module on the recording engine (nothing
/// runs there; the smoke check answers the version it requires), the library's way only: the
/// naive way would differ in the build's object arguments, not in what this table shows.
async fn native_row() -> Result<Row, String> {
    let engine = MockEngine::recording();
    engine
        .registry(fixtures::REGISTRY)
        .allow_anonymous_push(false)
        .account("zot-ci", fixtures::PASSWORD, AccountRights::ReadWrite);
    let module = Blumeops::new();
    assume_smoke_checks_pass(&engine, &Catalog::standard());
    let src = fixtures::empty_src(&engine).await?;
    let password = fixtures::password(&engine).await?;
    engine.set_function_call(fixtures::publish_native(&src, &password));
    engine.reset_recorder();
    engine.set_latency(std::time::Duration::from_millis(10));
    match serve(&module, &engine.client()).await {
        Ok(Outcome::Returned(_)) => {}
        Ok(Outcome::Failed { message, .. }) => return Err(format!("native: {message}")),
        Ok(other) => return Err(format!("native: {other:?}")),
        Err(e) => return Err(format!("native: {e}")),
    }
    if engine.published().len() != 1 {
        return Err(format!("native: {} pushes", engine.published().len()));
    }
    Ok(Row {
        scenario: "publish, Navidrome (native), tag check".into(),
        ours: engine.round_trips(),
        ours_sequential: engine.sequential_round_trips(),
        naive: None,
        // Read the call; the stage inputs' IDs, level by level (caches and source, the UI
        // build, the binary); [the smoke check beside the existing-tag check]; push; return.
        // Before this round: 10.
        target: Some(10),
    })
}

fn main() -> ExitCode {
    let rows = match common::run_counted("round_trips", rows()) {
        Ok(rows) => rows,
        Err(code) => return code,
    };
    println!("\nEngine round trips (mock engine recorder; lower is better)\n");
    println!(
        "| {:<44} | {:>18} | {:>5} | {:>11} | {:>6} |",
        "scenario", "library (requests)", "naive", "naive / lib", "target"
    );
    println!(
        "|{:-<46}|{:->20}|{:->7}|{:->13}|{:->8}|",
        "", "", "", "", ""
    );
    let mut missed = Vec::new();
    for row in &rows {
        let target = match row.target {
            Some(t) if row.ours_sequential > t => {
                missed.push(row.scenario.clone());
                format!("<= {t} !!")
            }
            Some(t) => format!("<= {t}"),
            None => "-".into(),
        };
        let (naive, ratio) = match row.naive {
            Some(n) => (
                n.to_string(),
                format!("{:.1}x", n as f64 / row.ours_sequential.max(1) as f64),
            ),
            None => ("-".into(), "-".into()),
        };
        println!(
            "| {:<44} | {:>18} | {:>5} | {:>11} | {:>6} |",
            row.scenario,
            format!("{} ({})", row.ours_sequential, row.ours),
            naive,
            ratio,
            target
        );
    }
    println!();
    if missed.is_empty() {
        ExitCode::SUCCESS
    } else {
        eprintln!("round-trip targets missed: {missed:?}");
        ExitCode::FAILURE
    }
}
