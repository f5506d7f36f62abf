//! Publish end to end against a real OCI registry (Debian's `docker-registry` on loopback):
//! the mock engine's pushes and its `from` resolutions (the existing-tag check) go to it for
//! real, with the session's credentials; the publisher itself never talks to the registry.

use dagger_engine::registry::{repository, Tag};
use dagger_mock_engine::{LocalRegistry, MockEngine};
use dagger_publish::{
    ExistingTagPolicy, PublishError, PublishRequest, Publisher, RegistryAuth, RetryPolicy,
    TagExistsEvidence, TagOutcome,
};

const USER: &str = "zot-ci";
const KEY: &str = "zak_real-registry-key";

async fn registry() -> LocalRegistry {
    LocalRegistry::start(&[(USER, KEY)])
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

fn request(
    local: &LocalRegistry,
    engine: &MockEngine,
    password: &str,
    tags: &[&str],
) -> PublishRequest {
    let host = local.host().to_string();
    engine.set_env("ZOT_CI_API_KEY", password);
    let auth = RegistryAuth::new(&host, USER)
        .unwrap()
        .with_password(engine.query().address("env:ZOT_CI_API_KEY").secret());
    PublishRequest::new(
        &host,
        repository("blumeops", "navidrome").unwrap(),
        tags.iter().map(|t| Tag::parse(t).unwrap()),
    )
    .unwrap()
    .with_auth(auth)
    .unwrap()
    .with_retry(RetryPolicy::none())
}

fn container(engine: &MockEngine) -> dagger_sdk::Container {
    engine
        .query()
        .container()
        .from("alpine:3.20")
        .with_exec(vec!["echo", "navidrome"])
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Debian's docker-registry (apt-get install docker-registry); run with --include-ignored"]
async fn publish_check_and_idempotent_rerun_against_a_real_registry() {
    let local = registry().await;
    let engine = MockEngine::new();
    engine
        .registry(local.host().as_str())
        .backed_by(local.backend());
    // The check goes through the engine, which asks the real registry.
    let publisher = Publisher::new(engine.client());

    let first = publisher
        .publish(
            &container(&engine),
            &request(&local, &engine, KEY, &["v0.61.1-c86b5d7", "v0.61.1"]),
        )
        .await
        .unwrap();
    assert!(first.tags.iter().all(|t| t.outcome == TagOutcome::Pushed));

    // The registry has both tags, pointing at the digest publish reported.
    let api = local.api(Some((USER, KEY)));
    let repo = repository("blumeops", "navidrome").unwrap();
    let mut listed = api.list_tags(&repo).await.unwrap();
    listed.sort();
    assert_eq!(listed, ["v0.61.1", "v0.61.1-c86b5d7"]);
    let stored = api
        .manifest_digest(&repo, &Tag::parse("v0.61.1").unwrap())
        .await
        .unwrap()
        .expect("tag present");
    assert_eq!(stored, first.primary().digest);

    // Re-run with the default policy: the check finds the tag (the first check's "not found"
    // was not kept by the session), nothing is pushed.
    let pushes_before = engine.published().len();
    let err = publisher
        .publish(
            &container(&engine),
            &request(&local, &engine, KEY, &["v0.61.1-c86b5d7"]),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, PublishError::TagExists { evidence: TagExistsEvidence::Checked { digest }, .. }
            if *digest == first.primary().digest.to_string()),
        "{err:?}"
    );
    assert_eq!(engine.published().len(), pushes_before);

    // Re-run with skip: succeeds, same digest, and the new tag is pointed at that image in the
    // real registry (its manifest stored again under the tag: one image for both tags).
    let rerun = publisher
        .publish(
            &container(&engine),
            &request(&local, &engine, KEY, &["v0.61.1-c86b5d7", "latest"])
                .with_policy(ExistingTagPolicy::Skip),
        )
        .await
        .unwrap();
    assert_eq!(rerun.tags[0].outcome, TagOutcome::AlreadyPresent);
    assert_eq!(rerun.tags[0].reference, *first.primary());
    assert_eq!(rerun.tags[1].outcome, TagOutcome::PointedAtExisting);
    assert_eq!(rerun.tags[1].reference.digest, first.primary().digest);
    let latest = api
        .manifest_digest(&repo, &Tag::parse("latest").unwrap())
        .await
        .unwrap()
        .expect("latest present");
    assert_eq!(latest, first.primary().digest, "the registry itself agrees");
    engine.assert_never_sent(KEY);
    assert!(engine.plaintext_reads().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Debian's docker-registry (apt-get install docker-registry); run with --include-ignored"]
async fn a_wrong_password_is_rejected_with_host_and_user_before_any_push() {
    let local = registry().await;
    let engine = MockEngine::new();
    engine
        .registry(local.host().as_str())
        .backed_by(local.backend());
    let err = Publisher::new(engine.client())
        .publish(
            &container(&engine),
            &request(&local, &engine, "zak_expired", &["v1"]),
        )
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(err, PublishError::CredentialsRejected { .. }),
        "{err:?}"
    );
    assert!(
        text.contains(&local.host().to_string()) && text.contains(USER),
        "{text}"
    );
    assert!(!text.contains("zak_expired") && !format!("{err:?}").contains("zak_expired"));
    assert!(engine.published().is_empty());

    // Without the check, the registry itself refuses the push with 401.
    let err = Publisher::new(engine.client())
        .publish(
            &container(&engine),
            &request(&local, &engine, "zak_expired", &["v1"])
                .with_policy(ExistingTagPolicy::Overwrite),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, PublishError::CredentialsRejected { .. }),
        "{err:?}"
    );
    assert!(local
        .api(Some((USER, KEY)))
        .list_tags(&repository("blumeops", "navidrome").unwrap())
        .await
        .unwrap()
        .is_empty());
}
