//! The real module binary, spawned as the engine spawns it (session variables from
//! `SessionServer::env_vars()`), against the mock engine's HTTP session: registration, calls,
//! every error path with its returned error and exit code, and the round-trip budgets.

mod fixed_http;

use std::time::Duration;

use dagger_mock_engine::{AccountRights, FunctionCallSpec, MockEngine, PushFailure};
use serde_json::{json, Value};

/// Exit code and standard error of one run of the module binary for `spec`.
async fn run_module(engine: &MockEngine, spec: FunctionCallSpec) -> (Option<i32>, String) {
    run_module_with_latency(engine, spec, Duration::ZERO).await
}

/// [`run_module`] on a session server that waits `latency` before each answer, as a network
/// would.
async fn run_module_with_latency(
    engine: &MockEngine,
    spec: FunctionCallSpec,
    latency: Duration,
) -> (Option<i32>, String) {
    let server = dagger_mock_engine::SessionServer::start(engine)
        .await
        .expect("session server starts");
    server.set_latency(latency);
    engine.set_function_call(spec);
    engine.reset_recorder();
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_blumeops-module"));
    cmd.envs(server.env_vars())
        .kill_on_drop(true)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    // A guard against a hang, not a timing assertion.
    let out = tokio::time::timeout(Duration::from_secs(300), cmd.output())
        .await
        .expect("the module binary finishes")
        .expect("the module binary runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn id_of(engine: &MockEngine, query: &str, path: &[&str]) -> String {
    let data = engine.client().query(query).await.expect("setup query");
    let mut v = &data;
    for p in path {
        v = &v[p];
    }
    v.as_str().expect("an ID").to_string()
}

/// A source directory with `containers/<name>/Dockerfile` pinning `version`.
async fn legacy_src(engine: &MockEngine, name: &str, version: &str) -> String {
    let dockerfile = format!("FROM alpine:3.20\\nARG CONTAINER_APP_VERSION={version}\\n");
    id_of(
        engine,
        &format!(
            "query{{directory{{withNewFile(path:\"containers/{name}/Dockerfile\",contents:\"{dockerfile}\"){{id}}}}}}"
        ),
        &["directory", "withNewFile", "id"],
    )
    .await
}

async fn secret(engine: &MockEngine, plaintext: &str) -> String {
    id_of(
        engine,
        &format!("query{{setSecret(name:\"zot\",plaintext:\"{plaintext}\"){{id}}}}"),
        &["setSecret", "id"],
    )
    .await
}

fn publish_call(src: &str, name: &str) -> FunctionCallSpec {
    FunctionCallSpec::call("Blumeops", "publish")
        .arg("src", json!(src))
        .arg("containerName", json!(name))
        .arg("version", json!("v1.2.3"))
        .arg("commitSha", json!("c86b5d7aa1"))
}

#[tokio::test(flavor = "multi_thread")]
async fn registration_lists_every_function_and_argument() {
    let engine = MockEngine::new();
    let (code, stderr) = run_module(&engine, FunctionCallSpec::registration()).await;
    assert_eq!(code, Some(0), "{stderr}");
    assert!(engine.round_trips() <= 8, "{:#?}", engine.queries());
    let module = engine
        .registered_module()
        .expect("a module ID was returned");
    assert_eq!(module.objects.len(), 1);
    let object = &module.objects[0];
    assert_eq!(object.name, "Blumeops");
    let functions: Vec<&str> = object.functions.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        functions,
        [
            "publish",
            "build",
            "containerVersion",
            "containerList",
            "publishNix",
            "buildNix",
            "nixVersion",
            "buildDocs",
            "flakeLock",
            "flakeUpdate",
            "validateWorkflows",
            "exportYolov9",
            "containerVersionCheck",
            "changedContainers",
        ]
    );
    let signature = |function: &str| -> Vec<String> {
        let f = object.function(function).expect("function registered");
        f.args
            .iter()
            .map(|a| match &a.default_value {
                Some(d) => format!("{}: {} = {d}", a.name, a.type_def),
                None => format!("{}: {}", a.name, a.type_def),
            })
            .collect()
    };
    // `registry` and `registryUsername` are non-null strings with defaults, as the Python
    // module registered them (`registry: str = "..."`).
    assert_eq!(
        signature("publish"),
        [
            "src: Directory",
            "containerName: String",
            "version: String",
            "commitSha: String",
            "registry: String = \"registry.ops.eblu.me\"",
            "registryUsername: String = \"zot-ci\"",
            "registryPassword: Secret?",
            "namespace: String = \"blumeops\"",
            "extraTags: [String]?",
            "existingTagPolicy: String = \"fail\"",
            "platforms: [String]?",
            "created: String = \"1970-01-01T00:00:00Z\"",
        ]
    );
    assert_eq!(
        signature("containerList")[2..4],
        [
            "registry: String = \"registry.ops.eblu.me\"".to_string(),
            "registryUsername: String = \"zot-ci\"".to_string(),
        ]
    );
    // Issue 23: the Python module's seven other functions, with its argument names, types,
    // nullability and defaults (`class Blumeops` of the homelab repository).
    for (function, expected) in [
        ("buildNix", &["src: Directory", "containerName: String"][..]),
        ("nixVersion", &["package: String"]),
        ("buildDocs", &["src: Directory", "version: String"]),
        (
            "flakeLock",
            &["src: Directory", "flakePath: String = \"nixos/ringtail\""],
        ),
        (
            "flakeUpdate",
            &[
                "src: Directory",
                "flakePath: String = \"nixos/ringtail\"",
                "skipInputs: String = \"nixpkgs-services\"",
            ],
        ),
        (
            "validateWorkflows",
            &["src: Directory", "runnerVersion: String = \"12.7.0\""],
        ),
        (
            "exportYolov9",
            &["modelSize: String = \"c\"", "inputSize: Int = 640"],
        ),
    ] {
        assert_eq!(signature(function), expected, "{function}");
    }
    for (function, returns) in [
        ("buildNix", "File"),
        ("nixVersion", "String"),
        ("buildDocs", "File"),
        ("flakeLock", "File"),
        ("flakeUpdate", "File"),
        ("validateWorkflows", "String"),
        ("exportYolov9", "File"),
    ] {
        let f = object.function(function).unwrap();
        assert_eq!(f.return_type.to_string(), returns, "{function}");
    }
    assert!(object
        .function("exportYolov9")
        .unwrap()
        .arg("modelSize")
        .unwrap()
        .description
        .contains("s, c or e"));
    // Resolving "latest" must not be answered from the engine's 7-day function cache.
    for function in ["nixVersion", "flakeUpdate", "containerVersionCheck"] {
        let f = object.function(function).unwrap();
        assert_eq!(f.cache_policy.as_deref(), Some("Never"), "{function}");
    }
    // Every new `src` ignores what `publish`'s ignores.
    let ignored = &object
        .function("publish")
        .unwrap()
        .arg("src")
        .unwrap()
        .ignore;
    for function in [
        "buildNix",
        "buildDocs",
        "flakeLock",
        "flakeUpdate",
        "validateWorkflows",
        "containerVersionCheck",
        "changedContainers",
    ] {
        let src = object.function(function).unwrap().arg("src").unwrap();
        assert_eq!(&src.ignore, ignored, "{function}");
    }
    // Pushes and listings must run on every call; builds keep the engine's caching.
    for (function, policy) in [
        ("publish", Some("Never")),
        ("publishNix", Some("Never")),
        ("containerList", Some("Never")),
        ("build", None),
        ("containerVersion", None),
    ] {
        let f = object.function(function).unwrap();
        assert_eq!(f.cache_policy.as_deref(), policy, "{function}");
        assert_eq!(f.cache_ttl_seconds, None, "{function}");
    }
    // Every `src` leaves build outputs and caches behind when the engine loads it.
    for function in ["publish", "build", "containerVersion", "containerList"] {
        let src = object.function(function).unwrap().arg("src").unwrap();
        assert_eq!(
            src.ignore,
            [
                "**/target",
                "fuzz/corpus",
                "fuzz/artifacts",
                "sdk/.venv",
                "sdk/.pytest_cache",
                "**/__pycache__",
                "**/node_modules",
                ".git"
            ],
            "{function}"
        );
    }
    assert_eq!(
        signature("build"),
        ["src: Directory", "containerName: String"]
    );
    assert_eq!(
        signature("containerVersion"),
        ["src: Directory?", "containerName: String"]
    );
    let version = object.function("containerVersion").unwrap();
    assert_eq!(
        version.arg("src").unwrap().default_path.as_deref(),
        Some("/")
    );
    assert_eq!(version.return_type.to_string(), "String");
    assert_eq!(
        object.function("build").unwrap().return_type.to_string(),
        "Container"
    );
    assert_eq!(
        signature("publishNix")[..2],
        [
            "archive: File".to_string(),
            "containerName: String".to_string()
        ]
    );
    let publish = object.function("publish").unwrap();
    assert!(!publish.description.is_empty());
    assert!(!publish
        .arg("registryPassword")
        .unwrap()
        .description
        .is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn container_version_native_and_legacy() {
    let engine = MockEngine::new();
    let (code, stderr) = run_module(
        &engine,
        FunctionCallSpec::call("Blumeops", "containerVersion")
            .arg("containerName", json!("navidrome")),
    )
    .await;
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(engine.returned_value(), Some(json!("v0.61.1")));
    assert_eq!(engine.round_trips(), 2, "{:#?}", engine.queries());

    let src = legacy_src(&engine, "homepage", "v1.4.0").await;
    let (code, stderr) = run_module(
        &engine,
        FunctionCallSpec::call("Blumeops", "containerVersion")
            .arg("src", json!(src))
            .arg("containerName", json!("homepage")),
    )
    .await;
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(engine.returned_value(), Some(json!("v1.4.0")));
}

#[tokio::test(flavor = "multi_thread")]
async fn publish_with_a_password_in_four_round_trips_for_any_number_of_tags() {
    let engine = MockEngine::new();
    engine
        .registry("registry.ops.eblu.me")
        .allow_anonymous_push(false)
        .account("zot-ci", "zak_right", AccountRights::ReadWrite);
    let src = legacy_src(&engine, "homepage", "v1.2.3").await;
    let password = secret(&engine, "zak_right").await;
    let (code, stderr) = run_module(
        &engine,
        publish_call(&src, "homepage")
            .arg("registryPassword", json!(password))
            .arg("extraTags", json!(["latest", "v1.2", "v1"]))
            .arg("existingTagPolicy", json!("overwrite")),
    )
    .await;
    assert_eq!(code, Some(0), "{stderr}");
    let Some(Value::String(reference)) = engine.returned_value() else {
        panic!("no value returned; error: {:?}", engine.returned_error())
    };
    assert!(
        reference.starts_with("registry.ops.eblu.me/blumeops/homepage:v1.2.3-c86b5d7@sha256:"),
        "{reference}"
    );
    // read the call, the Dockerfile's pinned version (the version guard), one request for all
    // four tags, return.
    assert_eq!(engine.round_trips(), 4, "{:#?}", engine.queries());
    let published = engine.published();
    assert_eq!(published.len(), 4);
    for p in &published {
        let auth = p
            .auth
            .as_ref()
            .expect("the push used the session credential");
        assert_eq!(auth.username, "zot-ci");
    }
    engine.assert_never_sent("zak_right");
    assert!(engine.plaintext_reads().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn publish_without_a_password_sends_no_auth() {
    let engine = MockEngine::new();
    let src = legacy_src(&engine, "homepage", "v1.2.3").await;
    let (code, stderr) = run_module(
        &engine,
        publish_call(&src, "homepage").arg("existingTagPolicy", json!("overwrite")),
    )
    .await;
    assert_eq!(code, Some(0), "{stderr}");
    assert!(engine.returned_value().is_some());
    let published = engine.published();
    assert_eq!(published.len(), 1);
    assert_eq!(published[0].auth, None);
    assert!(
        !engine
            .queries()
            .iter()
            .any(|q| q.contains("withRegistryAuth")),
        "{:#?}",
        engine.queries()
    );
}

/// A registry only the engine reaches: the engine's model answers for it, and a listener at
/// its address counts any connection the module process would make (none may come).
async fn engine_only_registry(
    engine: &MockEngine,
) -> (
    String,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
    tokio::task::JoinHandle<()>,
) {
    let (host, connections, task) = fixed_http::sentinel().await;
    engine.registry(&host).allow_anonymous_push(true);
    (host, connections, task)
}

fn connections(count: &std::sync::Arc<std::sync::atomic::AtomicUsize>) -> usize {
    count.load(std::sync::atomic::Ordering::SeqCst)
}

#[tokio::test(flavor = "multi_thread")]
async fn publish_with_the_existing_tag_check_in_four_round_trips() {
    let engine = MockEngine::new();
    let (registry, seen, server) = engine_only_registry(&engine).await;
    let src = legacy_src(&engine, "homepage", "v1.2.3").await;
    // A network's wait on every answer, so that the two requests the module sends together
    // are seen in flight together whatever the scheduling (not a timing assertion: the count
    // of round trips is structural).
    let (code, stderr) = run_module_with_latency(
        &engine,
        publish_call(&src, "homepage")
            .arg("registry", json!(registry))
            .arg("extraTags", json!(["latest", "v1"])),
        Duration::from_millis(200),
    )
    .await;
    server.abort();
    assert_eq!(code, Some(0), "{stderr}");
    let Some(Value::String(reference)) = engine.returned_value() else {
        panic!("no value returned; error: {:?}", engine.returned_error())
    };
    assert!(
        reference.starts_with(&format!(
            "{registry}/blumeops/homepage:v1.2.3-c86b5d7@sha256:"
        )),
        "{reference}"
    );
    // Read the call; [the Dockerfile's pinned version (the version guard) beside the check of
    // the three tags]; the pushes; return: five requests, four round trips' wait.
    assert_eq!(engine.round_trips(), 5, "{:#?}", engine.queries());
    assert_eq!(
        engine.sequential_round_trips(),
        4,
        "{:#?}",
        engine.queries()
    );
    assert_eq!(engine.published().len(), 3);
    assert_eq!(connections(&seen), 0, "the module reached the registry");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_check_that_cannot_tell_stops_the_publish() {
    let engine = MockEngine::new();
    let (registry, seen, server) = engine_only_registry(&engine).await;
    // The registry stays overloaded for lookups: after its retries the check has no answer,
    // and the default policy (fail) pushes nothing without one.
    engine
        .registry(&registry)
        .fail_next_resolves(10, PushFailure::Status(503));
    let src = legacy_src(&engine, "homepage", "v1.2.3").await;
    let (code, stderr) = run_module(
        &engine,
        publish_call(&src, "homepage").arg("registry", json!(registry)),
    )
    .await;
    server.abort();
    assert_eq!(code, Some(1), "{stderr}");
    let error = engine.returned_error().unwrap_or_default();
    assert!(
        error.starts_with("nothing was pushed") && error.contains("could not be checked"),
        "{error}"
    );
    assert!(engine.published().is_empty());
    assert_eq!(connections(&seen), 0);
}

/// The zot-like registry of issue 11: only the engine reaches it, a `zot-ci` account.
async fn zot_behind_the_engine(
    engine: &MockEngine,
    rights: AccountRights,
) -> (
    String,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
    tokio::task::JoinHandle<()>,
) {
    let (host, seen, task) = engine_only_registry(engine).await;
    engine
        .registry(&host)
        .allow_anonymous_push(false)
        .account("zot-ci", "zak_right", rights);
    (host, seen, task)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_re_push_on_a_create_only_account_reads_tag_exists() {
    for policy in ["fail", "overwrite"] {
        let engine = MockEngine::new();
        let (registry, seen, server) =
            zot_behind_the_engine(&engine, AccountRights::CreateOnly).await;
        let src = legacy_src(&engine, "homepage", "v1.2.3").await;
        let password = secret(&engine, "zak_right").await;
        let call = publish_call(&src, "homepage")
            .arg("registry", json!(registry))
            .arg("registryPassword", json!(password));
        let (code, stderr) = run_module(&engine, call.clone()).await;
        assert_eq!(code, Some(0), "{stderr}");
        // The same release again.
        let (code, stderr) =
            run_module(&engine, call.arg("existingTagPolicy", json!(policy))).await;
        server.abort();
        assert_eq!(code, Some(1), "{policy}: {stderr}");
        let error = engine.returned_error().expect("an error was returned");
        assert!(error.starts_with("tag exists"), "{policy}: {error}");
        assert!(
            error.contains(&format!("{registry}/blumeops/homepage:v1.2.3-c86b5d7")),
            "{error}"
        );
        assert_eq!(
            engine.published().len(),
            0,
            "{policy}: nothing pushed again"
        );
        assert_eq!(connections(&seen), 0);
        assert!(engine.plaintext_reads().is_empty());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_key_reads_rejected_credentials_of_the_user() {
    for policy in ["fail", "overwrite"] {
        let engine = MockEngine::new();
        let (registry, seen, server) =
            zot_behind_the_engine(&engine, AccountRights::CreateOnly).await;
        let src = legacy_src(&engine, "homepage", "v1.2.3").await;
        let password = secret(&engine, "zak_expired").await;
        let (code, stderr) = run_module(
            &engine,
            publish_call(&src, "homepage")
                .arg("registry", json!(registry))
                .arg("registryPassword", json!(password))
                .arg("existingTagPolicy", json!(policy)),
        )
        .await;
        server.abort();
        assert_eq!(code, Some(1), "{policy}: {stderr}");
        let error = engine.returned_error().expect("an error was returned");
        assert!(
            error.contains(&format!(
                "registry {registry} rejected the credentials of user zot-ci"
            )),
            "{policy}: {error}"
        );
        assert!(!error.contains("zak_expired") && !stderr.contains("zak_expired"));
        assert!(engine.published().is_empty());
        assert_eq!(connections(&seen), 0);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn fail_refuses_and_skip_keeps_an_existing_tag_even_where_it_could_be_overwritten() {
    let engine = MockEngine::new();
    let (registry, seen, server) = zot_behind_the_engine(&engine, AccountRights::ReadWrite).await;
    let existing = format!("sha256:{}", "d".repeat(64));
    engine.registry(&registry).existing_tag_with_digest(
        "blumeops/homepage",
        "v1.2.3-c86b5d7",
        &existing,
    );
    let src = legacy_src(&engine, "homepage", "v1.2.3").await;
    let password = secret(&engine, "zak_right").await;
    let call = publish_call(&src, "homepage")
        .arg("registry", json!(registry))
        .arg("registryPassword", json!(password));

    let (code, stderr) = run_module(&engine, call.clone()).await;
    assert_eq!(code, Some(1), "{stderr}");
    let error = engine.returned_error().expect("an error was returned");
    assert!(error.starts_with("tag exists"), "{error}");
    assert!(error.contains(&existing), "{error}");
    assert!(engine.published().is_empty(), "fail pushed nothing");
    assert!(engine.queries().iter().all(|q| !q.contains("publish(")));

    let (code, stderr) = run_module(&engine, call.arg("existingTagPolicy", json!("skip"))).await;
    server.abort();
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        engine.returned_value(),
        Some(json!(format!(
            "{registry}/blumeops/homepage:v1.2.3-c86b5d7@{existing}"
        )))
    );
    assert!(engine.published().is_empty(), "skip pushed nothing");
    assert_eq!(
        engine
            .registry(&registry)
            .digest("blumeops/homepage", "v1.2.3-c86b5d7"),
        Some(existing)
    );
    assert_eq!(connections(&seen), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn rejected_credentials_exit_1_with_an_actionable_error() {
    let engine = MockEngine::new();
    engine
        .registry("registry.ops.eblu.me")
        .allow_anonymous_push(false)
        .account("zot-ci", "zak_right", AccountRights::ReadWrite);
    let src = legacy_src(&engine, "homepage", "v1.2.3").await;
    let password = secret(&engine, "zak_wrong").await;
    let (code, stderr) = run_module(
        &engine,
        publish_call(&src, "homepage")
            .arg("registryPassword", json!(password))
            .arg("existingTagPolicy", json!("overwrite")),
    )
    .await;
    assert_eq!(code, Some(1), "{stderr}");
    let error = engine.returned_error().expect("an error was returned");
    assert!(error.contains("registry.ops.eblu.me"), "{error}");
    assert!(error.contains("zot-ci"), "{error}");
    assert!(!error.contains("zak_wrong") && !stderr.contains("zak_wrong"));
    assert!(engine.published().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_arguments_exit_2_before_any_build() {
    let engine = MockEngine::new();
    let src = legacy_src(&engine, "homepage", "v1.2.3").await;
    let cases = [
        (publish_call(&src, "Bad/Name"), "container name"),
        (
            publish_call(&src, "homepage").arg("commitSha", json!("not-a-sha")),
            "--commit-sha",
        ),
        (
            publish_call(&src, "homepage").arg("version", json!("")),
            "--version",
        ),
        (
            publish_call(&src, "homepage").arg("registry", json!("https://")),
            "--registry",
        ),
        (
            publish_call(&src, "homepage").arg("existingTagPolicy", json!("sometimes")),
            "--existing-tag-policy",
        ),
        (
            publish_call(&src, "homepage").arg("extraTags", json!(["has space"])),
            "--extra-tags",
        ),
        (
            publish_call(&src, "homepage").arg("platforms", json!(["linux"])),
            "--platforms",
        ),
        (
            FunctionCallSpec::call("Blumeops", "publish")
                .arg("src", json!(src))
                .arg("containerName", json!(7)),
            "--container-name",
        ),
    ];
    for (spec, expected) in cases {
        let (code, stderr) = run_module(&engine, spec).await;
        let error = engine.returned_error().unwrap_or_default();
        assert_eq!(code, Some(2), "{expected}: {error} / {stderr}");
        assert!(error.contains(expected), "{expected}: {error}");
        // Nothing was built or pushed: read the call, create the error, return it.
        assert_eq!(
            engine.round_trips(),
            3,
            "{expected}: {:#?}",
            engine.queries()
        );
        assert!(engine.published().is_empty());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_container_lists_the_known_ones() {
    let engine = MockEngine::new();
    let src = legacy_src(&engine, "homepage", "v1.2.3").await;
    let (code, _) = run_module(
        &engine,
        publish_call(&src, "nosuch").arg("existingTagPolicy", json!("overwrite")),
    )
    .await;
    assert_eq!(code, Some(2));
    let error = engine.returned_error().unwrap_or_default();
    assert!(error.contains("unknown container \"nosuch\""), "{error}");
    assert!(
        error.contains("homepage") && error.contains("navidrome"),
        "{error}"
    );

    let (code, _) = run_module(
        &engine,
        FunctionCallSpec::call("Blumeops", "containerVersion")
            .arg("src", json!(src))
            .arg("containerName", json!("nosuch")),
    )
    .await;
    assert_eq!(code, Some(2));
    assert!(engine
        .returned_error()
        .unwrap_or_default()
        .contains("unknown container"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_build_step_is_named_with_its_command() {
    let engine = MockEngine::new();
    engine.add_git_repository(
        "https://forge.ops.eblu.me/mirrors/navidrome.git",
        "v0.61.1",
        &[
            ("go.mod", "module github.com/navidrome/navidrome\n"),
            ("main.go", "package main\n"),
            ("ui/package.json", "{}"),
            ("ui/package-lock.json", "{}"),
            // The mock runs no command: the tree carries what `npm run build` would write.
            ("ui/build/index.html", "<html></html>"),
        ],
    );
    engine.fail_exec(dagger_mock_engine::ExecFailure {
        args_contains: vec!["go".into(), "build".into()],
        exit_code: 1,
        stdout: String::new(),
        stderr: "db/db.go:12:5: undefined: buildtags.SQLITE_FTS5".into(),
    });
    let src = legacy_src(&engine, "homepage", "v1.2.3").await;
    let (code, stderr) = run_module(
        &engine,
        FunctionCallSpec::call("Blumeops", "build")
            .arg("src", json!(src))
            .arg("containerName", json!("navidrome")),
    )
    .await;
    assert_eq!(code, Some(1), "{stderr}");
    let error = engine.returned_error().expect("an error was returned");
    assert!(error.contains("navidrome"), "{error}");
    assert!(error.contains("exit code 1"), "{error}");
    assert!(
        error.contains("undefined: buildtags.SQLITE_FTS5"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_session_the_binary_says_so() {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_blumeops-module"))
        .env_remove("DAGGER_SESSION_PORT")
        .env_remove("DAGGER_SESSION_TOKEN")
        .output()
        .await
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("DAGGER_SESSION_PORT"), "{stderr}");
}

/// Issue 19, item 12: an unusable session variable is named as such, not as "not inside a
/// Dagger session".
#[test]
fn an_unusable_session_variable_is_named() {
    for (var, value) in [
        ("DAGGER_QUERY_TIMEOUT_SECS", "soon"),
        ("DAGGER_SESSION_PORT", "0"),
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_blumeops-module"))
            .env("DAGGER_SESSION_PORT", "41234")
            .env("DAGGER_SESSION_TOKEN", "token")
            .env(var, value)
            .output()
            .expect("the module binary runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(var), "{var}: {stderr}");
        assert!(!stderr.contains("not inside"), "{var}: {stderr}");
    }
}
