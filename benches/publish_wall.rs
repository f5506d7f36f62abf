//! Wall time of publishing one container under 1, 3 and 10 tags with `Publisher` (all tags in one
//! aliased request) against the sequential loop of `dagger-sdk`'s `Container::publish` (one
//! request per tag, plus the password `Secret`'s ID resolved again before each), in-process over
//! the mock engine's HTTP session with an injected per-request latency of 5 ms (and 0 ms).
//!
//! Run: `cargo bench --bench publish_wall` (`BLUMEOPS_BENCH_SAMPLES=N` to
//! change the 20 samples per cell). Under `cargo test --all-targets` each cell runs once.

mod common;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use blumeops::pipeline::Catalog;
use common::fixtures::{self, REGISTRY};
use common::stats::{ms, ratio, samples, Samples};
use dagger_engine::registry::{repository, Tag};
use dagger_engine::{EngineClient, HttpTransport, HttpTransportConfig};
use dagger_mock_engine::MockEngine;
use dagger_publish::{ExistingTagPolicy, PublishRequest, Publisher, RegistryAuth};
use dagger_sdk::{Directory, Id, Secret};

#[derive(Clone, Copy, PartialEq, Debug)]
enum Way {
    /// `Publisher`, overwrite policy (no existing-tag check).
    Batched,
    /// `Publisher`, fail policy (existing-tag check through the mock's registry model).
    BatchedChecked,
    /// A loop of `Container::publish`.
    Loop,
}

struct Setup {
    engine: MockEngine,
    client: EngineClient,
    src: String,
    password: String,
}

fn tags(n: usize, run: u64) -> Result<Vec<Tag>, String> {
    (0..n)
        .map(|k| Tag::parse(&format!("v1.{run}.{k}")).map_err(|e| e.to_string()))
        .collect()
}

async fn publish_once(setup: &Setup, way: Way, n: usize, run: u64) -> Result<Duration, String> {
    let dag = setup.client.dagger();
    let src: Directory = dag.r#ref(Id(setup.src.clone()));
    let built = Catalog::standard()
        .build(&dag, &src, "homepage")
        .map_err(|e| e.to_string())?;
    let tags = tags(n, run)?;
    let repo = repository("blumeops", "homepage").map_err(|e| e.to_string())?;
    setup.engine.reset_recorder();
    let start = Instant::now();
    match way {
        Way::Batched | Way::BatchedChecked => {
            let auth = RegistryAuth::new(REGISTRY, "zot-ci")
                .map_err(|e| e.to_string())?
                .with_password(Id(setup.password.clone()));
            let policy = if way == Way::Batched {
                ExistingTagPolicy::Overwrite
            } else {
                ExistingTagPolicy::Fail
            };
            let request = PublishRequest::new(REGISTRY, repo, tags)
                .and_then(|r| r.with_auth(auth))
                .map_err(|e| e.to_string())?
                .with_policy(policy);
            let report = Publisher::new(setup.client.clone())
                .publish(&built.container, &request)
                .await
                .map_err(|e| e.to_string())?;
            if report.tags.len() != n {
                return Err(format!("{} of {n} tags published", report.tags.len()));
            }
        }
        Way::Loop => {
            let secret: Secret = dag.r#ref(Id(setup.password.clone()));
            let container = built
                .container
                .with_registry_auth(REGISTRY, "zot-ci", secret);
            for tag in &tags {
                container
                    .publish(format!("{REGISTRY}/{repo}:{tag}"))
                    .await
                    .map_err(|e| e.to_string())?;
            }
        }
    }
    let elapsed = start.elapsed();
    if setup.engine.published().len() != n {
        return Err(format!(
            "{way:?}: {} pushes for {n} tags",
            setup.engine.published().len()
        ));
    }
    Ok(elapsed)
}

struct Cell {
    latency: Duration,
    way: Way,
    tags: usize,
    samples: Samples,
    round_trips: usize,
}

async fn measure() -> Result<Vec<Cell>, String> {
    let engine = fixtures::engine();
    let src = fixtures::legacy_src(&engine).await?;
    let password = fixtures::password(&engine).await?;
    let server = dagger_mock_engine::SessionServer::start(&engine)
        .await
        .map_err(|e| e.to_string())?;
    let client = EngineClient::new(Arc::new(HttpTransport::new(
        &server.session_params(),
        HttpTransportConfig::default(),
    )));
    let setup = Setup {
        engine,
        client,
        src,
        password,
    };
    let n = samples(20);
    let mut run: u64 = 0;
    let mut cells = Vec::new();
    for latency in [Duration::from_millis(5), Duration::ZERO] {
        server.set_latency(latency);
        for (way, tags) in [
            (Way::Batched, 1),
            (Way::Batched, 3),
            (Way::Batched, 10),
            (Way::Loop, 1),
            (Way::Loop, 3),
            (Way::Loop, 10),
            (Way::BatchedChecked, 1),
            (Way::BatchedChecked, 10),
        ] {
            let mut cell = Cell {
                latency,
                way,
                tags,
                samples: Samples::default(),
                round_trips: 0,
            };
            run += 1;
            publish_once(&setup, way, tags, run).await?;
            for _ in 0..n {
                run += 1;
                cell.samples
                    .0
                    .push(publish_once(&setup, way, tags, run).await?);
                cell.round_trips = setup.engine.round_trips();
            }
            cells.push(cell);
        }
    }
    Ok(cells)
}

fn main() -> ExitCode {
    let cells = match common::run_measurement("publish_wall", measure()) {
        Ok(cells) => cells,
        Err(code) => return code,
    };
    let median = |latency: Duration, way: Way, tags: usize| {
        cells
            .iter()
            .find(|c| c.latency == latency && c.way == way && c.tags == tags)
            .map(|c| c.samples.median())
            .unwrap_or_default()
    };
    println!("\nPublish wall time over HTTP (ms; median, then min / p25 / p75 / max)\n");
    println!("| latency | way | tags | round trips | median | spread | vs same way, 1 tag | vs loop, same tags |");
    println!("|---|---|---|---|---|---|---|---|");
    for c in &cells {
        let way = match c.way {
            Way::Batched => "Publisher, no check",
            Way::BatchedChecked => "Publisher, existing-tag check",
            Way::Loop => "loop of Container::publish",
        };
        let vs_loop = if c.way == Way::Loop {
            "-".to_string()
        } else {
            ratio(c.samples.median(), median(c.latency, Way::Loop, c.tags))
        };
        println!(
            "| {} ms | {way} | {} | {} | {:.1} | {} | {} | {} |",
            c.latency.as_millis(),
            c.tags,
            c.round_trips,
            ms(c.samples.median()),
            c.samples.spread(),
            ratio(c.samples.median(), median(c.latency, c.way, 1)),
            vs_loop
        );
    }
    println!();
    ExitCode::SUCCESS
}
