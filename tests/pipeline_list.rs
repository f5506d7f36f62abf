//! `container_list` against a real registry on loopback (Debian's `docker-registry`).

use blumeops::pipeline::{container_list, CatalogError, ListError};
use dagger_engine::registry::{repository, Tag};
use dagger_mock_engine::LocalRegistry;
use oci_registry_api::RegistryApiError;

const USER: (&str, &str) = ("ci", "s3cret-pass");

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

#[tokio::test]
#[ignore = "needs Debian's docker-registry (apt-get install docker-registry); run with --include-ignored"]
async fn lists_version_tags_sorted_per_container_with_auth() {
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

    let names = ["navidrome", "miniflux", "never-pushed"].map(String::from);
    let list = container_list(&api, "blumeops", &names)
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
}

#[tokio::test]
#[ignore = "needs Debian's docker-registry (apt-get install docker-registry); run with --include-ignored"]
async fn refused_credentials_and_bad_names_are_errors() {
    let registry = LocalRegistry::start(&[USER])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let api = registry.api(Some((USER.0, "wrong-password")));
    let err = container_list(&api, "blumeops", &["navidrome".to_string()])
        .await
        .expect_err("401");
    assert!(
        matches!(
            &err,
            ListError::Registry {
                source: RegistryApiError::Unauthorized { .. },
                ..
            }
        ),
        "{err:?}"
    );
    let text = format!("{err} {err:?}");
    assert!(text.contains("blumeops/navidrome"), "{text}");
    assert!(!text.contains("wrong-password"), "{text}");

    // Names are checked before any request (the registry would refuse nothing here).
    let api = registry.api(Some(USER));
    let err = container_list(&api, "blumeops", &["ok".to_string(), "Bad".to_string()])
        .await
        .expect_err("invalid name");
    assert!(
        matches!(err, ListError::Name(CatalogError::InvalidName { ref name, .. }) if name == "Bad"),
        "{err:?}"
    );
    let err = container_list(&api, "Blumeops", &["ok".to_string()])
        .await
        .expect_err("invalid namespace");
    assert!(matches!(err, ListError::Repository { .. }), "{err:?}");
}
