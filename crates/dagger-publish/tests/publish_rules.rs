//! The publish rules of issue 3, on the in-process mock engine.

use std::sync::Arc;

use dagger_engine::registry::{repository, RegistryHost, Tag};
use dagger_mock_engine::{AccountRights, MockEngine, PushFailure};
use dagger_publish::{
    ExistingTagPolicy, PasswordSecret, PublishError, PublishRequest, Publisher, RegistryAuth,
    RetryPolicy, TagExistsEvidence, TagOutcome,
};

const HOST: &str = "registry.ops.eblu.me";
const KEY: &str = "zak_Pl41nT3xt-never-in-a-query";

fn container(engine: &MockEngine) -> dagger_sdk::Container {
    engine
        .query()
        .container()
        .from("alpine:3.20")
        .with_exec(vec!["echo", "hi"])
}

fn tags(names: &[&str]) -> Vec<Tag> {
    names.iter().map(|t| Tag::parse(t).unwrap()).collect()
}

/// A publisher whose existing-tag check reads the mock's registry model.
fn publisher(engine: &MockEngine) -> Publisher {
    Publisher::new(engine.client()).with_tag_lookup(Arc::new(engine.clone()))
}

/// The zot-like registry of the reference user: create-only robot account, no anonymous push.
fn zot(engine: &MockEngine) -> dagger_sdk::Secret {
    engine.registry(HOST).allow_anonymous_push(false).account(
        "zot-ci",
        KEY,
        AccountRights::CreateOnly,
    );
    engine.set_env("ZOT_CI_API_KEY", KEY);
    engine.query().secret("env:ZOT_CI_API_KEY")
}

fn request(names: &[&str], password: Option<PasswordSecret>) -> PublishRequest {
    let auth = RegistryAuth::new(HOST, "zot-ci")
        .unwrap()
        .with_optional_password(password);
    PublishRequest::new(
        HOST,
        repository("blumeops", "navidrome").unwrap(),
        tags(names),
    )
    .unwrap()
    .with_auth(auth)
    .unwrap()
    .with_retry(RetryPolicy::immediate(4))
}

#[tokio::test]
async fn the_image_ref_is_host_repository_and_tag() {
    let req = PublishRequest::new(
        HOST,
        repository("blumeops", "navidrome").unwrap(),
        [Tag::parse("v0.61.1-c86b5d7").unwrap()],
    )
    .unwrap();
    assert_eq!(
        req.image_refs()[0].to_string(),
        "registry.ops.eblu.me/blumeops/navidrome:v0.61.1-c86b5d7"
    );
}

#[tokio::test]
async fn no_password_means_no_auth_call() {
    let engine = MockEngine::new();
    let report = publisher(&engine)
        .publish(&container(&engine), &request(&["v1-abc1234"], None))
        .await
        .unwrap();
    assert_eq!(report.tags.len(), 1);
    assert!(
        engine
            .queries()
            .iter()
            .all(|q| !q.contains("withRegistryAuth") && !q.contains("plaintext")),
        "{:#?}",
        engine.queries()
    );
    let published = engine.published();
    assert_eq!(published.len(), 1);
    assert_eq!(published[0].auth, None);
}

#[tokio::test]
async fn a_password_applies_auth_by_secret_id_and_never_sends_the_plaintext() {
    let engine = MockEngine::new();
    let secret = zot(&engine);
    let report = publisher(&engine)
        .publish(
            &container(&engine),
            &request(&["v0.61.1-c86b5d7", "v0.61.1"], Some(secret.into())),
        )
        .await
        .unwrap();
    assert_eq!(report.tags.len(), 2);
    assert!(report.tags.iter().all(|t| t.outcome == TagOutcome::Pushed));
    engine.assert_never_sent(KEY);
    let published = engine.published();
    assert_eq!(published.len(), 2);
    for p in &published {
        let auth = p.auth.as_ref().expect("credentials used");
        assert_eq!(auth.host, HOST);
        assert_eq!(auth.username, "zot-ci");
    }
    // Same container, same digest, built once.
    assert_eq!(
        report.tags[0].reference.digest,
        report.tags[1].reference.digest
    );
}

#[tokio::test]
async fn every_tag_goes_out_in_one_request() {
    for count in [1usize, 3, 10] {
        let engine = MockEngine::new();
        let names: Vec<String> = (0..count).map(|i| format!("v1.0.{i}")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let req = request(&names, None).with_policy(ExistingTagPolicy::Overwrite);
        let report = publisher(&engine)
            .publish(&container(&engine), &req)
            .await
            .unwrap();
        assert_eq!(report.tags.len(), count);
        assert_eq!(
            engine.round_trips(),
            1,
            "{count} tags: {:#?}",
            engine.queries()
        );
        // With the check: one request for the container's ID, one for the pushes.
        let engine = MockEngine::new();
        publisher(&engine)
            .publish(&container(&engine), &request(&names, None))
            .await
            .unwrap();
        assert_eq!(
            engine.round_trips(),
            2,
            "{count} tags: {:#?}",
            engine.queries()
        );
    }
}

#[tokio::test]
async fn each_address_form_maps_to_the_host_the_engine_uses() {
    let cases = [
        ("https://registry.ops.eblu.me", "registry.ops.eblu.me"),
        (
            "registry.ops.eblu.me/blumeops/navidrome:v1",
            "registry.ops.eblu.me",
        ),
        ("localhost:5000", "localhost:5000"),
        ("127.0.0.1:5000/x/y:z", "127.0.0.1:5000"),
        ("docker.io", "docker.io"),
        ("index.docker.io", "docker.io"),
        ("registry-1.docker.io/library/alpine", "docker.io"),
        ("library/alpine", "docker.io"),
    ];
    for (address, host) in cases {
        let engine = MockEngine::new();
        engine.set_env("PW", KEY);
        engine
            .registry(host)
            .account("ci", KEY, AccountRights::ReadWrite);
        let auth = RegistryAuth::new(address, "ci")
            .unwrap()
            .with_password(engine.query().secret("env:PW"));
        assert_eq!(auth.host().as_str(), host, "{address}");
        // The engine keys the credential by the same host: a push there uses it.
        let req = PublishRequest::new(host, repository("team", "app").unwrap(), tags(&["t1"]))
            .unwrap()
            .with_auth(auth)
            .unwrap()
            .with_policy(ExistingTagPolicy::Overwrite);
        publisher(&engine)
            .publish(&container(&engine), &req)
            .await
            .unwrap();
        let used = engine.published()[0].auth.clone().expect("auth used");
        assert_eq!(used.host, host, "{address}");
        assert_eq!(used.username, "ci");
    }
}

#[tokio::test]
async fn addresses_the_engine_refuses_fail_before_any_engine_work() {
    for bad in ["", "has space.example/x", "myhost:5000"] {
        assert!(
            RegistryAuth::new(bad, "zot-ci").is_err(),
            "{bad:?} accepted"
        );
        assert!(
            PublishRequest::new(bad, repository("a", "b").unwrap(), tags(&["t"])).is_err(),
            "{bad:?} accepted"
        );
    }
    let err = Tag::parse("bad tag").unwrap_err().to_string();
    assert!(err.contains("tag"), "{err}");
    let dup = PublishRequest::new(HOST, repository("a", "b").unwrap(), tags(&["t", "t"]));
    assert!(matches!(dup, Err(PublishError::InvalidRequest(m)) if m.contains("twice")));
    let none = PublishRequest::new(HOST, repository("a", "b").unwrap(), Vec::new());
    assert!(matches!(none, Err(PublishError::InvalidRequest(_))));
    let other_host = PublishRequest::new(HOST, repository("a", "b").unwrap(), tags(&["t"]))
        .unwrap()
        .with_auth(RegistryAuth::new("ghcr.io", "zot-ci").unwrap());
    assert!(matches!(other_host, Err(PublishError::InvalidRequest(m)) if m.contains("ghcr.io")));
}

#[tokio::test]
async fn a_create_only_account_cannot_repush_and_skip_makes_the_rerun_succeed() {
    let engine = MockEngine::new();
    let secret = zot(&engine);
    let first = publisher(&engine)
        .publish(
            &container(&engine),
            &request(&["v0.61.1-c86b5d7"], Some(secret.clone().into())),
        )
        .await
        .unwrap();

    // The same CI job again with the default policy: stopped before any push.
    engine.reset_recorder();
    let err = publisher(&engine)
        .publish(
            &container(&engine),
            &request(&["v0.61.1-c86b5d7"], Some(secret.clone().into())),
        )
        .await
        .unwrap_err();
    match &err {
        PublishError::TagExists {
            reference,
            evidence: TagExistsEvidence::Checked { digest },
        } => {
            assert_eq!(
                reference,
                "registry.ops.eblu.me/blumeops/navidrome:v0.61.1-c86b5d7"
            );
            assert_eq!(digest, first.primary().digest.as_str());
        }
        other => panic!("expected TagExists, got {other:?}"),
    }
    assert!(err.to_string().contains("bump the version"));
    assert!(engine.published().is_empty());

    // Pushing anyway: the registry refuses (403 DENIED) and the error says the tag exists.
    let err = publisher(&engine)
        .publish(
            &container(&engine),
            &request(&["v0.61.1-c86b5d7"], Some(secret.clone().into()))
                .with_policy(ExistingTagPolicy::Overwrite),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            PublishError::TagExists {
                evidence: TagExistsEvidence::RefusedAsExisting,
                ..
            }
        ),
        "{err:?}"
    );

    // The skip policy: the re-run succeeds with the existing digest, and a new tag is pushed.
    let report = publisher(&engine)
        .publish(
            &container(&engine),
            &request(&["v0.61.1-c86b5d7", "v0.61.1"], Some(secret.into()))
                .with_policy(ExistingTagPolicy::Skip),
        )
        .await
        .unwrap();
    assert_eq!(report.tags[0].outcome, TagOutcome::AlreadyPresent);
    assert_eq!(report.tags[0].reference, *first.primary());
    assert_eq!(report.tags[1].outcome, TagOutcome::Pushed);
    engine.assert_never_sent(KEY);
}

#[tokio::test]
async fn rejected_credentials_are_not_retried_and_name_host_and_user() {
    let engine = MockEngine::new();
    zot(&engine);
    engine.set_env("OLD_KEY", "zak_expired");
    let expired = engine.query().secret("env:OLD_KEY");
    // Through the push (no check): exactly one push request, no retry.
    let err = publisher(&engine)
        .publish(
            &container(&engine),
            &request(&["v2"], Some(expired.clone().into()))
                .with_policy(ExistingTagPolicy::Overwrite),
        )
        .await
        .unwrap_err();
    let pushes = engine
        .queries()
        .iter()
        .filter(|q| q.contains("publish("))
        .count();
    assert_eq!(pushes, 1, "{:#?}", engine.queries());
    let text = err.to_string();
    assert!(
        matches!(err, PublishError::CredentialsRejected { .. }),
        "{err:?}"
    );
    assert!(
        text.contains(HOST) && text.contains("zot-ci") && text.contains("expired"),
        "{text}"
    );
    // Through the check: stopped before any push.
    engine.reset_recorder();
    let err = publisher(&engine)
        .publish(&container(&engine), &request(&["v2"], Some(expired.into())))
        .await
        .unwrap_err();
    assert!(
        matches!(err, PublishError::CredentialsRejected { .. }),
        "{err:?}"
    );
    assert!(engine.queries().iter().all(|q| !q.contains("publish(")));
}

#[tokio::test]
async fn anonymous_push_refused_says_to_pass_a_password() {
    let engine = MockEngine::new();
    engine.registry(HOST).allow_anonymous_push(false);
    let err = publisher(&engine)
        .publish(
            &container(&engine),
            &request(&["v1"], None).with_policy(ExistingTagPolicy::Overwrite),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            PublishError::CredentialsRejected { username: None, .. }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("registry password"));
}

#[tokio::test]
async fn transient_failures_are_retried_then_succeed() {
    for failure in [
        PushFailure::Status(503),
        PushFailure::Status(429),
        PushFailure::ConnectionReset,
    ] {
        let engine = MockEngine::new();
        engine.registry(HOST).fail_next_pushes(2, failure);
        let report = publisher(&engine)
            .publish(
                &container(&engine),
                &request(&["v3"], None).with_policy(ExistingTagPolicy::Overwrite),
            )
            .await
            .unwrap_or_else(|e| panic!("{failure:?}: {e}"));
        assert_eq!(report.tags.len(), 1);
        assert_eq!(engine.round_trips(), 3, "{failure:?}");
    }
}

#[tokio::test]
async fn retries_are_bounded() {
    let engine = MockEngine::new();
    engine
        .registry(HOST)
        .fail_next_pushes(10, PushFailure::Status(502));
    let err = publisher(&engine)
        .publish(
            &container(&engine),
            &request(&["v4"], None)
                .with_policy(ExistingTagPolicy::Overwrite)
                .with_retry(RetryPolicy::immediate(3)),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, PublishError::RetriesExhausted { attempts: 3, .. }),
        "{err:?}"
    );
    assert_eq!(engine.round_trips(), 3);
}

#[tokio::test]
async fn a_failure_part_way_names_exactly_what_was_published() {
    // With the check, pushes go through node(id:): a failed tag leaves the others' answers.
    let engine = MockEngine::new();
    engine
        .registry(HOST)
        .fail_next_pushes(1, PushFailure::Status(500));
    let err = publisher(&engine)
        .publish(
            &container(&engine),
            &request(&["a1", "a2", "a3"], None).with_retry(RetryPolicy::none()),
        )
        .await
        .unwrap_err();
    let PublishError::Partial { published, failed } = &err else {
        panic!("expected Partial, got {err:?}")
    };
    assert_eq!(published.len(), 2);
    assert_eq!(failed.len(), 1);
    let text = err.to_string();
    for p in published {
        assert!(text.contains(&p.reference.to_string()), "{text}");
    }
    assert!(
        text.contains(&format!("NOT published: {}", failed[0].tag)),
        "{text}"
    );
    assert_eq!(engine.published().len(), 2);

    // Without the check (chain form), the failed alias nulls the whole answer; the publisher
    // learns the others' digests through node(id:) and still reports exactly.
    let engine = MockEngine::new();
    engine
        .registry(HOST)
        .fail_next_pushes(1, PushFailure::Status(500));
    let err = publisher(&engine)
        .publish(
            &container(&engine),
            &request(&["b1", "b2", "b3"], None)
                .with_policy(ExistingTagPolicy::Overwrite)
                .with_retry(RetryPolicy::none()),
        )
        .await
        .unwrap_err();
    let PublishError::Partial { published, failed } = &err else {
        panic!("expected Partial, got {err:?}")
    };
    assert_eq!((published.len(), failed.len()), (2, 1), "{err}");
}

#[tokio::test]
async fn several_registries_in_one_pipeline_keep_their_own_credentials() {
    let engine = MockEngine::new();
    engine.set_env("A", "pw-a");
    engine.set_env("B", "pw-b");
    engine
        .registry("a.example")
        .allow_anonymous_push(false)
        .account("alice", "pw-a", AccountRights::ReadWrite);
    engine
        .registry("b.example:5000")
        .allow_anonymous_push(false)
        .account("bob", "pw-b", AccountRights::ReadWrite);
    let built = container(&engine);
    for (host, user, env) in [
        ("a.example", "alice", "env:A"),
        ("b.example:5000", "bob", "env:B"),
    ] {
        let auth = RegistryAuth::new(host, user)
            .unwrap()
            .with_password(engine.query().secret(env));
        let req = PublishRequest::new(host, repository("x", "y").unwrap(), tags(&["t"]))
            .unwrap()
            .with_auth(auth)
            .unwrap();
        publisher(&engine).publish(&built, &req).await.unwrap();
    }
    let published = engine.published();
    assert_eq!(published.len(), 2);
    assert_eq!(published[0].auth.as_ref().unwrap().username, "alice");
    assert_eq!(published[1].auth.as_ref().unwrap().username, "bob");
    assert_eq!(published[1].host, "b.example:5000");
}

#[tokio::test]
async fn platform_variants_are_published_together() {
    let engine = MockEngine::new();
    let arm = engine
        .query()
        .container_opts(dagger_sdk::QueryContainerOpts {
            platform: Some(dagger_sdk::Platform("linux/arm64".into())),
        })
        .from("alpine:3.20");
    let req = request(&["multi"], None).with_platform_variants(vec![arm]);
    let report = publisher(&engine)
        .publish(&container(&engine), &req)
        .await
        .unwrap();
    assert_eq!(report.tags.len(), 1);
    assert_eq!(engine.published()[0].platform_variants, 1);
}

#[tokio::test]
async fn a_failing_build_step_is_a_build_error_with_its_stderr() {
    let engine = MockEngine::new();
    engine.fail_exec(dagger_mock_engine::ExecFailure {
        args_contains: vec!["go".into(), "build".into()],
        exit_code: 1,
        stdout: String::new(),
        stderr: "# github.com/navidrome/navidrome\nundefined: buildtags.SQLITE_FTS5".into(),
    });
    let failing = engine
        .query()
        .container()
        .from("golang:alpine")
        .with_exec(vec!["go", "build", "-tags", "netgo,sqlite_fts5"]);
    let err = publisher(&engine)
        .publish(&failing, &request(&["v5"], None))
        .await
        .unwrap_err();
    let PublishError::BuildFailed { exec, .. } = &err else {
        panic!("expected BuildFailed, got {err:?}")
    };
    assert_eq!(exec.exit_code, 1);
    assert!(
        err.to_string().contains("undefined: buildtags.SQLITE_FTS5"),
        "{err}"
    );
    assert!(engine.published().is_empty());
}

#[test]
fn debug_output_never_shows_a_password() {
    let auth = RegistryAuth::new(HOST, "zot-ci")
        .unwrap()
        .with_password(dagger_sdk::Id(KEY.into()));
    let text = format!(
        "{auth:?} {:?}",
        request(&["t"], Some(dagger_sdk::Id(KEY.into()).into()))
    );
    assert!(!text.contains(KEY), "{text}");
    assert!(text.contains("REDACTED"));
    let _ = RegistryHost::parse(HOST).unwrap();
}

/// A lookup that answers 429 with `Retry-After` a few times, then "absent".
struct RateLimitedOnce {
    left: std::sync::Mutex<u32>,
    retry_after: std::time::Duration,
}

#[async_trait::async_trait]
impl dagger_publish::TagLookup for RateLimitedOnce {
    async fn manifest_digest(
        &self,
        host: &RegistryHost,
        _: Option<&oci_registry_api::RegistryCredentials>,
        _: &dagger_engine::registry::RepositoryName,
        _: &Tag,
    ) -> Result<Option<dagger_engine::registry::Digest>, oci_registry_api::RegistryApiError> {
        let mut left = self.left.lock().unwrap();
        if *left == 0 {
            return Ok(None);
        }
        *left -= 1;
        Err(oci_registry_api::RegistryApiError::TooManyRequests {
            host: host.to_string(),
            retry_after: Some(self.retry_after),
        })
    }
}

#[tokio::test(start_paused = true)]
async fn a_rate_limited_check_waits_what_retry_after_asks_within_bounds() {
    use std::time::Duration;
    for (asked, max_delay, expected) in [
        (
            Duration::from_secs(3),
            Duration::from_secs(10),
            Duration::from_secs(3),
        ),
        (
            Duration::from_secs(60),
            Duration::from_secs(5),
            Duration::from_secs(5),
        ),
    ] {
        let engine = MockEngine::new();
        let lookup = Arc::new(RateLimitedOnce {
            left: std::sync::Mutex::new(1),
            retry_after: asked,
        });
        let policy = RetryPolicy {
            max_attempts: 3,
            initial_delay: Duration::from_millis(10),
            max_delay,
        };
        let started = tokio::time::Instant::now();
        let report = Publisher::new(engine.client())
            .with_tag_lookup(lookup.clone())
            .publish(
                &container(&engine),
                &request(&["v7"], None).with_retry(policy),
            )
            .await
            .unwrap();
        let waited = started.elapsed();
        assert_eq!(report.tags[0].outcome, TagOutcome::Pushed);
        assert_eq!(*lookup.left.lock().unwrap(), 0, "the check was asked again");
        // The paused clock only moves by the publisher's sleeps: the wait is exact.
        assert!(
            waited >= expected && waited < expected + Duration::from_millis(20),
            "asked {asked:?}, capped at {max_delay:?}: waited {waited:?}"
        );
    }
}
