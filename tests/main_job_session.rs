//! The main job (`blumeops` binary) inside a Dagger session: the mock engine's HTTP session
//! server stands for the engine, its address in `DAGGER_SESSION_PORT` / `DAGGER_SESSION_TOKEN`
//! as under `dagger run`. A password flag becomes a secret the way the Dagger CLI makes one,
//! `address(value:).secret`, so `env:NAME` and a bare `NAME` both name the variable (the
//! engine reads it; the main job never does).
#![cfg(feature = "cli")]

use std::time::Duration;

use dagger_mock_engine::{AccountRights, MockEngine};

const KEY: &str = "zak_main-job-session-key";
const REGISTRY: &str = "registry.ops.eblu.me";

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs the main job against `engine`'s session with `args`.
async fn blumeops(engine: &MockEngine, args: &[&str]) -> Run {
    let server = dagger_mock_engine::SessionServer::start(engine)
        .await
        .expect("session server starts");
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_blumeops"));
    cmd.args(args)
        .envs(server.env_vars())
        .kill_on_drop(true)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    // A guard against a hang, not a timing assertion.
    let out = tokio::time::timeout(Duration::from_secs(300), cmd.output())
        .await
        .expect("the main job finishes")
        .expect("the main job runs");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A checkout holding a Dockerfile container, known to the engine's host by its path.
fn checkout(engine: &MockEngine) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary directory");
    // No `ARG CONTAINER_APP_VERSION`: the version guard has nothing to compare with.
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
    dir
}

#[tokio::test(flavor = "multi_thread")]
async fn publishes_with_the_password_given_as_env_name_or_bare_name() {
    for (flag, tag) in [("env:ZOT_CI_API_KEY", "v1"), ("ZOT_CI_API_KEY", "v2")] {
        let engine = MockEngine::new();
        engine
            .registry(REGISTRY)
            .allow_anonymous_push(false)
            .account("zot-ci", KEY, AccountRights::CreateOnly);
        // The session's environment, which the engine's env provider reads.
        engine.set_env("ZOT_CI_API_KEY", KEY);
        let src = checkout(&engine);
        let run = blumeops(
            &engine,
            &[
                "publish",
                "--src",
                &src.path().to_string_lossy(),
                "--container-name=homepage",
                &format!("--version={tag}.0.0"),
                "--commit-sha=c86b5d7",
                &format!("--registry-password={flag}"),
            ],
        )
        .await;
        assert_eq!(run.code, Some(0), "{flag}: {}\n{}", run.stdout, run.stderr);
        let expected = format!("{REGISTRY}/blumeops/homepage:{tag}.0.0-c86b5d7@sha256:");
        assert!(run.stdout.starts_with(&expected), "{flag}: {}", run.stdout);
        let published = engine.published();
        assert_eq!(published.len(), 1, "{flag}");
        let auth = published[0]
            .auth
            .as_ref()
            .expect("the push was authenticated");
        assert_eq!(auth.username, "zot-ci");
        assert_eq!(auth.secret_name, "env://ZOT_CI_API_KEY", "{flag}");
        engine.assert_never_sent(KEY);
        assert!(engine.plaintext_reads().is_empty(), "{flag}");
        assert!(!run.stdout.contains(KEY) && !run.stderr.contains(KEY));
        // The secret was built as the CLI builds it.
        assert!(
            engine
                .queries()
                .iter()
                .any(|q| q.contains(&format!(r#"address(value:"{flag}"){{secret{{id}}}}"#))),
            "{:#?}",
            engine.queries()
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unset_variable_fails_with_the_engines_words() {
    let engine = MockEngine::new();
    engine
        .registry(REGISTRY)
        .allow_anonymous_push(false)
        .account("zot-ci", KEY, AccountRights::CreateOnly);
    let src = checkout(&engine);
    let run = blumeops(
        &engine,
        &[
            "publish",
            "--src",
            &src.path().to_string_lossy(),
            "--container-name=homepage",
            "--version=v1.0.0",
            "--commit-sha=c86b5d7",
            "--registry-password=env:NOT_SET_HERE",
        ],
    )
    .await;
    assert_eq!(run.code, Some(1), "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(r#"secret env var not found: "NOT...""#),
        "{}",
        run.stderr
    );
    assert!(engine.published().is_empty());
}
