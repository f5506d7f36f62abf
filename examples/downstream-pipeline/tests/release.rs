//! The release pipeline on the strict mock engine (`MockEngine::new()`): commands run nothing
//! unless declared, the registry is a model with a create-only account, and nothing leaves the
//! machine (`.ci/run` runs these tests with no network at all).

use dagger_mock_engine::{AccountRights, AuthUse, BuildStep, CommandEffect, MockEngine};
use dagger_publish::dagger_sdk::Directory;
use dagger_publish::{ExistingTagPolicy, PublishError, TagOutcome};
use downstream_pipeline::{
    release, Release, ReleaseError, BINARY_PATH, BUILDER_IMAGE, RUNTIME_IMAGE,
};

const PASSWORD: &str = "ghp_example-token-never-in-a-query";

/// The mock engine as the tests need it: the token in the engine's environment, ghcr.io as a
/// registry where `me` may create tags but not overwrite them, the app's source on the "host",
/// and what `go build` does (the first declaration that matches a command wins, so a test can
/// declare another effect for `go build` before this one).
fn engine_where(go_build: CommandEffect) -> MockEngine {
    let engine = MockEngine::new();
    engine.set_env("GHCR_TOKEN", PASSWORD);
    engine
        .registry("ghcr.io")
        .allow_anonymous_push(false)
        .account("me", PASSWORD, AccountRights::CreateOnly);
    engine.add_host_directory(
        "/home/me/app",
        &[
            ("go.mod", "module example.com/app\n\ngo 1.24\n"),
            (
                "main.go",
                "package main\n\nvar version string\n\nfunc main() {}\n",
            ),
        ],
    );
    engine.on_exec(go_build);
    engine
}

/// `go build` writes the binary where the pipeline's builder stage puts it.
fn engine() -> MockEngine {
    engine_where(CommandEffect::containing("go build").writes_file("/out/app", "\x7fELF app"))
}

fn src(engine: &MockEngine) -> Directory {
    engine.query().host().directory("/home/me/app")
}

/// The release of the tests: no existing-tag check (policy `overwrite`), so the registry's own
/// answer to the push decides.
fn overwrite() -> Release {
    Release {
        policy: ExistingTagPolicy::Overwrite,
        ..Release::ghcr()
    }
}

#[tokio::test]
async fn builds_the_binary_in_a_builder_stage_and_copies_it_into_the_runtime_image() {
    let engine = engine();
    release(&engine.client(), src(&engine), "v1.2.0", &overwrite())
        .await
        .expect("released");
    let image = &engine.published()[0].container;

    // The runtime image: Alpine, a non-root user, the binary, labels.
    assert_eq!(
        image.steps[0],
        BuildStep::From {
            address: RUNTIME_IMAGE.into()
        }
    );
    let has = |step: BuildStep| image.steps.contains(&step);
    assert!(has(BuildStep::User {
        name: "10001:10001".into()
    }));
    assert!(has(BuildStep::Entrypoint {
        args: vec![BINARY_PATH.into()]
    }));
    assert!(image
        .steps
        .iter()
        .any(|s| matches!(s, BuildStep::File { path, .. } if path == BINARY_PATH)));
    for (name, value) in [
        ("org.opencontainers.image.title", "app"),
        ("org.opencontainers.image.version", "v1.2.0"),
        (
            "org.opencontainers.image.source",
            "https://github.com/me/app",
        ),
        ("org.opencontainers.image.vendor", "me"),
    ] {
        assert!(
            has(BuildStep::Label {
                name: name.into(),
                value: value.into()
            }),
            "label {name}={value} missing:\n{image}"
        );
    }

    // The builder stage: only its binary is copied in.
    assert_eq!(image.stages.len(), 1);
    let builder = &image.stages[0];
    assert_eq!(
        (builder.output.as_str(), builder.used_at.as_str()),
        ("/out/app", BINARY_PATH)
    );
    assert_eq!(
        builder.container.steps[0],
        BuildStep::From {
            address: BUILDER_IMAGE.into()
        }
    );
    let go_build = builder
        .container
        .steps
        .iter()
        .find_map(|s| match s {
            BuildStep::Exec { args, .. } if args[..2] == ["go", "build"] => Some(args),
            _ => None,
        })
        .expect("a go build step");
    assert!(
        go_build.contains(&"-s -w -X main.version=v1.2.0".to_string()),
        "{go_build:?}"
    );
    assert_eq!(go_build[go_build.len() - 3..], ["-o", "/out/app", "."]);
}

#[tokio::test]
async fn publishes_both_tags_with_the_registry_credentials_and_never_sends_the_password() {
    let engine = engine();
    let report = release(&engine.client(), src(&engine), "v1.2.0", &overwrite())
        .await
        .expect("released");
    let published = engine.published();
    let addresses: Vec<&str> = published.iter().map(|p| p.address.as_str()).collect();
    assert_eq!(
        addresses,
        ["ghcr.io/me/app:v1.2.0", "ghcr.io/me/app:latest"]
    );
    for record in &published {
        assert_eq!(
            record.auth,
            Some(AuthUse {
                host: "ghcr.io".into(),
                username: "me".into(),
                // address(value: "GHCR_TOKEN").secret is the secret env://GHCR_TOKEN.
                secret_name: "env://GHCR_TOKEN".into(),
            })
        );
    }
    // One image, two tags.
    assert_eq!(report.tags.len(), 2);
    assert_eq!(
        report.tags[0].reference.digest,
        report.tags[1].reference.digest
    );
    assert!(report.tags.iter().all(|t| t.outcome == TagOutcome::Pushed));
    // The password stayed in the engine: in no query, and never read back by this process.
    engine.assert_never_sent(PASSWORD);
    assert!(engine.plaintext_reads().is_empty());
}

#[tokio::test]
async fn a_failing_build_step_is_named_with_its_command_and_stderr() {
    let engine = engine_where(CommandEffect::containing("go build").fails(
        1,
        "# example.com/app\n./main.go:5:1: syntax error: non-declaration statement outside function body\n",
    ));
    let err = release(&engine.client(), src(&engine), "v1.2.0", &overwrite())
        .await
        .expect_err("go build fails");
    assert!(
        matches!(
            &err,
            ReleaseError::Publish(PublishError::BuildFailed { step: Some(_), .. })
        ),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.starts_with("pipeline \"app\", step \"go build\" failed with exit code 1\n"),
        "{message}"
    );
    assert!(
        message.contains("command: go build -ldflags '-s -w -X main.version=v1.2.0' -o /out/app ."),
        "{message}"
    );
    assert!(message.contains("./main.go:5:1: syntax error"), "{message}");
    assert!(engine.published().is_empty());
}

#[tokio::test]
async fn a_create_only_registry_refuses_to_push_the_same_tags_again() {
    let engine = engine();
    release(&engine.client(), src(&engine), "v1.2.0", &overwrite())
        .await
        .expect("first release");
    let err = release(&engine.client(), src(&engine), "v1.2.0", &overwrite())
        .await
        .expect_err("the tags exist and `me` may not update them");
    let ReleaseError::Publish(PublishError::Partial { published, failed }) = &err else {
        panic!("expected every tag refused, got {err:?}");
    };
    assert!(published.is_empty());
    assert!(failed
        .iter()
        .all(|f| matches!(*f.error, PublishError::TagExists { .. })));
    let message = err.to_string();
    assert!(
        message.starts_with("publish failed: none of the 2 tags was published"),
        "{message}"
    );
    assert!(
        message.contains("NOT published: v1.2.0: tag exists"),
        "{message}"
    );
    assert!(
        message.contains("NOT published: latest: tag exists"),
        "{message}"
    );
    assert_eq!(engine.published().len(), 2, "only the first release pushed");
}

#[tokio::test]
async fn a_missing_password_variable_fails_without_pushing_or_naming_a_value() {
    let engine = engine();
    let release_without_token = Release {
        password: "env://NOT_SET".into(),
        ..overwrite()
    };
    let err = release(
        &engine.client(),
        src(&engine),
        "v1.2.0",
        &release_without_token,
    )
    .await
    .expect_err("no such variable");
    let message = err.to_string();
    // The engine's words: it names the variable by its first three letters only.
    assert!(
        message.contains(r#"secret env var not found: "NOT...""#),
        "{message}"
    );
    assert!(engine.published().is_empty());
}

#[tokio::test]
async fn the_skip_policy_makes_a_re_run_succeed_with_the_existing_digests() {
    let engine = engine();
    // What the first run of the CI job left in the registry (a re-run is a new engine session,
    // so the tags are already there when it starts): both tags on the one image it pushed.
    let model = engine.registry("ghcr.io");
    let digest = model.existing_tag("me/app", "v1.2.0");
    model.existing_tag_with_digest("me/app", "latest", &digest);
    let existing = [digest.clone(), digest];
    let skip = Release {
        policy: ExistingTagPolicy::Skip,
        ..Release::ghcr()
    };
    let again = release(&engine.client(), src(&engine), "v1.2.0", &skip)
        .await
        .expect("a re-run with skip succeeds");
    assert!(again
        .tags
        .iter()
        .all(|t| t.outcome == TagOutcome::AlreadyPresent));
    let digests: Vec<String> = again
        .tags
        .iter()
        .map(|t| t.reference.digest.to_string())
        .collect();
    assert_eq!(digests, existing);
    assert!(engine.published().is_empty(), "the re-run pushed nothing");
    engine.assert_never_sent(PASSWORD);
}
