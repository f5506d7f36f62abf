//! The Python app's pipeline on the strict mock engine: wheels built in a builder stage and
//! mounted (never copied) into the runtime stage, the image's config read back from the
//! registry as a consumer would, a missing wheel failing the install with the step named, and
//! a second release moving `latest` while the version tag stays.

use dagger_mock_engine::{AccountRights, CommandEffect, MockEngine};
use dagger_publish::dagger_sdk::Directory;
use dagger_publish::{ExistingTagPolicy, TagOutcome};
use downstream_pipeline::python_app::{release_python, ENTRYPOINT, PYTHON_IMAGE, WHEELS};
use downstream_pipeline::{Release, ReleaseError};

const PASSWORD: &str = "ghp_python-app-token";

/// A mutable account (so `latest` can move), the project on the host, and what the commands
/// do: `pip wheel` writes the wheel (or, when `wheels` is false, only a log), `pip install` needs one in the
/// mounted directory, and the installed app prints its version.
fn engine(wheels: bool) -> MockEngine {
    let engine = MockEngine::new();
    engine.set_env("GHCR_TOKEN", PASSWORD);
    engine
        .registry("ghcr.io")
        .allow_anonymous_push(false)
        .account("me", PASSWORD, AccountRights::ReadWrite);
    engine.add_host_directory(
        "/home/me/webapp",
        &[("pyproject.toml", "[project]\nname = \"webapp\"\n")],
    );
    let wheel = CommandEffect::containing("pip wheel");
    engine.on_exec(if wheels {
        wheel.writes_file(
            format!("{WHEELS}/webapp-1.4.0-py3-none-any.whl"),
            "PK wheel",
        )
    } else {
        // A build that produced no wheel (only its log): /wheels exists, with no *.whl.
        wheel.writes_directory(WHEELS, &[("build.log", "no wheel built")])
    });
    engine.on_exec(CommandEffect::containing("pip install").requires(
        format!("{WHEELS}/*.whl"),
        1,
        "WARNING: Requirement '/wheels/*.whl' looks like a filename, but the file does not exist\nERROR: *.whl is not a valid wheel filename.",
    ));
    engine.on_exec(CommandEffect::containing("--version").prints("webapp 1.4.0\n"));
    engine
}

fn src(engine: &MockEngine) -> Directory {
    engine.query().host().directory("/home/me/webapp")
}

#[tokio::test]
async fn wheels_are_mounted_and_the_pushed_image_reads_back_as_built() {
    let engine = engine(true);
    let report = release_python(&engine.client(), src(&engine), "1.4.0", &Release::ghcr())
        .await
        .unwrap();
    assert!(report.tags.iter().all(|t| t.outcome == TagOutcome::Pushed));
    // A consumer pulls the tag and sees the image's config.
    let pulled = engine.query().container().from("ghcr.io/me/webapp:1.4.0");
    assert_eq!(pulled.entrypoint().await.unwrap(), [ENTRYPOINT]);
    assert_eq!(pulled.user().await.unwrap(), "10001:10001");
    assert_eq!(pulled.workdir().await.unwrap(), "/srv");
    assert_eq!(pulled.env_variable("PYTHONUNBUFFERED").await.unwrap(), "1");
    assert_eq!(
        pulled
            .label("org.opencontainers.image.version")
            .await
            .unwrap(),
        "1.4.0"
    );
    // The wheels were mounted for the install only: they are not in the image.
    let published = &engine.published()[0].container;
    let steps: Vec<String> = published.steps.iter().map(ToString::to_string).collect();
    assert!(
        steps.iter().any(|s| s.contains(WHEELS)),
        "the mount is in the build: {steps:#?}"
    );
    assert!(!pulled
        .exists(format!("{WHEELS}/webapp-1.4.0-py3-none-any.whl"))
        .await
        .unwrap());
    assert!(engine
        .queries()
        .iter()
        .any(|q| q.contains(&format!("from(address:\"{PYTHON_IMAGE}\")"))));
}

#[tokio::test]
async fn a_missing_wheel_fails_the_install_step_by_name_and_nothing_is_pushed() {
    let engine = engine(false);
    let err = release_python(&engine.client(), src(&engine), "1.4.0", &Release::ghcr())
        .await
        .unwrap_err();
    assert!(matches!(err, ReleaseError::PublishBuilt(_)), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("pipeline \"webapp\", step \"pip install\"")
            && text.contains("not a valid wheel filename"),
        "{text}"
    );
    assert!(engine.published().is_empty());
}

#[tokio::test]
async fn a_second_release_moves_latest_and_the_version_tag_stays() {
    let engine = engine(true);
    let first = release_python(&engine.client(), src(&engine), "1.4.0", &Release::ghcr())
        .await
        .unwrap();
    engine.on_exec(CommandEffect::containing("--version").prints("webapp 1.4.1\n"));
    engine.override_exec(CommandEffect::containing("--version").prints("webapp 1.4.1\n"));
    let second = release_python(&engine.client(), src(&engine), "1.4.1", &Release::ghcr())
        .await
        .unwrap();
    let model = engine.registry("ghcr.io");
    assert_eq!(
        model.digest("me/webapp", "latest"),
        Some(second.primary().digest.to_string())
    );
    assert_eq!(
        model.digest("me/webapp", "1.4.0"),
        Some(first.primary().digest.to_string())
    );
    // Releasing 1.4.0 again is refused: its tag never moves (policy fail).
    engine.override_exec(CommandEffect::containing("--version").prints("webapp 1.4.0\n"));
    let again = Release {
        policy: ExistingTagPolicy::Fail,
        ..Release::ghcr()
    };
    let err = release_python(&engine.client(), src(&engine), "1.4.0", &again)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("tag exists"), "{err}");
}
