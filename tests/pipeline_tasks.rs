//! The Python module's tool functions as native pipelines (`blumeops::pipeline::tasks`), on the
//! strict mock engine: the commands each runs, in order, its images, what it returns, the error
//! of a failing step, and its cache policy.

use blumeops::pipeline::tasks::{
    docs, nix, workflows, yolo, CachePolicy, TaskError, RESOLVED_AT_VARIABLE,
};
use dagger_mock_engine::{BuildStep, CommandEffect, ContainerDescription, MockEngine};

const REPO: &str = "/repo";

const NIXPKGS_METADATA: &str = r#"{"description":"A collection of packages","path":"/nix/store/5x1c-source","revision":"abc"}"#;

const FLAKE_METADATA: &str = r#"{"locks":{"root":"root","version":7,"nodes":{
  "root":{"inputs":{"nixpkgs":"nixpkgs","nixpkgs-services":"nixpkgs_2","home-manager":"home-manager"}},
  "nixpkgs":{},"nixpkgs_2":{},"home-manager":{}}}}"#;

/// The strict mock, with the public images the tasks pull.
fn new_engine() -> MockEngine {
    let engine = MockEngine::new();
    for image in [
        nix::NIX_IMAGE,
        "code.forgejo.org/forgejo/runner:12.7.0",
        docs::DOCS_IMAGE,
        yolo::PYTHON_IMAGE,
    ] {
        engine.public_image(image).expect("a public image by tag");
    }
    engine
}

fn engine_with_repo() -> MockEngine {
    let engine = new_engine();
    engine.add_host_directory(
        REPO,
        &[
            (
                "containers/tool/default.nix",
                "{ pkgs ? import <nixpkgs> {} }: ...\n",
            ),
            ("nixos/ringtail/flake.nix", "{ inputs = {}; }\n"),
            ("nixos/ringtail/flake.lock", "{\"old\": true}\n"),
            ("docs/index.md", "# Docs\n"),
            ("docs/quartz.config.ts", "export default {}\n"),
            ("docs/quartz.layout.ts", "export const layout = {}\n"),
            ("CHANGELOG.md", "# Changelog\n"),
            (".forgejo/workflows/ci.yml", "on: push\n"),
        ],
    );
    engine
}

async fn source_of(
    engine: &MockEngine,
    file: &dagger_mock_engine::dagger_sdk::File,
) -> (ContainerDescription, String) {
    let id = file.id().await.expect("file id");
    engine
        .describe_file_source(&id.0)
        .unwrap_or_else(|e| panic!("describe: {e}"))
}

fn execs(d: &ContainerDescription) -> Vec<String> {
    d.steps
        .iter()
        .filter_map(|s| match s {
            BuildStep::Exec { args, .. } => Some(args.join(" ")),
            _ => None,
        })
        .collect()
}

fn froms(d: &ContainerDescription) -> Vec<&str> {
    d.steps
        .iter()
        .filter_map(|s| match s {
            BuildStep::From { address } => Some(address.as_str()),
            _ => None,
        })
        .collect()
}

fn env(d: &ContainerDescription, name: &str) -> Option<String> {
    d.steps.iter().rev().find_map(|s| match s {
        BuildStep::EnvVariable { name: n, value } if n == name => Some(value.clone()),
        _ => None,
    })
}

fn workdir(d: &ContainerDescription) -> Option<&str> {
    d.steps.iter().rev().find_map(|s| match s {
        BuildStep::Workdir { path } => Some(path.as_str()),
        _ => None,
    })
}

const NIX: &str = "nix --extra-experimental-features nix-command flakes";

// ---------------------------------------------------------------- build-nix

#[tokio::test]
async fn build_nix_resolves_nixpkgs_then_builds_the_archive() {
    let engine = engine_with_repo();
    engine.set_exec_stdout(
        &["flake", "metadata", "nixpkgs", "--json"],
        NIXPKGS_METADATA,
    );
    engine.on_exec(
        CommandEffect::argv(["nix-build", "containers/tool/default.nix", "-o", "/result"])
            .requires(
                "containers/tool/default.nix",
                1,
                "error: getting status of default.nix",
            )
            .writes_file("/result", "docker-archive of tool"),
    );
    let dag = engine.query();
    let src = dag.host().directory(REPO);
    let archive = nix::build_nix(&dag, &src, "tool").await.expect("build-nix");
    assert_eq!(archive.contents().await.unwrap(), "docker-archive of tool");
    let (d, path) = source_of(&engine, &archive).await;
    assert_eq!(path, "/result");
    assert_eq!(froms(&d), [nix::NIX_IMAGE]);
    assert_eq!(workdir(&d), Some("/workspace"));
    // The metadata step ran on its own branch of the same base; the archive's container
    // runs only the build, with the store path it found.
    assert_eq!(
        execs(&d),
        ["nix-build containers/tool/default.nix -o /result"]
    );
    let queries = engine.queries().join("\n");
    assert!(queries.contains("metadata"), "{queries}");
    assert_eq!(
        env(&d, "NIX_PATH").as_deref(),
        Some("nixpkgs=/nix/store/5x1c-source")
    );
    assert_eq!(nix::BUILD_NIX_CACHE, CachePolicy::Default);
}

#[tokio::test]
async fn a_failing_nix_build_names_the_step_command_exit_code_and_stderr() {
    let engine = engine_with_repo();
    engine.set_exec_stdout(&["flake", "metadata", "nixpkgs"], NIXPKGS_METADATA);
    engine.on_exec(CommandEffect::containing("nix-build").fails(
        1,
        "building '/nix/store/x-tool.drv'...\nerror: attribute 'toool' missing\n",
    ));
    let dag = engine.query();
    let src = dag.host().directory(REPO);
    let err = nix::build_nix(&dag, &src, "tool")
        .await
        .err()
        .expect("the task fails");
    let TaskError::Step(step) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(step.pipeline, "build-nix");
    assert_eq!(step.step.as_deref(), Some("nix-build"));
    assert_eq!(step.exit_code, 1);
    assert_eq!(
        step.command,
        ["nix-build", "containers/tool/default.nix", "-o", "/result"]
    );
    assert_eq!(
        step.stderr_tail.last().map(String::as_str),
        Some("error: attribute 'toool' missing")
    );
    let text = err.to_string();
    assert!(
        text.contains("step \"nix-build\" failed with exit code 1"),
        "{text}"
    );
}

#[tokio::test]
async fn build_nix_refuses_a_bad_name_and_unusable_metadata() {
    let engine = engine_with_repo();
    let dag = engine.query();
    let src = dag.host().directory(REPO);
    let err = nix::build_nix(&dag, &src, "../etc")
        .await
        .err()
        .expect("the task fails");
    assert!(
        matches!(
            &err,
            TaskError::InvalidArgument {
                argument: "container-name",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        engine.queries().is_empty(),
        "nothing is sent for a bad name"
    );

    engine.set_exec_stdout(
        &["flake", "metadata"],
        r#"{"path":"/tmp/not-a-store-path"}"#,
    );
    let err = nix::build_nix(&dag, &src, "tool")
        .await
        .err()
        .expect("the task fails");
    let TaskError::Output { step, detail, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(step, "nix flake metadata nixpkgs");
    assert!(detail.contains("not a Nix store path"), "{detail}");
}

// ---------------------------------------------------------------- nix-version

#[tokio::test]
async fn nix_version_evaluates_the_package_version_never_from_cache() {
    let engine = new_engine();
    engine.on_exec(
        CommandEffect::argv([
            "nix",
            "--extra-experimental-features",
            "nix-command flakes",
            "eval",
            "--raw",
            "nixpkgs#authentik.version",
        ])
        .prints("2025.10.1"),
    );
    let dag = engine.query();
    assert_eq!(
        nix::nix_version(&dag, "authentik").await.unwrap(),
        "2025.10.1"
    );
    assert_eq!(nix::NIX_VERSION_CACHE, CachePolicy::Never);
    let queries = engine.queries().join("\n");
    assert!(queries.contains(nix::NIX_IMAGE), "{queries}");
    assert!(
        queries.contains(RESOLVED_AT_VARIABLE),
        "the eval is cache-busted: {queries}"
    );

    let err = nix::nix_version(&dag, "a b")
        .await
        .expect_err("the task fails");
    assert!(
        matches!(
            err,
            TaskError::InvalidArgument {
                argument: "package",
                ..
            }
        ),
        "{err:?}"
    );
    // An attribute without a version prints nothing: not a version.
    let err = nix::nix_version(&dag, "hello")
        .await
        .expect_err("the task fails");
    assert!(
        matches!(&err, TaskError::Output { step, .. } if step == "nix eval"),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_failing_nix_eval_is_a_step_error() {
    let engine = new_engine();
    engine.on_exec(CommandEffect::containing("eval --raw").fails(
        1,
        "error: flake 'flake:nixpkgs' does not provide attribute 'nope'",
    ));
    let err = nix::nix_version(&engine.query(), "nope")
        .await
        .expect_err("the task fails");
    let TaskError::Step(step) = err else {
        panic!("{err:?}")
    };
    assert_eq!(step.step.as_deref(), Some("nix eval"));
    assert!(step.stderr_tail[0].contains("does not provide attribute"));
}

// ---------------------------------------------------------------- flake-lock / flake-update

#[tokio::test]
async fn flake_lock_locks_in_the_flake_directory_and_returns_the_lock() {
    let engine = engine_with_repo();
    engine.on_exec(
        CommandEffect::containing("flake lock --accept-flake-config")
            .requires(
                "flake.nix",
                1,
                "error: path '/workspace' does not contain a 'flake.nix'",
            )
            .writes_file("flake.lock", "{\"locked\": true}\n"),
    );
    let dag = engine.query();
    let src = dag.host().directory(REPO);
    let lock = nix::flake_lock(&dag, &src, blumeops::defaults::FLAKE_PATH)
        .await
        .unwrap();
    assert_eq!(lock.contents().await.unwrap(), "{\"locked\": true}\n");
    let (d, path) = source_of(&engine, &lock).await;
    assert_eq!(path, "flake.lock");
    assert_eq!(workdir(&d), Some("/workspace/nixos/ringtail"));
    assert_eq!(
        execs(&d),
        [format!("{NIX} flake lock --accept-flake-config")]
    );
    assert_eq!(nix::FLAKE_LOCK_CACHE, CachePolicy::Default);

    // A directory without flake.nix: the step says so.
    let err = nix::flake_lock(&dag, &src, "docs")
        .await
        .err()
        .expect("the task fails");
    let TaskError::Step(step) = err else {
        panic!("{err:?}")
    };
    assert_eq!(step.step.as_deref(), Some("nix flake lock"));
    let err = nix::flake_lock(&dag, &src, "../x")
        .await
        .err()
        .expect("the task fails");
    assert!(matches!(
        err,
        TaskError::InvalidArgument {
            argument: "flake-path",
            ..
        }
    ));
}

#[tokio::test]
async fn flake_update_updates_the_root_inputs_but_the_skipped_ones() {
    let engine = engine_with_repo();
    engine.set_exec_stdout(&["flake", "metadata", "--json"], FLAKE_METADATA);
    engine.on_exec(
        CommandEffect::containing("flake update")
            .writes_file("flake.lock", "{\"updated\": true}\n"),
    );
    let dag = engine.query();
    let src = dag.host().directory(REPO);
    let lock = nix::flake_update(
        &dag,
        &src,
        blumeops::defaults::FLAKE_PATH,
        blumeops::defaults::FLAKE_SKIP_INPUTS,
    )
    .await
    .unwrap();
    assert_eq!(lock.contents().await.unwrap(), "{\"updated\": true}\n");
    let (d, _) = source_of(&engine, &lock).await;
    assert_eq!(
        execs(&d),
        [format!(
            "{NIX} flake update home-manager nixpkgs --accept-flake-config"
        )]
    );
    assert!(
        env(&d, RESOLVED_AT_VARIABLE).is_some(),
        "never from cache: {d}"
    );
    assert_eq!(nix::FLAKE_UPDATE_CACHE, CachePolicy::Never);
    let metadata_ran = engine.queries().iter().any(|q| q.contains("metadata"));
    assert!(metadata_ran);

    // Skipping every input would make `nix flake update` update them all: refused.
    let err = nix::flake_update(
        &dag,
        &src,
        "nixos/ringtail",
        "nixpkgs, nixpkgs-services,home-manager",
    )
    .await
    .err()
    .expect("the task fails");
    let TaskError::InvalidArgument { argument, rule, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(*argument, "skip-inputs");
    assert!(
        rule.contains("home-manager, nixpkgs, nixpkgs-services"),
        "{rule}"
    );
}

#[tokio::test]
async fn a_failing_flake_update_names_its_step() {
    let engine = engine_with_repo();
    engine.set_exec_stdout(&["flake", "metadata", "--json"], FLAKE_METADATA);
    engine.on_exec(CommandEffect::containing("flake update").fails(
        1,
        "error: unable to download 'https://github.com/...': HTTP error 504",
    ));
    let dag = engine.query();
    let src = dag.host().directory(REPO);
    let err = nix::flake_update(&dag, &src, "nixos/ringtail", "")
        .await
        .err()
        .expect("the task fails");
    let TaskError::Step(step) = err else {
        panic!("{err:?}")
    };
    assert_eq!(step.step.as_deref(), Some("nix flake update"));
    assert!(
        step.command.contains(&"nixpkgs-services".to_string()),
        "nothing skipped"
    );
}

// ---------------------------------------------------------------- build-docs

fn declare_quartz(engine: &MockEngine) {
    engine.on_exec(
        CommandEffect::containing(
            "git clone --depth 1 --branch v4.5.2 https://github.com/jackyzha0/quartz.git",
        )
        .writes_directory(
            "/quartz",
            &[
                ("quartz/build.ts", "build()"),
                ("package.json", "{\"name\":\"quartz\"}"),
                ("package-lock.json", "{}"),
                ("tsconfig.json", "{}"),
            ],
        ),
    );
    engine.on_exec(
        CommandEffect::argv(["npx", "quartz", "build", "-d", "docs"])
            .requires("quartz.config.ts", 1, "Cannot find module quartz.config.ts")
            .requires("docs/CHANGELOG.md", 1, "no changelog")
            .writes_directory("public", &[("index.html", "<html>")]),
    );
    engine.on_exec(
        CommandEffect::containing("tar -czf /docs-1.4.0.tar.gz -C public .")
            .requires("public/index.html", 2, "tar: public: Cannot open")
            .writes_file("/docs-1.4.0.tar.gz", "site tarball"),
    );
}

#[tokio::test]
async fn build_docs_builds_the_site_with_pinned_quartz_and_tars_it() {
    let engine = engine_with_repo();
    declare_quartz(&engine);
    let dag = engine.query();
    let src = dag.host().directory(REPO);
    let tarball = docs::build_docs(&dag, &src, "1.4.0")
        .await
        .expect("build-docs");
    assert_eq!(tarball.contents().await.unwrap(), "site tarball");
    assert_eq!(tarball.name().await.unwrap(), "docs-1.4.0.tar.gz");
    let (d, _) = source_of(&engine, &tarball).await;
    assert_eq!(froms(&d), [docs::DOCS_IMAGE]);
    assert_eq!(
        execs(&d),
        [
            "apt-get update",
            "apt-get install -y --no-install-recommends git ca-certificates",
            "git clone --depth 1 --branch v4.5.2 https://github.com/jackyzha0/quartz.git /quartz",
            "npm ci",
            "npx quartz build -d docs",
            "tar -czf /docs-1.4.0.tar.gz -C public .",
        ]
    );
    assert_eq!(docs::BUILD_DOCS_CACHE, CachePolicy::Default);
}

#[tokio::test]
async fn a_failing_npm_ci_is_the_docs_error_and_bad_versions_are_refused() {
    let engine = engine_with_repo();
    engine.override_exec(
        CommandEffect::argv(["npm", "ci"]).fails(1, "npm ERR! lockfile out of date"),
    );
    declare_quartz(&engine);
    let dag = engine.query();
    let src = dag.host().directory(REPO);
    let err = docs::build_docs(&dag, &src, "1.4.0")
        .await
        .err()
        .expect("the task fails");
    let TaskError::Step(step) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(step.pipeline, "build-docs");
    assert_eq!(step.step.as_deref(), Some("npm ci"));
    assert!(err.to_string().contains("npm ERR! lockfile out of date"));

    let err = docs::build_docs(&dag, &src, "1.4/../x")
        .await
        .err()
        .expect("the task fails");
    assert!(matches!(
        err,
        TaskError::InvalidArgument {
            argument: "version",
            ..
        }
    ));
}

// ---------------------------------------------------------------- validate-workflows

#[tokio::test]
async fn validate_workflows_runs_the_pinned_runner_and_returns_its_output() {
    let engine = engine_with_repo();
    engine.on_exec(
        CommandEffect::argv(["forgejo-runner", "validate", "--directory", "."])
            .requires(".forgejo/workflows/*.yml", 1, "no workflows")
            .prints("ci.yml: workflow ok\n"),
    );
    let dag = engine.query();
    let src = dag.host().directory(REPO);
    let out = workflows::validate_workflows(&dag, &src, workflows::DEFAULT_RUNNER_VERSION)
        .await
        .unwrap();
    assert_eq!(out, "ci.yml: workflow ok\n");
    let queries = engine.queries().join("\n");
    assert!(
        queries.contains("code.forgejo.org/forgejo/runner:12.7.0"),
        "{queries}"
    );
    assert_eq!(workflows::VALIDATE_WORKFLOWS_CACHE, CachePolicy::Default);

    let err = workflows::validate_workflows(&dag, &src, "12.7.0 latest")
        .await
        .expect_err("the task fails");
    assert!(matches!(
        err,
        TaskError::InvalidArgument {
            argument: "runner-version",
            ..
        }
    ));
}

#[tokio::test]
async fn an_invalid_workflow_is_the_runners_message() {
    let engine = engine_with_repo();
    engine.on_exec(
        CommandEffect::containing("forgejo-runner validate")
            .fails(1, "ci.yml: jobs.build.runs-on: required"),
    );
    let dag = engine.query();
    let src = dag.host().directory(REPO);
    let err = workflows::validate_workflows(&dag, &src, "12.7.0")
        .await
        .expect_err("the task fails");
    let TaskError::Step(step) = err else {
        panic!("{err:?}")
    };
    assert_eq!(step.step.as_deref(), Some("forgejo-runner validate"));
    assert_eq!(step.stderr_tail, ["ci.yml: jobs.build.runs-on: required"]);
}

// ---------------------------------------------------------------- export-yolov9

const EXPERIMENTAL_PY: &str =
    "def attempt_load(w):\n    ckpt = torch.load(attempt_download(w), map_location='cpu')  # load\n";

fn declare_yolo(engine: &MockEngine, experimental: &str) {
    engine.add_http_file(&yolo::weights_url("c"), "converted weights c");
    engine.on_exec(
        CommandEffect::containing(
            "git clone --depth 1 https://github.com/WongKinYiu/yolov9.git /yolov9",
        )
        .writes_directory(
            "/yolov9",
            &[
                ("requirements.txt", "torch\n"),
                ("export.py", "export()"),
                ("models/experimental.py", experimental),
            ],
        ),
    );
    engine.on_exec(
        CommandEffect::containing("python3 export.py --weights ./weights.pt --imgsz 640")
            .requires("weights.pt", 1, "FileNotFoundError: weights.pt")
            .writes_file("weights.onnx", "onnx model"),
    );
}

#[tokio::test]
async fn export_yolov9_on_amd64_downloads_patches_and_exports() {
    let engine = new_engine();
    declare_yolo(&engine, EXPERIMENTAL_PY);
    let dag = engine.query();
    let onnx = yolo::export_yolov9(&dag, yolo::DEFAULT_MODEL_SIZE, yolo::DEFAULT_INPUT_SIZE)
        .await
        .expect("export");
    assert_eq!(onnx.name().await.unwrap(), "yolov9-c-640.onnx");
    assert_eq!(onnx.contents().await.unwrap(), "onnx model");
    let (d, path) = source_of(&engine, &onnx).await;
    assert_eq!(path, "/yolov9/weights.onnx");
    assert_eq!(d.platform.as_deref(), Some("linux/amd64"));
    assert_eq!(froms(&d), [yolo::PYTHON_IMAGE]);
    assert_eq!(
        execs(&d),
        [
            "apt-get update",
            "apt-get install -y --no-install-recommends git libgl1 libglib2.0-0 cmake build-essential",
            "git clone --depth 1 https://github.com/WongKinYiu/yolov9.git /yolov9",
            "pip install --no-cache-dir -r requirements.txt numpy<2 onnx>=1.18.0 onnxruntime onnx-simplifier>=0.4.1 onnxscript",
            "python3 export.py --weights ./weights.pt --imgsz 640 --simplify --include onnx",
        ]
    );
    assert_eq!(workdir(&d), Some("/yolov9"));
    // The weights come from the engine's download, the patch is in place before the export.
    let files: Vec<(&str, &str)> = d
        .steps
        .iter()
        .filter_map(|s| match s {
            BuildStep::File { path, source } => Some((path.as_str(), source.as_str())),
            _ => None,
        })
        .collect();
    assert!(
        files
            .iter()
            .any(|(p, s)| *p == "/yolov9/weights.pt" && s.contains("yolov9-c-converted.pt")),
        "{d}"
    );
    assert!(
        files
            .iter()
            .any(|(p, _)| *p == "/yolov9/models/experimental.py"),
        "{d}"
    );
    let mut patched = None;
    for q in engine.queries() {
        if q.contains("weights_only=False") {
            patched = Some(q);
        }
    }
    assert!(patched.is_some(), "the torch.load patch was sent");
    assert_eq!(yolo::EXPORT_YOLOV9_CACHE, CachePolicy::Default);
}

#[tokio::test]
async fn export_yolov9_refuses_unknown_sizes_and_a_yolov9_without_the_patched_line() {
    let engine = new_engine();
    let dag = engine.query();
    let err = yolo::export_yolov9(&dag, "m", 640)
        .await
        .err()
        .expect("the task fails");
    let TaskError::InvalidArgument { argument, rule, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(*argument, "model-size");
    assert!(rule.contains("s, c, e"), "{rule}");
    assert_eq!(yolo::MODEL_SIZES, ["s", "c", "e"]);
    let err = yolo::export_yolov9(&dag, "c", 650)
        .await
        .err()
        .expect("the task fails");
    assert!(matches!(
        err,
        TaskError::InvalidArgument {
            argument: "input-size",
            ..
        }
    ));
    assert!(engine.queries().is_empty());

    let engine = new_engine();
    declare_yolo(&engine, "def attempt_load(w):\n    ckpt = torch.load(w)\n");
    let err = yolo::export_yolov9(&engine.query(), "c", 640)
        .await
        .err()
        .expect("the task fails");
    let TaskError::Engine { task, source } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(task, "export-yolov9");
    assert!(
        source.to_string().contains("search string not found"),
        "{source}"
    );
}

#[tokio::test]
async fn a_failing_export_names_the_export_step() {
    let engine = new_engine();
    engine.on_exec(
        CommandEffect::containing("export.py").fails(1, "RuntimeError: ONNX export failed"),
    );
    declare_yolo(&engine, EXPERIMENTAL_PY);
    let err = yolo::export_yolov9(&engine.query(), "c", 640)
        .await
        .err()
        .expect("the task fails");
    let TaskError::Step(step) = err else {
        panic!("{err:?}")
    };
    assert_eq!(step.step.as_deref(), Some("export.py"));
    assert_eq!(step.stderr_tail, ["RuntimeError: ONNX export failed"]);
}
