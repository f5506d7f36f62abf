//! "Nothing is pushed unless the program starts", in one call for a user's pipeline
//! (`PublishBuilt::publish_smoke_checked`, issue 22): the smoke check runs beside the
//! existing-tag check, and the checked image is pushed by its ID.

use dagger_engine::registry::{repository, Tag};
use dagger_mock_engine::{CommandEffect, MockEngine};
use dagger_pipeline::{
    BuiltImage, PublishBuilt, PublishBuiltError, SmokeCheck, SmokeCheckError, StepLog,
};
use dagger_publish::{PublishRequest, Publisher, TagOutcome};

const HOST: &str = "registry.smoke.example";

fn image(engine: &MockEngine) -> BuiltImage {
    let steps = StepLog::new("app");
    let args = ["sh", "-c", "install app"];
    steps.record("install", &args.map(String::from));
    let container = engine
        .query()
        .container()
        .from("alpine:3.22")
        .with_exec(args.to_vec())
        .with_entrypoint(vec!["/usr/local/bin/app"]);
    BuiltImage::new(container, steps)
}

fn request() -> PublishRequest {
    PublishRequest::new(
        HOST,
        repository("team", "app").unwrap(),
        [Tag::parse("1.4.0").unwrap()],
    )
    .unwrap()
}

fn check() -> SmokeCheck {
    SmokeCheck::new(["/usr/local/bin/app", "--version"], "1.4.0")
}

#[tokio::test]
async fn a_program_that_starts_is_published_by_the_checked_image() {
    let engine = MockEngine::new();
    engine.on_exec(CommandEffect::containing("--version").prints("app 1.4.0\n"));
    let report = Publisher::new(engine.client())
        .publish_smoke_checked(&image(&engine), &check(), &request())
        .await
        .unwrap();
    assert_eq!(report.tags[0].outcome, TagOutcome::Pushed);
    let published = engine.published();
    assert_eq!(published.len(), 1);
    // The published image is the built one (the check ran on a derived container).
    assert!(
        published[0]
            .container
            .steps
            .iter()
            .all(|s| !s.to_string().contains("--version")),
        "{:?}",
        published[0].container
    );
}

#[tokio::test]
async fn a_wrong_output_pushes_nothing_and_says_what_it_printed() {
    let engine = MockEngine::new();
    engine.on_exec(CommandEffect::containing("--version").prints("app dev\n"));
    let err = Publisher::new(engine.client())
        .publish_smoke_checked(&image(&engine), &check(), &request())
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            PublishBuiltError::SmokeCheck(SmokeCheckError::WrongOutput(_))
        ),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.starts_with("nothing was pushed") && text.contains("app dev"),
        "{text}"
    );
    assert!(engine.published().is_empty());
}

#[tokio::test]
async fn a_failing_build_step_is_named_and_nothing_is_pushed() {
    let engine = MockEngine::new();
    engine.on_exec(CommandEffect::containing("install app").fails(1, "no such package: app"));
    let err = Publisher::new(engine.client())
        .publish_smoke_checked(&image(&engine), &check(), &request())
        .await
        .unwrap_err();
    assert!(matches!(&err, PublishBuiltError::Step(_)), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("pipeline \"app\", step \"install\"") && text.contains("no such package"),
        "{text}"
    );
    assert!(engine.published().is_empty());
}
