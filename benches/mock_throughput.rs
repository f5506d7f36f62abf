//! Queries per second of the mock engine on its in-process transport, so that the test suite
//! stays fast as it grows: a scalar field, the call read of a module (`currentFunctionCall` with
//! its arguments), a container chain evaluated to `stdout`, and a `publish`.
//!
//! Run: `cargo bench --bench mock_throughput` (criterion; its `--test` mode,
//! used by `cargo test --all-targets`, runs each once).

// criterion's macros write undocumented functions.
#![allow(missing_docs)]

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use dagger_mock_engine::{FunctionCallSpec, MockEngine};
use serde_json::json;

/// Runs `query` `iters` times and returns the time taken; the recorder is emptied after each
/// batch so that memory stays flat.
fn run(
    runtime: &tokio::runtime::Runtime,
    engine: &MockEngine,
    query: &str,
    iters: u64,
) -> Duration {
    let client = engine.client();
    let elapsed = runtime.block_on(async {
        let start = Instant::now();
        for _ in 0..iters {
            let answer = client.execute(query).await;
            // A failing query would measure the error path; stop loudly instead.
            match answer {
                Ok(a) if a.errors.is_empty() => {}
                other => panic!("benchmark query failed: {other:?}"),
            }
        }
        start.elapsed()
    });
    engine.reset_recorder();
    elapsed
}

fn throughput(c: &mut Criterion) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => panic!("no tokio runtime: {e}"),
    };
    let engine = MockEngine::new();
    engine.set_function_call(
        FunctionCallSpec::call("Blumeops", "publish")
            .arg("containerName", json!("navidrome"))
            .arg("version", json!("v0.61.1"))
            .arg("commitSha", json!("c86b5d7"))
            .arg("extraTags", json!(["latest", "v0.61"])),
    );
    let cases = [
        ("version", "query{version}".to_string()),
        (
            "read the call",
            dagger_module_runtime::READ_CALL_QUERY.to_string(),
        ),
        (
            "container chain to stdout",
            "query{container{from(address:\"alpine:3.20\"){withEnvVariable(name:\"A\",value:\"1\"){withExec(args:[\"echo\",\"hi\"]){stdout}}}}}".to_string(),
        ),
        (
            "publish",
            "query{container{from(address:\"alpine:3.20\"){publish(address:\"registry.example.com/a/b:v1\")}}}".to_string(),
        ),
    ];
    let mut group = c.benchmark_group("mock_engine_in_process");
    group.throughput(Throughput::Elements(1));
    for (name, query) in &cases {
        group.bench_function(*name, |b| {
            b.iter_custom(|iters| run(&runtime, &engine, query, iters))
        });
    }
    group.finish();
}

criterion_group!(benches, throughput);
criterion_main!(benches);
