//! The existing-tag policies hold whatever the network does (issue 19, item 1): every policy
//! on both kinds of registry account (create-only, as zot's robot account; mutable, where a
//! push replaces a tag), with the existing-tag check answering, failing with 5xx until its
//! retries run out, and timing out. `fail` and `skip` never push without the check's answer,
//! so an existing tag keeps its digest; `overwrite` needs no check.

use dagger_engine::registry::{repository, Tag};
use dagger_mock_engine::{AccountRights, MockEngine, PushFailure};
use dagger_publish::{
    ExistingTagPolicy, PublishError, PublishRequest, Publisher, RegistryAuth, RetryPolicy,
    TagExistsEvidence, TagOutcome,
};

const HOST: &str = "registry.failclosed.example";
const REPOSITORY: &str = "blumeops/navidrome";
const KEY: &str = "zak_fail-closed-key-never-printed";

/// How the registry answers the existing-tag check.
#[derive(Debug, Clone, Copy)]
enum Check {
    Answers,
    ServerErrors,
    TimesOut,
}

/// A registry where `v1` exists with a known digest, an account of `rights`, and the check's
/// lookups failing as `check` says. Returns the engine and the existing digest.
fn registry(rights: AccountRights, check: Check) -> (MockEngine, String) {
    let engine = MockEngine::new();
    engine.set_env("KEY", KEY);
    let registry = engine.registry(HOST);
    registry
        .allow_anonymous_push(false)
        .account("zot-ci", KEY, rights);
    let existing = format!("sha256:{}", "e".repeat(64));
    registry.existing_tag_with_digest(REPOSITORY, "v1", &existing);
    match check {
        Check::Answers => {}
        // More failures than the retry policy's attempts: the check never gets an answer.
        Check::ServerErrors => {
            registry.fail_next_resolves(10, PushFailure::Status(503));
        }
        Check::TimesOut => {
            registry.fail_next_resolves(10, PushFailure::Timeout);
        }
    }
    (engine, existing)
}

fn request(engine: &MockEngine, tags: &[&str], policy: ExistingTagPolicy) -> PublishRequest {
    let secret = engine.query().address("env:KEY").secret();
    let auth = RegistryAuth::new(HOST, "zot-ci")
        .unwrap()
        .with_password(secret);
    PublishRequest::new(
        HOST,
        repository("blumeops", "navidrome").unwrap(),
        tags.iter().map(|t| Tag::parse(t).unwrap()),
    )
    .unwrap()
    .with_auth(auth)
    .unwrap()
    .with_policy(policy)
    .with_retry(RetryPolicy::immediate(4))
}

fn container(engine: &MockEngine) -> dagger_sdk::Container {
    engine
        .query()
        .container()
        .from("alpine:3.20")
        .with_exec(vec!["echo", "new build"])
}

fn pushes(engine: &MockEngine) -> usize {
    engine
        .queries()
        .iter()
        .filter(|q| q.contains("publish("))
        .count()
}

/// One cell of the matrix: publish `v1` (which exists) and `latest` (which does not).
async fn publish(
    rights: AccountRights,
    check: Check,
    policy: ExistingTagPolicy,
) -> (
    MockEngine,
    String,
    Result<dagger_publish::PublishReport, PublishError>,
) {
    let (engine, existing) = registry(rights, check);
    let result = Publisher::new(engine.client())
        .publish(
            &container(&engine),
            &request(&engine, &["v1", "latest"], policy),
        )
        .await;
    (engine, existing, result)
}

fn assert_check_failed(err: &PublishError, check: Check, policy: ExistingTagPolicy) {
    match err {
        PublishError::CheckFailed {
            host,
            reference,
            policy: p,
            attempts,
            transient,
            detail,
        } => {
            assert_eq!(host, HOST);
            assert!(
                reference.starts_with(&format!("{HOST}/{REPOSITORY}:")),
                "{reference}"
            );
            assert_eq!(*p, policy);
            match check {
                Check::ServerErrors => {
                    assert_eq!(*attempts, 4, "the check is retried per the retry policy");
                    assert!(*transient);
                    assert!(detail.contains("503"), "{detail}");
                }
                Check::TimesOut => {
                    assert!(detail.contains("i/o timeout"), "{detail}");
                }
                Check::Answers => unreachable!("an answering check does not fail"),
            }
        }
        other => panic!("expected CheckFailed under {policy} / {check:?}, got {other:?}"),
    }
    let text = err.to_string();
    assert!(text.starts_with("nothing was pushed"), "{text}");
    assert!(text.contains(HOST), "{text}");
    assert!(
        text.contains("retry") && text.contains("overwrite policy"),
        "the message says how to proceed: {text}"
    );
    assert!(!text.contains(KEY));
}

#[tokio::test]
async fn fail_and_skip_never_push_without_the_checks_answer() {
    for rights in [AccountRights::CreateOnly, AccountRights::ReadWrite] {
        for check in [Check::ServerErrors, Check::TimesOut] {
            for policy in [ExistingTagPolicy::Fail, ExistingTagPolicy::Skip] {
                let (engine, existing, result) = publish(rights, check, policy).await;
                let err = result.expect_err("a check without an answer stops the publish");
                assert_check_failed(&err, check, policy);
                assert_eq!(pushes(&engine), 0, "{rights:?} {check:?} {policy}");
                assert!(engine.published().is_empty());
                let registry = engine.registry(HOST);
                assert_eq!(registry.digest(REPOSITORY, "v1"), Some(existing));
                assert_eq!(registry.digest(REPOSITORY, "latest"), None);
            }
        }
    }
}

#[tokio::test]
async fn fail_refuses_and_skip_keeps_the_existing_tag_when_the_check_answers() {
    for rights in [AccountRights::CreateOnly, AccountRights::ReadWrite] {
        let (engine, existing, result) =
            publish(rights, Check::Answers, ExistingTagPolicy::Fail).await;
        match result {
            Err(PublishError::TagExists {
                evidence: TagExistsEvidence::Checked { digest },
                ..
            }) => assert_eq!(digest, existing),
            other => panic!("{rights:?}: expected TagExists, got {other:?}"),
        }
        assert_eq!(pushes(&engine), 0);
        assert_eq!(
            engine.registry(HOST).digest(REPOSITORY, "v1"),
            Some(existing)
        );

        let (engine, existing, result) =
            publish(rights, Check::Answers, ExistingTagPolicy::Skip).await;
        let report = result.unwrap();
        let v1 = &report.tags[0];
        assert_eq!(v1.outcome, TagOutcome::AlreadyPresent);
        assert_eq!(v1.reference.digest.as_str(), existing);
        assert_eq!(
            engine.registry(HOST).digest(REPOSITORY, "v1"),
            Some(existing)
        );
    }
}

#[tokio::test]
async fn overwrite_needs_no_check_and_the_registry_decides() {
    for check in [Check::Answers, Check::ServerErrors, Check::TimesOut] {
        // A mutable account: the tag is replaced, as asked; no lookup was sent.
        let (engine, existing, result) = publish(
            AccountRights::ReadWrite,
            check,
            ExistingTagPolicy::Overwrite,
        )
        .await;
        let report = result.unwrap();
        assert!(report.tags.iter().all(|t| t.outcome == TagOutcome::Pushed));
        let now = engine.registry(HOST).digest(REPOSITORY, "v1").unwrap();
        assert_ne!(now, existing, "{check:?}: overwrite replaces the tag");
        assert!(
            engine.queries().iter().all(|q| !q.contains("imageRef")),
            "{check:?}: no existing-tag check under overwrite"
        );

        // A create-only account: the registry refuses the existing tag's manifest.
        let (engine, existing, result) = publish(
            AccountRights::CreateOnly,
            check,
            ExistingTagPolicy::Overwrite,
        )
        .await;
        let err = result.unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("tag exists") && text.contains(":v1"),
            "{text}"
        );
        assert_eq!(
            engine.registry(HOST).digest(REPOSITORY, "v1"),
            Some(existing)
        );
    }
}
