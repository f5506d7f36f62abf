//! The secret-leak audit: ONE test that runs every publish and module scenario with
//! recognisable passwords (right and wrong ones, all containing [`CANARY`]) and fails if the
//! canary appears in any engine query, any `tracing` output (a capturing subscriber at TRACE,
//! every crate's events), any error message or `Debug` output, any panic message, or the module
//! binary's stdout/stderr (run with `RUST_LOG=trace`).
//!
//! No publish path reads a password's plaintext: the existing-tag check, the push and the
//! read-back after a partial failure all go through the engine, which holds the credential.
//! The mock engine records every `Secret.plaintext` read, and every publish scenario (library
//! and module binary) asserts there was none. `container_list` hands the password to a registry
//! client inside the engine as a secret variable (the mock lists through the real registry with
//! it); its scenario runs against a real registry on loopback with basic auth, so the plaintext
//! really flows through HTTP while every log is captured.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dagger_engine::registry::{repository, Tag};
use dagger_mock_engine::{AccountRights, FunctionCallSpec, LocalRegistry, MockEngine, PushFailure};
use dagger_publish::{
    ExistingTagPolicy, PublishError, PublishRequest, Publisher, RegistryAuth, RetryPolicy,
};
use oci_registry_api::{RegistryApi, RegistryCredentials};
use serde_json::json;

/// In every password of this test; must appear nowhere it is looked for.
const CANARY: &str = "LEAKCANARY";
const RIGHT: &str = "zak_LEAKCANARY_right_7f3a9e";
const WRONG: &str = "zak_LEAKCANARY_wrong_9c1d2b";
const HOST: &str = "registry.ops.eblu.me";

/// Everything the audit looks at, appended to as scenarios run.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn push(&self, label: &str, text: &str) {
        let mut buf = self.0.lock().unwrap_or_else(|e| e.into_inner());
        buf.extend_from_slice(format!("\n=== {label}\n{text}").as_bytes());
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Records an outcome: the error's Display and Debug, or the value's Debug.
fn record<T: std::fmt::Debug, E: std::fmt::Display + std::fmt::Debug>(
    out: &Captured,
    label: &str,
    result: &Result<T, E>,
) {
    match result {
        Ok(v) => out.push(label, &format!("{v:?}")),
        Err(e) => out.push(label, &format!("{e}\n{e:?}")),
    }
}

fn container(engine: &MockEngine, marker: &str) -> dagger_sdk::Container {
    engine
        .query()
        .container()
        .from("alpine:3.20")
        .with_exec(vec!["echo", marker])
}

fn request(host: &str, tags: &[&str], secret: dagger_sdk::Secret) -> PublishRequest {
    PublishRequest::new(
        host,
        repository("blumeops", "navidrome").unwrap(),
        tags.iter().map(|t| Tag::parse(t).unwrap()),
    )
    .unwrap()
    .with_auth(
        RegistryAuth::new(host, "zot-ci")
            .unwrap()
            .with_password(secret),
    )
    .unwrap()
    .with_retry(RetryPolicy::immediate(2))
}

/// Library scenarios on the in-process mock engine (existing-tag check through the engine's
/// registry model).
async fn library_on_the_model(out: &Captured) {
    let scenarios: Vec<(
        &str,
        AccountRights,
        &str,
        ExistingTagPolicy,
        Option<PushFailure>,
    )> = vec![
        (
            "ok-check",
            AccountRights::CreateOnly,
            RIGHT,
            ExistingTagPolicy::Fail,
            None,
        ),
        (
            "ok-skip",
            AccountRights::CreateOnly,
            RIGHT,
            ExistingTagPolicy::Skip,
            None,
        ),
        (
            "ok-overwrite",
            AccountRights::ReadWrite,
            RIGHT,
            ExistingTagPolicy::Overwrite,
            None,
        ),
        (
            "wrong-check",
            AccountRights::CreateOnly,
            WRONG,
            ExistingTagPolicy::Fail,
            None,
        ),
        (
            "wrong-push",
            AccountRights::CreateOnly,
            WRONG,
            ExistingTagPolicy::Overwrite,
            None,
        ),
        (
            "exists",
            AccountRights::CreateOnly,
            RIGHT,
            ExistingTagPolicy::Overwrite,
            None,
        ),
        (
            "retries",
            AccountRights::ReadWrite,
            RIGHT,
            ExistingTagPolicy::Fail,
            Some(PushFailure::Status(503)),
        ),
        (
            "reset",
            AccountRights::ReadWrite,
            RIGHT,
            ExistingTagPolicy::Overwrite,
            Some(PushFailure::ConnectionReset),
        ),
        (
            "partial",
            AccountRights::ReadWrite,
            RIGHT,
            ExistingTagPolicy::Fail,
            Some(PushFailure::Status(500)),
        ),
    ];
    for (label, rights, password, policy, failure) in scenarios {
        let engine = MockEngine::new();
        let model = engine.registry(HOST);
        model
            .allow_anonymous_push(false)
            .account("zot-ci", RIGHT, rights);
        if label == "exists" {
            model.existing_tag("blumeops/navidrome", "v1");
        }
        if let Some(f) = failure {
            let count = if label == "partial" { 1 } else { 5 };
            model.fail_next_pushes(count, f);
        }
        engine.set_env("ZOT_CI_API_KEY", password);
        let secret = engine.query().address("env:ZOT_CI_API_KEY").secret();
        let mut req = request(HOST, &["v1", "latest", "v1.2"], secret).with_policy(policy);
        if label == "partial" {
            req = req.with_retry(RetryPolicy::none());
        }
        out.push(&format!("{label} request"), &format!("{req:?}"));
        let publisher = Publisher::new(engine.client());
        let result = publisher.publish(&container(&engine, label), &req).await;
        record(out, label, &result);
        if let Err(PublishError::Partial { failed, .. }) = &result {
            for f in failed {
                out.push(label, &format!("{f} {f:?}"));
            }
        }
        out.push(
            &format!("{label} published"),
            &format!("{:?}", engine.published()),
        );
        out.push(&format!("{label} engine"), &format!("{engine:?}"));
        engine.assert_never_sent(CANARY);
        assert_eq!(
            engine.plaintext_reads(),
            Vec::<String>::new(),
            "{label}: a publish read a password's plaintext"
        );
    }
}

/// Library scenarios against a real registry with basic auth: the check and the push through
/// the engine (right and wrong password), and the registry API client used with the plaintext
/// (the tags list, a lookup, a direct push) and their errors.
async fn library_on_a_real_registry(out: &Captured, reg: &LocalRegistry) {
    let host = reg.host().to_string();
    for (label, password) in [("real-right", RIGHT), ("real-wrong", WRONG)] {
        let engine = MockEngine::new();
        engine.registry(&host).backed_by(reg.backend());
        engine.set_env("KEY", password);
        let secret = engine.query().address("env:KEY").secret();
        let req =
            request(&host, &["v1", "latest"], secret.clone()).with_policy(ExistingTagPolicy::Skip);
        // The check through the engine, which asks the real registry with the credential.
        let result = Publisher::new(engine.client())
            .publish(&container(&engine, "real"), &req)
            .await;
        record(out, label, &result);
        // Twice: the second run finds the tags (skip), or fails the same way.
        let result = Publisher::new(engine.client())
            .publish(&container(&engine, "real"), &req)
            .await;
        record(out, label, &result);
        engine.assert_never_sent(CANARY);
        assert!(engine.plaintext_reads().is_empty(), "{label}");

        let creds = RegistryCredentials::new("zot-ci", password);
        out.push(label, &format!("{creds:?}"));
        let api = RegistryApi::new(reg.host(), Some(creds));
        out.push(label, &format!("{api:?}"));
        let repo = repository("blumeops", "navidrome").unwrap();
        record(out, label, &api.list_tags(&repo).await);
        record(
            out,
            label,
            &api.manifest_digest(&repo, &Tag::parse("v1").unwrap()).await,
        );
        record(
            out,
            label,
            &api.push_image(
                &repository("blumeops", "direct").unwrap(),
                &Tag::parse("v1").unwrap(),
                b"{}".to_vec(),
                vec![b"layer".to_vec()],
            )
            .await,
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The module binary

/// Runs the module for `spec`; `reads_plaintext` is true only for `container_list`, which still
/// reads the password to call the registry's tags API.
async fn run_module(
    out: &Captured,
    label: &str,
    engine: &MockEngine,
    spec: FunctionCallSpec,
    reads_plaintext: bool,
) {
    let server = dagger_mock_engine::SessionServer::start(engine)
        .await
        .expect("session server");
    engine.set_function_call(spec);
    engine.reset_recorder();
    let output = tokio::time::timeout(
        Duration::from_secs(300),
        tokio::process::Command::new(env!("CARGO_BIN_EXE_blumeops-module"))
            .envs(server.env_vars())
            .env("RUST_LOG", "trace")
            .env("RUST_BACKTRACE", "1")
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("the module finishes")
    .expect("the module runs");
    out.push(
        &format!("{label} module exit {:?}", output.status.code()),
        &format!(
            "stdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    );
    out.push(
        &format!("{label} returned"),
        &format!(
            "{:?} / {:?}",
            engine.returned_value(),
            engine.returned_error()
        ),
    );
    // The engine never sees the plaintext in a query, even where the module reads it.
    engine.assert_never_sent(CANARY);
    if !reads_plaintext {
        assert_eq!(
            engine.plaintext_reads(),
            Vec::<String>::new(),
            "{label}: the module read a password's plaintext"
        );
    }
    drop(server);
}

async fn id_of(engine: &MockEngine, query: &str, path: &[&str]) -> String {
    let data = engine.client().query(query).await.expect("setup query");
    let mut v = &data;
    for p in path {
        v = &v[p];
    }
    v.as_str().expect("an ID").to_string()
}

async fn module_scenarios(out: &Captured, reg: &LocalRegistry) {
    let real_host = reg.host().to_string();
    let publish = |src: &str, registry: &str, secret: &str, policy: &str| {
        FunctionCallSpec::call("Blumeops", "publish")
            .arg("src", json!(src))
            .arg("containerName", json!("homepage"))
            .arg("version", json!("v1.2.3"))
            .arg("commitSha", json!("c86b5d7aa1"))
            .arg("registry", json!(registry))
            .arg("registryPassword", json!(secret))
            .arg("extraTags", json!(["latest"]))
            .arg("existingTagPolicy", json!(policy))
    };
    for (label, password) in [("module-right", RIGHT), ("module-wrong", WRONG)] {
        let engine = MockEngine::new();
        engine.registry(&real_host).backed_by(reg.backend());
        engine.registry(HOST).allow_anonymous_push(false).account(
            "zot-ci",
            RIGHT,
            AccountRights::CreateOnly,
        );
        let src = id_of(
            &engine,
            "query{directory{withNewFile(path:\"containers/homepage/Dockerfile\",contents:\"FROM alpine\\nARG CONTAINER_APP_VERSION=v1.2.3\\n\"){id}}}",
            &["directory", "withNewFile", "id"],
        )
        .await;
        let secret = id_of(
            &engine,
            &format!("query{{setSecret(name:\"zot\",plaintext:\"{password}\"){{id}}}}"),
            &["setSecret", "id"],
        )
        .await;
        // The check through the engine (which asks the real registry), then the push.
        run_module(
            out,
            label,
            &engine,
            publish(&src, &real_host, &secret, "fail"),
            false,
        )
        .await;
        // Again: the tag exists now (fail policy), or the key is still wrong.
        run_module(
            out,
            label,
            &engine,
            publish(&src, &real_host, &secret, "fail"),
            false,
        )
        .await;
        run_module(
            out,
            label,
            &engine,
            publish(&src, &real_host, &secret, "skip"),
            false,
        )
        .await;
        // No check: the model's registry decides (create-only, 401 for the wrong key).
        run_module(
            out,
            label,
            &engine,
            publish(&src, HOST, &secret, "overwrite"),
            false,
        )
        .await;
        // The check against the model's registry, then the push (refused: the tag exists).
        run_module(
            out,
            label,
            &engine,
            publish(&src, HOST, &secret, "fail"),
            false,
        )
        .await;
        // container_list: the registry client inside the engine gets the password as a secret
        // variable (the mock lists through the real registry with it).
        run_module(
            out,
            label,
            &engine,
            FunctionCallSpec::call("Blumeops", "containerList")
                .arg("src", json!(src))
                .arg("containerNames", json!(["homepage", "navidrome"]))
                .arg("registry", json!(real_host))
                .arg("registryPassword", json!(secret)),
            true,
        )
        .await;
        // A malformed argument next to a password.
        run_module(
            out,
            label,
            &engine,
            publish(&src, &real_host, &secret, "fail").arg("commitSha", json!("nope")),
            false,
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Debian's docker-registry (apt-get install docker-registry); run with --include-ignored"]
async fn no_scenario_leaks_the_password_anywhere() {
    let out = Captured::default();

    // Every tracing event of every crate, at TRACE, into the buffer.
    let writer = out.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");

    // Every panic message, from any thread.
    let panics = out.clone();
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        panics.push("panic", &info.to_string());
        default_hook(info);
    }));

    let reg = LocalRegistry::start(&[("zot-ci", RIGHT)])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    out.push("registry", &format!("{reg:?}"));

    library_on_the_model(&out).await;
    library_on_a_real_registry(&out, &reg).await;
    module_scenarios(&out, &reg).await;

    let text = out.text();
    // The audit saw what it claims to see.
    assert!(
        text.contains("publish partly failed"),
        "no partial scenario ran"
    );
    assert!(
        text.contains("rejected the credentials of user zot-ci"),
        "no 401 ran"
    );
    assert!(text.contains("tag exists"), "no existing-tag scenario ran");
    assert!(text.contains("kept failing"), "no retry scenario ran");
    assert!(text.contains("module exit Some(1)") && text.contains("module exit Some(0)"));
    assert!(text.contains("module exit Some(2)"));
    assert!(
        text.contains("TRACE") || text.contains("DEBUG"),
        "no log was captured"
    );
    assert!(text.contains("homepage:"), "container_list answered");
    if let Some(at) = text.find(CANARY) {
        let start = text[..at]
            .char_indices()
            .rev()
            .nth(300)
            .map_or(0, |(i, _)| i);
        let context: String = text[start..].chars().take(400).collect();
        panic!(
            "the password leaked ({} bytes captured); around the first hit:\n{}",
            text.len(),
            context.replace(CANARY, "<CANARY>")
        );
    }
}
