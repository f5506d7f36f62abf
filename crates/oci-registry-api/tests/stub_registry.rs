//! `RegistryApi` against stub registries (`dagger_mock_engine::StubServer`): answers a real
//! registry will not give on demand — 429 with `Retry-After`, 5xx, paginated tag lists, bearer
//! challenges with a token endpoint.

use std::time::Duration;

use dagger_engine::registry::{Digest, RegistryHost, RepositoryName, Tag};
use dagger_mock_engine::{StubAnswer, StubServer};
use oci_registry_api::{RegistryApi, RegistryApiError, RegistryCredentials};

fn host(server: &StubServer) -> RegistryHost {
    RegistryHost::parse(&server.address()).unwrap()
}

#[tokio::test]
async fn tags_pagination_with_n_and_last() {
    let all: Vec<String> = (0..10).map(|i| format!("t{i:02}")).collect();
    let served = all.clone();
    let server = StubServer::start(move |request| {
        let n: usize = request
            .query_param("n")
            .and_then(|n| n.parse().ok())
            .unwrap_or(1000);
        let last = request.query_param("last").unwrap_or("");
        let page: Vec<&String> = served
            .iter()
            .filter(|t| t.as_str() > last)
            .take(n)
            .collect();
        StubAnswer::new(200).json(&serde_json::json!({"name": "r", "tags": page}))
    })
    .await
    .unwrap();
    for page in [1, 3, 10, 11] {
        let api = RegistryApi::new(host(&server), None).with_tags_page_size(page);
        let got = api
            .list_tags(&RepositoryName::parse("r").unwrap())
            .await
            .unwrap();
        assert_eq!(got, all, "page size {page}");
    }
}

#[tokio::test]
async fn head_statuses_are_classified() {
    let server = StubServer::start(|request| {
        let envelope = |code: &str| serde_json::json!({"errors": [{"code": code}]});
        match request.path.as_str() {
            p if p.contains("/slow/") => StubAnswer::new(429).header("retry-after", "42"),
            p if p.contains("/broken/") => StubAnswer::new(503).json(&envelope("UNAVAILABLE")),
            p if p.contains("/denied/") => StubAnswer::new(403).json(&envelope("DENIED")),
            p if p.contains("/nodigest/") => StubAnswer::new(200).body(r#"{"schemaVersion":2}"#),
            p if p.contains("/weird/") => StubAnswer::new(302),
            _ => StubAnswer::new(404).json(&envelope("MANIFEST_UNKNOWN")),
        }
    })
    .await
    .unwrap();
    let host = host(&server);
    let api = RegistryApi::new(host.clone(), Some(RegistryCredentials::new("ci", "pw")));
    let t = Tag::parse("v1").unwrap();
    let digest = |r: &str| {
        let api = api.clone();
        let repo = RepositoryName::parse(r).unwrap();
        let t = t.clone();
        async move { api.manifest_digest(&repo, &t).await }
    };
    assert_eq!(
        digest("slow/x").await.unwrap_err(),
        RegistryApiError::TooManyRequests {
            host: host.to_string(),
            retry_after: Some(Duration::from_secs(42))
        }
    );
    let e = digest("broken/x").await.unwrap_err();
    assert!(
        matches!(e, RegistryApiError::Server { status: 503, .. }) && e.is_transient(),
        "{e:?}"
    );
    // HEAD answers have no body, so the codes are unknown here.
    assert!(matches!(
        digest("denied/x").await.unwrap_err(),
        RegistryApiError::Denied { .. }
    ));
    // 200 without Docker-Content-Digest: the GET body's sha256.
    assert_eq!(
        digest("nodigest/x").await.unwrap(),
        Some(Digest::sha256_of(br#"{"schemaVersion":2}"#))
    );
    let e = digest("weird/x").await.unwrap_err();
    assert!(
        matches!(&e, RegistryApiError::Protocol { detail, .. } if detail.contains("302")),
        "{e:?}"
    );
    assert_eq!(digest("absent/x").await.unwrap(), None);
}

/// A registry that wants a bearer token (distribution's token auth): `oci-client` answers the
/// challenge at the realm with the credentials, and the HEAD is sent again with the token.
#[tokio::test]
async fn bearer_token_flow_for_head() {
    let port = std::sync::Arc::new(std::sync::OnceLock::<u16>::new());
    let realm_port = port.clone();
    let hex = "c".repeat(64);
    let digest_header = format!("sha256:{hex}");
    let server = StubServer::start(move |request| {
        let realm = format!(
            r#"Bearer realm="http://127.0.0.1:{}/token",service="reg""#,
            realm_port.get().copied().unwrap_or(0)
        );
        if request.path == "/token" {
            // Basic credentials at the token endpoint, for the repository's pull scope.
            let basic = request.header("authorization").unwrap_or_default();
            let scope = request.query_param("scope").unwrap_or_default();
            if basic.starts_with("Basic ")
                && (scope == "repository:a/b:pull" || scope == "repository%3Aa%2Fb%3Apull")
                && request.query_param("service") == Some("reg")
            {
                return StubAnswer::new(200).json(&serde_json::json!({"token": "t0k"}));
            }
            return StubAnswer::new(401);
        }
        if request.header("authorization") == Some("Bearer t0k") {
            return StubAnswer::new(200).header("docker-content-digest", digest_header.clone());
        }
        StubAnswer::new(401).header("www-authenticate", realm)
    })
    .await
    .unwrap();
    port.set(server.port()).unwrap();
    let api = RegistryApi::new(host(&server), Some(RegistryCredentials::new("ci", "pw")));
    let got = api
        .manifest_digest(
            &RepositoryName::parse("a/b").unwrap(),
            &Tag::parse("v1").unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(got.map(|d| d.to_string()), Some(format!("sha256:{hex}")));
    let requests = server.requests();
    assert!(
        requests.iter().any(|r| r.path == "/token"),
        "no token request: {requests:?}"
    );
    let last = requests.last().unwrap();
    assert_eq!(
        (last.method.as_str(), last.header("authorization")),
        ("HEAD", Some("Bearer t0k"))
    );
    // The password went only to the token endpoint and the first (basic) request, never in a
    // query string.
    assert!(requests.iter().all(|r| !r.query.contains("pw")));
}

/// A wrong password at the token endpoint is a 401 naming the user.
#[tokio::test]
async fn a_refused_token_is_unauthorized() {
    let port = std::sync::Arc::new(std::sync::OnceLock::<u16>::new());
    let realm_port = port.clone();
    let server = StubServer::start(move |request| {
        if request.path == "/token" {
            return StubAnswer::new(401);
        }
        StubAnswer::new(401).header(
            "www-authenticate",
            format!(
                r#"Bearer realm="http://127.0.0.1:{}/token",service="reg""#,
                realm_port.get().copied().unwrap_or(0)
            ),
        )
    })
    .await
    .unwrap();
    port.set(server.port()).unwrap();
    let api = RegistryApi::new(host(&server), Some(RegistryCredentials::new("ci", "wrong")));
    let e = api
        .manifest_digest(
            &RepositoryName::parse("a/b").unwrap(),
            &Tag::parse("v1").unwrap(),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, RegistryApiError::Unauthorized { .. }), "{e:?}");
    assert!(e.to_string().contains("\"ci\""), "{e}");
}
