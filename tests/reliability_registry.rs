//! Registry faults during publish that `publish_rules.rs` does not already cover: the registry
//! unreachable (check and push), a manifest refused (403) for a create-only account under the
//! overwrite policy, 429 through the engine (status only) and through the registry API
//! (with Retry-After), partial failures over the HTTP session with digests checked against
//! what the engine pushed, and the same faults against a real registry (Debian's
//! `docker-registry` on loopback). The publisher reaches registries only through the engine.

use std::sync::Arc;
use std::time::Duration;

use dagger_engine::registry::{repository, RegistryHost, Tag};
use dagger_mock_engine::{
    AccountRights, LocalRegistry, MockEngine, PushFailure, StubAnswer, StubServer,
};
use dagger_publish::{
    ExistingTagPolicy, PublishError, PublishRequest, Publisher, RegistryAuth, RetryPolicy,
    TagExistsEvidence, TagOutcome,
};
use oci_registry_api::{RegistryApi, RegistryApiError};

const HOST: &str = "registry.ops.eblu.me";
const KEY: &str = "zak_reliability-key-0123";

fn container(engine: &MockEngine, marker: &str) -> dagger_sdk::Container {
    engine
        .query()
        .container()
        .from("alpine:3.20")
        .with_exec(vec!["echo", marker])
}

fn request(host: &str, tags: &[&str], password: Option<dagger_sdk::Secret>) -> PublishRequest {
    let auth = RegistryAuth::new(host, "zot-ci")
        .unwrap()
        .with_optional_password(password);
    PublishRequest::new(
        host,
        repository("blumeops", "navidrome").unwrap(),
        tags.iter().map(|t| Tag::parse(t).unwrap()),
    )
    .unwrap()
    .with_auth(auth)
    .unwrap()
    .with_retry(RetryPolicy::immediate(3))
}

fn zot_secret(engine: &MockEngine, rights: AccountRights) -> dagger_sdk::Secret {
    engine
        .registry(HOST)
        .allow_anonymous_push(false)
        .account("zot-ci", KEY, rights);
    engine.set_env("ZOT_CI_API_KEY", KEY);
    engine.query().address("env:ZOT_CI_API_KEY").secret()
}

/// A publisher on the engine (its existing-tag check goes through the engine too).
fn publisher(engine: &MockEngine) -> Publisher {
    Publisher::new(engine.client())
}

#[tokio::test]
async fn an_unreachable_registry_is_named_and_not_retried() {
    let engine = MockEngine::new();
    engine.registry(HOST).unreachable(true);
    // Under `fail` the check cannot answer: nothing is pushed, and the error names the host and
    // the engine's words (fail closed, issue 19).
    let err = publisher(&engine)
        .publish(
            &container(&engine, "x"),
            &request(HOST, &["v1", "latest"], None).with_policy(ExistingTagPolicy::Fail),
        )
        .await
        .unwrap_err();
    match &err {
        PublishError::CheckFailed {
            host,
            detail,
            attempts,
            ..
        } => {
            assert_eq!(host, HOST);
            assert!(detail.contains("no such host"), "{detail}");
            assert_eq!(*attempts, 1, "an unreachable registry is not retried");
        }
        other => panic!("fail: expected CheckFailed, got {other:?}"),
    }
    assert!(!err.is_transient());
    assert!(engine.queries().iter().all(|q| !q.contains("publish(")));

    // Under `overwrite` there is no check: one push request, never retried, and no read-back:
    // both tags failed, one error each.
    engine.reset_recorder();
    let err = publisher(&engine)
        .publish(
            &container(&engine, "x"),
            &request(HOST, &["v1", "latest"], None).with_policy(ExistingTagPolicy::Overwrite),
        )
        .await
        .unwrap_err();
    match &err {
        PublishError::RegistryUnreachable { host, detail } => {
            assert_eq!(host, HOST);
            assert!(detail.contains("no such host"), "{detail}");
        }
        other => panic!("overwrite: expected RegistryUnreachable, got {other:?}"),
    }
    assert!(err.to_string().contains("could not be reached"), "{err}");
    assert!(!err.is_transient());
    let pushes = engine
        .queries()
        .iter()
        .filter(|q| q.contains("publish("))
        .count();
    assert_eq!(pushes, 1, "{:#?}", engine.queries());
    assert!(engine.published().is_empty());
}

#[tokio::test]
async fn a_registry_that_comes_back_reachable_is_published_to() {
    let engine = MockEngine::new();
    engine.registry(HOST).unreachable(true);
    let req = request(HOST, &["v1"], None).with_policy(ExistingTagPolicy::Overwrite);
    assert!(publisher(&engine)
        .publish(&container(&engine, "x"), &req)
        .await
        .is_err());
    engine.registry(HOST).unreachable(false);
    let report = publisher(&engine)
        .publish(&container(&engine, "x"), &req)
        .await
        .unwrap();
    assert_eq!(report.tags.len(), 1);
}

/// Without the check (policy `overwrite`), the push decides: a create-only account's push of
/// an existing tag is refused on the manifest (403), which means "the tag exists". (With
/// `fail` or `skip` a check that cannot answer stops the publish:
/// `crates/dagger-publish/tests/fail_closed.rs`.)
#[tokio::test]
async fn denied_on_an_existing_tag_without_a_check_says_the_tag_exists_and_is_not_retried() {
    let engine = MockEngine::new();
    let host = "registry.reliability.invalid";
    engine.registry(host).allow_anonymous_push(false).account(
        "zot-ci",
        KEY,
        AccountRights::CreateOnly,
    );
    engine
        .registry(host)
        .existing_tag("blumeops/navidrome", "v1");
    engine.set_env("KEY", KEY);
    let secret = engine.query().address("env:KEY").secret();
    let err = Publisher::new(engine.client())
        .publish(
            &container(&engine, "x"),
            &request(host, &["v1"], Some(secret)).with_policy(ExistingTagPolicy::Overwrite),
        )
        .await
        .unwrap_err();
    match &err {
        PublishError::TagExists {
            reference,
            evidence: TagExistsEvidence::RefusedAsExisting,
        } => assert_eq!(reference, &format!("{host}/blumeops/navidrome:v1")),
        other => panic!("expected TagExists refused, got {other:?}"),
    }
    let text = err.to_string();
    assert!(
        text.contains("tag exists") && text.contains("bump the version"),
        "{text}"
    );
    assert!(!text.contains(KEY));
    let pushes = engine
        .queries()
        .iter()
        .filter(|q| q.contains("publish("))
        .count();
    assert_eq!(pushes, 1, "403 is never retried");
}

/// Through the engine only the status of a 429 is visible (containerd's message carries no
/// headers), so it is retried with the policy's own backoff.
#[tokio::test]
async fn too_many_requests_through_the_engine_is_retried_by_status() {
    let engine = MockEngine::new();
    let secret = zot_secret(&engine, AccountRights::ReadWrite);
    engine
        .registry(HOST)
        .fail_next_pushes(2, PushFailure::Status(429));
    let report = publisher(&engine)
        .publish(
            &container(&engine, "x"),
            &request(HOST, &["v1"], Some(secret)),
        )
        .await
        .unwrap();
    assert_eq!(report.tags[0].outcome, TagOutcome::Pushed);
    let pushes = engine
        .queries()
        .iter()
        .filter(|q| q.contains("publish("))
        .count();
    assert_eq!(pushes, 3);
    engine.assert_never_sent(KEY);
}

#[tokio::test]
async fn a_dropped_connection_exhausting_the_retries_is_transient_and_named() {
    let engine = MockEngine::new();
    engine
        .registry(HOST)
        .fail_next_pushes(10, PushFailure::ConnectionReset);
    let err = publisher(&engine)
        .publish(
            &container(&engine, "x"),
            &request(HOST, &["v1"], None).with_policy(ExistingTagPolicy::Overwrite),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, PublishError::RetriesExhausted { attempts: 3, .. }),
        "{err:?}"
    );
    assert!(err.is_transient());
    assert!(err.to_string().contains(HOST), "{err}");
}

/// Over the HTTP session: three tags, one push fails for good (500, no retries), the others
/// are in the registry; the error lists exactly which, with the digests the engine answered.
#[tokio::test(flavor = "multi_thread")]
async fn a_partial_failure_over_the_session_reports_digests_the_engine_pushed() {
    let engine = MockEngine::new();
    let server = dagger_mock_engine::SessionServer::start(&engine)
        .await
        .unwrap();
    let client = dagger_engine::EngineClient::new(Arc::new(dagger_engine::HttpTransport::new(
        &server.session_params(),
        Default::default(),
    )));
    let secret = zot_secret(&engine, AccountRights::CreateOnly);
    engine
        .registry(HOST)
        .fail_next_pushes(1, PushFailure::Status(500));
    let all = ["v9-abc1234", "v9", "latest"];
    let req = request(HOST, &all, Some(secret)).with_retry(RetryPolicy::none());
    let publisher = Publisher::new(client.clone());
    let err = publisher
        .publish(&client.dagger().container().from("alpine:3.20"), &req)
        .await
        .unwrap_err();
    let PublishError::Partial { published, failed } = &err else {
        panic!("expected Partial, got {err:?}")
    };
    assert_eq!((published.len(), failed.len()), (2, 1), "{err}");
    // Every tag is accounted for exactly once.
    let mut seen: Vec<&str> = published.iter().map(|p| p.tag.as_str()).collect();
    seen.push(failed[0].tag.as_str());
    seen.sort();
    let mut expected = all.to_vec();
    expected.sort();
    assert_eq!(seen, expected);
    assert!(
        matches!(
            *failed[0].error,
            PublishError::RetriesExhausted { attempts: 1, .. }
        ),
        "{:?}",
        failed[0].error
    );
    // Every digest reported is the one the engine answered for that tag; the failed tag was
    // not pushed.
    let records = engine.published();
    assert_eq!(records.len(), 2);
    for p in published {
        let record = records
            .iter()
            .find(|r| r.address == p.reference.image.to_string())
            .unwrap_or_else(|| panic!("{} was not pushed", p.reference));
        assert_eq!(record.reference, p.reference.to_string());
    }
    assert!(!records
        .iter()
        .any(|r| r.address.ends_with(&format!(":{}", failed[0].tag))));
    let text = err.to_string();
    assert!(text.contains("2 tag(s) published, 1 not"), "{text}");
    assert!(
        text.contains(&format!("NOT published: {}", failed[0].tag)),
        "{text}"
    );
    assert!(!text.contains(KEY));
    engine.assert_never_sent(KEY);
}

/// Without the check (policy Overwrite), a failed tag voids the whole answer (dagql). The
/// publisher never pushes again to learn the others' digests (a create-only account could not:
/// the tags now exist); it looks them up through the engine, so the tags this run pushed are
/// reported as published, and the refused one as existing.
#[tokio::test(flavor = "multi_thread")]
async fn overwrite_with_a_create_only_account_reports_tags_it_pushed_as_published() {
    let engine = MockEngine::new();
    let secret = zot_secret(&engine, AccountRights::CreateOnly);
    engine
        .registry(HOST)
        .existing_tag("blumeops/navidrome", "old");
    let req = request(HOST, &["v9-abc1234", "old", "latest"], Some(secret))
        .with_policy(ExistingTagPolicy::Overwrite);
    let err = publisher(&engine)
        .publish(&container(&engine, "x"), &req)
        .await
        .unwrap_err();
    let PublishError::Partial { published, failed } = &err else {
        panic!("expected Partial, got {err:?}")
    };
    let tags: Vec<&str> = published.iter().map(|p| p.tag.as_str()).collect();
    assert_eq!(tags, ["v9-abc1234", "latest"], "{err}");
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].tag, "old");
    assert!(
        matches!(*failed[0].error, PublishError::TagExists { .. }),
        "{err}"
    );
    let pushes: usize = engine
        .queries()
        .iter()
        .map(|q| q.matches("publish(").count())
        .sum();
    assert_eq!(pushes, 3, "each tag pushed once: {:#?}", engine.queries());
}

// ---------------------------------------------------------------------------------------------
// 429 with Retry-After on the registry API path

/// A registry that answers every request 429 with `Retry-After: <secs>`.
async fn rate_limited_registry(retry_after: &'static str) -> (String, StubServer) {
    let body = serde_json::json!({"errors": [{"code": "TOOMANYREQUESTS", "message": "slow down"}]});
    let server = StubServer::fixed(
        StubAnswer::new(429)
            .header("retry-after", retry_after)
            .json(&body),
    )
    .await
    .unwrap();
    (server.address(), server)
}

#[tokio::test]
async fn retry_after_is_visible_on_the_registry_api_and_bounded_by_the_policy() {
    let (addr, server) = rate_limited_registry("7").await;
    let host = RegistryHost::parse(&addr).unwrap();
    let api = RegistryApi::new(host, None);
    let err = api
        .manifest_digest(
            &repository("blumeops", "navidrome").unwrap(),
            &Tag::parse("v1").unwrap(),
        )
        .await
        .unwrap_err();
    drop(server);
    let RegistryApiError::TooManyRequests { retry_after, .. } = &err else {
        panic!("expected TooManyRequests, got {err:?}")
    };
    assert_eq!(*retry_after, Some(Duration::from_secs(7)));
    assert!(err.is_transient());
    assert!(err.to_string().contains("retry after 7s"), "{err}");
    // Honoured within bounds: at least what was asked, never more than max_delay.
    let policy = RetryPolicy {
        max_attempts: 4,
        initial_delay: Duration::from_millis(100),
        max_delay: Duration::from_secs(10),
    };
    for retry in 1..=6 {
        let d = policy.delay_before_retry(retry, *retry_after);
        assert!(
            d >= Duration::from_secs(7) && d <= policy.max_delay,
            "{d:?}"
        );
    }
    let tight = RetryPolicy {
        max_delay: Duration::from_secs(2),
        ..policy
    };
    assert_eq!(
        tight.delay_before_retry(1, *retry_after),
        Duration::from_secs(2)
    );
}

#[tokio::test]
async fn an_unparsable_retry_after_falls_back_to_the_backoff() {
    let (addr, server) = rate_limited_registry("Wed, 21 Oct 2015 07:28:00 GMT").await;
    let api = RegistryApi::new(RegistryHost::parse(&addr).unwrap(), None);
    let err = api
        .manifest_digest(
            &repository("blumeops", "navidrome").unwrap(),
            &Tag::parse("v1").unwrap(),
        )
        .await
        .unwrap_err();
    drop(server);
    assert!(
        matches!(
            err,
            RegistryApiError::TooManyRequests {
                retry_after: None,
                ..
            }
        ),
        "{err:?}"
    );
}

/// A rate-limited existing-tag check is retried; when it never answers, nothing is pushed and
/// the error says a retry later may help.
#[tokio::test]
async fn a_rate_limited_check_that_never_answers_pushes_nothing() {
    let engine = MockEngine::new();
    engine
        .registry(HOST)
        .fail_next_resolves(10, PushFailure::Status(429));
    let err = publisher(&engine)
        .publish(&container(&engine, "x"), &request(HOST, &["v1"], None))
        .await
        .unwrap_err();
    assert!(
        matches!(err, PublishError::CheckFailed { attempts: 3, .. }),
        "{err:?}"
    );
    assert!(err.is_transient());
    assert!(engine.published().is_empty());
    let lookups = engine
        .queries()
        .iter()
        .filter(|q| q.contains("imageRef"))
        .count();
    assert_eq!(lookups, 3, "the check's attempts: {:#?}", engine.queries());
}

// ---------------------------------------------------------------------------------------------
// A real registry on loopback

/// The local registry; a missing `docker-registry` fails with the install step to take.
async fn local(users: &[(&str, &str)]) -> LocalRegistry {
    LocalRegistry::start(users)
        .await
        .unwrap_or_else(|e| panic!("cannot start the local registry: {e}"))
}

/// 5xx twice, then the real registry takes the push: the digest reported is the one the real
/// registry serves for the tag.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Debian's docker-registry (apt-get install docker-registry); run with --include-ignored"]
async fn real_registry_5xx_then_success_reports_the_registry_digest() {
    let reg = local(&[("zot-ci", KEY)]).await;
    let host = reg.host().to_string();
    let engine = MockEngine::new();
    engine.registry(&host).backed_by(reg.backend());
    engine
        .registry(&host)
        .fail_next_pushes(2, PushFailure::Status(503));
    engine.set_env("KEY", KEY);
    let secret = engine.query().address("env:KEY").secret();
    let report = Publisher::new(engine.client())
        .publish(
            &container(&engine, "real"),
            &request(&host, &["v1", "latest"], Some(secret)),
        )
        .await
        .unwrap();
    let api = reg.api(Some(("zot-ci", KEY)));
    for t in &report.tags {
        let served = api
            .manifest_digest(&repository("blumeops", "navidrome").unwrap(), &t.tag)
            .await
            .unwrap()
            .expect("the tag is in the registry");
        assert_eq!(served, t.reference.digest, "{}", t.tag);
    }
}

/// The registry stops: the check warns, the push is refused as unreachable, nothing retried
/// forever, and the message names the host.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Debian's docker-registry (apt-get install docker-registry); run with --include-ignored"]
async fn real_registry_stopped_is_unreachable() {
    let reg = local(&[]).await;
    let host = reg.host().to_string();
    let engine = MockEngine::new();
    engine.registry(&host).backed_by(reg.backend());
    drop(reg);
    // Under the default policy the check cannot answer: nothing is pushed (fail closed).
    let err = Publisher::new(engine.client())
        .publish(&container(&engine, "gone"), &request(&host, &["v1"], None))
        .await
        .unwrap_err();
    assert!(err.to_string().contains(&host), "{err}");
    assert!(matches!(err, PublishError::CheckFailed { .. }), "{err:?}");
    assert!(engine.published().is_empty());
    // Under overwrite the push itself finds the registry gone.
    let err = Publisher::new(engine.client())
        .publish(
            &container(&engine, "gone"),
            &request(&host, &["v1"], None).with_policy(ExistingTagPolicy::Overwrite),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains(&host), "{err}");
    assert!(
        matches!(
            err,
            PublishError::RegistryUnreachable { .. } | PublishError::RetriesExhausted { .. }
        ),
        "{err:?}"
    );
}
