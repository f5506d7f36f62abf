//! The publish rules of issue 3, on the in-process mock engine, which answers as the engine
//! does (issue 11): the existing-tag check through `from`, all-or-nothing answers, containerd's
//! wording of push failures.

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

/// A publisher on the engine; its existing-tag check asks the engine too.
fn publisher(engine: &MockEngine) -> Publisher {
    Publisher::new(engine.client())
}

/// A secret made as the Dagger CLI makes one from a flag value (`address(value:).secret`).
fn secret(engine: &MockEngine, value: &str) -> dagger_sdk::Secret {
    engine.query().address(value).secret()
}

/// The zot-like registry of the reference user: create-only robot account, no anonymous push.
fn zot(engine: &MockEngine) -> dagger_sdk::Secret {
    engine.registry(HOST).allow_anonymous_push(false).account(
        "zot-ci",
        KEY,
        AccountRights::CreateOnly,
    );
    engine.set_env("ZOT_CI_API_KEY", KEY);
    secret(engine, "env:ZOT_CI_API_KEY")
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
    assert!(
        engine.plaintext_reads().is_empty(),
        "the check goes through the engine: nothing reads the password"
    );
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
        // With the check: one request for every tag's lookup (all absent), one for the pushes.
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
            .with_password(secret(&engine, "env:PW"));
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

    // Pushing anyway: the registry refuses the manifest (403) and the error says the tag exists.
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

    // The skip policy: the re-run succeeds with the existing digest, and the new tag is
    // pointed at that image (the tags of one publish end on one image).
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
    assert_eq!(report.tags[1].outcome, TagOutcome::PointedAtExisting);
    assert_eq!(report.tags[1].reference.digest, first.primary().digest);
    engine.assert_never_sent(KEY);
}

#[tokio::test]
async fn rejected_credentials_are_not_retried_and_name_host_and_user() {
    let engine = MockEngine::new();
    zot(&engine);
    engine.set_env("OLD_KEY", "zak_expired");
    let expired = secret(&engine, "OLD_KEY");
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
    // Through the check, on a registry that allows anonymous pulls: the engine resolves the
    // tags without sending the credential (containerd's authorizer sends it only when
    // challenged, core/remotes/docker/authorizer.go), so the wrong key shows at the push.
    engine.reset_recorder();
    let err = publisher(&engine)
        .publish(
            &container(&engine),
            &request(&["v2"], Some(expired.clone().into())),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, PublishError::CredentialsRejected { .. }),
        "{err:?}"
    );
    let pushes = engine
        .queries()
        .iter()
        .filter(|q| q.contains("publish("))
        .count();
    assert_eq!(pushes, 1, "{:#?}", engine.queries());
    // Where pulls are challenged, the check is refused: stopped before any push.
    engine.registry(HOST).allow_anonymous_pull(false);
    engine.new_session();
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
    // The first push of the request fails on a blob (its message names no tag) and dagql drops
    // the others' answers: the publisher learns through the engine which tags are there.
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
    let digests: Vec<String> = engine
        .published()
        .iter()
        .map(|p| p.reference.split('@').nth(1).unwrap().to_string())
        .collect();
    for p in published {
        assert!(digests.contains(&p.reference.digest.to_string()));
    }
    assert!(
        matches!(*failed[0].error, PublishError::RetriesExhausted { .. }),
        "{:?}",
        failed[0].error
    );
    // Nothing was pushed twice to find out.
    let pushes: usize = engine
        .queries()
        .iter()
        .map(|q| q.matches("publish(").count())
        .sum();
    assert_eq!(pushes, 3, "{:#?}", engine.queries());

    // Without the check, the same.
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
            .with_password(secret(&engine, env));
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

#[tokio::test(start_paused = true)]
async fn an_overloaded_registry_during_the_check_is_retried() {
    use std::time::Duration;
    let engine = MockEngine::new();
    engine
        .registry(HOST)
        .fail_next_resolves(2, PushFailure::Status(429));
    let policy = RetryPolicy {
        max_attempts: 3,
        initial_delay: Duration::from_millis(100),
        max_delay: Duration::from_secs(1),
    };
    let started = tokio::time::Instant::now();
    let report = publisher(&engine)
        .publish(
            &container(&engine),
            &request(&["v7"], None).with_retry(policy),
        )
        .await
        .unwrap();
    assert_eq!(report.tags[0].outcome, TagOutcome::Pushed);
    // Three lookups (two refused), one push; the waits grew between them.
    let lookups = engine
        .queries()
        .iter()
        .filter(|q| q.contains("imageRef"))
        .count();
    assert_eq!(lookups, 3, "{:#?}", engine.queries());
    assert!(started.elapsed() >= Duration::from_millis(50 + 100));

    // Retries exhausted: the check cannot tell, so nothing is pushed (fail closed).
    let engine = MockEngine::new();
    engine
        .registry(HOST)
        .fail_next_resolves(5, PushFailure::Status(503));
    let err = publisher(&engine)
        .publish(
            &container(&engine),
            &request(&["v8"], None).with_retry(RetryPolicy::immediate(2)),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, PublishError::CheckFailed { attempts: 2, .. }),
        "{err:?}"
    );
    assert!(err.is_transient());
    assert!(engine.published().is_empty());
}

#[tokio::test]
async fn fail_refuses_an_existing_tag_even_where_the_account_could_overwrite_it() {
    let engine = MockEngine::new();
    engine.set_env("KEY", KEY);
    let registry = engine.registry(HOST);
    registry
        .allow_anonymous_push(false)
        .account("zot-ci", KEY, AccountRights::ReadWrite);
    let existing = format!("sha256:{}", "e".repeat(64));
    registry.existing_tag_with_digest("blumeops/navidrome", "v1", &existing);
    let err = publisher(&engine)
        .publish(
            &container(&engine),
            &request(&["v1", "latest"], Some(secret(&engine, "KEY").into())),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, PublishError::TagExists { evidence: TagExistsEvidence::Checked { digest }, .. }
            if *digest == existing),
        "{err:?}"
    );
    assert!(engine.published().is_empty());
    assert!(engine.queries().iter().all(|q| !q.contains("publish(")));

    // skip: the existing digest, nothing pushed for that tag.
    engine.reset_recorder();
    let report = publisher(&engine)
        .publish(
            &container(&engine),
            &request(&["v1"], Some(secret(&engine, "KEY").into()))
                .with_policy(ExistingTagPolicy::Skip),
        )
        .await
        .unwrap();
    assert_eq!(report.tags[0].outcome, TagOutcome::AlreadyPresent);
    assert_eq!(report.primary().digest.as_str(), existing);
    assert!(engine.published().is_empty());
    assert_eq!(registry.digest("blumeops/navidrome", "v1"), Some(existing));
}

#[tokio::test]
async fn a_refused_manifest_among_several_tags_is_named_and_the_others_are_exact() {
    let engine = MockEngine::new();
    let key = zot(&engine);
    engine
        .registry(HOST)
        .existing_tag("blumeops/navidrome", "v1");
    // overwrite: no check; the create-only account cannot store v1's manifest.
    let err = publisher(&engine)
        .publish(
            &container(&engine),
            &request(&["v1", "v1-abc1234"], Some(key.into()))
                .with_policy(ExistingTagPolicy::Overwrite),
        )
        .await
        .unwrap_err();
    let PublishError::Partial { published, failed } = &err else {
        panic!("expected Partial, got {err:?}")
    };
    assert_eq!(published.len(), 1);
    assert_eq!(published[0].tag.as_str(), "v1-abc1234");
    assert_eq!(
        published[0].reference.to_string(),
        engine.published()[0].reference
    );
    assert_eq!(failed[0].tag, "v1");
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
}

#[tokio::test]
async fn a_denied_push_elsewhere_than_the_manifest_is_a_permission_error() {
    for bodies in [false, true] {
        let engine = MockEngine::new();
        engine.set_env("KEY", KEY);
        engine
            .registry(HOST)
            .error_bodies(bodies)
            .account("zot-ci", KEY, AccountRights::ReadOnly);
        let err = publisher(&engine)
            .publish(
                &container(&engine),
                &request(&["v1"], Some(secret(&engine, "KEY").into())),
            )
            .await
            .unwrap_err();
        let PublishError::PermissionDenied {
            username, codes, ..
        } = &err
        else {
            panic!("expected PermissionDenied, got {err:?}")
        };
        assert_eq!(username.as_deref(), Some("zot-ci"));
        assert_eq!(codes.is_empty(), !bodies, "{codes:?}");
    }
}

#[tokio::test]
async fn a_secret_that_cannot_be_read_fails_with_the_engines_words() {
    let engine = MockEngine::new();
    let err = publisher(&engine)
        .publish(
            &container(&engine),
            &request(&["v1"], Some(secret(&engine, "env:UNSET_KEY").into())),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, PublishError::Engine(_)), "{err:?}");
    assert!(
        err.to_string()
            .contains(r#"secret env var not found: "UNS...""#),
        "{err}"
    );
    assert!(engine.published().is_empty());
}

/// The check on its own, beside other work, then the push: the same outcome as `publish`, the
/// check's request in flight with the other work's, and the password's Secret ID resolved once.
/// On a paused clock, the engine's simulated network wait orders the requests exactly.
#[tokio::test(start_paused = true)]
async fn a_check_beside_other_work_then_the_push() {
    let engine = MockEngine::new();
    let password = zot(&engine);
    let publisher = publisher(&engine);
    let req = request(&["v1", "latest"], Some(password.into()));
    engine.reset_recorder();
    engine.set_latency(std::time::Duration::from_millis(10));
    let directory = engine.query().directory();
    let (other, check) = tokio::join!(directory.entries(), publisher.check(&req));
    assert!(other.is_ok());
    let check = check.unwrap();
    assert_eq!(check.existing().count(), 0);
    assert_eq!(check.references().len(), 2);
    let report = publisher
        .publish_checked(&container(&engine), &req, check)
        .await
        .unwrap();
    assert!(report.tags.iter().all(|t| t.outcome == TagOutcome::Pushed));
    // The Secret's ID, [the other work beside the check], the pushes.
    assert_eq!(engine.round_trips(), 4, "{:#?}", engine.queries());
    assert_eq!(
        engine.sequential_round_trips(),
        3,
        "{:#?}",
        engine.queries()
    );
    engine.assert_never_sent(KEY);
}

/// With policy `fail`, a tag the registry has stops the publish at the check, before anything
/// is built or pushed; with `skip`, the push leaves it and points the rest at its image.
#[tokio::test]
async fn the_check_refuses_an_existing_tag_or_leaves_it_for_the_push() {
    let engine = MockEngine::new();
    let password = zot(&engine);
    let publisher = publisher(&engine);
    let req = request(&["v1"], Some(password.clone().into()));
    publisher.publish(&container(&engine), &req).await.unwrap();
    engine.new_session();

    let err = publisher.check(&req).await.unwrap_err();
    assert!(
        matches!(
            err,
            PublishError::TagExists {
                evidence: TagExistsEvidence::Checked { .. },
                ..
            }
        ),
        "{err}"
    );

    let pushes = engine.published().len();
    let skip = request(&["v1", "v2"], Some(password.into())).with_policy(ExistingTagPolicy::Skip);
    let check = publisher.check(&skip).await.unwrap();
    assert_eq!(check.existing().map(|(i, _)| i).collect::<Vec<_>>(), [0]);
    let report = publisher
        .publish_checked(&container(&engine), &skip, check)
        .await
        .unwrap();
    assert_eq!(report.tags[0].outcome, TagOutcome::AlreadyPresent);
    assert_eq!(report.tags[1].outcome, TagOutcome::PointedAtExisting);
    assert_eq!(
        report.tags[1].reference.digest,
        report.tags[0].reference.digest
    );
    assert_eq!(engine.published().len(), pushes + 1);
}

/// A check made for other tags, or under another policy, is refused before anything is sent.
#[tokio::test]
async fn a_check_of_another_request_is_refused() {
    let engine = MockEngine::new();
    let publisher = publisher(&engine);
    let checked = request(&["v1"], None).with_policy(ExistingTagPolicy::Overwrite);
    let check = publisher.check(&checked).await.unwrap();
    assert_eq!(engine.round_trips(), 0, "an overwrite needs no check");
    for other in [
        request(&["v2"], None).with_policy(ExistingTagPolicy::Overwrite),
        request(&["v1"], None).with_policy(ExistingTagPolicy::Fail),
    ] {
        let err = publisher
            .publish_checked(&container(&engine), &other, check.clone())
            .await
            .unwrap_err();
        assert!(matches!(err, PublishError::InvalidRequest(_)), "{err}");
        assert!(err.to_string().contains("was made for"), "{err}");
    }
    assert_eq!(engine.round_trips(), 0, "{:#?}", engine.queries());
    assert!(engine.published().is_empty());
}
