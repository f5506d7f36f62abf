//! Builds from a local directory without a forge, images that carry their step log (failed
//! steps named by the publisher), and "partly failed" only when a tag was published.

use dagger_mock_engine::{AccountRights, BuildStep, CommandEffect, MockEngine};
use dagger_pipeline::helpers::{git_tag_source, AlpineRuntime, GoBuild, OciLabels, RuntimeUser};
use dagger_pipeline::{
    BuildContext, BuildContextError, ForgeConfig, Pipeline, PublishBuilt, StepError,
};
use dagger_publish::dagger_sdk::{Container, Query};
use dagger_publish::registry::{repository, Tag};
use dagger_publish::{ExistingTagPolicy, PublishError, PublishRequest, Publisher};

const HOST: &str = "registry.example.org";

/// A Go app built from the context's source directory, copied into an Alpine image.
struct Local;

impl Pipeline for Local {
    fn name(&self) -> &str {
        "app"
    }
    fn version(&self) -> &str {
        "1.0.0"
    }
    fn description(&self) -> &str {
        "An app built from a local directory"
    }
    fn build(&self, ctx: &BuildContext) -> Container {
        let binary = GoBuild::new("golang:1.25-alpine3.22", ctx.src.clone(), "app").binary(ctx);
        let image = AlpineRuntime::new("alpine:3.22", RuntimeUser::existing(65534, 65534))
            .container(ctx)
            .with_file("/usr/bin/app", binary);
        OciLabels::for_pipeline(self, ctx).apply(image)
    }
}

/// The same app, cloned from the forge.
struct Upstream;

impl Pipeline for Upstream {
    fn name(&self) -> &str {
        "upstream"
    }
    fn version(&self) -> &str {
        "v2.0.0"
    }
    fn description(&self) -> &str {
        "An app cloned from the forge"
    }
    fn build(&self, ctx: &BuildContext) -> Container {
        let src = git_tag_source(ctx, self.upstream_repo(), self.version());
        GoBuild::new("golang:1.25-alpine3.22", src, "app").container(ctx)
    }
}

fn local_context(engine: &MockEngine) -> BuildContext {
    engine.add_host_directory(
        "/home/me/app",
        &[("go.mod", "module app\n"), ("main.go", "package main\n")],
    );
    let dag: Query = engine.query();
    let src = dag.host().directory("/home/me/app");
    BuildContext::new(dag, src, "app")
}

fn request(tags: &[&str]) -> PublishRequest {
    PublishRequest::new(
        HOST,
        repository("team", "app").unwrap(),
        tags.iter().map(|t| Tag::parse(t).unwrap()),
    )
    .unwrap()
    // No existing-tag check: these tests are about the build and the push's own answer.
    .with_policy(ExistingTagPolicy::Overwrite)
}

#[tokio::test]
async fn a_local_directory_builds_and_publishes_without_a_forge() {
    let engine = MockEngine::new();
    engine.on_exec(CommandEffect::containing("go build").writes_file("/out/app", "ELF"));
    let ctx = local_context(&engine);
    assert!(ctx.forge.is_none());
    let image = ctx.build(&Local).expect("no forge needed");
    let report = Publisher::new(engine.client())
        .publish_built(&image, &request(&["v1.0.0"]))
        .await
        .expect("published");
    assert_eq!(report.tags.len(), 1);
    let built = &engine.published()[0].container;
    // The source label needs a forge (or with_source); the others are there.
    let labels: Vec<&str> = built
        .steps
        .iter()
        .filter_map(|s| match s {
            BuildStep::Label { name, .. } => Some(name.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        labels,
        [
            "org.opencontainers.image.title",
            "org.opencontainers.image.description",
            "org.opencontainers.image.version"
        ]
    );
    assert_eq!(built.stages[0].output, "/out/app");
}

#[tokio::test]
async fn cloning_without_a_forge_is_refused_before_anything_runs_and_fails_if_run_anyway() {
    let engine = MockEngine::new();
    let ctx = BuildContext::new(engine.query(), engine.query().directory(), "upstream");
    let err = ctx.build(&Upstream).expect_err("no forge");
    assert_eq!(
        err,
        BuildContextError::NoForge {
            pipeline: "upstream".into(),
            repo: "upstream".into(),
            tag: "v2.0.0".into()
        }
    );
    assert!(
        err.to_string().contains("BuildContext::with_forge"),
        "{err}"
    );
    assert_eq!(engine.round_trips(), 0);
    // Built and run without asking: the engine's error names the missing forge.
    let run = Upstream
        .build(&ctx)
        .sync()
        .await
        .map(|_| ())
        .unwrap_err()
        .to_string();
    assert!(run.contains("no such file or directory"), "{run}");
    assert!(run.contains("BuildContext::with_forge"), "{run}");

    // With a forge, the same pipeline clones from it.
    let forge = ForgeConfig::new("https://git.example/mirrors").unwrap();
    engine.add_git_repository(
        "https://git.example/mirrors/upstream.git",
        "v2.0.0",
        &[("go.mod", "module u\n")],
    );
    let ctx =
        BuildContext::new(engine.query(), engine.query().directory(), "upstream").with_forge(forge);
    let image = ctx.build(&Upstream).expect("a forge");
    image.container.sync().await.map(|_| ()).expect("builds");
}

#[tokio::test]
async fn the_publisher_names_the_failed_step_of_a_built_image() {
    let engine = MockEngine::new();
    engine.on_exec(CommandEffect::containing("go build").fails(
        1,
        "# app\n./main.go:3:1: syntax error: non-declaration statement outside function body\n",
    ));
    let image = local_context(&engine).build(&Local).unwrap();
    let err = Publisher::new(engine.client())
        .publish_built(&image, &request(&["v1.0.0", "latest"]))
        .await
        .expect_err("go build fails");
    let PublishError::BuildFailed { exec, .. } = &err else {
        panic!("expected BuildFailed, got {err:?}");
    };
    assert_eq!(exec.exit_code, 1);
    let step = StepError::of(&err).expect("named from the step log");
    assert_eq!(
        (step.pipeline.as_str(), step.step.as_deref()),
        ("app", Some("go build"))
    );
    let text = err.to_string();
    assert!(
        text.starts_with("pipeline \"app\", step \"go build\" failed with exit code 1\n  command: go build -o /out/app ."),
        "{text}"
    );
    assert!(
        text.contains("syntax error: non-declaration statement"),
        "{text}"
    );
    assert!(engine.published().is_empty());
}

#[tokio::test]
async fn every_tag_refused_reads_as_a_failure_with_each_reason_not_partly() {
    let engine = MockEngine::new();
    engine.on_exec(CommandEffect::containing("go build").writes_file("/out/app", "ELF"));
    let model = engine.registry(HOST);
    model.existing_tag("team/app", "v1.0.0");
    model.existing_tag("team/app", "latest");
    let image = local_context(&engine).build(&Local).unwrap();
    // Anonymous pushes on this model have full rights: make them create-only through an account.
    model
        .allow_anonymous_push(false)
        .account("ci", "pw", AccountRights::CreateOnly);
    let password = engine.query().set_secret("pw", "pw");
    let auth = dagger_publish::RegistryAuth::new(HOST, "ci")
        .unwrap()
        .with_password(password);
    let err = Publisher::new(engine.client())
        .publish_built(
            &image,
            &request(&["v1.0.0", "latest"]).with_auth(auth).unwrap(),
        )
        .await
        .expect_err("create-only: both tags exist");
    let text = err.to_string();
    assert!(
        text.starts_with("publish failed: none of the 2 tags was published"),
        "{text}"
    );
    assert!(text.contains("NOT published: v1.0.0: tag exists"), "{text}");
    assert!(text.contains("NOT published: latest: tag exists"), "{text}");
    assert!(!text.contains("partly"), "{text}");
}

/// An app whose binary stage gets a directory the engine refuses to name.
struct RefusedInput;

impl Pipeline for RefusedInput {
    fn name(&self) -> &str {
        "app"
    }
    fn version(&self) -> &str {
        "1.0.0"
    }
    fn description(&self) -> &str {
        "An app whose stage input the engine refuses"
    }
    fn build(&self, ctx: &BuildContext) -> Container {
        let stale = dagger_publish::dagger_sdk::Id("stale-id".into());
        let refused = ctx.dag.directory().with_directory("/x", stale);
        let binary = GoBuild::new("golang:1.25-alpine3.22", refused, "app").binary(ctx);
        AlpineRuntime::new("alpine:3.22", RuntimeUser::existing(65534, 65534))
            .container(ctx)
            .with_file("/usr/bin/app", ctx.input(&binary))
    }
}

#[tokio::test]
async fn a_failed_stage_input_lookup_is_named_by_the_publisher() {
    let engine = MockEngine::new();
    let image = local_context(&engine).build(&RefusedInput).expect("build");
    let err = Publisher::new(engine.client())
        .publish_built(&image, &request(&["v1.0.0"]))
        .await
        .expect_err("the engine refuses the build");
    let PublishError::StageInputs(cause) = &err else {
        panic!("expected the stage inputs' failure, got {err:?}");
    };
    assert!(cause.to_string().contains("stale-id"), "{cause}");
    assert!(engine.published().is_empty());
}
