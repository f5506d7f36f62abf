//! The native pipelines' build graphs, hybrid dispatch, step errors and versions, on the mock
//! engine.

use blumeops::pipeline::containers::miniflux::{self, Miniflux};
use blumeops::pipeline::containers::navidrome::{self, Navidrome};
use blumeops::pipeline::dockerfile::ArgError;
use blumeops::pipeline::helpers::git_tag_source;
use blumeops::pipeline::{BuildContext, Catalog, CatalogError, ContainerKind, ForgeConfig};
use dagger_mock_engine::{BuildStep, ContainerDescription, ExecFailure, MockEngine};
use dagger_sdk::Container;

const NAVIDROME_GIT: &str = "https://forge.ops.eblu.me/mirrors/navidrome.git";
const MINIFLUX_GIT: &str = "https://forge.ops.eblu.me/mirrors/miniflux.git";
const REPO: &str = "/repo";

/// A mock engine with both upstream mirrors and a repository holding two legacy containers.
fn engine() -> MockEngine {
    let engine = MockEngine::new();
    engine.add_git_repository(
        NAVIDROME_GIT,
        navidrome::VERSION,
        &[
            ("go.mod", "module github.com/navidrome/navidrome\n"),
            ("main.go", "package main\n"),
            ("ui/package.json", "{}"),
            ("ui/package-lock.json", "{}"),
            // The mock runs no command, so `npm run build` writes nothing: the tree carries
            // what it would have written, for the Go stage to find at ui/build.
            ("ui/build/index.html", "<html></html>"),
        ],
    );
    engine.add_git_repository(
        MINIFLUX_GIT,
        miniflux::VERSION,
        &[
            ("go.mod", "module miniflux.app/v2\n"),
            ("main.go", "package main\n"),
        ],
    );
    engine.add_host_directory(
        REPO,
        &[
            (
                "containers/homepage/Dockerfile",
                "# syntax=docker/dockerfile:1\nARG CONTAINER_APP_VERSION=\"v1.4.2\"\nFROM alpine\n",
            ),
            (
                "containers/noversion/Dockerfile",
                "FROM alpine\nARG CONTAINER_APP_VERSION\n",
            ),
            ("containers/empty/README.md", "no Dockerfile here"),
            ("README.md", "repo"),
        ],
    );
    engine
}

fn context(engine: &MockEngine, pipeline: &str) -> BuildContext {
    let dag = engine.query();
    let src = dag.host().directory(REPO);
    BuildContext::new(dag, src, pipeline).with_forge(blumeops::defaults::forge())
}

async fn describe(engine: &MockEngine, container: &Container) -> ContainerDescription {
    let id = container.id().await.expect("container id");
    engine
        .describe_container(&id.0)
        .unwrap_or_else(|e| panic!("describe: {e}"))
}

async fn sync_err(container: &Container, why: &str) -> dagger_sdk::errors::DaggerError {
    match container.sync().await {
        Ok(_) => panic!("sync succeeded but {why}"),
        Err(err) => err,
    }
}

fn execs(d: &ContainerDescription) -> Vec<Vec<String>> {
    d.steps
        .iter()
        .filter_map(|s| match s {
            BuildStep::Exec { args, .. } => Some(args.clone()),
            _ => None,
        })
        .collect()
}

fn position(d: &ContainerDescription, pred: impl Fn(&BuildStep) -> bool) -> usize {
    d.steps
        .iter()
        .position(pred)
        .unwrap_or_else(|| panic!("step not found in:\n{d}"))
}

fn label<'a>(d: &'a ContainerDescription, name: &str) -> Option<&'a str> {
    d.steps.iter().find_map(|s| match s {
        BuildStep::Label { name: n, value } if n == name => Some(value.as_str()),
        _ => None,
    })
}

fn has_cache(d: &ContainerDescription, path: &str, volume: &str) -> bool {
    d.steps.iter().any(
        |s| matches!(s, BuildStep::MountedCache { path: p, volume: v } if p == path && v == volume),
    )
}

fn has_env(d: &ContainerDescription, name: &str, value: &str) -> bool {
    d.steps.iter().any(
        |s| matches!(s, BuildStep::EnvVariable { name: n, value: v } if n == name && v == value),
    )
}

#[tokio::test]
async fn navidrome_ui_stage_runs_npm_with_its_cache() {
    let engine = engine();
    let ctx = context(&engine, "navidrome");
    let src = git_tag_source(&ctx, "navidrome", navidrome::VERSION);
    let ui = Navidrome::ui(src.directory("ui")).container(&ctx);
    let d = describe(&engine, &ui).await;
    assert_eq!(
        d.steps[0],
        BuildStep::From {
            address: "node:lts-alpine".into()
        }
    );
    assert!(has_cache(&d, "/root/.npm", "npm"), "{d}");
    assert_eq!(execs(&d), [vec!["npm", "ci"], vec!["npm", "run", "build"]]);
}

#[tokio::test]
async fn navidrome_server_stage_has_tags_cgo_packages_ldflags_and_ui() {
    let engine = engine();
    let ctx = context(&engine, "navidrome");
    let src = git_tag_source(&ctx, "navidrome", navidrome::VERSION);
    let ui_build = ctx
        .dag
        .directory()
        .with_new_file("index.html", "<html></html>");
    let go = Navidrome::server(src, ui_build).container(&ctx);
    let d = describe(&engine, &go).await;

    assert_eq!(
        d.steps[0],
        BuildStep::From {
            address: "golang:alpine".into()
        }
    );
    let commands = execs(&d);
    assert_eq!(
        commands[0],
        [
            "apk",
            "add",
            "--no-cache",
            "build-base",
            "taglib-dev",
            "zlib-dev"
        ]
    );
    assert!(has_cache(&d, "/go/pkg/mod", "go-mod"), "{d}");
    assert!(has_cache(&d, "/root/.cache/go-build", "go-build"), "{d}");
    assert!(has_env(&d, "CGO_ENABLED", "1"), "{d}");
    let build = commands.last().expect("go build");
    assert_eq!(build[..2], ["go", "build"]);
    assert!(
        build
            .windows(2)
            .any(|w| w == ["-tags", "netgo,sqlite_fts5"]),
        "{build:?}"
    );
    assert!(build.windows(2).any(|w| w
        == [
            "-ldflags",
            "-w -s -X github.com/navidrome/navidrome/consts.gitTag=v0.61.1"
        ]));
    // The UI build lands in ui/build before anything compiles.
    let ui_copy = position(
        &d,
        |s| matches!(s, BuildStep::Directory { path, .. } if path == "/src/ui/build"),
    );
    let go_build = position(
        &d,
        |s| matches!(s, BuildStep::Exec { args, .. } if args[..2] == ["go", "build"]),
    );
    assert!(ui_copy < go_build, "{d}");
    assert!(commands.contains(&vec!["go".into(), "mod".into(), "download".into()]));
}

#[tokio::test]
async fn navidrome_image_has_runtime_user_binary_port_args_and_labels() {
    let engine = engine();
    let ctx = context(&engine, "navidrome");
    let binary = ctx.dag.file("navidrome", "\u{7f}ELF");
    let image = Navidrome.image(&ctx, binary);
    let d = describe(&engine, &image).await;

    assert_eq!(
        d.steps[0],
        BuildStep::From {
            address: "alpine:3.22".into()
        }
    );
    let commands = execs(&d);
    assert_eq!(
        commands[0],
        [
            "apk",
            "add",
            "--no-cache",
            "ca-certificates",
            "tzdata",
            "taglib",
            "ffmpeg"
        ]
    );
    assert_eq!(commands[1], ["addgroup", "-S", "-g", "1000", "navidrome"]);
    assert_eq!(commands[2][0], "adduser");
    assert!(commands[2].windows(2).any(|w| w == ["-u", "1000"]));
    assert!(
        d.steps.contains(&BuildStep::User {
            name: "1000:1000".into()
        }),
        "{d}"
    );
    assert!(d
        .steps
        .iter()
        .any(|s| matches!(s, BuildStep::File { path, .. } if path == "/usr/bin/navidrome")));
    assert!(d
        .steps
        .iter()
        .any(|s| matches!(s, BuildStep::ExposedPort { port: 4533, .. })));
    assert!(d.steps.contains(&BuildStep::DefaultArgs {
        args: vec!["/usr/bin/navidrome".into()]
    }));
    assert_eq!(
        label(&d, "org.opencontainers.image.title"),
        Some("navidrome")
    );
    assert_eq!(
        label(&d, "org.opencontainers.image.version"),
        Some("v0.61.1")
    );
    assert_eq!(
        label(&d, "org.opencontainers.image.source"),
        Some(NAVIDROME_GIT)
    );
    assert_eq!(
        label(&d, "org.opencontainers.image.vendor"),
        Some("blumeops")
    );
    assert!(label(&d, "org.opencontainers.image.description").is_some_and(|v| !v.is_empty()));
}

#[tokio::test]
async fn miniflux_stages_pie_build_and_nobody_runtime() {
    let engine = engine();
    let ctx = context(&engine, "miniflux");
    let src = git_tag_source(&ctx, "miniflux", miniflux::VERSION);
    let d = describe(&engine, &Miniflux::server(src).container(&ctx)).await;
    assert!(has_env(&d, "CGO_ENABLED", "0"), "{d}");
    assert!(has_cache(&d, "/go/pkg/mod", "go-mod"), "{d}");
    let commands = execs(&d);
    // CGO off and no extra packages: no apk step in the build stage.
    assert!(commands.iter().all(|c| c[0] != "apk"), "{commands:?}");
    let build = commands.last().expect("go build");
    assert!(build.contains(&"-buildmode=pie".to_string()), "{build:?}");
    assert!(build
        .iter()
        .any(|a| a.contains("internal/version.Version=2.2.19")));

    let image = Miniflux.image(&ctx, ctx.dag.file("miniflux", "\u{7f}ELF"));
    let d = describe(&engine, &image).await;
    let commands = execs(&d);
    assert_eq!(
        commands,
        [vec![
            "apk",
            "add",
            "--no-cache",
            "ca-certificates",
            "tzdata"
        ]]
    );
    assert!(
        d.steps.contains(&BuildStep::User {
            name: "65534:65534".into()
        }),
        "{d}"
    );
    assert!(d
        .steps
        .iter()
        .any(|s| matches!(s, BuildStep::ExposedPort { port: 8080, .. })));
    assert!(d.steps.contains(&BuildStep::DefaultArgs {
        args: vec!["/usr/bin/miniflux".into()]
    }));
    assert_eq!(
        label(&d, "org.opencontainers.image.version"),
        Some("2.2.19")
    );
}

#[tokio::test]
async fn full_native_build_records_every_step_in_order() {
    let engine = engine();
    let dag = engine.query();
    let src = dag.host().directory(REPO);
    let built = Catalog::standard()
        .build(&dag, &src, "navidrome")
        .expect("build");
    assert_eq!(built.kind, ContainerKind::Native);
    let names: Vec<String> = built.steps.steps().into_iter().map(|s| s.name).collect();
    assert_eq!(
        names,
        [
            "npm ci",
            "npm run build",
            "apk add (go build dependencies)",
            "go mod download",
            "go build",
            "apk add (runtime packages)",
            "addgroup (runtime user)",
            "adduser (runtime user)",
        ]
    );
    assert!(built
        .steps
        .steps()
        .iter()
        .all(|s| s.pipeline == "navidrome"));
}

#[tokio::test]
async fn a_failing_go_build_names_pipeline_step_command_exit_code_and_stderr() {
    let engine = engine();
    engine.fail_exec(ExecFailure {
        args_contains: vec!["go".into(), "build".into(), "sqlite_fts5".into()],
        exit_code: 1,
        stdout: String::new(),
        stderr:
            "# github.com/navidrome/navidrome/db\ndb/db.go:12:5: undefined: buildtags.SQLITE_FTS5\n"
                .into(),
    });
    let dag = engine.query();
    let src = dag.host().directory(REPO);
    let catalog = Catalog::standard();
    let built = catalog.build(&dag, &src, "navidrome").expect("build");
    let err = sync_err(&built.container, "the go build fails").await;
    let CatalogError::Step(step) = catalog.classify_sdk_failure(&src, &built, &err).await else {
        panic!(
            "expected a step error, got {:?}",
            catalog.classify_sdk_failure(&src, &built, &err).await
        );
    };
    assert_eq!(step.pipeline, "navidrome");
    assert_eq!(step.step.as_deref(), Some("go build"));
    assert_eq!(step.exit_code, 1);
    assert_eq!(step.command[..2], ["go", "build"]);
    assert_eq!(
        step.stderr_tail.last().map(String::as_str),
        Some("db/db.go:12:5: undefined: buildtags.SQLITE_FTS5")
    );
    let text = step.to_string();
    assert!(
        text.contains("pipeline \"navidrome\", step \"go build\" failed with exit code 1"),
        "{text}"
    );
    assert!(text.contains("-tags netgo,sqlite_fts5"), "{text}");
    assert!(text.contains("undefined: buildtags.SQLITE_FTS5"), "{text}");
}

#[tokio::test]
async fn a_failing_ui_build_names_the_npm_step() {
    let engine = engine();
    engine.fail_exec(ExecFailure {
        args_contains: vec!["npm".into(), "ci".into()],
        exit_code: 1,
        stdout: String::new(),
        stderr: "npm ERR! code EUSAGE\nnpm ERR! lockfile out of date\n".into(),
    });
    let dag = engine.query();
    let src = dag.host().directory(REPO);
    let catalog = Catalog::standard();
    let built = catalog.build(&dag, &src, "navidrome").expect("build");
    let err = sync_err(&built.container, "npm ci fails").await;
    let err = catalog.classify_sdk_failure(&src, &built, &err).await;
    let text = err.to_string();
    assert!(
        text.contains("step \"npm ci\" failed with exit code 1"),
        "{text}"
    );
    assert!(text.contains("npm ERR! lockfile out of date"), "{text}");
}

#[tokio::test]
async fn legacy_dispatch_builds_the_dockerfile_without_a_round_trip() {
    let engine = engine();
    let dag = engine.query();
    let src = dag.host().directory(REPO);
    let catalog = Catalog::standard();
    engine.reset_recorder();
    let built = catalog.build(&dag, &src, "homepage").expect("build");
    assert_eq!(engine.round_trips(), 0, "dispatch itself sends nothing");
    assert_eq!(built.kind, ContainerKind::Legacy);
    let d = describe(&engine, &built.container).await;
    assert!(
        matches!(&d.steps[0], BuildStep::DockerBuild { dockerfile, .. } if dockerfile == "Dockerfile"),
        "{d}"
    );
}

#[tokio::test]
async fn unknown_containers_are_listed_with_the_known_ones() {
    let engine = engine();
    let dag = engine.query();
    let src = dag.host().directory(REPO);
    let catalog = Catalog::standard();
    for name in ["nope", "empty"] {
        let built = catalog.build(&dag, &src, name).expect("dispatch is lazy");
        assert_eq!(built.kind, ContainerKind::Legacy);
        let err = sync_err(&built.container, "no Dockerfile").await;
        let err = catalog.classify_sdk_failure(&src, &built, &err).await;
        assert_eq!(
            err,
            CatalogError::UnknownContainer {
                name: name.into(),
                known: ["empty", "homepage", "miniflux", "navidrome", "noversion"]
                    .map(String::from)
                    .to_vec(),
            },
            "{name}"
        );
        assert!(err
            .to_string()
            .contains("known containers: empty, homepage, miniflux"));
    }
    let err = catalog.build(&dag, &src, "../etc").expect_err("invalid");
    assert!(matches!(err, CatalogError::InvalidName { .. }), "{err}");
}

#[tokio::test]
async fn versions_of_native_and_legacy_containers() {
    let engine = engine();
    let dag = engine.query();
    let src = dag.host().directory(REPO);
    let catalog = Catalog::standard();

    engine.reset_recorder();
    assert_eq!(
        catalog.container_version(&src, "navidrome").await.unwrap(),
        "v0.61.1"
    );
    assert_eq!(
        catalog.container_version(&src, "miniflux").await.unwrap(),
        "2.2.19"
    );
    assert_eq!(engine.round_trips(), 0, "native versions need no engine");

    assert_eq!(
        catalog.container_version(&src, "homepage").await.unwrap(),
        "v1.4.2"
    );
    assert_eq!(engine.round_trips(), 1, "a legacy version is one read");

    let err = catalog
        .container_version(&src, "noversion")
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            CatalogError::NoVersion {
                source: ArgError::NoValue { line: 2, .. },
                ..
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string().contains("containers/noversion/Dockerfile"),
        "{err}"
    );

    let err = catalog.container_version(&src, "nope").await.unwrap_err();
    assert!(
        matches!(err, CatalogError::UnknownContainer { .. }),
        "{err}"
    );
    let err = catalog.container_version(&src, "Nope").await.unwrap_err();
    assert!(matches!(err, CatalogError::InvalidName { .. }), "{err}");
}

#[tokio::test]
async fn a_custom_forge_is_used_for_clones_and_labels() {
    let engine = engine();
    let forge = ForgeConfig::new("http://127.0.0.1:3000/mirrors/").unwrap();
    engine.add_git_repository(
        "http://127.0.0.1:3000/mirrors/miniflux.git",
        miniflux::VERSION,
        &[("go.mod", "module miniflux.app/v2\n")],
    );
    let dag = engine.query();
    let src = dag.host().directory(REPO);
    let ctx = BuildContext::new(dag.clone(), src, "miniflux").with_forge(forge);
    let go = Miniflux::server(git_tag_source(&ctx, "miniflux", miniflux::VERSION)).container(&ctx);
    // The clone resolves only from the registered custom mirror.
    describe(&engine, &go).await;
    let image = Miniflux.image(&ctx, ctx.dag.file("miniflux", "x"));
    let d = describe(&engine, &image).await;
    assert_eq!(
        label(&d, "org.opencontainers.image.source"),
        Some("http://127.0.0.1:3000/mirrors/miniflux.git")
    );
}
