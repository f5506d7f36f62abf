//! Existing-tag policies per tag, and the rule that holds whatever they are: the tags of one
//! publish always end on one image (issue 22; issue 19, item 13).

use dagger_engine::registry::{repository, Tag};
use dagger_mock_engine::{AccountRights, MockEngine};
use dagger_publish::{
    ExistingTagPolicy, PublishError, PublishReport, PublishRequest, Publisher, RegistryAuth,
    RetryPolicy, TagExistsEvidence, TagOutcome,
};

const HOST: &str = "registry.policies.example";
const REPOSITORY: &str = "team/app";
const KEY: &str = "zak_tag-policies-key";

fn engine(rights: AccountRights) -> MockEngine {
    let engine = MockEngine::new();
    engine.set_env("KEY", KEY);
    engine
        .registry(HOST)
        .allow_anonymous_push(false)
        .account("ci", KEY, rights);
    engine
}

/// A build of `version`: another version, another image.
fn build(engine: &MockEngine, version: &str) -> dagger_sdk::Container {
    engine
        .query()
        .container()
        .from("alpine:3.22")
        .with_exec(vec!["echo", version])
}

fn tag(name: &str) -> Tag {
    Tag::parse(name).unwrap()
}

/// A release: `version` immutable under `version_policy`, `latest` under `latest_policy`.
fn release(
    engine: &MockEngine,
    version: &str,
    version_policy: ExistingTagPolicy,
    latest_policy: ExistingTagPolicy,
) -> PublishRequest {
    let secret = engine.query().address("env:KEY").secret();
    PublishRequest::new(
        HOST,
        repository("team", "app").unwrap(),
        [tag(version), tag("latest")],
    )
    .unwrap()
    .with_auth(RegistryAuth::new(HOST, "ci").unwrap().with_password(secret))
    .unwrap()
    .with_policy(version_policy)
    .with_tag_policy(&tag("latest"), latest_policy)
    .unwrap()
    .with_retry(RetryPolicy::immediate(2))
}

async fn publish(
    engine: &MockEngine,
    version: &str,
    request: &PublishRequest,
) -> Result<PublishReport, PublishError> {
    Publisher::new(engine.client())
        .publish(&build(engine, version), request)
        .await
}

fn digest(engine: &MockEngine, tag: &str) -> Option<String> {
    engine.registry(HOST).digest(REPOSITORY, tag)
}

fn pushes(engine: &MockEngine) -> usize {
    engine
        .queries()
        .iter()
        .filter(|q| q.contains("publish("))
        .count()
}

#[tokio::test]
async fn a_second_release_moves_latest_and_keeps_the_version_tag_immutable() {
    use ExistingTagPolicy::{Fail, Overwrite};
    let engine = engine(AccountRights::ReadWrite);
    let first = publish(
        &engine,
        "1.4.0",
        &release(&engine, "1.4.0", Fail, Overwrite),
    )
    .await
    .unwrap();
    let first_digest = first.primary().digest.to_string();
    assert_eq!(digest(&engine, "latest"), Some(first_digest.clone()));

    let second = publish(
        &engine,
        "1.4.1",
        &release(&engine, "1.4.1", Fail, Overwrite),
    )
    .await
    .unwrap();
    let second_digest = second.primary().digest.to_string();
    assert_ne!(first_digest, second_digest);
    assert!(second.tags.iter().all(|t| t.outcome == TagOutcome::Pushed));
    assert_eq!(digest(&engine, "latest"), Some(second_digest.clone()));
    assert_eq!(digest(&engine, "1.4.0"), Some(first_digest.clone()));
    // `latest` was not checked (overwrite), the version tag was.
    let checks: Vec<String> = engine
        .queries()
        .into_iter()
        .filter(|q| q.contains("imageRef"))
        .collect();
    assert!(checks.iter().all(|q| !q.contains(":latest")), "{checks:#?}");
    assert!(checks.iter().any(|q| q.contains(":1.4.1")), "{checks:#?}");

    // Releasing 1.4.0 again: its tag is immutable, nothing moves.
    engine.reset_recorder();
    let err = publish(
        &engine,
        "1.4.0-rebuilt",
        &release(&engine, "1.4.0", Fail, Overwrite),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&err, PublishError::TagExists { evidence: TagExistsEvidence::Checked { digest }, .. } if *digest == first_digest),
        "{err:?}"
    );
    assert_eq!(pushes(&engine), 0);
    assert_eq!(digest(&engine, "latest"), Some(second_digest));
}

#[tokio::test]
async fn moving_latest_on_a_create_only_account_is_refused_by_name() {
    use ExistingTagPolicy::{Fail, Overwrite};
    let engine = engine(AccountRights::CreateOnly);
    let first = publish(
        &engine,
        "1.4.0",
        &release(&engine, "1.4.0", Fail, Overwrite),
    )
    .await
    .unwrap();
    let first_digest = first.primary().digest.to_string();
    let err = publish(
        &engine,
        "1.4.1",
        &release(&engine, "1.4.1", Fail, Overwrite),
    )
    .await
    .unwrap_err();
    let PublishError::Partial { published, failed } = &err else {
        panic!("expected a partial failure naming latest, got {err:?}");
    };
    assert_eq!(published.len(), 1);
    assert_eq!(published[0].tag.as_str(), "1.4.1");
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].tag, "latest");
    assert!(
        matches!(
            *failed[0].error,
            PublishError::TagExists {
                evidence: TagExistsEvidence::RefusedAsExisting,
                ..
            }
        ),
        "{:?}",
        failed[0].error
    );
    let text = err.to_string();
    assert!(text.contains("NOT published: latest: tag exists"), "{text}");
    assert_eq!(digest(&engine, "latest"), Some(first_digest));
}

/// Issue 19, item 13: a re-run under `skip` where the release tag exists and `latest` does
/// not: nothing new is pushed, `latest` is pointed at the release tag's image, and the report
/// shows one digest.
#[tokio::test]
async fn skip_points_the_other_tags_at_the_existing_image() {
    use ExistingTagPolicy::{Overwrite, Skip};
    let engine = engine(AccountRights::CreateOnly);
    let existing = format!("sha256:{}", "a".repeat(64));
    engine
        .registry(HOST)
        .existing_tag_with_digest(REPOSITORY, "1.4.2-abc1234", &existing);
    let report = publish(
        &engine,
        "1.4.2-rebuilt",
        &release(&engine, "1.4.2-abc1234", Skip, Skip),
    )
    .await
    .unwrap();
    assert_eq!(report.tags[0].outcome, TagOutcome::AlreadyPresent);
    assert_eq!(report.tags[1].outcome, TagOutcome::PointedAtExisting);
    for t in &report.tags {
        assert_eq!(t.reference.digest.as_str(), existing, "{t:?}");
    }
    assert_eq!(digest(&engine, "latest"), Some(existing.clone()));
    assert_eq!(digest(&engine, "1.4.2-abc1234"), Some(existing.clone()));
    // The new build was never pushed: the one push published the existing image by digest.
    let published = engine.published();
    assert_eq!(published.len(), 1);
    assert!(
        engine
            .queries()
            .iter()
            .any(|q| q.contains(&format!("{HOST}/{REPOSITORY}@{existing}"))),
        "{:#?}",
        engine.queries()
    );
    engine.assert_never_sent(KEY);

    // An existing `latest` under `overwrite` is moved to that image too (a mutable account).
    let engine = self::engine(AccountRights::ReadWrite);
    let old = format!("sha256:{}", "0".repeat(64));
    engine
        .registry(HOST)
        .existing_tag_with_digest(REPOSITORY, "1.4.2-abc1234", &existing)
        .existing_tag_with_digest(REPOSITORY, "latest", &old);
    let report = publish(
        &engine,
        "1.4.2-rebuilt",
        &release(&engine, "1.4.2-abc1234", Skip, Overwrite),
    )
    .await
    .unwrap();
    assert!(report
        .tags
        .iter()
        .all(|t| t.reference.digest.as_str() == existing));
    assert_eq!(digest(&engine, "latest"), Some(existing));
}

#[tokio::test]
async fn skip_tags_on_two_images_refuse_the_publish() {
    use ExistingTagPolicy::Skip;
    let engine = engine(AccountRights::ReadWrite);
    let a = format!("sha256:{}", "a".repeat(64));
    let b = format!("sha256:{}", "b".repeat(64));
    engine
        .registry(HOST)
        .existing_tag_with_digest(REPOSITORY, "1.4.2", &a)
        .existing_tag_with_digest(REPOSITORY, "latest", &b);
    let err = publish(&engine, "1.4.2", &release(&engine, "1.4.2", Skip, Skip))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, PublishError::TagsOnDifferentImages { first, second }
            if first.ends_with(&a) && second.ends_with(&b)),
        "{err:?}"
    );
    assert!(err.to_string().starts_with("nothing was pushed"), "{err}");
    assert_eq!(pushes(&engine), 0);
    assert_eq!(digest(&engine, "1.4.2"), Some(a));
    assert_eq!(digest(&engine, "latest"), Some(b));
}

#[tokio::test]
async fn a_multi_platform_image_cannot_be_retagged_and_is_refused_before_any_push() {
    use ExistingTagPolicy::Skip;
    let engine = engine(AccountRights::ReadWrite);
    let existing = format!("sha256:{}", "c".repeat(64));
    engine
        .registry(HOST)
        .existing_tag_with_digest(REPOSITORY, "2.0", &existing);
    let arm = engine
        .query()
        .container_opts(dagger_sdk::QueryContainerOpts {
            platform: Some(dagger_sdk::Platform("linux/arm64".into())),
        })
        .from("alpine:3.22");
    let request = release(&engine, "2.0", Skip, Skip).with_platform_variants(vec![arm]);
    let err = publish(&engine, "2.0", &request).await.unwrap_err();
    assert!(
        matches!(&err, PublishError::InvalidRequest(m) if m.contains("multi-platform")),
        "{err:?}"
    );
    assert_eq!(pushes(&engine), 0);
    assert_eq!(digest(&engine, "latest"), None);
}

#[tokio::test]
async fn a_policy_for_a_tag_the_request_lacks_is_refused() {
    let err = PublishRequest::new(HOST, repository("team", "app").unwrap(), [tag("1.0")])
        .unwrap()
        .with_tag_policy(&tag("latest"), ExistingTagPolicy::Overwrite)
        .unwrap_err();
    assert!(err.to_string().contains("latest"), "{err}");
}
