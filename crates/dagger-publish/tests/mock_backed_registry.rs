//! The mock engine's `publish` backed by a real registry (Debian's `docker-registry` on
//! loopback, through `LocalRegistry`): the push is real, with the session's credentials, and
//! the registry's refusals come back in containerd's wording.

use dagger_engine::registry::{RepositoryName, Tag};
use dagger_mock_engine::{LocalRegistry, MockEngine};

/// The local registry; a missing `docker-registry` fails with the install step to take.
async fn start(users: &[(&str, &str)]) -> LocalRegistry {
    LocalRegistry::start(users)
        .await
        .unwrap_or_else(|e| panic!("cannot start the local registry: {e}"))
}

fn publish(host: &str, secret: Option<(&str, &str)>, tag: &str, exec: &str) -> String {
    let (open, close) = match secret {
        Some((user, id)) => (
            format!(r#"withRegistryAuth(address:"{host}", username:"{user}", secret:"{id}"){{"#),
            "}",
        ),
        None => (String::new(), ""),
    };
    format!(
        r#"{{container{{from(address:"alpine"){{withExec(args:["echo","{exec}"]){{{open}publish(address:"{host}/mock/app:{tag}"){close}}}}}}}}}"#
    )
}

async fn secret(engine: &MockEngine, plaintext: &str) -> String {
    let data = engine
        .client()
        .query(&format!(
            r#"{{setSecret(name:"registry-password", plaintext:"{plaintext}"){{id}}}}"#
        ))
        .await
        .unwrap();
    data["setSecret"]["id"].as_str().unwrap().to_string()
}

#[tokio::test]
#[ignore = "needs Debian's docker-registry (apt-get install docker-registry); run with --include-ignored"]
async fn publish_pushes_for_real_with_the_session_credentials() {
    let local = start(&[("ci", "s3cret")]).await;
    let host = local.host().to_string();
    let engine = MockEngine::new();
    engine.registry(&host).backed_by(local.backend());
    let good = secret(&engine, "s3cret").await;

    let answer = engine
        .client()
        .query(&publish(&host, Some(("ci", &good)), "v1", "one"))
        .await
        .unwrap();
    let reference = answer.to_string();
    let at = reference.find("@sha256:").expect("a digest");
    let digest = &reference[at + 1..at + 72];

    // The registry holds the tag with the digest the engine answered.
    let api = local.api(Some(("ci", "s3cret")));
    let repo = RepositoryName::parse("mock/app").unwrap();
    let stored = api
        .manifest_digest(&repo, &Tag::parse("v1").unwrap())
        .await
        .unwrap()
        .expect("the tag exists");
    assert_eq!(stored.as_str(), digest);
    assert_eq!(
        engine.published()[0].reference,
        format!("{host}/mock/app:v1@{digest}")
    );

    // Same chain, another tag: the same image, so the same digest.
    let again = engine
        .client()
        .query(&publish(&host, Some(("ci", &good)), "v2", "one"))
        .await
        .unwrap()
        .to_string();
    assert!(again.contains(digest), "{again}");
    // Another chain: another digest.
    let other = engine
        .client()
        .query(&publish(&host, Some(("ci", &good)), "v3", "two"))
        .await
        .unwrap()
        .to_string();
    assert!(!other.contains(digest), "{other}");
    assert_eq!(api.list_tags(&repo).await.unwrap(), ["v1", "v2", "v3"]);
}

#[tokio::test]
#[ignore = "needs Debian's docker-registry (apt-get install docker-registry); run with --include-ignored"]
async fn from_asks_the_real_registry_with_the_session_credentials() {
    let local = start(&[("ci", "s3cret")]).await;
    let host = local.host().to_string();
    let engine = MockEngine::new();
    engine.registry(&host).backed_by(local.backend());
    let good = secret(&engine, "s3cret").await;
    let lookup = |secret: &str, tag: &str| {
        format!(
            r#"{{container{{withRegistryAuth(address:"{host}", username:"ci", secret:"{secret}"){{from(address:"{host}/mock/app:{tag}"){{imageRef}}}}}}}}"#
        )
    };
    let err = engine
        .client()
        .query(&lookup(&good, "v1"))
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        format!(
            r#"failed to resolve image "{host}/mock/app:v1" (platform: "linux/amd64"): {host}/mock/app:v1: not found"#
        )
    );
    let pushed = engine
        .client()
        .query(&publish(&host, Some(("ci", &good)), "v1", "one"))
        .await
        .unwrap()
        .to_string();
    let at = pushed.find("@sha256:").expect("a digest");
    let digest = &pushed[at + 1..at + 72];
    let data = engine.client().query(&lookup(&good, "v1")).await.unwrap();
    assert_eq!(
        data["container"]["withRegistryAuth"]["from"]["imageRef"],
        format!("{host}/mock/app:v1@{digest}")
    );
    let wrong = secret(&engine, "not-it").await;
    let err = engine
        .client()
        .query(&lookup(&wrong, "v2"))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.ends_with("/v2/mock/app/manifests/v2: 401 Unauthorized"),
        "{err}"
    );
}

#[tokio::test]
#[ignore = "needs Debian's docker-registry (apt-get install docker-registry); run with --include-ignored"]
async fn registry_refusals_come_back_in_containerd_wording() {
    let local = start(&[("ci", "s3cret")]).await;
    let host = local.host().to_string();
    let engine = MockEngine::new();
    engine.registry(&host).backed_by(local.backend());
    let wrong = secret(&engine, "not-it").await;
    for query in [
        publish(&host, None, "v1", "x"),
        publish(&host, Some(("ci", &wrong)), "v1", "x"),
    ] {
        let err = engine.client().query(&query).await.unwrap_err().to_string();
        // containerd's words, no prefix, no body: the first request, a blob's HEAD, refused.
        assert!(
            err.starts_with(&format!(
                "unexpected status from HEAD request to http://{host}/v2/mock/app/blobs/sha256:"
            )) && err.ends_with(": 401 Unauthorized"),
            "{err}"
        );
        assert!(!err.contains("not-it"));
    }
    assert!(engine.published().is_empty());
}
