//! A registry client inside the engine (`skopeo list-tags`), answered by the registry model, with
//! the password in a secret variable.

use dagger_mock_engine::dagger_sdk::{Container, ContainerWithExecOptsBuilder, ReturnType};
use dagger_mock_engine::{AccountRights, BuildStep, CommandEffect, MockEngine};

const SCRIPT: &str = r#"exec skopeo list-tags --password "$REGISTRY_PASSWORD" "$@""#;

fn engine() -> MockEngine {
    let engine = MockEngine::new();
    engine
        .public_image("quay.io/skopeo/stable:v1.16.1")
        .unwrap();
    let model = engine.registry("registry.example.org");
    model
        .allow_anonymous_push(false)
        .account("ci", "right", AccountRights::CreateOnly);
    model.existing_tag("team/app", "v1.0.0");
    model.existing_tag("team/app", "latest");
    engine
}

/// `skopeo list-tags` through `sh -c`, the password from a secret variable; run with
/// `expect: ANY` so that a failure can be read.
fn list(engine: &MockEngine, password: &str, repository: &str) -> Container {
    let dag = engine.query();
    let any = ContainerWithExecOptsBuilder::default()
        .expect(ReturnType::Any)
        .build()
        .unwrap();
    dag.container()
        .from("quay.io/skopeo/stable:v1.16.1")
        .with_secret_variable("REGISTRY_PASSWORD", dag.set_secret("pw", password))
        .with_exec_opts(
            vec!["sh", "-c", SCRIPT, "skopeo", "--username", "ci", repository],
            any,
        )
}

#[tokio::test]
async fn the_model_answers_with_the_repositorys_tags() {
    let engine = engine();
    let listed = list(&engine, "right", "docker://registry.example.org/team/app");
    assert_eq!(listed.exit_code().await.unwrap(), 0);
    let out: serde_json::Value = serde_json::from_str(&listed.stdout().await.unwrap()).unwrap();
    assert_eq!(
        out,
        serde_json::json!({"Repository": "registry.example.org/team/app", "Tags": ["latest", "v1.0.0"]})
    );
    // Read inside the engine: not a client's plaintext read.
    assert!(engine.plaintext_reads().is_empty());
}

#[tokio::test]
async fn failures_are_worded_as_skopeo_prints_them() {
    let engine = engine();
    let cases = [
        (
            "wrong",
            "docker://registry.example.org/team/app",
            "fetching tags list: unauthorized: authentication required",
        ),
        (
            "right",
            "docker://registry.example.org/team/none",
            "fetching tags list: name unknown: repository name not known to registry",
        ),
        (
            "right",
            "docker://registry.example.org/team/app:v1.0.0",
            "No tag or digest allowed in reference",
        ),
    ];
    for (password, target, expected) in cases {
        let listed = list(&engine, password, target);
        assert_eq!(listed.exit_code().await.unwrap(), 1, "{target}");
        let stderr = listed.stderr().await.unwrap();
        assert!(stderr.contains(" level=fatal msg=\""), "{stderr}");
        assert!(stderr.contains(expected), "{stderr}");
        assert!(
            !stderr.contains("right") && !stderr.contains("wrong"),
            "{stderr}"
        );
    }
    engine.registry("registry.example.org").unreachable(true);
    let stderr = list(&engine, "right", "docker://registry.example.org/team/app")
        .stderr()
        .await
        .unwrap();
    assert!(
        stderr.contains("pinging container registry registry.example.org: Get \\\"https://registry.example.org/v2/\\\": dial tcp: lookup registry.example.org: no such host"),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_declared_effect_wins_and_other_scripts_are_not_guessed() {
    let engine = engine();
    engine.on_exec(CommandEffect::containing("team/app").prints("declared\n"));
    let listed = list(&engine, "right", "docker://registry.example.org/team/app");
    assert_eq!(listed.stdout().await.unwrap(), "declared\n");
    // A pipeline is not one simple command: the model does not answer it.
    let out = engine
        .query()
        .container()
        .with_exec(vec![
            "sh",
            "-c",
            "skopeo list-tags docker://registry.example.org/team/other | jq .",
        ])
        .stdout()
        .await
        .unwrap();
    assert_eq!(out, "");
    // Run directly, without a shell: anonymous, which this registry refuses.
    let anonymous = engine
        .query()
        .container()
        .with_exec(vec![
            "skopeo",
            "list-tags",
            "docker://registry.example.org/team/x",
        ])
        .stdout()
        .await
        .unwrap_err()
        .to_string();
    assert!(anonymous.contains("exit code: 1"), "{anonymous}");
}

#[tokio::test]
async fn a_secret_variable_is_recorded_by_name_and_left_out_of_the_image() {
    let engine = engine();
    let dag = engine.query();
    let base = dag.container().from("alpine:3.22");
    let with_secret = base.with_secret_variable("TOKEN", dag.set_secret("token", "t0k3n"));
    let plain = base.publish("registry.example.org/team/plain:v1");
    let secret = with_secret.publish("registry.example.org/team/secret:v1");
    engine
        .registry("registry.example.org")
        .allow_anonymous_push(true);
    let (plain, secret) = (plain.await.unwrap(), secret.await.unwrap());
    // Same image: a secret variable is not part of it.
    assert_eq!(
        plain.rsplit_once('@').unwrap().1,
        secret.rsplit_once('@').unwrap().1
    );
    let published = &engine.published()[1].container;
    assert_eq!(
        published.steps[1],
        BuildStep::SecretVariable {
            name: "TOKEN".into(),
            secret_name: "token".into()
        }
    );
    assert!(published
        .to_string()
        .contains("SECRET ENV TOKEN (secret token)"));
    assert!(!published.to_string().contains("t0k3n"));
}

/// The login script: `skopeo login --password-stdin` reads the password from a mounted secret
/// and writes an auth file that `list-tags --authfile` reads; no argument and no variable holds
/// the password.
const LOGIN_SCRIPT: &str = r#"skopeo login --authfile "$1" --username "$2" --password-stdin "$3" < "$4" > /dev/null && exec skopeo list-tags --authfile "$1" "$5""#;

fn list_with_login(engine: &MockEngine, password: Option<&str>) -> Container {
    let dag = engine.query();
    let any = ContainerWithExecOptsBuilder::default()
        .expect(ReturnType::Any)
        .build()
        .unwrap();
    let mut container = dag.container().from("quay.io/skopeo/stable:v1.16.1");
    if let Some(password) = password {
        container = container
            .with_mounted_secret("/run/secrets/pw", dag.set_secret("pw", password))
            .with_mounted_temp("/run/auth");
    }
    container.with_exec_opts(
        vec![
            "sh",
            "-c",
            LOGIN_SCRIPT,
            "skopeo",
            "/run/auth/auth.json",
            "ci",
            "registry.example.org",
            "/run/secrets/pw",
            "docker://registry.example.org/team/app",
        ],
        any,
    )
}

#[tokio::test]
async fn a_login_from_a_mounted_secret_then_the_listing_with_its_auth_file() {
    let engine = engine();
    let listed = list_with_login(&engine, Some("right"));
    assert_eq!(listed.exit_code().await.unwrap(), 0);
    let out: serde_json::Value = serde_json::from_str(&listed.stdout().await.unwrap()).unwrap();
    assert_eq!(out["Tags"], serde_json::json!(["latest", "v1.0.0"]));
    assert!(engine.plaintext_reads().is_empty());

    // A wrong password stops at the login, in skopeo's words.
    let refused = list_with_login(&engine, Some("wrong"));
    assert_eq!(refused.exit_code().await.unwrap(), 1);
    let stderr = refused.stderr().await.unwrap();
    assert!(
        stderr.contains("level=fatal")
            && stderr.contains(r#"authenticating creds for \"registry.example.org\""#)
            && stderr.contains("unauthorized"),
        "{stderr}"
    );

    // No secret mounted: the shell cannot open the password file.
    let missing = list_with_login(&engine, None);
    assert_eq!(missing.exit_code().await.unwrap(), 2);
    assert!(missing
        .stderr()
        .await
        .unwrap()
        .contains("cannot open /run/secrets/pw"));
}
