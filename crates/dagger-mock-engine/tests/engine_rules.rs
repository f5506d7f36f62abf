//! Engine rules the simulator follows where it once did not (issue 21, item 6), each against
//! the upstream file it models.

use dagger_mock_engine::{AccountRights, MockEngine};

const HOST: &str = "registry.example.org";
const IMAGE: &str = "registry.example.org/team/app:v1";

/// A registry with one account whose tag `team/app:v1` exists; anonymous pushes refused.
fn registry(engine: &MockEngine, anonymous_pull: bool) -> String {
    let registry = engine.registry(HOST);
    registry
        .allow_anonymous_push(false)
        .allow_anonymous_pull(anonymous_pull)
        .account("ci", "right-key", AccountRights::ReadWrite);
    registry.existing_tag("team/app", "v1")
}

async fn image_ref_with_password(engine: &MockEngine, password: &str) -> Result<String, String> {
    let dag = engine.query();
    let secret = dag.set_secret("registry-password", password);
    dag.container()
        .with_registry_auth(HOST, "ci", secret)
        .from(IMAGE)
        .image_ref()
        .await
        .map_err(|e| e.to_string())
}

/// upstream engine/server/resolver/resolver.go (v0.21.8, `withRegistryHostAuthorizers`)
/// resolves through containerd's `docker.NewDockerAuthorizer`
/// (core/remotes/docker/authorizer.go), which sends a credential only once the registry
/// challenges: a registry that allows anonymous pulls answers the tag whatever password the
/// session holds.
#[tokio::test]
async fn from_with_a_wrong_password_answers_where_anonymous_pulls_are_allowed() {
    let engine = MockEngine::new();
    let digest = registry(&engine, true);
    let answer = image_ref_with_password(&engine, "wrong-key").await.unwrap();
    assert_eq!(answer, format!("{IMAGE}@{digest}"));

    // Where pulls are challenged, the wrong password is sent and refused.
    let engine = MockEngine::new();
    registry(&engine, false);
    let err = image_ref_with_password(&engine, "wrong-key")
        .await
        .unwrap_err();
    assert!(
        err.contains("/v2/team/app/manifests/v1: 401 Unauthorized"),
        "{err}"
    );
    assert!(image_ref_with_password(&engine, "right-key").await.is_ok());
}

/// The push is where the wrong password shows: the upload's POST is challenged.
#[tokio::test]
async fn a_wrong_password_is_refused_at_the_push_upload() {
    let engine = MockEngine::new();
    registry(&engine, true);
    let dag = engine.query();
    let secret = dag.set_secret("registry-password", "wrong-key");
    let err = dag
        .container()
        .from("alpine:3.22")
        .with_registry_auth(HOST, "ci", secret)
        .publish("registry.example.org/team/app:v2")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(
            "unexpected status from POST request to https://registry.example.org/v2/team/app/blobs/uploads/: 401 Unauthorized"
        ),
        "{err}"
    );
    assert!(engine.published().is_empty());
}

/// upstream core/schema/directory.go (v0.21.8, `file`) -> core/file.go (`FileSubfileLazy`)
/// evaluates through `Directory.Stat`, whose `os.Stat` error is a `PathError` with Op
/// `stat`: `stat <path>: no such file or directory`. A copy of a missing path (core/container.go,
/// `Container.file`) still says `lstat`.
#[tokio::test]
async fn a_missing_file_of_a_directory_is_a_stat_error() {
    let engine = MockEngine::new();
    let dag = engine.query();
    let err = dag
        .directory()
        .with_new_file("present.txt", "x")
        .file("missing.txt")
        .contents()
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("stat missing.txt: no such file or directory") && !err.contains("lstat"),
        "{err}"
    );
    let err = dag
        .container()
        .from("alpine:3.22")
        .file("/missing")
        .contents()
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("lstat /missing: no such file or directory"),
        "{err}"
    );
}

/// The recording engine runs nothing, so what a command wrote is unknown and stands in empty;
/// a directory whose every file is known lacks a missing file as the engine does
/// (`Directory.file`, upstream core/schema/directory.go at v0.21.8).
#[tokio::test]
async fn the_recording_engine_fails_on_a_missing_file_of_a_known_directory() {
    let engine = MockEngine::recording();
    let dag = engine.query();
    let known = dag.directory().with_new_file("main.go", "package main\n");
    let err = known
        .file("go.sum")
        .contents()
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("stat go.sum: no such file or directory"),
        "{err}"
    );

    // Where a command ran, its output is unknown: the file stands in, empty.
    let built = dag
        .container()
        .from("golang:1.24-alpine")
        .with_directory("/src", known)
        .with_exec(vec!["go", "build", "-o", "/src/app", "."])
        .directory("/src");
    assert_eq!(built.file("app").contents().await.unwrap(), "");
    assert_eq!(
        built.file("main.go").contents().await.unwrap(),
        "package main\n"
    );
}
