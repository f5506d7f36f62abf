//! The main job (`blumeops` binary) as a person and a script use it: help texts, exit codes,
//! standard output carrying only the result, the plan on the recording engine, `--json`,
//! completions, a closed standard output, and progress in a session (the mock engine served
//! over the session protocol).
#![cfg(feature = "cli")]

use std::io::Read;
use std::process::{Command, Output, Stdio};

const SECRET_VALUE: &str = "zak_must-never-be-printed";

fn command(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_blumeops"));
    cmd.args(args)
        .env_remove("DAGGER_SESSION_PORT")
        .env_remove("DAGGER_SESSION_TOKEN")
        .env_remove("RUST_LOG")
        .env_remove("SOURCE_DATE_EPOCH")
        .env("ZOT_CI_API_KEY", SECRET_VALUE)
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

fn finish(out: Output) -> (Option<i32>, String, String) {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stdout.contains(SECRET_VALUE) && !stderr.contains(SECRET_VALUE));
    assert!(!stderr.contains("panicked"), "{stderr}");
    (out.status.code(), stdout, stderr)
}

fn blumeops(args: &[&str]) -> (Option<i32>, String, String) {
    finish(command(args).output().expect("the binary runs"))
}

const NAVIDROME: &[&str] = &[
    "publish",
    "--container-name=navidrome",
    "--version=v0.61.1",
    "--commit-sha=c86b5d7",
];

fn with(base: &[&str], more: &[&str]) -> Vec<String> {
    base.iter().chain(more).map(|s| s.to_string()).collect()
}

fn run(args: &[String]) -> (Option<i32>, String, String) {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    blumeops(&args)
}

#[test]
fn help_at_every_level_shows_types_defaults_and_allowed_values() {
    for flag in ["--help", "-h"] {
        let (code, stdout, stderr) = blumeops(&[flag]);
        assert_eq!(code, Some(0), "{stderr}");
        for expected in [
            "publish",
            "container-version",
            "publish-nix",
            "completions",
            "--plan",
            "--json",
            "--quiet",
            "Exit codes",
        ] {
            assert!(
                stdout.contains(expected),
                "{flag}: {expected:?} in\n{stdout}"
            );
        }
    }
    for flag in ["--help", "-h"] {
        let (code, stdout, _) = blumeops(&["publish", flag]);
        assert_eq!(code, Some(0));
        for expected in [
            "--src <Directory>",
            "[default: .]",
            "--container-name <string>",
            "--version <string>",
            "--extra-tags <strings>",
            "--registry-password <Secret>",
            "[default: registry.ops.eblu.me]",
            "[default: fail]",
            "[possible values: fail, skip, overwrite]",
        ] {
            assert!(
                stdout.contains(expected),
                "publish {flag}: {expected:?} in\n{stdout}"
            );
        }
        // Required as the module registers them; --src has the main job's default.
        assert!(
            stdout.contains("--container-name <string> --version <string> --commit-sha <string>"),
            "{stdout}"
        );
    }
    let (code, stdout, _) = blumeops(&["help", "container-version"]);
    assert_eq!(code, Some(0));
    assert!(stdout.contains("--container-name <string>"), "{stdout}");
}

#[test]
fn the_tools_version_only_at_the_top_publish_version_is_the_images() {
    let (code, stdout, _) = blumeops(&["--version"]);
    assert_eq!(code, Some(0));
    assert_eq!(stdout, format!("blumeops {}\n", env!("CARGO_PKG_VERSION")));
    let (code, stdout, stderr) = blumeops(&["publish", "--version"]);
    assert_eq!(code, Some(2));
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("a value is required for '--version <string>'"),
        "{stderr}"
    );
}

#[test]
fn mistyped_flags_and_functions_get_suggestions_and_exit_2() {
    let (code, stdout, stderr) = blumeops(&["publish", "--container-nme=navidrome"]);
    assert_eq!(code, Some(2));
    assert!(stdout.is_empty());
    assert!(stderr.contains("'--container-name'"), "{stderr}");
    let (code, _, stderr) = blumeops(&["pubish"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("'publish'"), "{stderr}");
    let (code, _, stderr) = blumeops(&[]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("Usage: blumeops"), "{stderr}");
}

#[test]
fn every_argument_error_exits_2_without_a_plan_or_a_result() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["publish", "--container-name=navidrome", "--version=v1"],
            "--commit-sha",
        ),
        (&["publish", "--no-such-flag=1"], "--no-such-flag"),
        (
            &[NAVIDROME[0], NAVIDROME[1], "--version=v 1", NAVIDROME[3]],
            "--version",
        ),
        (
            &[NAVIDROME[0], NAVIDROME[1], NAVIDROME[2], "--commit-sha=xyz"],
            "--commit-sha",
        ),
        (
            &[
                NAVIDROME[0],
                NAVIDROME[1],
                NAVIDROME[2],
                NAVIDROME[3],
                "--extra-tags=a b",
            ],
            "--extra-tags",
        ),
        (
            &[
                NAVIDROME[0],
                NAVIDROME[1],
                NAVIDROME[2],
                NAVIDROME[3],
                "--registry=not a host",
            ],
            "--registry",
        ),
        (
            &[
                NAVIDROME[0],
                NAVIDROME[1],
                NAVIDROME[2],
                NAVIDROME[3],
                "--existing-tag-policy=keep",
            ],
            "possible values: fail, skip, overwrite",
        ),
        (
            &[
                NAVIDROME[0],
                NAVIDROME[1],
                NAVIDROME[2],
                NAVIDROME[3],
                "--platforms=linux",
            ],
            "--platforms",
        ),
        (
            &[
                NAVIDROME[0],
                NAVIDROME[1],
                "--version=v0.50.0",
                NAVIDROME[3],
            ],
            "v0.61.1",
        ),
        (
            &[
                "publish",
                "--container-name=Nope!",
                "--version=v1",
                "--commit-sha=c86b5d7",
            ],
            "Nope!",
        ),
        (
            &[
                "publish",
                "--container-name=nope",
                "--version=v1",
                "--commit-sha=c86b5d7",
            ],
            "unknown container",
        ),
        (
            &[
                NAVIDROME[0],
                NAVIDROME[1],
                NAVIDROME[2],
                NAVIDROME[3],
                "--registry-password=nope:X",
            ],
            "nope",
        ),
        (
            &[
                NAVIDROME[0],
                NAVIDROME[1],
                NAVIDROME[2],
                NAVIDROME[3],
                "--src=/no/such/dir",
            ],
            "--src",
        ),
    ];
    for (args, names) in cases {
        let (code, stdout, stderr) = blumeops(args);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(stdout.is_empty(), "{args:?}: {stdout}");
        assert!(stderr.contains(names), "{args:?}: {names:?} in {stderr}");
        assert!(
            !stderr.contains("Plan of"),
            "{args:?}: a plan for bad arguments\n{stderr}"
        );
    }
}

#[test]
fn container_version_prints_exactly_the_version_on_stdout() {
    let (code, stdout, stderr) = blumeops(&["container-version", "--container-name", "navidrome"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stdout, "v0.61.1\n");
    assert!(
        stderr.contains("recording engine"),
        "the plan note goes to stderr: {stderr}"
    );
    let (_, stdout, stderr) = blumeops(&["container-version", "--container-name=navidrome", "-q"]);
    assert_eq!(stdout, "v0.61.1\n");
    assert!(stderr.is_empty(), "{stderr}");
}

#[test]
fn the_plan_reads_top_down_on_stderr_with_stand_ins_and_quoted_commands() {
    let (code, stdout, stderr) = run(&with(
        NAVIDROME,
        &[
            "--plan",
            "--extra-tags=v0.61.1",
            "--registry-password=env:ZOT_CI_API_KEY",
        ],
    ));
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout.starts_with("registry.ops.eblu.me/blumeops/navidrome:v0.61.1-c86b5d7@sha256:")
            && stdout.lines().count() == 1,
        "{stdout}"
    );
    let image = stderr
        .find("The image (FROM alpine:3.22)")
        .expect("the image first");
    let go = stderr
        .find("Stage 1 (FROM golang:1.25-alpine3.22) builds /out/navidrome, copied to /usr/bin/navidrome in the image")
        .expect("the Go stage");
    let node = stderr
        .find(
            "Stage 2 (FROM node:22-alpine3.22) builds /src/build, copied to /src/ui/build in stage 1",
        )
        .expect("the Node stage");
    assert!(image < go && go < node, "{stderr}");
    for expected in [
        "go build -tags netgo,sqlite_fts5 -ldflags '-w -s -X github.com/navidrome/navidrome/consts.gitSha=source_archive -X github.com/navidrome/navidrome/consts.gitTag=v0.61.1' -o /out/navidrome .",
        "RUN npm ci",
        "EXPOSE 4533/TCP",
        "COPY to /usr/bin/navidrome: /out/navidrome of stage 1, file navidrome sha256:",
        "(stand-in: the recording engine runs nothing)",
        "(stand-in: the recording engine fetches nothing)",
        "go-mod-golang-1.25-alpine3.22 at /go/pkg/mod",
        "npm-node-22-alpine3.22 at /root/.npm",
        "LABEL org.opencontainers.image.revision=c86b5d7",
        "LABEL org.opencontainers.image.created=1970-01-01T00:00:00Z",
        "ANNOTATION org.opencontainers.image.revision=c86b5d7",
        "RUN /usr/bin/navidrome --version on platform linux/amd64, stdout: 0.61.1 (assumed by the plan",
        "registry.ops.eblu.me/blumeops/navidrome:v0.61.1-c86b5d7\n",
        "registry.ops.eblu.me/blumeops/navidrome:v0.61.1\n",
        "registry.ops.eblu.me: user zot-ci, password [REDACTED] (secret env://ZOT_CI_API_KEY)",
    ] {
        assert!(stderr.contains(expected), "missing {expected:?} in\n{stderr}");
    }
    assert!(
        !stderr.contains("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        "the empty file's hash shown as content\n{stderr}"
    );
    // Distinct directories, distinct stand-in digests (the same directory copied twice, once
    // filtered to its manifests, keeps its one digest).
    let copies: std::collections::BTreeSet<(&str, &str)> = stderr
        .lines()
        .filter_map(|l| {
            let (origin, rest) = l.split_once(", directory sha256:")?;
            let origin = origin.rsplit_once(": ").map_or(origin, |(_, o)| o);
            Some((origin, &rest[..64]))
        })
        .collect();
    let digests: std::collections::BTreeSet<&str> = copies.iter().map(|(_, d)| *d).collect();
    assert!(
        copies.len() >= 3 && digests.len() == copies.len(),
        "{copies:?}"
    );
}

#[test]
fn a_plan_without_a_password_is_anonymous() {
    let (code, _, stderr) = blumeops(&[
        "publish",
        "--plan",
        "--container-name",
        "miniflux",
        "--version",
        "2.2.19",
        "--commit-sha",
        "c86b5d7",
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("anonymous (no password given)"), "{stderr}");
    assert!(stderr.contains("-buildmode=pie"), "{stderr}");
}

#[test]
fn json_is_one_object_with_references_digests_platforms_and_labels() {
    let (code, stdout, stderr) = run(&with(
        NAVIDROME,
        &["--plan", "--json", "--extra-tags=latest"],
    ));
    assert_eq!(code, Some(0), "{stderr}");
    let value: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON object");
    assert_eq!(value["function"], "publish");
    assert_eq!(value["engine"], "recording");
    let refs = value["references"].as_array().expect("references");
    assert_eq!(refs.len(), 2);
    let first = &refs[0];
    let digest = first["digest"].as_str().unwrap();
    assert!(
        digest.starts_with("sha256:") && digest.len() == 71,
        "{digest}"
    );
    assert_eq!(
        first["reference"],
        format!("registry.ops.eblu.me/blumeops/navidrome:v0.61.1-c86b5d7@{digest}")
    );
    assert_eq!(first["digest_is_stand_in"], true);
    assert_eq!(refs[1]["tag"], "latest");
    assert_eq!(value["result"], first["reference"]);
    assert_eq!(value["platforms"], serde_json::json!(["linux/amd64"]));
    assert_eq!(
        value["labels"]["org.opencontainers.image.version"],
        "v0.61.1"
    );
    assert!(value["engine_round_trips"].as_u64().unwrap() > 0);

    let (code, stdout, _) =
        blumeops(&["container-version", "--container-name=navidrome", "--json"]);
    assert_eq!(code, Some(0));
    let value: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(value["result"], "v0.61.1");
}

#[test]
fn completions_are_printed_for_a_shell() {
    let (code, stdout, _) = blumeops(&["completions", "bash"]);
    assert_eq!(code, Some(0));
    assert!(stdout.contains("_blumeops()"), "{stdout}");
    assert!(stdout.contains("container-version"));
    assert!(stdout.contains("--existing-tag-policy"));
    let (code, _, stderr) = blumeops(&["completions", "tcsh"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("possible values"), "{stderr}");
}

/// `blumeops ... | head -1`: the reader goes away before the result is written.
#[test]
fn a_closed_stdout_ends_quietly() {
    for args in [
        vec!["--help"],
        with(NAVIDROME, &["--plan", "--json"])
            .iter()
            .map(|s| s.as_str())
            .collect(),
    ] {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let mut child = command(&args.iter().map(String::as_str).collect::<Vec<_>>())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        drop(child.stdout.take());
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        let status = child.wait().unwrap();
        assert!(
            !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
            "{stderr}"
        );
        assert!(
            matches!(status.code(), Some(0) | Some(141)),
            "{args:?}: {status:?}\n{stderr}"
        );
    }
}

#[test]
fn the_readme_and_the_help_agree() {
    let readme = include_str!("../README.md");
    let section = readme
        .split("## The main job")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("the README has a main-job section");
    let (_, help, _) = blumeops(&["--help"]);
    for function in [
        "publish",
        "build",
        "container-version",
        "container-list",
        "publish-nix",
    ] {
        assert!(
            help.contains(&format!("  {function} ")),
            "{function} in --help"
        );
        assert!(
            readme.contains(&format!("`{function}`")),
            "{function} in the README"
        );
    }
    for item in [
        "--plan",
        "--json",
        "--quiet",
        "completions",
        "141",
        "--version",
    ] {
        assert!(
            help.contains(item) || item == "--version",
            "{item} in --help"
        );
        assert!(
            section.contains(item),
            "{item} in the README's main-job section"
        );
    }
    // The README's main-job commands run as written (on the recording engine).
    let (code, version, stderr) = blumeops(&["container-version", "--container-name", "navidrome"]);
    assert_eq!((code, version.trim()), (Some(0), "v0.61.1"), "{stderr}");
    for line in readme.lines().filter(|l| {
        l.trim_start().starts_with("blumeops ")
            || l.contains("cargo run --locked --bin blumeops --")
    }) {
        let words: Vec<String> = line
            .split("blumeops ")
            .last()
            .unwrap()
            .trim_start_matches("-- ")
            .split('#')
            .next()
            .unwrap()
            .split_whitespace()
            .filter(|w| *w != ">" && !w.starts_with('~'))
            .map(|w| {
                w.replace("\"$VERSION\"", "v0.61.1")
                    .trim_matches('"')
                    .to_string()
            })
            .collect();
        let (code, stdout, stderr) = run(&words);
        assert_eq!(code, Some(0), "{line}\n{stderr}");
        assert!(!stdout.is_empty(), "{line}");
    }
}

mod fixed_http;

/// A session: the mock engine served over the session protocol, its registry (a model) at the
/// address of a listener that counts connections: only the engine may reach the registry.
struct Session {
    engine: dagger_mock_engine::MockEngine,
    server: dagger_mock_engine::SessionServer,
    registry: String,
    connections: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    _registry_task: tokio::task::JoinHandle<()>,
}

async fn session() -> Session {
    let (registry, connections, task) = fixed_http::sentinel().await;
    let engine = dagger_mock_engine::MockEngine::recording();
    // The smoke check's output: what Navidrome v0.61.1 prints for `--version`.
    engine.set_exec_stdout(
        &["/usr/bin/navidrome", "--version"],
        "0.61.1 (source_archive)\n",
    );
    engine.add_host_directory(env!("CARGO_MANIFEST_DIR"), &[]);
    engine.set_env("ZOT_CI_API_KEY", SECRET_VALUE);
    engine.registry(&registry).account(
        "zot-ci",
        SECRET_VALUE,
        dagger_mock_engine::AccountRights::ReadWrite,
    );
    let server = dagger_mock_engine::SessionServer::start(&engine)
        .await
        .unwrap();
    Session {
        engine,
        server,
        registry,
        connections,
        _registry_task: task,
    }
}

async fn in_session(session: &Session, args: Vec<String>) -> (Option<i32>, String, String) {
    let mut cmd = command(&args.iter().map(String::as_str).collect::<Vec<_>>());
    cmd.envs(session.server.env_vars());
    let out = tokio::task::spawn_blocking(move || cmd.output().expect("the binary runs"))
        .await
        .unwrap();
    finish(out)
}

/// Finds `lines` in `text` in this order from byte `from`; returns where the last one ends.
fn in_order(text: &str, from: usize, lines: &[String]) -> usize {
    let mut at = from;
    for line in lines {
        let found = text[at..]
            .find(line.as_str())
            .unwrap_or_else(|| panic!("{line:?} after position {at} in\n{text}"));
        at += found + line.len();
    }
    at
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_shows_each_phase_on_stderr_and_only_the_result_on_stdout() {
    let s = session().await;
    let args = with(
        NAVIDROME,
        &[
            &format!("--registry={}", s.registry),
            "--registry-password=env:ZOT_CI_API_KEY",
        ],
    );
    let (code, stdout, stderr) = in_session(&s, args.clone()).await;
    assert_eq!(code, Some(0), "{stderr}");
    let reference = format!("{}/blumeops/navidrome:v0.61.1-c86b5d7@sha256:", s.registry);
    assert!(
        stdout.starts_with(&reference) && stdout.lines().count() == 1,
        "{stdout}"
    );
    let tag = format!("{}/blumeops/navidrome:v0.61.1-c86b5d7", s.registry);
    // The build (with the smoke check) and the existing-tag check run together, before any
    // push: each phase's lines in order, the two phases in either order.
    let build = [
        "blumeops: build and run `/usr/bin/navidrome --version` ...".to_string(),
        "blumeops: build and run `/usr/bin/navidrome --version`: done (".into(),
    ];
    let check = [
        format!("blumeops: existing-tag check of {tag} ..."),
        format!("blumeops: existing-tag check: {tag} not there yet"),
        format!("blumeops: existing-tag check of {tag}: answered ("),
    ];
    let push = [
        format!("blumeops: push of {tag} ..."),
        format!("blumeops: pushed {}", stdout.trim()),
        format!("blumeops: push of {tag}: done ("),
        "blumeops: publish: done (".into(),
    ];
    let before = [
        "blumeops: arguments checked: done (".to_string(),
        "blumeops: loading --src, --registry-password ...".into(),
        "blumeops: loading --src, --registry-password: done (".into(),
        "blumeops: publish ...".into(),
    ];
    let after_loading = in_order(&stderr, 0, &before);
    let push_at = stderr
        .find(push[0].as_str())
        .unwrap_or_else(|| panic!("no push in\n{stderr}"));
    for phase in [&build[..], &check[..]] {
        let end = in_order(&stderr, after_loading, phase);
        assert!(end <= push_at, "{phase:?} after the push in\n{stderr}");
    }
    in_order(&stderr, push_at, &push);
    assert!(!stderr.contains("Plan of"), "{stderr}");
    assert_eq!(s.engine.published().len(), 1);
    // The existing-tag check and the push went through the engine alone.
    assert_eq!(
        s.connections.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "the main job connected to the registry itself"
    );

    let (code, stdout, stderr) = in_session(
        &s,
        with(
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
            &["--quiet", "--existing-tag-policy=overwrite"],
        ),
    )
    .await;
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.starts_with(&reference), "{stdout}");
    assert!(stderr.is_empty(), "--quiet: {stderr}");

    let (code, stdout, stderr) = in_session(
        &s,
        with(
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
            &["--json", "-q", "--existing-tag-policy=overwrite"],
        ),
    )
    .await;
    assert_eq!(code, Some(0), "{stderr}");
    let value: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(value["engine"], "session");
    assert_eq!(value["references"][0]["digest_is_stand_in"], false);
    assert!(value["references"][0]["reference"]
        .as_str()
        .unwrap()
        .starts_with(&reference));
}

/// Issue 19, item 3: the existing-tag check is logged as what it found, per tag, and "pushed"
/// only for a push's own answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_says_pushed_only_for_a_push() {
    let s = session().await;
    let digest = format!("sha256:{}", "e".repeat(64));
    s.engine.registry(&s.registry).existing_tag_with_digest(
        "blumeops/navidrome",
        "v0.61.1-c86b5d7",
        &digest,
    );
    let tag = format!("{}/blumeops/navidrome:v0.61.1-c86b5d7", s.registry);
    let latest = format!("{}/blumeops/navidrome:latest", s.registry);
    let args = with(
        NAVIDROME,
        &[
            &format!("--registry={}", s.registry),
            "--registry-password=env:ZOT_CI_API_KEY",
            "--extra-tags=latest",
        ],
    );
    let (code, stdout, stderr) = in_session(&s, args).await;
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(!stderr.contains("pushed "), "nothing was pushed:\n{stderr}");
    assert!(
        stderr.contains(&format!("existing-tag check: {tag} exists at {digest}")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("existing-tag check: {latest} not there yet")),
        "{stderr}"
    );
    assert!(
        !stderr.contains(&format!("existing-tag check: {tag} not there yet")),
        "{stderr}"
    );
    assert!(stderr.contains("tag exists"), "{stderr}");
    assert!(s.engine.published().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_failure_after_the_arguments_exits_1_and_bad_arguments_exit_2() {
    let s = session().await;
    // A wrong password: the registry refuses the push (after the arguments were accepted).
    s.engine.set_env("WRONG_KEY", "not-the-password");
    let (code, stdout, stderr) = in_session(
        &s,
        with(
            NAVIDROME,
            &[
                &format!("--registry={}", s.registry),
                "--registry-password=WRONG_KEY",
                "--existing-tag-policy=overwrite",
            ],
        ),
    )
    .await;
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(stderr.contains("failed ("), "{stderr}");
    // Argument errors come before any engine work, even those found by reading the source (a
    // version the container does not build): the session's engine sees no request at all.
    for version in ["--version=v 1", "--version=v0.50.0"] {
        s.engine.reset_recorder();
        let (code, stdout, stderr) = in_session(
            &s,
            vec![
                "publish".into(),
                "--container-name=navidrome".into(),
                version.into(),
                "--commit-sha=c86b5d7".into(),
                format!("--registry={}", s.registry),
                "--registry-password=env:ZOT_CI_API_KEY".into(),
            ],
        )
        .await;
        assert_eq!(code, Some(2), "{stderr}");
        assert!(stdout.is_empty(), "{stdout}");
        assert_eq!(s.engine.round_trips(), 0, "{:#?}", s.engine.queries());
        assert!(!stderr.contains("blumeops: "), "no phase started: {stderr}");
    }
    assert!(s.engine.published().is_empty());
}

/// Issue 19, item 2: without a session a function that pushes refuses (exit 2, nothing on
/// standard output) unless `--plan` is given, and a planned digest is marked as a stand-in.
#[test]
fn a_push_without_a_session_is_refused_unless_planned() {
    for extra in [&["--quiet"][..], &[], &["--json"], &["--json", "-q"]] {
        let (code, stdout, stderr) = run(&with(NAVIDROME, extra));
        assert_eq!(code, Some(2), "{extra:?}: {stderr}");
        assert!(stdout.is_empty(), "{extra:?}: {stdout}");
        assert!(
            stderr.contains("needs a Dagger engine session")
                && stderr.contains("dagger run")
                && stderr.contains("--plan"),
            "{extra:?}: {stderr}"
        );
        assert!(!stderr.contains("Plan of"), "{stderr}");
    }
    // The arguments' own errors still come first.
    let (code, _, stderr) = run(&with(&NAVIDROME[..3], &["--commit-sha=XYZ"]));
    assert_eq!(code, Some(2));
    assert!(stderr.contains("XYZ"), "{stderr}");
    // Planned: the text result says its digest is a stand-in.
    let (code, stdout, stderr) = run(&with(NAVIDROME, &["--plan", "-q"]));
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout
            .trim_end()
            .ends_with("(stand-in digest: planned with --plan, nothing was pushed)"),
        "{stdout}"
    );
    // A function that pushes nothing still runs without a session.
    let (code, stdout, _) = blumeops(&["container-version", "--container-name=navidrome", "-q"]);
    assert_eq!((code, stdout.as_str()), (Some(0), "v0.61.1\n"));
}

#[test]
fn a_bare_variable_name_is_a_secret_as_in_the_dagger_cli() {
    let (code, stdout, stderr) = run(&with(
        &NAVIDROME[..4],
        &["--plan", "--registry-password=ZOT_CI_API_KEY"],
    ));
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    // A bare value may be the key itself: it is never printed (issue 19, item 5).
    assert!(stderr.contains("(secret env://[REDACTED])"), "{stderr}");
    assert!(!stderr.contains("ZOT_CI_API_KEY"), "{stderr}");
    // The engine's own words for a provider it does not know (address(value:).secret).
    let (code, _, stderr) = run(&with(
        &NAVIDROME[..4],
        &["--registry-password=foo:ZOT_CI_API_KEY"],
    ));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains(r#"unsupported secret provider: "foo""#),
        "{stderr}"
    );
}

/// Issue 19, item 4: a path in `--registry` is refused (exit 2), never dropped: the image
/// would go to the host's root instead of the namespace meant.
#[test]
fn a_path_in_the_registry_is_refused_not_dropped() {
    for registry in ["ghcr.io/myorg", "ghcr.io/myorg/app:v9"] {
        let (code, stdout, stderr) = run(&with(
            NAVIDROME,
            &["--plan", &format!("--registry={registry}")],
        ));
        assert_eq!(code, Some(2), "{registry}: {stderr}");
        assert!(stdout.is_empty(), "{stdout}");
        assert!(
            stderr.contains("--registry") && stderr.contains("namespace"),
            "{registry}: {stderr}"
        );
        assert!(!stderr.contains("ghcr.io/blumeops"), "{stderr}");
    }
    let (code, stdout, stderr) = run(&with(NAVIDROME, &["--plan", "--registry=https://ghcr.io/"]));
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout.starts_with("ghcr.io/blumeops/navidrome:"),
        "{stdout}"
    );
}

/// Issue 19, item 8: a user name with `:`, a control character or a newline is refused
/// (exit 2), naming the flag; no forged line reaches the plan.
#[test]
fn a_user_name_that_basic_auth_cannot_carry_is_refused() {
    for username in [
        "zot:ci",
        "zot-ci\nregistry.evil.example: user root",
        "zot\tci",
        " zot-ci",
    ] {
        let (code, stdout, stderr) = run(&with(
            NAVIDROME,
            &[
                "--plan",
                &format!("--registry-username={username}"),
                "--registry-password=env:ZOT_CI_API_KEY",
            ],
        ));
        assert_eq!(code, Some(2), "{username:?}: {stderr}");
        assert!(stdout.is_empty(), "{stdout}");
        assert!(
            stderr.contains("--registry-username"),
            "{username:?}: {stderr}"
        );
        assert!(
            !stderr.contains("registry.evil.example: user root"),
            "{stderr}"
        );
        assert!(!stderr.contains("Plan of"), "{stderr}");
    }
}

/// Issue 19, item 5: a bare secret value (which the Dagger CLI reads as a variable's name, but
/// which is often the key itself) and a `cmd:` address's command are never written: not in the
/// plan's header, its registry-auth line, `--json`, log lines or errors.
#[test]
fn a_bare_secret_value_or_a_command_is_never_printed() {
    const BARE: &str = "zak_CANARY_bare_value_123";
    const COMMAND: &str = "echo zak_CANARY_cmd_token_456";
    let cases: Vec<Vec<String>> = vec![
        with(
            NAVIDROME,
            &["--plan", &format!("--registry-password={BARE}")],
        ),
        with(
            NAVIDROME,
            &["--plan", "--json", &format!("--registry-password={BARE}")],
        ),
        with(
            NAVIDROME,
            &["--plan", &format!("--registry-password=cmd:{COMMAND}")],
        ),
        with(
            NAVIDROME,
            &[
                "--plan",
                "--json",
                &format!("--registry-password=cmd://{COMMAND}"),
            ],
        ),
        // Refused without a session: the refusal does not echo it either.
        with(NAVIDROME, &[&format!("--registry-password={BARE}")]),
        // An argument error beside it.
        with(
            &NAVIDROME[..3],
            &["--commit-sha=XYZ", &format!("--registry-password={BARE}")],
        ),
    ];
    for args in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = command(&args)
            .env("RUST_LOG", "debug")
            .output()
            .expect("the binary runs");
        let (_, stdout, stderr) = finish(out);
        for canary in ["zak_CANARY_bare_value_123", "zak_CANARY_cmd_token_456"] {
            assert!(
                !stdout.contains(canary) && !stderr.contains(canary),
                "{args:?} printed {canary}:\n{stdout}\n{stderr}"
            );
        }
    }
    // What stays visible: where the secret comes from, when that is not the secret.
    let (code, _, stderr) = run(&with(
        NAVIDROME,
        &["--plan", "--registry-password=env:ZOT_CI_API_KEY"],
    ));
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("(secret env://ZOT_CI_API_KEY)"), "{stderr}");
}

/// Issue 19, item 7: the main job takes `SOURCE_DATE_EPOCH` as the image's creation time when
/// `--created` is not given; `--created` wins; a value that is not whole seconds is refused.
#[test]
fn source_date_epoch_sets_the_creation_time() {
    let planned = |created: Option<&str>, epoch: &str| {
        let mut args = with(NAVIDROME, &["--plan"]);
        if let Some(c) = created {
            args.push(format!("--created={c}"));
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        finish(
            command(&args)
                .env("SOURCE_DATE_EPOCH", epoch)
                .output()
                .expect("the binary runs"),
        )
    };
    let (code, _, stderr) = planned(None, "1700000000");
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains("LABEL org.opencontainers.image.created=2023-11-14T22:13:20Z"),
        "{stderr}"
    );
    let (code, _, stderr) = planned(Some("2024-01-02T03:04:05Z"), "1700000000");
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains("LABEL org.opencontainers.image.created=2024-01-02T03:04:05Z"),
        "{stderr}"
    );
    let (code, stdout, stderr) = planned(None, "yesterday");
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stdout.is_empty());
    assert!(stderr.contains("SOURCE_DATE_EPOCH"), "{stderr}");
}

/// Issue 19, item 9: what a session accepts, the plan shows, and the other way round:
/// `container-list` plans (its registry client's image resolves to a stand-in); `file:` and
/// `cmd:` secrets plan (a plan reads no secret: the credential stands in, unread); an upper-case
/// registry is the same registry in both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plan_and_a_session_agree() {
    let (code, stdout, stderr) = blumeops(&[
        "container-list",
        "--plan",
        "--registry-password=env:ZOT_CI_API_KEY",
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("navidrome"), "{stdout}");
    for password in ["file:/no/such/file", "cmd:pass show zot-ci"] {
        let (code, stdout, stderr) = run(&with(
            NAVIDROME,
            &["--plan", &format!("--registry-password={password}")],
        ));
        assert_eq!(code, Some(0), "{password}: {stderr}");
        assert!(!stdout.is_empty());
        assert!(stderr.contains("password [REDACTED]"), "{stderr}");
    }
    // Host names are case-insensitive: one spelling, lower case, in the plan and the session.
    let upper = "--registry=Registry.Example.com";
    let (plan_code, plan_out, plan_err) = run(&with(NAVIDROME, &["--plan", upper]));
    assert_eq!(plan_code, Some(0), "{plan_err}");
    assert!(
        plan_out.starts_with("registry.example.com/blumeops/navidrome:"),
        "{plan_out}"
    );
    let s = session().await;
    let (session_code, session_out, session_err) = in_session(&s, with(NAVIDROME, &[upper])).await;
    assert_eq!(session_code, Some(0), "{session_err}");
    assert!(
        session_out.starts_with("registry.example.com/blumeops/navidrome:"),
        "{session_out}"
    );
}

/// Issue 23: the main job runs every function of the module; one that returns a File writes
/// it where `-o/--output` says (as `dagger call ... export --path`), and refuses without it.
#[test]
fn every_function_runs_and_a_file_needs_an_output_path() {
    let (code, help, _) = blumeops(&["--help"]);
    assert_eq!(code, Some(0));
    for function in [
        "build-nix",
        "nix-version",
        "build-docs",
        "flake-lock",
        "flake-update",
        "validate-workflows",
        "export-yolov9",
        "container-version-check",
        "changed-containers",
    ] {
        assert!(help.contains(function), "{function} in --help");
    }
    // Without -o: refused before anything runs.
    let (code, stdout, stderr) = blumeops(&["flake-lock", "--plan"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stdout.is_empty());
    assert!(stderr.contains("--output"), "{stderr}");
    // Without a session and without --plan: refused, nothing written.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("flake.lock");
    let out = out.to_string_lossy().to_string();
    let (code, stdout, stderr) = blumeops(&["flake-lock", "-o", &out, "-q"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stdout.is_empty() && stderr.contains("needs a Dagger engine session"));
    // Planned: the path, marked as a stand-in, and no file.
    let (code, stdout, stderr) = blumeops(&["flake-lock", "--plan", "-o", &out, "-q"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        stdout.trim(),
        format!("{out} (stand-in: planned with --plan, nothing was written)")
    );
    assert!(!std::path::Path::new(&out).exists());
    // A function returning text runs as before.
    let (code, stdout, stderr) = blumeops(&[
        "changed-containers",
        "--changed",
        "containers/navidrome/Dockerfile",
        "-q",
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stdout.trim(), r#"[{"name":"navidrome","build":"native"}]"#);
}

/// Issue 19, item 12: an error quoting a huge argument is cut to a size a person can read.
#[test]
fn a_huge_argument_is_not_echoed_back_in_full() {
    let huge = format!("--version={}", "9".repeat(120 * 1024));
    let (code, stdout, stderr) = run(&with(&NAVIDROME[..2], &[&huge, "--commit-sha=c86b5d7"]));
    assert_eq!(code, Some(2), "{}", &stderr[..200.min(stderr.len())]);
    assert!(stdout.is_empty());
    assert!(stderr.len() < 20 * 1024, "{} bytes on stderr", stderr.len());
    assert!(
        stderr.contains("message cut"),
        "{}",
        &stderr[stderr.len() - 200..]
    );
}

/// Issue 23: `--base REF` fills `--changed` from the local clone (`git diff --name-only
/// REF...HEAD` in `--src`), for the detect step and the version check; a bad ref is an
/// argument error naming git's words.
#[test]
fn base_fills_the_changed_paths_from_the_clone() {
    let dir = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .arg("-C")
            .arg(dir.path())
            .args(args)
            .output()
            .expect("git runs");
        assert!(out.status.success(), "git {args:?}: {out:?}");
    };
    git(&["init", "-q", "-b", "main"]);
    git(&["config", "user.email", "ci@example.org"]);
    git(&["config", "user.name", "ci"]);
    std::fs::create_dir_all(dir.path().join("containers/homepage")).unwrap();
    std::fs::write(
        dir.path().join("containers/homepage/Dockerfile"),
        "FROM alpine:3.22\n",
    )
    .unwrap();
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "homepage"]);
    git(&["checkout", "-q", "-b", "feature"]);
    std::fs::create_dir_all(dir.path().join("containers/authentik")).unwrap();
    std::fs::write(dir.path().join("containers/authentik/default.nix"), "{ }\n").unwrap();
    std::fs::write(dir.path().join("README.md"), "outside containers/\n").unwrap();
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "authentik"]);
    let src = dir.path().to_string_lossy().to_string();
    let (code, stdout, stderr) =
        blumeops(&["changed-containers", "--src", &src, "--base", "main", "-q"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stdout.trim(), r#"[{"name":"authentik","build":"nix"}]"#);
    let (code, stdout, stderr) = blumeops(&[
        "changed-containers",
        "--src",
        &src,
        "--base",
        "nosuch",
        "-q",
    ]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("--base") && stderr.contains("nosuch"),
        "{stderr}"
    );
    let (code, _, stderr) = blumeops(&[
        "changed-containers",
        "--src",
        &src,
        "--base",
        "main",
        "--changed",
        "x",
    ]);
    assert_eq!(code, Some(2), "--base and --changed together: {stderr}");
}

/// Issue 23: `container-list` shows each container's build type and repository, and takes the
/// main branch's commits from the local clone with `--base` (its markers are tested on the
/// library, `tests/pipeline_listing.rs`); a bad ref is an argument error.
#[test]
fn container_list_shows_build_types_and_takes_history_from_the_clone() {
    let (code, stdout, stderr) = blumeops(&[
        "container-list",
        "--plan",
        "-q",
        "--base",
        "HEAD",
        "--registry-password=env:ZOT_CI_API_KEY",
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout.contains("navidrome (native)  registry.ops.eblu.me/blumeops/navidrome"),
        "{stdout}"
    );
    let (code, _, stderr) = blumeops(&["container-list", "--plan", "--base", "no-such-ref"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("git rev-list"), "{stderr}");
}
