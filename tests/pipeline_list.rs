//! `container_list`: the registry client runs inside the engine (the mock's registry model
//! answers `skopeo list-tags`), and against a real registry on loopback (Debian's
//! `docker-registry`) behind the mock's model.

use blumeops::pipeline::{
    container_list, CatalogError, ListError, AUTH_FILE, CACHE_BUSTER_VARIABLE, PASSWORD_FILE,
    REGISTRY_CLIENT_IMAGE,
};
use dagger_engine::registry::{repository, Tag};
use dagger_mock_engine::{AccountRights, CommandEffect, LocalRegistry, MockEngine};
use dagger_publish::RegistryAuth;

const HOST: &str = "registry.example.org";
const USER: (&str, &str) = ("ci", "s3cret-pass");

fn names(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// A model registry with the robot account and these tags.
fn engine_with_tags(tags: &[(&str, &[&str])]) -> MockEngine {
    let engine = MockEngine::new();
    // The registry client's image is public, as on quay.io.
    engine
        .public_image(blumeops::pipeline::REGISTRY_CLIENT_IMAGE)
        .unwrap();
    let model = engine.registry(HOST);
    model
        .allow_anonymous_push(false)
        .account(USER.0, USER.1, AccountRights::CreateOnly);
    for (name, list) in tags {
        for tag in *list {
            model.existing_tag(&format!("blumeops/{name}"), tag);
        }
    }
    engine
}

/// The ID of a secret holding `password` (the only query carrying it: the recorder is reset
/// afterwards, so every later query can be checked for the plaintext).
async fn secret_id(engine: &MockEngine, password: &str) -> dagger_sdk::Id {
    let id = engine
        .query()
        .set_secret("registry-password", password)
        .id()
        .await
        .expect("secret");
    engine.reset_recorder();
    id
}

/// The robot's credentials, the password as a secret of `engine`.
async fn auth(engine: &MockEngine, password: &str) -> RegistryAuth {
    RegistryAuth::new(HOST, USER.0)
        .unwrap()
        .with_password(secret_id(engine, password).await)
}

#[tokio::test]
async fn lists_version_tags_inside_the_engine_without_reading_the_password() {
    let engine = engine_with_tags(&[
        (
            "navidrome",
            &["v0.61.1-c86b5d7", "latest", "v0.9.0", "v0.61.1", "main-abc"],
        ),
        ("miniflux", &["v2.2.19-0000001", "v2.2.9-0000002"]),
    ]);
    let list = container_list(
        &engine.client(),
        &auth(&engine, USER.1).await,
        "blumeops",
        &names(&["navidrome", "miniflux", "never-pushed"]),
    )
    .await
    .expect("list");
    assert_eq!(
        list,
        vec![
            (
                "navidrome".to_string(),
                names(&["v0.9.0", "v0.61.1", "v0.61.1-c86b5d7"])
            ),
            (
                "miniflux".to_string(),
                names(&["v2.2.9-0000002", "v2.2.19-0000001"])
            ),
            ("never-pushed".to_string(), vec![]),
        ]
    );
    // The password stays in the engine: never in a query, never read by this process.
    engine.assert_never_sent(USER.1);
    assert!(
        engine.plaintext_reads().is_empty(),
        "{:?}",
        engine.plaintext_reads()
    );
    // One request for every repository.
    assert_eq!(engine.round_trips(), 1);
    let listing = engine.queries().pop().unwrap();
    for part in [
        format!("from(address:\"{REGISTRY_CLIENT_IMAGE}\")"),
        format!("withMountedSecret(path:\"{PASSWORD_FILE}\""),
        format!("withEnvVariable(name:\"{CACHE_BUSTER_VARIABLE}\""),
        "expect:ANY".to_string(),
        format!("\"skopeo\",\"{AUTH_FILE}\",\"ci\",\"registry.example.org\",\"{PASSWORD_FILE}\",\"docker://registry.example.org/blumeops/miniflux\""),
    ] {
        assert!(listing.contains(&part), "{part} not in {listing}");
    }
    // Issue 19, item 11: the password reaches skopeo on standard input from the mounted
    // secret, never as an argument or a variable.
    assert!(!listing.contains("--password\""), "{listing}");
    assert!(!listing.contains("withSecretVariable"), "{listing}");
    // The secret is mounted and the cache buster set before the command runs.
    let at = |p: &str| listing.find(p).unwrap();
    assert!(at("withMountedSecret") < at("withExec") && at("withEnvVariable") < at("withExec"));
}

#[tokio::test]
async fn every_call_lists_afresh() {
    let engine = engine_with_tags(&[("app", &["v1.0.0"])]);
    let auth = auth(&engine, USER.1).await;
    let app = names(&["app"]);
    let first = container_list(&engine.client(), &auth, "blumeops", &app)
        .await
        .unwrap();
    engine.registry(HOST).existing_tag("blumeops/app", "v1.1.0");
    let second = container_list(&engine.client(), &auth, "blumeops", &app)
        .await
        .unwrap();
    assert_eq!(first[0].1, ["v1.0.0"]);
    assert_eq!(second[0].1, ["v1.0.0", "v1.1.0"]);
    // The cache buster differs, so the engine cannot answer the second from its cache.
    let busters: Vec<String> = engine
        .queries()
        .iter()
        .filter_map(|q| {
            let at = q.find(&format!("name:\"{CACHE_BUSTER_VARIABLE}\",value:\""))?;
            Some(q[at..].split('"').nth(3)?.to_string())
        })
        .collect();
    assert_eq!(busters.len(), 2, "{busters:?}");
    assert_ne!(busters[0], busters[1]);
}

#[tokio::test]
async fn a_wrong_password_is_a_rejected_credential_naming_host_and_user() {
    let engine = engine_with_tags(&[("app", &["v1.0.0"])]);
    let err = container_list(
        &engine.client(),
        &auth(&engine, "wrong-password").await,
        "blumeops",
        &names(&["app"]),
    )
    .await
    .expect_err("401");
    assert_eq!(
        err,
        ListError::CredentialsRejected {
            host: HOST.into(),
            username: Some(USER.0.into())
        }
    );
    let text = format!("{err} {err:?}");
    assert!(
        text.contains("registry.example.org") && text.contains("user ci"),
        "{text}"
    );
    assert!(!text.contains("wrong-password"), "{text}");
}

#[tokio::test]
async fn anonymous_listing_runs_the_client_without_a_shell_or_a_secret() {
    let engine = engine_with_tags(&[("app", &["v2.0.0"])]);
    let anonymous = RegistryAuth::anonymous(HOST).unwrap();
    let err = container_list(&engine.client(), &anonymous, "blumeops", &names(&["app"]))
        .await
        .expect_err("the registry wants credentials");
    assert_eq!(
        err,
        ListError::CredentialsRejected {
            host: HOST.into(),
            username: None
        }
    );
    engine.registry(HOST).allow_anonymous_push(true);
    let list = container_list(&engine.client(), &anonymous, "blumeops", &names(&["app"]))
        .await
        .unwrap();
    assert_eq!(list[0].1, ["v2.0.0"]);
    let query = engine.queries().pop().unwrap();
    assert!(
        query.contains(
            r#"args:["skopeo","list-tags","docker://registry.example.org/blumeops/app"]"#
        ),
        "{query}"
    );
    assert!(!query.contains("withMountedSecret"), "{query}");
}

#[tokio::test]
async fn a_client_failure_is_reported_with_its_message_and_a_declared_effect_wins() {
    let engine = engine_with_tags(&[("app", &["v1.0.0"])]);
    engine.on_exec(CommandEffect::containing("docker://registry.example.org/blumeops/app").fails(
        1,
        "time=\"2024-08-12T10:00:00Z\" level=fatal msg=\"Error listing repository tags: fetching tags list: StatusCode: 503, overloaded\"\n",
    ));
    let err = container_list(
        &engine.client(),
        &auth(&engine, USER.1).await,
        "blumeops",
        &names(&["app"]),
    )
    .await
    .expect_err("503");
    assert_eq!(
        err,
        ListError::Registry {
            repository: "registry.example.org/blumeops/app".into(),
            exit_code: 1,
            detail:
                "Error listing repository tags: fetching tags list: StatusCode: 503, overloaded"
                    .into()
        }
    );
}

#[tokio::test]
async fn names_are_checked_before_any_request() {
    let engine = engine_with_tags(&[]);
    let auth = auth(&engine, USER.1).await;
    let before = engine.round_trips();
    let err = container_list(&engine.client(), &auth, "blumeops", &names(&["ok", "Bad"]))
        .await
        .expect_err("invalid name");
    assert!(
        matches!(err, ListError::Name(CatalogError::InvalidName { ref name, .. }) if name == "Bad"),
        "{err:?}"
    );
    let err = container_list(&engine.client(), &auth, "Blumeops", &names(&["ok"]))
        .await
        .expect_err("invalid namespace");
    assert!(matches!(err, ListError::Repository { .. }), "{err:?}");
    assert_eq!(engine.round_trips(), before);
    assert!(container_list(&engine.client(), &auth, "blumeops", &[])
        .await
        .unwrap()
        .is_empty());
}

// ---------------------------------------------------------------------------------------------
// Against a real registry: the mock's model of the host is backed by it, so the listing the
// engine runs goes to the registry with the secret variable's password.

async fn push(api: &oci_registry_api::RegistryApi, name: &str, tags: &[&str]) {
    let repo = repository("blumeops", name).expect("repository");
    for tag in tags {
        let tag = Tag::parse(tag).expect("tag");
        let config = format!(r#"{{"architecture":"amd64","os":"linux","tag":"{tag}"}}"#);
        api.push_image(&repo, &tag, config.into_bytes(), vec![b"layer".to_vec()])
            .await
            .unwrap_or_else(|e| panic!("push {name}:{tag}: {e}"));
    }
}

/// A mock engine whose model of the local registry's host is backed by it.
fn engine_backed_by(registry: &LocalRegistry) -> MockEngine {
    let engine = MockEngine::new();
    // The registry client's image is public, as on quay.io.
    engine
        .public_image(blumeops::pipeline::REGISTRY_CLIENT_IMAGE)
        .unwrap();
    engine
        .registry(registry.host().as_str())
        .backed_by(registry.backend());
    engine
}

async fn real_auth(engine: &MockEngine, registry: &LocalRegistry, password: &str) -> RegistryAuth {
    RegistryAuth::new(registry.host().as_str(), USER.0)
        .unwrap()
        .with_password(secret_id(engine, password).await)
}

#[tokio::test]
#[ignore = "needs Debian's docker-registry (apt-get install docker-registry); run with --include-ignored"]
async fn lists_version_tags_sorted_per_container_from_a_real_registry() {
    let registry = LocalRegistry::start(&[USER])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let api = registry.api(Some(USER));
    push(
        &api,
        "navidrome",
        &[
            "v0.61.1-c86b5d7",
            "latest",
            "v0.9.0",
            "v0.61.1",
            "v0.61.1-c86b5d7-nix",
            "main-abc",
        ],
    )
    .await;
    push(&api, "miniflux", &["v2.2.19-0000001", "v2.2.9-0000002"]).await;

    let engine = engine_backed_by(&registry);
    let names = names(&["navidrome", "miniflux", "never-pushed"]);
    let list = container_list(
        &engine.client(),
        &real_auth(&engine, &registry, USER.1).await,
        "blumeops",
        &names,
    )
    .await
    .expect("list");
    assert_eq!(
        list,
        vec![
            (
                "navidrome".to_string(),
                [
                    "v0.9.0",
                    "v0.61.1",
                    "v0.61.1-c86b5d7",
                    "v0.61.1-c86b5d7-nix"
                ]
                .map(String::from)
                .to_vec()
            ),
            (
                "miniflux".to_string(),
                ["v2.2.9-0000002", "v2.2.19-0000001"]
                    .map(String::from)
                    .to_vec()
            ),
            ("never-pushed".to_string(), vec![]),
        ]
    );
    engine.assert_never_sent(USER.1);
    assert!(engine.plaintext_reads().is_empty());
}

#[tokio::test]
#[ignore = "needs Debian's docker-registry (apt-get install docker-registry); run with --include-ignored"]
async fn a_real_registry_refusing_the_password_is_a_rejected_credential() {
    let registry = LocalRegistry::start(&[USER])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let engine = engine_backed_by(&registry);
    let err = container_list(
        &engine.client(),
        &real_auth(&engine, &registry, "wrong-password").await,
        "blumeops",
        &names(&["navidrome"]),
    )
    .await
    .expect_err("401");
    assert_eq!(
        err,
        ListError::CredentialsRejected {
            host: registry.host().to_string(),
            username: Some(USER.0.into())
        }
    );
    let text = format!("{err} {err:?}");
    assert!(!text.contains("wrong-password"), "{text}");
}
