//! The engine's build API on the mock, used as a pipeline uses it (dagger-sdk's typed API on
//! `MockEngine::new()`): mounts, removals, image-config readers, a pushed image read back with
//! `from`, fields the mock does not simulate, and commands that depend on what the container
//! holds.

use dagger_mock_engine::dagger_sdk::{
    ContainerWithEntrypointOpts, ContainerWithExposedPortOpts, NetworkProtocol,
};
use dagger_mock_engine::{BuildStep, CommandEffect, MockEngine};

const REGISTRY: &str = "registry.example.org/team/app";

/// A Python app: wheels built in a builder stage, mounted into the runtime stage for `pip
/// install`, a token mounted as a secret, then entrypoint, user, port and labels.
fn python_app(
    dag: &dagger_mock_engine::dagger_sdk::Query,
    wheels: dagger_mock_engine::dagger_sdk::Directory,
) -> dagger_mock_engine::dagger_sdk::Container {
    let token = dag.set_secret("pip-index-token", "s3cr3t-token");
    dag.container()
        .from("python:3.12-slim")
        .with_mounted_directory("/wheels", wheels)
        .with_mounted_secret("/run/secrets/pip-token", token)
        .with_workdir("/app")
        .with_exec(vec!["sh", "-c", "pip install --no-index /wheels/*.whl"])
        .with_new_file("/app/build.log", "scratch")
        .without_file("/app/build.log")
        .with_env_variable("PORT", "8080")
        .with_exposed_port(8080)
        .with_user("app")
        .with_entrypoint(vec!["python", "-m", "app"])
        .with_label("org.opencontainers.image.version", "1.4.0")
}

fn wheels(
    dag: &dagger_mock_engine::dagger_sdk::Query,
) -> dagger_mock_engine::dagger_sdk::Directory {
    dag.container()
        .from("python:3.12-slim")
        .with_directory(
            "/src",
            dag.directory()
                .with_new_file("pyproject.toml", "[project]\n"),
        )
        .with_workdir("/src")
        .with_exec(vec!["pip", "wheel", "--wheel-dir", "/dist", "."])
        .directory("/dist")
}

fn engine() -> MockEngine {
    let engine = MockEngine::new();
    engine.on_exec(
        CommandEffect::containing("pip wheel")
            .writes_directory("/dist", &[("app-1.4.0-py3-none-any.whl", "wheel")]),
    );
    engine.on_exec(CommandEffect::containing("pip install").requires(
        "/wheels/*.whl",
        1,
        "ERROR: Invalid requirement: '/wheels/*.whl'",
    ));
    engine
}

#[tokio::test]
async fn a_pipeline_with_mounts_removals_and_config_reads_back_what_it_set() {
    let engine = engine();
    let dag = engine.query();
    let app = python_app(&dag, wheels(&dag));

    assert_eq!(app.entrypoint().await.unwrap(), ["python", "-m", "app"]);
    assert_eq!(app.user().await.unwrap(), "app");
    assert_eq!(app.workdir().await.unwrap(), "/app");
    assert_eq!(app.env_variable("PORT").await.unwrap(), "8080");
    let ports = app.exposed_ports().await.unwrap();
    assert_eq!(ports.len(), 1);
    assert_eq!(ports[0].port().await.unwrap(), 8080);
    assert_eq!(ports[0].protocol().await.unwrap(), NetworkProtocol::Tcp);
    assert_eq!(
        app.mounts().await.unwrap(),
        ["/wheels", "/run/secrets/pip-token"]
    );
    // The mounted wheel is visible; the removed file is gone; the secret's plaintext never
    // enters the container's files.
    assert!(app
        .exists("/wheels/app-1.4.0-py3-none-any.whl")
        .await
        .unwrap());
    assert!(!app.exists("/app/build.log").await.unwrap());
    assert!(app.exists("/run/secrets/pip-token").await.unwrap());
    let err = app.file("/app/build.log").contents().await.unwrap_err();
    assert!(
        err.to_string()
            .contains("lstat /app/build.log: no such file or directory"),
        "{err}"
    );

    // Without the mount, the wheels are gone and the container's own files are back.
    let unmounted = app.without_mount("/wheels");
    assert!(!unmounted.exists("/wheels").await.unwrap());
    assert_eq!(
        unmounted.mounts().await.unwrap(),
        ["/run/secrets/pip-token"]
    );

    // Removals of the config.
    let bare = app
        .without_entrypoint()
        .without_user()
        .without_env_variable("PORT")
        .without_exposed_port(8080)
        .without_label("org.opencontainers.image.version");
    assert!(bare.entrypoint().await.unwrap().is_empty());
    assert_eq!(bare.user().await.unwrap(), "");
    assert!(bare.exposed_ports().await.unwrap().is_empty());
    assert!(bare.labels().await.unwrap().is_empty());

    // What is published: the mounts are not part of the image.
    app.publish(format!("{REGISTRY}:1.4.0")).await.unwrap();
    let steps = &engine.published()[0].container.steps;
    assert!(steps.contains(&BuildStep::Mount {
        path: "/run/secrets/pip-token".into(),
        source: "secret pip-index-token".into(),
    }));
    let plan = engine.published()[0].container.to_string();
    assert!(
        plan.contains("MOUNT secret pip-index-token -> /run/secrets/pip-token"),
        "{plan}"
    );
    assert!(!plan.contains("s3cr3t-token"), "{plan}");
}

#[tokio::test]
async fn a_pushed_image_reads_back_with_from_as_a_consumer_sees_it() {
    let engine = engine();
    let dag = engine.query();
    let app = python_app(&dag, wheels(&dag))
        .with_exposed_port_opts(
            9090,
            ContainerWithExposedPortOpts {
                protocol: Some(NetworkProtocol::Udp),
                description: Some("metrics"),
                experimental_skip_healthcheck: None,
            },
        )
        .with_annotation("org.opencontainers.image.source", "https://example.org/app");
    assert_eq!(
        app.exposed_ports().await.unwrap()[1]
            .description()
            .await
            .unwrap(),
        "metrics"
    );
    app.publish(format!("{REGISTRY}:1.4.0")).await.unwrap();

    let pulled = dag.container().from(format!("{REGISTRY}:1.4.0"));
    assert_eq!(
        pulled
            .label("org.opencontainers.image.version")
            .await
            .unwrap(),
        "1.4.0"
    );
    assert_eq!(pulled.entrypoint().await.unwrap(), ["python", "-m", "app"]);
    assert_eq!(pulled.user().await.unwrap(), "app");
    assert_eq!(pulled.workdir().await.unwrap(), "/app");
    assert_eq!(pulled.env_variable("PORT").await.unwrap(), "8080");
    let mut ports = Vec::new();
    for p in pulled.exposed_ports().await.unwrap() {
        ports.push((p.port().await.unwrap(), p.protocol().await.unwrap()));
    }
    assert_eq!(
        ports,
        [(8080, NetworkProtocol::Tcp), (9090, NetworkProtocol::Udp)]
    );
    // A build on top of it starts from its config.
    let derived = pulled.with_entrypoint_opts(
        vec!["python", "-m", "app.worker"],
        ContainerWithEntrypointOpts {
            keep_default_args: Some(true),
        },
    );
    assert_eq!(derived.user().await.unwrap(), "app");
    assert_eq!(
        derived.entrypoint().await.unwrap(),
        ["python", "-m", "app.worker"]
    );
    // An image nobody pushed has no such config.
    let other = dag.container().from("python:3.12-slim");
    assert!(other.entrypoint().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_missing_input_fails_the_command_that_needs_it() {
    let engine = engine();
    let dag = engine.query();
    // The builder stage writes no wheel this time: the mounted directory is empty.
    let empty = dag.directory().with_new_directory("dist");
    let err = python_app(&dag, empty.directory("dist"))
        .publish(format!("{REGISTRY}:1.4.0"))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(
            r#"process "sh -c pip install --no-index /wheels/*.whl" did not complete successfully: exit code: 1"#
        ),
        "{err}"
    );
    assert!(engine.published().is_empty());
}

#[tokio::test]
async fn an_override_wins_over_a_fixtures_defaults() {
    let engine = engine();
    engine.override_exec(
        CommandEffect::containing("pip install").fails(1, "ERROR: No matching distribution"),
    );
    let dag = engine.query();
    let err = python_app(&dag, wheels(&dag))
        .stdout()
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("exit code: 1"), "{err}");
    // The fixture's other declarations still apply.
    assert_eq!(
        wheels(&dag).entries().await.unwrap(),
        ["app-1.4.0-py3-none-any.whl"]
    );
}

#[tokio::test]
async fn directories_and_files_answer_the_rest_of_the_build_api() {
    let engine = MockEngine::new();
    let dag = engine.query();
    let src = dag
        .directory()
        .with_new_file("src/app/main.py", "print('hi')\nprint('bye')\n")
        .with_new_file("src/app/util.py", "x = 1\n")
        .with_new_file("README.md", "# app\n")
        .with_new_directory("empty")
        .without_file("README.md");
    assert_eq!(
        src.glob("**/*.py").await.unwrap(),
        ["src/app/main.py", "src/app/util.py"]
    );
    assert!(src.exists("empty").await.unwrap());
    assert_eq!(src.entries().await.unwrap(), ["empty/", "src/"]);
    assert_eq!(
        dag.directory()
            .with_directory("copy", src.clone())
            .filter_opts(dagger_mock_engine::dagger_sdk::DirectoryFilterOpts {
                include: Some(vec!["copy/empty"]),
                exclude: None,
                gitignore: None,
            })
            .glob("**")
            .await
            .unwrap(),
        ["copy/", "copy/empty/"]
    );
    assert!(!src.exists("README.md").await.unwrap());
    assert_eq!(src.directory("src/app").name().await.unwrap(), "app/");
    let main = src.file("src/app/main.py");
    assert_eq!(main.size().await.unwrap(), 25);
    assert_eq!(
        main.with_replaced("'hi'", "'hello'")
            .contents()
            .await
            .unwrap(),
        "print('hello')\nprint('bye')\n"
    );
    assert_eq!(main.with_name("app.py").name().await.unwrap(), "app.py");
    assert!(main.digest().await.unwrap().starts_with("sha256:"));
    let patched = src
        .with_patch("--- a/src/app/util.py\n+++ b/src/app/util.py\n@@ -1 +1 @@\n-x = 1\n+x = 2\n");
    assert_eq!(
        patched.file("src/app/util.py").contents().await.unwrap(),
        "x = 2\n"
    );
    let changed = src.diff(patched);
    assert_eq!(changed.glob("**/*.py").await.unwrap(), ["src/app/util.py"]);
    let hits = src.search("print").await.unwrap();
    assert_eq!(hits.len(), 2);
    assert_eq!(hits[1].line_number().await.unwrap(), 2);
    assert_eq!(hits[1].file_path().await.unwrap(), "src/app/main.py");

    // http: declared downloads only; anything else fails as without network.
    engine.add_http_file("https://example.org/get-pip.py", "#!/usr/bin/env python\n");
    let pip = dag.http("https://example.org/get-pip.py");
    assert_eq!(pip.name().await.unwrap(), "get-pip.py");
    let err = dag
        .http("https://nowhere.example.org/x.tar.gz")
        .contents()
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("dial tcp: lookup nowhere.example.org: no such host"),
        "{err}"
    );

    // git: the declared refs, their commits and full names.
    engine.add_git_repository("https://example.org/app.git", "v1.4.0", &[("a", "1")]);
    engine.add_git_repository("https://example.org/app.git", "v1.10.0", &[("a", "2")]);
    let repo = dag.git("https://example.org/app.git");
    assert_eq!(repo.tags().await.unwrap(), ["v1.10.0", "v1.4.0"]);
    assert_eq!(
        repo.latest_version().r#ref().await.unwrap(),
        "refs/tags/v1.10.0"
    );
    let commit = repo.tag("v1.4.0").commit().await.unwrap();
    assert_eq!(commit.len(), 40);
    assert_eq!(
        repo.commit(commit.clone())
            .tree()
            .file("a")
            .contents()
            .await
            .unwrap(),
        "1"
    );
}

#[tokio::test]
async fn a_field_the_mock_does_not_simulate_says_so() {
    let engine = MockEngine::new();
    let dag = engine.query();
    let err = dag
        .container()
        .from("alpine")
        .as_service()
        .endpoint()
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(
            "Container.asService is not simulated by the mock engine: it needs a running service"
        ),
        "{err}"
    );
    assert!(!err.contains("Cannot query field"), "{err}");
}

#[tokio::test]
async fn the_rest_of_the_container_api_follows_the_engine() {
    use dagger_mock_engine::dagger_sdk::{ContainerWithMountedDirectoryOpts, FileType};
    let engine = MockEngine::new();
    engine.on_exec(CommandEffect::containing("make cache").writes_file("/cache/out.txt", "x"));
    let dag = engine.query();
    let base = dag.container().from("alpine:3.22");

    // A read-only mount refuses a write; a writable one keeps it until it is unmounted.
    let src = dag.directory().with_new_file("in.txt", "in");
    let read_only = base
        .with_mounted_directory_opts(
            "/cache",
            src.clone(),
            ContainerWithMountedDirectoryOpts {
                read_only: Some(true),
                owner: None,
                expand: None,
            },
        )
        .with_exec(vec!["make", "cache"]);
    let err = read_only.stdout().await.unwrap_err().to_string();
    assert!(
        err.contains(r#"process "make cache" did not complete successfully: exit code: 1"#),
        "{err}"
    );
    let writable = base
        .with_mounted_directory("/cache", src)
        .with_exec(vec!["make", "cache"]);
    assert_eq!(
        writable.file("/cache/out.txt").contents().await.unwrap(),
        "x"
    );
    assert!(!writable
        .without_mount("/cache")
        .exists("/cache/out.txt")
        .await
        .unwrap());
    // rootfs is the container's own files: the mount is not in it.
    assert!(!writable.rootfs().exists("cache/out.txt").await.unwrap());

    // Temporary directories, symlinks and stat.
    let c = base
        .with_mounted_temp("/tmp/work")
        .with_new_file("/etc/app.conf", "a=1\n")
        .with_symlink("/etc/app.conf", "/app.conf");
    assert_eq!(
        c.stat("/tmp/work").file_type().await.unwrap(),
        FileType::Directory
    );
    assert!(c.directory("/tmp/work").entries().await.unwrap().is_empty());
    assert_eq!(c.directory("/tmp").entries().await.unwrap(), ["work/"]);
    assert_eq!(
        c.stat("/app.conf").file_type().await.unwrap(),
        FileType::Regular
    );
    assert_eq!(c.stat("/app.conf").size().await.unwrap(), 4);
    assert_eq!(
        c.stat_opts(
            "/app.conf",
            dagger_mock_engine::dagger_sdk::ContainerStatOpts {
                do_not_follow_symlinks: Some(true)
            }
        )
        .file_type()
        .await
        .unwrap(),
        FileType::Symlink
    );
    let err = c.stat("/nope").name().await.unwrap_err().to_string();
    assert!(
        err.contains("lstat /nope: no such file or directory"),
        "{err}"
    );
    let gone = c.without_directory("/etc");
    assert!(!gone.exists("/etc/app.conf").await.unwrap());

    // Healthcheck, env files, combined output, errors.
    let checked = base.with_docker_healthcheck(vec!["wget", "-q", "localhost:8080"]);
    assert_eq!(
        checked.docker_healthcheck().args().await.unwrap(),
        ["wget", "-q", "localhost:8080"]
    );
    let env = dag.file(".env", "A=1\nB=two\n").as_env_file();
    let with_env = base.with_env_file_variables(env);
    assert_eq!(with_env.env_variable("B").await.unwrap(), "two");
    assert_eq!(with_env.env_variables().await.unwrap().len(), 2);
    let echoed = base.with_exec(vec!["echo", "hi"]);
    assert_eq!(echoed.combined_output().await.unwrap(), "hi\n");
    let err = base
        .with_error("stop here")
        .sync()
        .await
        .err()
        .map(|e| e.to_string());
    assert!(err.is_some_and(|e| e.contains("stop here")));

    // Addresses, secret URIs, JSON.
    let from_address = dag.address("alpine:3.22").container();
    assert!(from_address
        .image_ref()
        .await
        .unwrap()
        .starts_with("docker.io/library/alpine:3.22@sha256:"));
    let reference = dag.address("https://example.org/app.git#v1.4.0").git_ref();
    assert_eq!(reference.r#ref().await.unwrap(), "v1.4.0");
    assert_eq!(
        dag.secret("env://TOKEN").uri().await.unwrap(),
        "env://TOKEN"
    );
    let json = dag.file("a.json", r#"{"a": [1, 2]}"#).as_json();
    assert_eq!(json.contents().await.unwrap().0, r#"{"a":[1,2]}"#);
}
