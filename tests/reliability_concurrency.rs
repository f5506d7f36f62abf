//! Concurrency: 50 publishes of different containers at once through ONE mock session (the HTTP
//! session server, one `HttpTransport`), spread over 10 registry hosts that each accept only
//! their own account. Every push must use its host's credentials (a cross-talk would be a 401
//! from the model), every report must name its own container's digest, and no plaintext may
//! reach the engine.

use std::collections::HashSet;
use std::sync::Arc;

use dagger_engine::registry::{repository, Tag};
use dagger_engine::{EngineClient, HttpTransport};
use dagger_mock_engine::{AccountRights, MockEngine, PushFailure};
use dagger_publish::{ExistingTagPolicy, PublishRequest, Publisher, RegistryAuth, RetryPolicy};

const HOSTS: usize = 10;
const PER_HOST: usize = 5;

fn host(h: usize) -> String {
    format!("registry{h}.reliability.example:50{h:02}")
}

fn password(h: usize) -> String {
    format!("zak_host{h}-Secret-{}", h * 7919)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_parallel_publishes_keep_their_own_credentials() {
    let engine = MockEngine::new();
    for h in 0..HOSTS {
        let model = engine.registry(&host(h));
        model.allow_anonymous_push(false).account(
            &format!("robot{h}"),
            &password(h),
            AccountRights::CreateOnly,
        );
        // Some transient noise on every host: retried per request, without cross-talk.
        model.fail_next_pushes(1, PushFailure::Status(503));
        engine.set_env(&format!("KEY{h}"), &password(h));
    }
    let server = dagger_mock_engine::SessionServer::start(&engine)
        .await
        .unwrap();
    let client = EngineClient::new(Arc::new(HttpTransport::new(
        &server.session_params(),
        Default::default(),
    )));
    let publisher = Publisher::new(client.clone());

    let jobs = (0..HOSTS * PER_HOST).map(|n| {
        let h = n % HOSTS;
        let publisher = publisher.clone();
        let dag = client.dagger();
        async move {
            let container = dag
                .container()
                .from("alpine:3.20")
                .with_exec(vec!["echo", &format!("container-{n}")]);
            let secret = dag.address(format!("env:KEY{h}")).secret();
            let auth = RegistryAuth::new(&host(h), &format!("robot{h}"))
                .unwrap()
                .with_password(secret);
            let policy = if n % 2 == 0 {
                ExistingTagPolicy::Fail
            } else {
                ExistingTagPolicy::Overwrite
            };
            let request = PublishRequest::new(
                &host(h),
                repository("blumeops", &format!("app{n}")).unwrap(),
                [Tag::parse("v1").unwrap(), Tag::parse("latest").unwrap()],
            )
            .unwrap()
            .with_auth(auth)
            .unwrap()
            .with_policy(policy)
            .with_retry(RetryPolicy::immediate(4));
            (n, publisher.publish(&container, &request).await)
        }
    });
    let results = futures::future::join_all(jobs).await;

    let records = engine.published();
    assert_eq!(records.len(), HOSTS * PER_HOST * 2);
    let mut digests = HashSet::new();
    for (n, result) in results {
        let h = n % HOSTS;
        let report = result.unwrap_or_else(|e| panic!("publish {n}: {e}"));
        assert_eq!(report.tags.len(), 2);
        for t in &report.tags {
            let address = t.reference.image.to_string();
            assert_eq!(
                address,
                format!("{}/blumeops/app{n}:{}", host(h), t.tag),
                "publish {n}"
            );
            let record = records
                .iter()
                .find(|r| r.address == address)
                .unwrap_or_else(|| panic!("{address} not pushed"));
            assert_eq!(record.reference, t.reference.to_string());
            assert_eq!(record.host, host(h));
            let auth = record.auth.as_ref().expect("an authenticated push");
            assert_eq!(auth.host, host(h), "{address}");
            assert_eq!(auth.username, format!("robot{h}"), "{address}");
            // The container is this job's own (its exec names it).
            let steps = format!("{:?}", record.container);
            assert!(
                steps.contains(&format!("container-{n}\"")),
                "{address}: {steps}"
            );
        }
        // Both tags of one container share a digest; different containers do not.
        assert_eq!(
            report.tags[0].reference.digest,
            report.tags[1].reference.digest
        );
        assert!(digests.insert(report.tags[0].reference.digest.to_string()));
    }
    for h in 0..HOSTS {
        engine.assert_never_sent(&password(h));
    }
    assert!(engine.plaintext_reads().is_empty());
}
