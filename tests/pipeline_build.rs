//! The native pipelines' build graphs, hybrid dispatch, step errors and versions, on the mock
//! engine.

use blumeops::pipeline::containers::miniflux::{self, Miniflux};
use blumeops::pipeline::containers::navidrome::{self, Navidrome};
use blumeops::pipeline::dockerfile::ArgError;
use blumeops::pipeline::helpers::git_tag_source;
use blumeops::pipeline::{
    BuildContext, BuildOptions, Catalog, CatalogError, ContainerKind, ForgeConfig, Provenance,
    TargetPlatform,
};
use blumeops::release::Created;
use dagger_mock_engine::{BuildStep, ContainerDescription, ExecFailure, MockEngine};
use dagger_sdk::Container;

const NAVIDROME_GIT: &str = "https://forge.ops.eblu.me/mirrors/navidrome.git";
const MINIFLUX_GIT: &str = "https://forge.ops.eblu.me/mirrors/miniflux.git";
const REPO: &str = "/repo";

const NAVIDROME_TREE: &[(&str, &str)] = &[
    ("go.mod", "module github.com/navidrome/navidrome\n"),
    ("go.sum", "github.com/x/y v1.0.0 h1:abc=\n"),
    ("main.go", "package main\n"),
    ("db/db.go", "package db\n"),
    (
        "ui/package.json",
        "{\"scripts\":{\"postinstall\":\"bin/update-workbox.sh\"}}",
    ),
    ("ui/package-lock.json", "{}"),
    ("ui/bin/update-workbox.sh", "#!/bin/sh\n"),
    ("ui/src/index.js", "render()\n"),
    // The mock runs no command, so `npm run build` writes nothing: the tree carries what it
    // would have written, for the Go stage to find at ui/build.
    ("ui/build/index.html", "<html></html>"),
];

/// A mock engine with both upstream mirrors and a repository holding two legacy containers.
fn engine() -> MockEngine {
    declare_sources(MockEngine::new())
}

/// The same on the recording engine, for whole builds: the mock runs no command, so the
/// binary `go build` would write is only there on the lenient recording engine.
fn recording_engine() -> MockEngine {
    declare_sources(MockEngine::recording())
}

fn declare_sources(engine: MockEngine) -> MockEngine {
    engine.add_git_repository(NAVIDROME_GIT, navidrome::VERSION, NAVIDROME_TREE);
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

fn annotation<'a>(d: &'a ContainerDescription, name: &str) -> Option<&'a str> {
    d.steps.iter().find_map(|s| match s {
        BuildStep::Annotation { name: n, value } if n == name => Some(value.as_str()),
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
            address: "node:22-alpine3.22".into()
        }
    );
    assert_eq!(d.platform, None, "the UI is built on the engine's platform");
    assert!(has_cache(&d, "/root/.npm", "npm-node-22-alpine3.22"), "{d}");
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
            address: "golang:1.25-alpine3.22".into()
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
    assert!(
        has_cache(&d, "/go/pkg/mod", "go-mod-golang-1.25-alpine3.22"),
        "{d}"
    );
    assert!(
        has_cache(
            &d,
            "/root/.cache/go-build",
            "go-build-golang-1.25-alpine3.22"
        ),
        "{d}"
    );
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
            "-w -s -X github.com/navidrome/navidrome/consts.gitSha=source_archive \
             -X github.com/navidrome/navidrome/consts.gitTag=v0.61.1"
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
        None,
        "the catalog labels it"
    );
}

#[tokio::test]
async fn the_catalog_labels_and_annotates_native_images_with_provenance() {
    let engine = recording_engine();
    let dag = engine.query();
    let src = dag.host().directory(REPO);
    let options = BuildOptions {
        platforms: Vec::new(),
        provenance: Some(Provenance {
            version: "v0.61.1".into(),
            revision: "c86b5d7aa1".into(),
            created: Created::parse("2025-06-01T12:00:00Z").unwrap(),
        }),
    };
    let built = Catalog::standard()
        .build_with(&dag, &src, "navidrome", &options)
        .expect("build");
    let d = describe(&engine, &built.container).await;
    let want = [
        ("org.opencontainers.image.title", "navidrome"),
        ("org.opencontainers.image.version", "v0.61.1"),
        ("org.opencontainers.image.source", NAVIDROME_GIT),
        ("org.opencontainers.image.revision", "c86b5d7aa1"),
        ("org.opencontainers.image.created", "2025-06-01T12:00:00Z"),
        ("org.opencontainers.image.vendor", "blumeops"),
    ];
    for (name, value) in want {
        assert_eq!(label(&d, name), Some(value), "{name} in\n{d}");
        assert_eq!(
            annotation(&d, name),
            Some(value),
            "annotation {name} in\n{d}"
        );
    }
    assert!(label(&d, "org.opencontainers.image.description").is_some_and(|v| !v.is_empty()));

    // A plain build (the module's `build`) has no provenance: no revision, no creation time.
    let plain = Catalog::standard().build(&dag, &src, "navidrome").unwrap();
    let d = describe(&engine, &plain.container).await;
    assert_eq!(
        label(&d, "org.opencontainers.image.version"),
        Some("v0.61.1")
    );
    assert_eq!(label(&d, "org.opencontainers.image.revision"), None);
    assert_eq!(label(&d, "org.opencontainers.image.created"), None);
}

#[tokio::test]
async fn dockerfile_images_get_the_same_provenance() {
    let engine = engine();
    let dag = engine.query();
    let src = dag.host().directory(REPO);
    let options = BuildOptions {
        platforms: Vec::new(),
        provenance: Some(Provenance {
            version: "v1.4.2".into(),
            revision: "c86b5d7".into(),
            created: Created::UNIX_EPOCH,
        }),
    };
    let built = Catalog::standard()
        .build_with(&dag, &src, "homepage", &options)
        .unwrap();
    let d = describe(&engine, &built.container).await;
    assert!(matches!(d.steps[0], BuildStep::DockerBuild { .. }), "{d}");
    for (name, value) in [
        ("org.opencontainers.image.title", "homepage"),
        (
            "org.opencontainers.image.description",
            "homepage, built from containers/homepage/Dockerfile",
        ),
        ("org.opencontainers.image.version", "v1.4.2"),
        (
            "org.opencontainers.image.source",
            "https://forge.ops.eblu.me/mirrors/homepage.git",
        ),
        ("org.opencontainers.image.revision", "c86b5d7"),
        ("org.opencontainers.image.created", "1970-01-01T00:00:00Z"),
    ] {
        assert_eq!(label(&d, name), Some(value), "{name} in\n{d}");
        assert_eq!(
            annotation(&d, name),
            Some(value),
            "annotation {name} in\n{d}"
        );
    }
}

#[tokio::test]
async fn miniflux_stages_pie_build_and_nobody_runtime() {
    let engine = engine();
    let ctx = context(&engine, "miniflux");
    let src = git_tag_source(&ctx, "miniflux", miniflux::VERSION);
    let d = describe(&engine, &Miniflux::server(src).container(&ctx)).await;
    assert!(has_env(&d, "CGO_ENABLED", "0"), "{d}");
    assert!(
        has_cache(&d, "/go/pkg/mod", "go-mod-golang-1.25-alpine3.22"),
        "{d}"
    );
    assert!(
        !d.steps
            .iter()
            .any(|s| matches!(s, BuildStep::EnvVariable { name, .. } if name == "GOARCH")),
        "no target platform, no cross-compilation: {d}"
    );
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

/// Issue 19, item 10: a source without `containers/` has no legacy container; naming one is
/// the caller's unknown container (exit code 2 in the module), not the engine's "no such file".
#[tokio::test]
async fn a_source_without_containers_names_the_unknown_container() {
    let engine = engine();
    engine.add_host_directory("/elsewhere", &[("README.md", "not a container repository")]);
    let dag = engine.query();
    let src = dag.host().directory("/elsewhere");
    let catalog = Catalog::standard();
    let err = catalog
        .container_version(&src, "homepage")
        .await
        .unwrap_err();
    assert_eq!(
        err,
        CatalogError::UnknownContainer {
            name: "homepage".into(),
            known: ["miniflux", "navidrome"].map(String::from).to_vec(),
        }
    );
    let built = catalog
        .build(&dag, &src, "homepage")
        .expect("dispatch is lazy");
    let err = sync_err(&built.container, "no containers/").await;
    let err = catalog.classify_sdk_failure(&src, &built, &err).await;
    assert!(
        matches!(err, CatalogError::UnknownContainer { .. }),
        "{err}"
    );
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
    let ctx = BuildContext::new(dag.clone(), src, "miniflux").with_forge(forge.clone());
    let go = Miniflux::server(git_tag_source(&ctx, "miniflux", miniflux::VERSION)).container(&ctx);
    // The clone resolves only from the registered custom mirror.
    describe(&engine, &go).await;
    let catalog = Catalog::standard().with_forge(forge);
    let labels = catalog
        .labels("miniflux", None)
        .expect("a native pipeline is labelled");
    assert_eq!(
        labels.source.as_deref(),
        Some("http://127.0.0.1:3000/mirrors/miniflux.git")
    );
    assert_eq!(labels.version, "2.2.19");
}

/// The digest the mock shows for `dir` when a container copies it.
async fn digest_of(engine: &MockEngine, dir: dagger_sdk::Directory) -> String {
    let c = engine.query().container().with_directory("/x", dir);
    let d = describe(engine, &c).await;
    match &d.steps[0] {
        BuildStep::Directory { source, .. } => digest_in(source).to_string(),
        other => panic!("not a copy: {other}"),
    }
}

/// The `sha256:<hex>` in a copy step's source description.
fn digest_in(source: &str) -> &str {
    let at = source.find("sha256:").expect("a digest");
    &source[at..at + "sha256:".len() + 64]
}

/// A directory holding `paths` of the Navidrome tree (relative to `base`), as they are there.
fn subset(dag: &dagger_sdk::Query, base: &str, paths: &[&str]) -> dagger_sdk::Directory {
    paths.iter().fold(dag.directory(), |dir, path| {
        let full = format!("{base}{path}");
        let contents = NAVIDROME_TREE
            .iter()
            .find(|(p, _)| *p == full)
            .map(|(_, c)| *c)
            .unwrap_or_else(|| panic!("{full} is not in the tree"));
        dir.with_new_file(*path, contents)
    })
}

/// The copy steps before the step at `index`, as (path, source).
fn copies_before(d: &ContainerDescription, index: usize) -> Vec<(&str, &str)> {
    d.steps[..index]
        .iter()
        .filter_map(|s| match s {
            BuildStep::Directory { path, source } => Some((path.as_str(), source.as_str())),
            _ => None,
        })
        .collect()
}

/// Issue 15, "pipelines ordered for the engine's cache": `go mod download` and `npm ci` get a
/// directory holding just the dependency manifests (so the engine's content-based cache reuses
/// them when only other files change), and the rest of the source arrives after them.
#[tokio::test]
async fn dependency_downloads_see_only_the_manifests_and_the_source_comes_after() {
    let engine = engine();
    let ctx = context(&engine, "navidrome");
    let dag = ctx.dag.clone();
    let source = git_tag_source(&ctx, "navidrome", navidrome::VERSION);

    // Go: go.mod and go.sum, then `go mod download`, then the whole tree.
    let go = Navidrome::server(source.clone(), dag.directory()).container(&ctx);
    let d = describe(&engine, &go).await;
    let download = position(
        &d,
        |s| matches!(s, BuildStep::Exec { args, .. } if args == &["go", "mod", "download"]),
    );
    let before = copies_before(&d, download);
    assert_eq!(before.len(), 1, "one input before the download:\n{d}");
    let (path, input) = before[0];
    assert_eq!(path, "/src");
    assert!(input.contains("include [go.mod, go.sum]"), "{input}");
    let manifests = digest_of(&engine, subset(&dag, "", &["go.mod", "go.sum"])).await;
    assert_eq!(digest_in(input), manifests, "only the manifests:\n{d}");
    let whole = digest_of(&engine, source.clone()).await;
    assert_ne!(manifests, whole);
    let source_copy = position(
        &d,
        |s| matches!(s, BuildStep::Directory { path, source } if path == "/src" && digest_in(source) == whole),
    );
    assert!(
        download < source_copy,
        "the source arrives after the download:\n{d}"
    );
    let build = position(
        &d,
        |s| matches!(s, BuildStep::Exec { args, .. } if args[..2] == ["go", "build"]),
    );
    assert!(source_copy < build, "{d}");

    // Node: package.json, package-lock.json and the postinstall script, then `npm ci`, then
    // the whole ui/ folder.
    let ui = Navidrome::ui(source.directory("ui")).container(&ctx);
    let d = describe(&engine, &ui).await;
    let install = position(
        &d,
        |s| matches!(s, BuildStep::Exec { args, .. } if args == &["npm", "ci"]),
    );
    let before = copies_before(&d, install);
    assert_eq!(before.len(), 1, "one input before npm ci:\n{d}");
    let (_, input) = before[0];
    let manifests = digest_of(
        &engine,
        subset(
            &dag,
            "ui/",
            &["package.json", "package-lock.json", "bin/update-workbox.sh"],
        ),
    )
    .await;
    assert_eq!(digest_in(input), manifests, "only the manifests:\n{d}");
    let whole = digest_of(&engine, source.directory("ui")).await;
    let source_copy = position(
        &d,
        |s| matches!(s, BuildStep::Directory { source, .. } if digest_in(source) == whole),
    );
    let build = position(
        &d,
        |s| matches!(s, BuildStep::Exec { args, .. } if args == &["npm", "run", "build"]),
    );
    assert!(install < source_copy && source_copy < build, "{d}");
}

#[tokio::test]
async fn one_source_fetch_and_cache_volumes_named_per_toolchain() {
    let engine = recording_engine();
    let dag = engine.query();
    let src = dag.host().directory(REPO);
    let built = Catalog::standard().build(&dag, &src, "navidrome").unwrap();
    let d = describe(&engine, &built.container).await;

    // Every copy of upstream source, in every stage, is of the one tree of the one tag.
    fn git_copies(d: &ContainerDescription, out: &mut Vec<String>) {
        for stage in &d.stages {
            git_copies(&stage.container, out);
        }
        out.extend(d.steps.iter().filter_map(|s| match s {
            BuildStep::Directory { source, .. } if source.starts_with("git ") => {
                Some(source.clone())
            }
            _ => None,
        }));
    }
    let mut copies = Vec::new();
    git_copies(&d, &mut copies);
    assert_eq!(
        copies.len(),
        4,
        "manifests and source of the UI and the server: {copies:#?}"
    );
    let tree = format!("git {NAVIDROME_GIT} v0.61.1, directory ");
    let ui = format!("git {NAVIDROME_GIT} v0.61.1 ui, directory ");
    assert!(
        copies
            .iter()
            .all(|c| c.starts_with(&tree) || c.starts_with(&ui)),
        "{copies:#?}"
    );

    let volumes: std::collections::BTreeSet<(String, String)> =
        d.cache_volumes().into_iter().collect();
    let want: std::collections::BTreeSet<(String, String)> = [
        ("go-build-golang-1.25-alpine3.22", "/root/.cache/go-build"),
        ("go-mod-golang-1.25-alpine3.22", "/go/pkg/mod"),
        ("npm-node-22-alpine3.22", "/root/.npm"),
    ]
    .into_iter()
    .map(|(v, p)| (v.to_string(), p.to_string()))
    .collect();
    assert_eq!(volumes, want);
}

fn platforms(list: &[&str]) -> Vec<TargetPlatform> {
    list.iter()
        .map(|p| TargetPlatform::parse(p).unwrap())
        .collect()
}

fn stage<'a>(d: &'a ContainerDescription, used_at: &str) -> &'a ContainerDescription {
    &d.stages
        .iter()
        .find(|s| s.used_at == used_at)
        .unwrap_or_else(|| panic!("no stage copied to {used_at}:\n{d}"))
        .container
}

/// CGO (Navidrome with taglib): the server is built in a builder of each target platform; the
/// runtime image is of that platform; the web UI is one call chain on the engine's platform,
/// the same for every platform, so the engine builds it once.
#[tokio::test]
async fn navidrome_for_two_platforms_builds_the_server_per_platform_and_the_ui_once() {
    let engine = recording_engine();
    let dag = engine.query();
    let src = dag.host().directory(REPO);
    let options = BuildOptions {
        platforms: platforms(&["linux/amd64", "linux/arm64"]),
        provenance: None,
    };
    let built = Catalog::standard()
        .build_with(&dag, &src, "navidrome", &options)
        .unwrap();
    assert_eq!(built.variants.len(), 1);
    let mut ui_stages = Vec::new();
    for (platform, image) in built.images() {
        let platform = platform.expect("a platform each").to_string();
        let d = describe(&engine, &image).await;
        assert_eq!(
            d.platform.as_deref(),
            Some(platform.as_str()),
            "runtime:\n{d}"
        );
        let go = stage(&d, "/usr/bin/navidrome");
        assert_eq!(
            go.platform.as_deref(),
            Some(platform.as_str()),
            "builder:\n{go}"
        );
        assert!(has_env(go, "CGO_ENABLED", "1"));
        assert!(
            !go.steps
                .iter()
                .any(|s| matches!(s, BuildStep::EnvVariable { name, .. } if name == "GOARCH")),
            "a CGO build does not cross-compile: {go}"
        );
        let ui = stage(go, "/src/ui/build");
        assert_eq!(
            ui.platform, None,
            "the UI is built on the engine's platform"
        );
        ui_stages.push(ui.clone());
    }
    assert_eq!(ui_stages[0], ui_stages[1]);

    // The same call chain, hence the same ID: one build for both platforms.
    let ctx = BuildContext::new(dag.clone(), src.clone(), "navidrome")
        .with_forge(blumeops::defaults::forge());
    let ui_id = |platform: &str| {
        let ctx = ctx
            .clone()
            .for_platform(Some(TargetPlatform::parse(platform).unwrap()));
        let source = git_tag_source(&ctx, "navidrome", navidrome::VERSION);
        Navidrome::ui(source.directory("ui")).output(&ctx)
    };
    assert_eq!(
        ui_id("linux/amd64").id().await.unwrap(),
        ui_id("linux/arm64").id().await.unwrap()
    );
}

/// Pure Go (Miniflux): cross-compiled on the engine's platform with GOOS/GOARCH, the runtime
/// image of the target platform.
#[tokio::test]
async fn miniflux_cross_compiles_on_the_engines_platform() {
    let engine = recording_engine();
    let dag = engine.query();
    let src = dag.host().directory(REPO);
    let options = BuildOptions {
        platforms: platforms(&["linux/amd64", "linux/arm64", "linux/arm/v7"]),
        provenance: None,
    };
    let built = Catalog::standard()
        .build_with(&dag, &src, "miniflux", &options)
        .unwrap();
    assert_eq!(built.variants.len(), 2);
    for (platform, image) in built.images() {
        let platform = platform.expect("a platform each");
        let d = describe(&engine, &image).await;
        assert_eq!(d.platform.as_deref(), Some(platform.as_str()), "{d}");
        let go = stage(&d, "/usr/bin/miniflux");
        assert_eq!(go.platform, None, "the builder is the engine's:\n{go}");
        assert!(has_env(go, "GOOS", "linux"), "{go}");
        assert!(has_env(go, "GOARCH", platform.arch()), "{go}");
        assert_eq!(
            has_env(go, "GOARM", "7"),
            platform.as_str() == "linux/arm/v7",
            "{go}"
        );
    }
}

/// The default stays the engine's platform: no `container(platform:)` anywhere.
#[tokio::test]
async fn without_platforms_the_build_is_for_the_engines_platform() {
    let engine = recording_engine();
    let dag = engine.query();
    let src = dag.host().directory(REPO);
    let built = Catalog::standard().build(&dag, &src, "navidrome").unwrap();
    assert!(built.variants.is_empty() && built.platforms.is_empty());
    fn no_platform(d: &ContainerDescription) -> bool {
        d.platform.is_none() && d.stages.iter().all(|s| no_platform(&s.container))
    }
    let d = describe(&engine, &built.container).await;
    assert!(no_platform(&d), "{d}");
}

/// A pipeline whose second stage gets a directory the engine refuses to name: the lookup of
/// its stage inputs' IDs fails.
struct RefusedInput;

impl blumeops::pipeline::Pipeline for RefusedInput {
    fn name(&self) -> &str {
        "refused"
    }
    fn version(&self) -> &str {
        "1.0.0"
    }
    fn description(&self) -> &str {
        "a build whose stage input the engine refuses"
    }
    fn build(&self, ctx: &BuildContext) -> Container {
        // An ID the engine never issued, as a stale or foreign one would be.
        let refused = ctx
            .dag
            .directory()
            .with_directory("/x", dagger_sdk::Id("stale-id".into()));
        ctx.target_container()
            .from("alpine:3.22")
            .with_directory("/src", ctx.input(&refused))
    }
    fn smoke_check(&self) -> Option<blumeops::pipeline::SmokeCheck> {
        Some(blumeops::pipeline::SmokeCheck::new(["true"], "1.0.0"))
    }
}

#[tokio::test]
async fn a_failed_stage_input_lookup_is_the_error_the_user_reads() {
    let engine = engine();
    let dag = engine.query();
    let src = dag.host().directory(REPO);
    let catalog = Catalog::empty()
        .with(RefusedInput)
        .expect("a valid pipeline");
    // The smoke check, the first request of a publish: dagger-sdk unwraps the lookup, which
    // must not panic; the engine then refuses the image, and the error names the lookup's cause.
    let built = catalog.build(&dag, &src, "refused").expect("build");
    let err = catalog
        .smoke_check(&engine.client(), &src, built)
        .await
        .expect_err("the engine refuses the build");
    let CatalogError::StageInputs { name, source } = &err else {
        panic!("expected the stage inputs' failure, got {err:?}");
    };
    assert_eq!(name, "refused");
    let text = err.to_string();
    assert!(
        text.contains("could not be described to the engine"),
        "{text}"
    );
    assert!(text.contains("failed to look up the IDs"), "{text}");
    assert!(source.to_string().contains("stale-id"), "{text}");
    // The same through a sync and classify_sdk_failure.
    let built = catalog.build(&dag, &src, "refused").expect("build");
    let err = sync_err(&built.container, "the input is refused").await;
    let err = catalog.classify_sdk_failure(&src, &built, &err).await;
    assert!(matches!(err, CatalogError::StageInputs { .. }), "{err:?}");
}
