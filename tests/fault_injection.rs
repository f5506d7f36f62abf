//! The main job in a Dagger session whose connection to the engine fails: a fault-injecting
//! proxy on loopback (`fault_proxy`) between the main job and the mock engine's session server
//! drops, delays, corrupts, stalls or cuts requests, before or after forwarding them (issue 19).
//! Whatever happens, the main job neither panics nor hangs, says what failed once, and never
//! claims a push it cannot show; after a lost answer it learns through the engine which tags
//! landed.
#![cfg(feature = "cli")]

mod fault_proxy;

use std::time::Duration;

use dagger_mock_engine::{AccountRights, MockEngine, SessionServer};
use fault_proxy::{Fault, FaultProxy};

const KEY: &str = "zak_fault-injection-key";
const REGISTRY: &str = "registry.faults.example";
const TAG: &str = "v1.0.0-c86b5d7";

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// An engine with a create-only registry account and a checkout holding a Dockerfile
/// container; the checkout's directory is returned to keep it alive.
fn engine() -> (MockEngine, tempfile::TempDir) {
    let engine = MockEngine::new();
    engine
        .registry(REGISTRY)
        .allow_anonymous_push(false)
        .account("zot-ci", KEY, AccountRights::CreateOnly);
    engine.set_env("ZOT_CI_API_KEY", KEY);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let dockerfile = "FROM alpine:3.20\n";
    std::fs::create_dir_all(dir.path().join("containers/homepage")).unwrap();
    std::fs::write(
        dir.path().join("containers/homepage/Dockerfile"),
        dockerfile,
    )
    .unwrap();
    let path = std::fs::canonicalize(dir.path()).unwrap();
    engine.add_host_directory(
        &path.to_string_lossy(),
        &[("containers/homepage/Dockerfile", dockerfile)],
    );
    (engine, dir)
}

/// Publishes the checkout's container through `proxy`, with extra environment `env`.
async fn publish(
    engine: &MockEngine,
    src: &tempfile::TempDir,
    arrange: impl FnOnce(&FaultProxy),
    env: &[(&str, &str)],
) -> (Run, Vec<String>) {
    let server = SessionServer::start(engine)
        .await
        .expect("session server starts");
    let proxy = FaultProxy::start(server.port()).await;
    arrange(&proxy);
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_blumeops"));
    cmd.args([
        "publish",
        "--src",
        &src.path().to_string_lossy(),
        "--container-name=homepage",
        "--version=v1.0.0",
        "--commit-sha=c86b5d7",
        &format!("--registry={REGISTRY}"),
        "--registry-password=env:ZOT_CI_API_KEY",
    ])
    .envs(server.env_vars())
    .env("DAGGER_SESSION_PORT", proxy.port().to_string())
    .env_remove("RUST_LOG")
    .env_remove("DAGGER_QUERY_TIMEOUT_SECS")
    .envs(env.iter().copied())
    .kill_on_drop(true)
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped());
    // A guard against a hang, not a timing assertion.
    let out = tokio::time::timeout(Duration::from_secs(120), cmd.output())
        .await
        .expect("the main job finishes")
        .expect("the main job runs");
    let run = Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    assert!(!run.stdout.contains(KEY) && !run.stderr.contains(KEY));
    (run, proxy.applied())
}

fn digest_in_registry(engine: &MockEngine) -> Option<String> {
    engine.registry(REGISTRY).digest("blumeops/homepage", TAG)
}

/// The engine pushes, then the connection drops before its answer: the main job reads the tag
/// back through the engine, finds it, and succeeds with the registry's digest, saying so.
#[tokio::test(flavor = "multi_thread")]
async fn a_lost_answer_to_a_push_that_landed_is_read_back() {
    let (engine, src) = engine();
    let (run, applied) = publish(
        &engine,
        &src,
        |p| p.inject("publish(", Fault::LoseAnswer, 1),
        &[],
    )
    .await;
    assert_eq!(applied, ["LoseAnswer"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let digest = digest_in_registry(&engine).expect("the tag landed");
    assert_eq!(
        run.stdout.trim(),
        format!("{REGISTRY}/blumeops/homepage:{TAG}@{digest}")
    );
    assert!(
        run.stderr.contains("answer to the push was lost")
            && run.stderr.contains("the tag is in the registry"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("blumeops: pushed "),
        "no push answer was seen: {}",
        run.stderr
    );
    assert_eq!(engine.published().len(), 1, "pushed once, never again");
}

/// The connection drops before the push reaches the engine: the read-back finds nothing, and
/// the error says so and to publish again.
#[tokio::test(flavor = "multi_thread")]
async fn a_push_lost_before_the_engine_saw_it_is_reported_as_not_pushed() {
    let (engine, src) = engine();
    let (run, _) = publish(
        &engine,
        &src,
        |p| p.inject("publish(", Fault::CloseBeforeForward, 1),
        &[],
    )
    .await;
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert!(
        run.stderr.contains("not in the registry") && run.stderr.contains("publish again"),
        "{}",
        run.stderr
    );
    assert!(engine.published().is_empty());
    assert_eq!(digest_in_registry(&engine), None);
}

/// The existing-tag check's answer is lost: under the default policy nothing is pushed.
#[tokio::test(flavor = "multi_thread")]
async fn a_lost_check_answer_pushes_nothing() {
    let (engine, src) = engine();
    let (run, applied) = publish(
        &engine,
        &src,
        |p| p.inject("imageRef", Fault::LoseAnswer, 1),
        &[],
    )
    .await;
    assert_eq!(applied, ["LoseAnswer"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(run.stdout.is_empty());
    assert!(engine.published().is_empty());
    assert!(
        engine.queries().iter().all(|q| !q.contains("publish(")),
        "{:#?}",
        engine.queries()
    );
}

/// Extra environment variables of a run.
type Env = &'static [(&'static str, &'static str)];

/// Faults on the first request the main job sends: each is one clear error (exit 1), said
/// once, and nothing is pushed.
#[tokio::test(flavor = "multi_thread")]
async fn engine_faults_end_in_one_clear_error() {
    let cases: Vec<(Fault, Env, &str)> = vec![
        (Fault::CloseBeforeForward, &[], "could not be reached"),
        (Fault::CutMidBody, &[], "broke off its answer"),
        (Fault::Corrupt, &[], "not GraphQL JSON"),
        (
            Fault::Stall,
            &[("DAGGER_QUERY_TIMEOUT_SECS", "2")],
            "did not answer within 2 s",
        ),
        (Fault::Oversized(3 * 1024 * 1024), &[], "error: "),
    ];
    for (fault, env, says) in cases {
        let (engine, src) = engine();
        let name = format!("{fault:?}");
        let name = name.split('(').next().unwrap_or_default().to_string();
        let (run, applied) = publish(&engine, &src, |p| p.inject("", fault, 1), env).await;
        assert_eq!(applied.len(), 1, "{name}");
        assert_eq!(run.code, Some(1), "{name}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{name}: {}", run.stdout);
        assert!(
            run.stderr.contains(says),
            "{name}: {says:?} in {}",
            run.stderr
        );
        assert_eq!(
            run.stderr.matches(says).count(),
            1,
            "{name}: said once: {}",
            run.stderr
        );
        // No part of the cause twice (hyper's errors end with their source's text).
        for line in run.stderr.lines() {
            let parts: Vec<&str> = line.split(": ").collect();
            for pair in parts.windows(2) {
                assert_ne!(pair[0], pair[1], "{name}: repeated cause in {line}");
            }
        }
        assert!(
            run.stderr.len() < 64 * 1024,
            "{name}: {} bytes of stderr",
            run.stderr.len()
        );
        assert!(engine.published().is_empty(), "{name}");
    }
}

/// A slow engine is only slow.
#[tokio::test(flavor = "multi_thread")]
async fn delayed_answers_still_publish() {
    let (engine, src) = engine();
    let (run, applied) = publish(
        &engine,
        &src,
        |p| p.inject("", Fault::Delay(Duration::from_millis(150)), 3),
        &[],
    )
    .await;
    assert_eq!(applied.len(), 3);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(digest_in_registry(&engine).is_some());
}
