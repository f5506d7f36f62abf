//! RegistryApi against a real registry: Debian's `docker-registry` (distribution 2.8) on
//! loopback, through `LocalRegistry`. Needs the `testing` feature and the `docker-registry`
//! apt package.

use dagger_engine::registry::{Digest, RepositoryName, Tag};
use dagger_mock_engine::LocalRegistry;
use oci_registry_api::RegistryApiError;

const USER: &str = "zot-ci";
const PASSWORD: &str = "zak_correct-horse-battery";
const WRONG_PASSWORD: &str = "zak_wrong-staple-1234";

fn repo(s: &str) -> RepositoryName {
    RepositoryName::parse(s).unwrap()
}

fn tag(s: &str) -> Tag {
    Tag::parse(s).unwrap()
}

fn image() -> (Vec<u8>, Vec<Vec<u8>>) {
    let config =
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
    (
        config.to_vec(),
        vec![b"layer one".to_vec(), b"layer two".to_vec()],
    )
}

async fn registry(users: &[(&str, &str)]) -> LocalRegistry {
    match LocalRegistry::start(users).await {
        Ok(r) => r,
        Err(e) => panic!("cannot start the local registry: {e}"),
    }
}

#[tokio::test]
#[ignore = "needs Debian's docker-registry (apt-get install docker-registry); run with --include-ignored"]
async fn push_then_digest_and_tags() {
    let reg = registry(&[(USER, PASSWORD)]).await;
    let api = reg.api(Some((USER, PASSWORD)));
    let name = repo("blumeops/navidrome");
    let (config, layers) = image();

    // Unknown repository: no digest, no tags.
    assert_eq!(api.manifest_digest(&name, &tag("v1")).await.unwrap(), None);
    assert_eq!(api.list_tags(&name).await.unwrap(), Vec::<String>::new());

    let pushed = api
        .push_image(&name, &tag("v1"), config.clone(), layers.clone())
        .await
        .unwrap();
    assert_eq!(pushed.algorithm(), "sha256");
    assert_eq!(
        api.manifest_digest(&name, &tag("v1")).await.unwrap(),
        Some(pushed.clone())
    );
    // Present repository, absent tag.
    assert_eq!(api.manifest_digest(&name, &tag("v2")).await.unwrap(), None);

    // Idempotent re-push of the same image under the same tag: the same digest.
    let again = api
        .push_image(&name, &tag("v1"), config.clone(), layers.clone())
        .await
        .unwrap();
    assert_eq!(again, pushed);

    // Another tag of the same content, and a different image.
    let same = api
        .push_image(&name, &tag("v1-abcdef0"), config.clone(), layers.clone())
        .await
        .unwrap();
    assert_eq!(same, pushed);
    let other = api
        .push_image(&name, &tag("v2"), config, vec![b"other".to_vec()])
        .await
        .unwrap();
    assert_ne!(other, pushed);

    let mut tags = api.list_tags(&name).await.unwrap();
    tags.sort();
    assert_eq!(tags, vec!["v1", "v1-abcdef0", "v2"]);

    // Another repository stays unknown.
    assert!(api
        .list_tags(&repo("blumeops/absent"))
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
#[ignore = "needs Debian's docker-registry (apt-get install docker-registry); run with --include-ignored"]
async fn digest_matches_the_manifest_bytes_the_registry_stores() {
    let reg = registry(&[]).await;
    let api = reg.api(None);
    let name = repo("open/repo");
    let (config, layers) = image();
    let d = api
        .push_image(&name, &tag("latest"), config, layers)
        .await
        .unwrap();
    // The registry keeps manifests as blobs named by their digest: the digest we answer must be
    // one the registry computed for the bytes it received.
    let blob = reg
        .storage_dir()
        .join("docker/registry/v2/blobs/sha256")
        .join(&d.encoded()[..2])
        .join(d.encoded())
        .join("data");
    let bytes = std::fs::read(&blob).unwrap_or_else(|e| panic!("{}: {e}", blob.display()));
    assert_eq!(Digest::sha256_of(&bytes), d);
    assert_eq!(
        api.manifest_digest(&name, &tag("latest")).await.unwrap(),
        Some(d)
    );
}

#[tokio::test]
#[ignore = "needs Debian's docker-registry (apt-get install docker-registry); run with --include-ignored"]
async fn wrong_password_is_unauthorized_without_leaking_it() {
    let reg = registry(&[(USER, PASSWORD)]).await;
    let api = reg.api(Some((USER, WRONG_PASSWORD)));
    let name = repo("blumeops/x");
    let (config, layers) = image();
    let errors = [
        api.manifest_digest(&name, &tag("v1")).await.unwrap_err(),
        api.list_tags(&name).await.unwrap_err(),
        api.push_image(&name, &tag("v1"), config, layers)
            .await
            .unwrap_err(),
    ];
    for err in errors {
        let text = format!("{err} {err:?}");
        assert!(
            matches!(&err, RegistryApiError::Unauthorized { host, username }
                if *host == reg.host().to_string() && username.as_deref() == Some(USER)),
            "{text}"
        );
        assert!(text.contains(&reg.host().to_string()), "{text}");
        assert!(text.contains(USER), "{text}");
        assert!(text.contains("expired"), "{text}");
        assert!(
            !text.contains(WRONG_PASSWORD) && !text.contains(PASSWORD),
            "{text}"
        );
        assert!(!err.is_transient());
    }
}

#[tokio::test]
#[ignore = "needs Debian's docker-registry (apt-get install docker-registry); run with --include-ignored"]
async fn anonymous_access_is_refused_when_auth_is_on() {
    let reg = registry(&[(USER, PASSWORD)]).await;
    assert!(reg.auth_enabled());
    let anon = reg.api(None);
    let name = repo("blumeops/x");
    let (config, layers) = image();
    let err = anon.manifest_digest(&name, &tag("v1")).await.unwrap_err();
    assert!(
        matches!(&err, RegistryApiError::Unauthorized { username: None, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("no credentials"), "{err}");
    let err = anon.list_tags(&name).await.unwrap_err();
    assert!(
        matches!(err, RegistryApiError::Unauthorized { username: None, .. }),
        "{err:?}"
    );
    let err = anon
        .push_image(&name, &tag("v1"), config.clone(), layers.clone())
        .await
        .unwrap_err();
    assert!(
        matches!(err, RegistryApiError::Unauthorized { username: None, .. }),
        "{err:?}"
    );

    // The right user still works on the same registry.
    let api = reg.api(Some((USER, PASSWORD)));
    let d = api
        .push_image(&name, &tag("v1"), config, layers)
        .await
        .unwrap();
    assert_eq!(
        api.manifest_digest(&name, &tag("v1")).await.unwrap(),
        Some(d)
    );
}

#[tokio::test]
#[ignore = "needs Debian's docker-registry (apt-get install docker-registry); run with --include-ignored"]
async fn a_stopped_registry_is_unreachable() {
    let reg = registry(&[]).await;
    let api = reg.api(None);
    drop(reg);
    let err = api
        .manifest_digest(&repo("a"), &tag("t"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, RegistryApiError::Unreachable { .. }),
        "{err:?}"
    );
    assert!(err.is_transient());
}

#[tokio::test]
#[ignore = "needs Debian's docker-registry (apt-get install docker-registry); run with --include-ignored"]
async fn drop_removes_the_storage() {
    let reg = registry(&[]).await;
    let dir = reg.storage_dir();
    assert!(dir.exists());
    drop(reg);
    assert!(!dir.exists());
}

#[tokio::test]
#[ignore = "needs Debian's docker-registry (apt-get install docker-registry); run with --include-ignored"]
async fn tags_list_follows_pagination() {
    let reg = registry(&[]).await;
    let api = reg.api(None);
    let name = repo("paged/repo");
    let (config, layers) = image();
    let mut want: Vec<String> = (0..7).map(|i| format!("t{i}")).collect();
    for t in &want {
        api.push_image(&name, &tag(t), config.clone(), layers.clone())
            .await
            .unwrap();
    }
    for page in [1, 2, 3, 7, 100] {
        let mut got = api
            .clone()
            .with_tags_page_size(page)
            .list_tags(&name)
            .await
            .unwrap();
        got.sort();
        want.sort();
        assert_eq!(got, want, "page size {page}");
    }
}
