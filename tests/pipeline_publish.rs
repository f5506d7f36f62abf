//! The module's `publish` and `publish-nix` with the image's promises kept, in process on the
//! mock engine: the version guard (an argument error before anything is built), the smoke check
//! (before any push, the image unchanged, one round trip), provenance labels, and native
//! multi-platform images.

use blumeops::module::{definition, Blumeops};
use blumeops::pipeline::containers::{miniflux, navidrome};
use blumeops::pipeline::{BuildOptions, Catalog, Provenance};
use blumeops::release::Created;
use dagger_engine::registry::{repository, Tag};
use dagger_mock_engine::{BuildStep, ContainerDescription, ExecFailure, MockEngine};
use dagger_module_runtime::{Args, CallContext, FunctionError, FunctionResult, Module};
use dagger_publish::{ExistingTagPolicy, PublishRequest, Publisher};
use serde_json::{json, Value};

const REGISTRY: &str = "registry.ops.eblu.me";
const REPO: &str = "/repo";
const NAVIDROME_CHECK: [&str; 2] = ["/usr/bin/navidrome", "--version"];
const MINIFLUX_CHECK: [&str; 2] = ["/usr/bin/miniflux", "-version"];

/// The recording engine (the mock runs no command, and only the recording engine takes the
/// binary `go build` would write as there), with both mirrors and a repository holding
/// Dockerfile containers: one pinning its version, one not.
fn engine() -> MockEngine {
    let engine = MockEngine::recording();
    engine.add_git_repository(
        "https://forge.ops.eblu.me/mirrors/navidrome.git",
        navidrome::VERSION,
        &[("go.mod", "module github.com/navidrome/navidrome\n")],
    );
    engine.add_git_repository(
        "https://forge.ops.eblu.me/mirrors/miniflux.git",
        miniflux::VERSION,
        &[("go.mod", "module miniflux.app/v2\n")],
    );
    engine.add_host_directory(
        REPO,
        &[
            (
                "containers/homepage/Dockerfile",
                "ARG CONTAINER_APP_VERSION=v1.4.2\nFROM alpine:3.22\n",
            ),
            ("containers/unpinned/Dockerfile", "FROM alpine:3.22\n"),
            ("result", "nix docker-archive bytes"),
        ],
    );
    engine
}

async fn id(engine: &MockEngine, query: &str) -> String {
    let data = engine.client().query(query).await.expect("setup query");
    let mut value = &data;
    while let Value::Object(map) = value {
        value = map.values().next().expect("one field");
    }
    value.as_str().expect("an ID").to_string()
}

async fn src(engine: &MockEngine) -> String {
    id(
        engine,
        &format!("query{{host{{directory(path:\"{REPO}\"){{id}}}}}}"),
    )
    .await
}

/// Calls `function` as the engine would, with `args` (names as the engine sends them).
async fn call(
    engine: &MockEngine,
    function: &str,
    args: &[(&str, Value)],
) -> Result<FunctionResult, FunctionError> {
    let def = definition();
    let f = def.object.find_function(function).expect("a function");
    let input: Vec<(String, Value)> = args
        .iter()
        .map(|(name, value)| (name.to_string(), Value::String(value.to_string())))
        .collect();
    let args = Args::decode(f, &input).expect("arguments decode");
    let ctx = CallContext::new(engine.client(), json!({}));
    Blumeops::new().call(&ctx, function, &args).await
}

async fn publish(
    engine: &MockEngine,
    name: &str,
    version: &str,
    extra: &[(&str, Value)],
) -> Result<FunctionResult, FunctionError> {
    let src = src(engine).await;
    publish_version(engine, &src, name, version, extra).await
}

/// `publish` of `name` at its pinned version, from the source directory whose ID is `src`.
async fn publish_with_src(
    engine: &MockEngine,
    src: &str,
    name: &str,
    extra: &[(&str, Value)],
) -> Result<FunctionResult, FunctionError> {
    let catalog = Catalog::standard();
    let version = catalog.native(name).expect("a native pipeline").version();
    publish_version(engine, src, name, version, extra).await
}

async fn publish_version(
    engine: &MockEngine,
    src: &str,
    name: &str,
    version: &str,
    extra: &[(&str, Value)],
) -> Result<FunctionResult, FunctionError> {
    let mut args = vec![
        ("src", json!(src)),
        ("containerName", json!(name)),
        ("version", json!(version)),
        ("commitSha", json!("c86b5d7aa1")),
    ];
    args.extend(extra.iter().cloned());
    call(engine, "publish", &args).await
}

fn returned(result: Result<FunctionResult, FunctionError>) -> String {
    match result {
        Ok(FunctionResult::Value(Value::String(s))) => s,
        other => panic!("expected a string, got {other:?}"),
    }
}

fn label<'a>(d: &'a ContainerDescription, name: &str) -> Option<&'a str> {
    d.steps.iter().rev().find_map(|s| match s {
        BuildStep::Label { name: n, value } if n == name => Some(value.as_str()),
        _ => None,
    })
}

fn annotation<'a>(d: &'a ContainerDescription, name: &str) -> Option<&'a str> {
    d.steps.iter().rev().find_map(|s| match s {
        BuildStep::Annotation { name: n, value } if n == name => Some(value.as_str()),
        _ => None,
    })
}

#[tokio::test]
async fn navidrome_refuses_a_version_it_does_not_build_before_anything_runs() {
    let engine = engine();
    let src = src(&engine).await;
    engine.reset_recorder();
    let err = call(
        &engine,
        "publish",
        &[
            ("src", json!(src)),
            ("containerName", json!("navidrome")),
            ("version", json!("v0.50.0")),
            ("commitSha", json!("c86b5d7")),
        ],
    )
    .await
    .expect_err("v0.50.0 is not what the pipeline builds");
    assert_eq!(err.exit_code(), 2, "an argument error: {err}");
    let text = err.to_string();
    assert!(text.starts_with("--version: v0.50.0"), "{text}");
    assert!(text.contains("v0.61.1"), "{text}");
    assert!(text.contains("its native pipeline"), "{text}");
    // A native pipeline's version is in the code: nothing was asked of the engine at all.
    assert_eq!(engine.round_trips(), 0, "{:#?}", engine.queries());
    assert!(engine.published().is_empty());
}

#[tokio::test]
async fn the_v_prefix_rule_lets_ci_pass_v2_2_19_for_miniflux() {
    let engine = engine();
    engine.set_exec_stdout(&MINIFLUX_CHECK, "2.2.19\n");
    let reference = returned(publish(&engine, "miniflux", "v2.2.19", &[]).await);
    assert!(
        reference.starts_with(&format!(
            "{REGISTRY}/blumeops/miniflux:v2.2.19-c86b5d7@sha256:"
        )),
        "{reference}"
    );
    let err = publish(&engine, "miniflux", "v2.2.10", &[])
        .await
        .expect_err("2.2.10 is not 2.2.19");
    assert_eq!(err.exit_code(), 2);
    assert!(err.to_string().contains("v2.2.10") && err.to_string().contains("2.2.19"));
}

#[tokio::test]
async fn a_dockerfile_container_is_checked_against_its_arg_when_it_has_one() {
    let engine = engine();
    let err = publish(&engine, "homepage", "v1.5.0", &[])
        .await
        .expect_err("the Dockerfile pins v1.4.2");
    assert_eq!(err.exit_code(), 2);
    let text = err.to_string();
    assert!(
        text.contains("v1.5.0")
            && text.contains("v1.4.2")
            && text.contains("containers/homepage/Dockerfile (ARG CONTAINER_APP_VERSION)"),
        "{text}"
    );
    assert!(engine.published().is_empty());

    returned(publish(&engine, "homepage", "1.4.2", &[]).await);
    // No ARG: nothing to compare with.
    returned(publish(&engine, "unpinned", "v9.9.9", &[]).await);
    assert_eq!(engine.published().len(), 2);
}

#[tokio::test]
async fn publish_nix_is_checked_against_the_archives_version_label() {
    let engine = engine();
    let archive = id(
        &engine,
        &format!("query{{host{{directory(path:\"{REPO}\"){{file(path:\"result\"){{id}}}}}}}}"),
    )
    .await;
    let nix = |version: &'static str| {
        vec![
            ("archive", json!(archive)),
            ("containerName", json!("tool")),
            ("version", json!(version)),
            ("commitSha", json!("c86b5d7")),
        ]
    };
    // No label: nothing to compare with.
    returned(call(&engine, "publish_nix", &nix("v2.0.0")).await);

    engine.set_archive_labels(
        "nix docker-archive bytes",
        &[("org.opencontainers.image.version", "2.1.0")],
    );
    let err = call(&engine, "publish_nix", &nix("v2.0.0"))
        .await
        .expect_err("the archive says 2.1.0");
    assert_eq!(err.exit_code(), 2);
    let text = err.to_string();
    assert!(
        text.contains("v2.0.0")
            && text.contains("2.1.0")
            && text.contains("the archive's org.opencontainers.image.version label"),
        "{text}"
    );
    let reference = returned(call(&engine, "publish_nix", &nix("v2.1.0")).await);
    assert!(
        reference.contains(":v2.1.0-c86b5d7-nix@sha256:"),
        "{reference}"
    );
}

#[tokio::test]
async fn a_smoke_check_whose_output_lacks_the_version_pushes_nothing() {
    let engine = engine();
    // What Navidrome printed before the build set its commit: "dev".
    engine.set_exec_stdout(&NAVIDROME_CHECK, "dev\n");
    let err = publish(&engine, "navidrome", "v0.61.1", &[])
        .await
        .expect_err("the image does not say 0.61.1");
    assert_eq!(err.exit_code(), 1, "a failure, not an argument error");
    let text = err.to_string();
    assert!(
        text.contains(
            "pipeline \"navidrome\", step \"smoke check (/usr/bin/navidrome --version)\" failed: \
             its output does not name 0.61.1"
        ),
        "{text}"
    );
    assert!(text.contains("\n    dev"), "the output is shown: {text}");
    assert!(engine.published().is_empty());
}

#[tokio::test]
async fn a_smoke_check_that_cannot_run_is_a_step_error_naming_the_check() {
    let engine = engine();
    engine.fail_exec(ExecFailure {
        args_contains: NAVIDROME_CHECK.map(String::from).to_vec(),
        exit_code: 1,
        stdout: String::new(),
        stderr: "exec /usr/bin/navidrome: exec format error\n".into(),
    });
    let err = publish(
        &engine,
        "navidrome",
        "v0.61.1",
        &[("platforms", json!(["linux/arm64"]))],
    )
    .await
    .expect_err("the binary cannot run");
    assert_eq!(err.exit_code(), 1);
    let text = err.to_string();
    assert!(
        text.contains(
            "pipeline \"navidrome\", step \"smoke check (/usr/bin/navidrome --version)\" failed \
             with exit code 1"
        ),
        "{text}"
    );
    assert!(text.contains("exec format error"), "{text}");
    assert!(engine.published().is_empty());
}

#[tokio::test]
async fn published_images_carry_provenance_labels_and_annotations() {
    let engine = engine();
    engine.set_exec_stdout(&NAVIDROME_CHECK, "0.61.1 (source_archive)\n");
    returned(
        publish(
            &engine,
            "navidrome",
            "v0.61.1",
            &[("created", json!("2025-06-01T14:00:00+02:00"))],
        )
        .await,
    );
    returned(publish(&engine, "homepage", "v1.4.2", &[]).await);
    let published = engine.published();
    let (native, dockerfile) = (&published[0].container, &published[1].container);
    for (d, version, created) in [
        (native, "v0.61.1", "2025-06-01T12:00:00Z"),
        (dockerfile, "v1.4.2", "1970-01-01T00:00:00Z"),
    ] {
        for (name, value) in [
            ("org.opencontainers.image.revision", "c86b5d7aa1"),
            ("org.opencontainers.image.created", created),
            ("org.opencontainers.image.version", version),
        ] {
            assert_eq!(label(d, name), Some(value), "{name}:\n{d}");
            assert_eq!(annotation(d, name), Some(value), "{name}:\n{d}");
        }
        for name in [
            "org.opencontainers.image.title",
            "org.opencontainers.image.description",
            "org.opencontainers.image.source",
        ] {
            assert!(
                label(d, name).is_some_and(|v| !v.is_empty()),
                "{name}:\n{d}"
            );
            assert_eq!(label(d, name), annotation(d, name), "{name}:\n{d}");
        }
    }

    let err = publish(
        &engine,
        "navidrome",
        "v0.61.1",
        &[("created", json!("yesterday"))],
    )
    .await
    .expect_err("not RFC 3339");
    assert_eq!(err.exit_code(), 2);
    assert!(
        err.to_string()
            .starts_with("--created: invalid creation time"),
        "{err}"
    );
}

/// Publishes `name` through the catalog and the publisher, with or without the smoke check;
/// the published image and the engine round trips it cost.
async fn publish_counting(name: &str, check: bool) -> (ContainerDescription, String, usize) {
    let engine = engine();
    engine.set_exec_stdout(&NAVIDROME_CHECK, "0.61.1 (source_archive)\n");
    let dag = engine.query();
    let src = dag.host().directory(REPO);
    let catalog = Catalog::standard();
    let options = BuildOptions {
        platforms: Vec::new(),
        provenance: Some(Provenance {
            version: "v0.61.1".into(),
            revision: "c86b5d7".into(),
            created: Created::UNIX_EPOCH,
        }),
    };
    let request = PublishRequest::new(
        REGISTRY,
        repository("blumeops", name).unwrap(),
        [Tag::parse("v0.61.1-c86b5d7").unwrap()],
    )
    .unwrap()
    .with_policy(ExistingTagPolicy::Overwrite);
    engine.reset_recorder();
    let mut built = catalog.build_with(&dag, &src, name, &options).unwrap();
    if check {
        built = catalog
            .smoke_check(&engine.client(), &src, built)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let report = Publisher::new(engine.client())
        .publish(&built.container, &request)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let record = engine.published().remove(0);
    (
        record.container,
        report.primary().digest.to_string(),
        engine.round_trips(),
    )
}

#[tokio::test]
async fn the_smoke_check_leaves_the_image_unchanged_and_costs_one_round_trip() {
    let (unchecked, unchecked_digest, unchecked_trips) = publish_counting("navidrome", false).await;
    let (checked, checked_digest, checked_trips) = publish_counting("navidrome", true).await;
    assert_eq!(checked, unchecked, "the same image is published");
    assert_eq!(checked_digest, unchecked_digest);
    assert!(
        !checked.steps.iter().any(|s| matches!(
            s,
            BuildStep::Exec { args, .. } if args.iter().any(|a| a == "--version")
        )),
        "the check's exec is not in the image:\n{checked}"
    );
    assert_eq!(
        checked_trips,
        unchecked_trips + 1,
        "the check, with the image's ID, is one request"
    );
}

#[tokio::test]
async fn navidrome_is_published_for_two_platforms_as_one_multi_platform_image() {
    let engine = engine();
    engine.set_exec_stdout(&NAVIDROME_CHECK, "0.61.1 (source_archive)\n");
    let reference = returned(
        publish(
            &engine,
            "navidrome",
            "v0.61.1",
            &[
                ("platforms", json!(["linux/amd64", "linux/arm64"])),
                ("extraTags", json!(["latest"])),
            ],
        )
        .await,
    );
    assert!(
        reference.contains("navidrome:v0.61.1-c86b5d7@sha256:"),
        "{reference}"
    );
    let published = engine.published();
    assert_eq!(published.len(), 2, "every tag");
    for record in &published {
        assert_eq!(record.container.platform.as_deref(), Some("linux/amd64"));
        assert_eq!(record.variants.len(), 1);
        assert_eq!(record.variants[0].platform.as_deref(), Some("linux/arm64"));
    }
    // One check per platform, the arm64 one under emulation (the plan says so).
    let reads = engine.output_reads();
    let platforms: Vec<Option<&str>> = reads.iter().map(|r| r.platform.as_deref()).collect();
    assert_eq!(platforms, [Some("linux/amd64"), Some("linux/arm64")]);
    let plan = engine.plan().to_string();
    assert!(
        plan.contains(
            "RUN /usr/bin/navidrome --version on platform linux/arm64 (not the engine's \
             linux/amd64: its commands run under the engine's emulation), stdout: 0.61.1"
        ),
        "{plan}"
    );
    assert!(plan.contains("Platform variant 2 of 2"), "{plan}");

    let err = publish(
        &engine,
        "navidrome",
        "v0.61.1",
        &[("platforms", json!(["linux/arm64", "linux/arm64"]))],
    )
    .await
    .expect_err("a platform twice");
    assert_eq!(err.exit_code(), 2);
    assert!(err.to_string().contains("given twice"), "{err}");
    let err = publish(
        &engine,
        "navidrome",
        "v0.61.1",
        &[("platforms", json!(["arm64"]))],
    )
    .await
    .expect_err("not os/arch");
    assert!(
        err.to_string()
            .starts_with("--platforms: platform \"arm64\""),
        "{err}"
    );
}

/// The requests that look up the IDs of a build's stage inputs (`BuildContext::input`): aliased
/// `i0:<chain>{id}` fields, one request per level of stages.
fn input_lookups(queries: &[String]) -> Vec<&String> {
    queries
        .iter()
        .filter(|q| q.starts_with("query{i0:"))
        .collect()
}

#[tokio::test]
async fn native_publish_round_trips() {
    // In process (no call to read, no value to return): the stage inputs' IDs one request per
    // level, the smoke check with the image's ID, the existing-tag check's request, the push.
    let engine = engine();
    engine.set_exec_stdout(&MINIFLUX_CHECK, "2.2.19\n");
    let src = src(&engine).await;
    engine.reset_recorder();
    let args = [
        ("src", json!(src)),
        ("containerName", json!("miniflux")),
        ("version", json!("2.2.19")),
        ("commitSha", json!("c86b5d7")),
    ];
    returned(call(&engine, "publish", &args).await);
    let queries = engine.queries();
    let checks = queries.iter().filter(|q| q.contains("-version")).count();
    assert_eq!(checks, 1, "{queries:#?}");
    // Miniflux: the stage inputs' IDs in two requests, one per level: (1) the two Go cache
    // volumes and the source tree (passed twice, manifests then whole tree: one alias), (2) the
    // binary, whose chain holds the first level's IDs; then the smoke check with the image's
    // ID (1), the existing-tag check's request (1), the push (1). Before the stage inputs,
    // dagger-sdk looked up each object argument alone: 5 requests instead of 2, 8 in all.
    let lookups = input_lookups(&queries);
    assert_eq!(lookups.len(), 2, "{queries:#?}");
    assert_eq!(lookups[0].matches("{id}").count(), 3, "{}", lookups[0]);
    assert_eq!(lookups[1].matches("{id}").count(), 1, "{}", lookups[1]);
    assert_eq!(queries.len(), 5, "{queries:#?}");
}

#[tokio::test]
async fn navidrome_publish_round_trips() {
    let engine = engine();
    engine.set_exec_stdout(&NAVIDROME_CHECK, "0.61.1 (source_archive)\n");
    let src = src(&engine).await;
    engine.reset_recorder();
    returned(publish_with_src(&engine, &src, "navidrome", &[]).await);
    let queries = engine.queries();
    // Navidrome: the stage inputs' IDs in three requests, one per level: (1) the npm cache,
    // the UI folder of the source (manifests then whole package: one alias), the two Go
    // caches and the source tree (manifests then whole tree: one alias), (2) the UI build
    // directory, (3) the server binary, which embeds the UI; then the smoke check (1), the
    // existing-tag check (1), the push (1). Before: one request per object argument, 13.
    let lookups = input_lookups(&queries);
    assert_eq!(lookups.len(), 3, "{queries:#?}");
    let aliases: Vec<usize> = lookups.iter().map(|q| q.matches("{id}").count()).collect();
    assert_eq!(aliases, [5, 1, 1], "{lookups:#?}");
    assert_eq!(queries.len(), 6, "{queries:#?}");
}

#[tokio::test]
async fn navidrome_for_several_platforms_looks_the_ui_up_once() {
    let engine = engine();
    engine.set_exec_stdout(&NAVIDROME_CHECK, "0.61.1 (source_archive)\n");
    let src = src(&engine).await;
    engine.reset_recorder();
    let platforms = json!(["linux/amd64", "linux/arm64", "linux/riscv64"]);
    returned(publish_with_src(&engine, &src, "navidrome", &[("platforms", platforms)]).await);
    let queries = engine.queries();
    // The same three levels as for one platform: each platform's build registers its own
    // inputs, but the caches, the sources and the UI build are the same chains (one alias
    // each, the UI built once); only the binaries differ, one per platform, looked up together.
    let lookups = input_lookups(&queries);
    assert_eq!(lookups.len(), 3, "{queries:#?}");
    let aliases: Vec<usize> = lookups.iter().map(|q| q.matches("{id}").count()).collect();
    assert_eq!(aliases, [5, 1, 3], "{lookups:#?}");
    // Then one smoke check for all three images (whose answer carries their IDs, so the
    // publisher asks nothing more for the platform variants), the existing-tag check and the
    // push.
    assert_eq!(queries.len(), 6, "{queries:#?}");
    assert_eq!(engine.output_reads().len(), 3);
}

#[tokio::test]
async fn a_dockerfile_container_is_published_for_several_platforms() {
    let engine = engine();
    returned(
        publish(
            &engine,
            "homepage",
            "v1.4.2",
            &[("platforms", json!(["linux/amd64", "linux/arm64"]))],
        )
        .await,
    );
    let record = &engine.published()[0];
    let platform_of = |d: &ContainerDescription| d.platform.clone();
    assert_eq!(
        platform_of(&record.container).as_deref(),
        Some("linux/amd64")
    );
    assert_eq!(
        record.variants.iter().map(platform_of).collect::<Vec<_>>(),
        [Some("linux/arm64".to_string())]
    );
    for d in std::iter::once(&record.container).chain(&record.variants) {
        assert!(matches!(d.steps[0], BuildStep::DockerBuild { .. }), "{d}");
        assert_eq!(
            label(d, "org.opencontainers.image.revision"),
            Some("c86b5d7aa1")
        );
    }
    assert!(
        engine.output_reads().is_empty(),
        "no smoke check for a Dockerfile"
    );
}

/// The module binary as the engine spawns it, over the mock's HTTP session: the guard's refusal
/// comes back as the function's error, with exit code 2.
#[tokio::test(flavor = "multi_thread")]
async fn the_module_binary_refuses_navidrome_v0_50_0() {
    use dagger_mock_engine::FunctionCallSpec;
    let engine = engine();
    let src = src(&engine).await;
    let server = dagger_mock_engine::SessionServer::start(&engine)
        .await
        .expect("session server starts");
    engine.set_function_call(
        FunctionCallSpec::call("Blumeops", "publish")
            .arg("src", json!(src))
            .arg("containerName", json!("navidrome"))
            .arg("version", json!("v0.50.0"))
            .arg("commitSha", json!("c86b5d7")),
    );
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_blumeops-module"))
        .envs(server.env_vars())
        .kill_on_drop(true)
        .output();
    // A guard against a hang, not a timing assertion.
    let out = tokio::time::timeout(std::time::Duration::from_secs(300), out)
        .await
        .expect("the module binary finishes")
        .expect("the module binary runs");
    assert_eq!(out.status.code(), Some(2));
    let error = engine.returned_error().expect("an error was returned");
    assert!(
        error.contains("--version: v0.50.0") && error.contains("v0.61.1"),
        "{error}"
    );
    assert!(engine.published().is_empty());
}

/// The main job (plan mode, as the README runs it): the same refusal, exit code 2.
#[cfg(feature = "cli")]
#[test]
fn the_main_job_refuses_navidrome_v0_50_0() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_blumeops"))
        .args([
            "publish",
            "--container-name=navidrome",
            "--version=v0.50.0",
            "--commit-sha=c86b5d7",
        ])
        .env_remove("DAGGER_SESSION_PORT")
        .env_remove("DAGGER_SESSION_TOKEN")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--version: v0.50.0") && stderr.contains("v0.61.1"),
        "{stderr}"
    );
}

/// The check's request runs the build: a failing build step is reported by its name there,
/// before any push.
#[tokio::test]
async fn a_failing_build_step_surfaces_at_the_check_before_any_push() {
    let engine = engine();
    engine.set_exec_stdout(&NAVIDROME_CHECK, "0.61.1 (source_archive)\n");
    engine.fail_exec(ExecFailure {
        args_contains: vec!["go".into(), "build".into()],
        exit_code: 1,
        stdout: String::new(),
        stderr: "db/db.go:12:5: undefined: buildtags.SQLITE_FTS5\n".into(),
    });
    let err = publish(&engine, "navidrome", "v0.61.1", &[])
        .await
        .expect_err("go build fails");
    assert_eq!(err.exit_code(), 1);
    let text = err.to_string();
    assert!(
        text.contains("pipeline \"navidrome\", step \"go build\" failed with exit code 1"),
        "{text}"
    );
    assert!(text.contains("undefined: buildtags.SQLITE_FTS5"), "{text}");
    assert!(engine.published().is_empty());
}
