//! Nix images: a `docker-archive` tarball imported into the engine and published through the
//! same `Publisher` as any container, with registry auth and a `-nix` tag, on the mock engine.

use blumeops::pipeline::nix::{nix_image, nix_tag};
use blumeops::release::{release_tag, CommitSha, VPrefix, Version};
use dagger_engine::registry::repository;
use dagger_mock_engine::{AccountRights, BuildStep, MockEngine};
use dagger_publish::{ExistingTagPolicy, PublishError, PublishRequest, Publisher, RegistryAuth};

const REGISTRY: &str = "registry.ops.eblu.me";
const PASSWORD: &str = "zak_nix-test-key";

async fn setup(policy: ExistingTagPolicy) -> (MockEngine, PublishRequest) {
    let engine = MockEngine::new();
    engine.add_host_directory("/work", &[("result", "docker-archive tarball bytes")]);
    engine.set_env("ZOT_CI_API_KEY", PASSWORD);
    engine
        .registry(REGISTRY)
        .allow_anonymous_push(false)
        .account("zot-ci", PASSWORD, AccountRights::CreateOnly);
    let version = Version::parse("2.1.0", VPrefix::Add).unwrap();
    let sha = CommitSha::parse("c86b5d7aa1").unwrap();
    let tag = nix_tag(&release_tag(&version, &sha)).unwrap();
    // As a module receives it: the secret's ID, never its plaintext.
    let secret = engine
        .query()
        .address("env:ZOT_CI_API_KEY")
        .secret()
        .id()
        .await
        .expect("secret id");
    let auth = RegistryAuth::new(REGISTRY, "zot-ci")
        .unwrap()
        .with_password(secret);
    let request = PublishRequest::new(REGISTRY, repository("blumeops", "tool").unwrap(), [tag])
        .unwrap()
        .with_auth(auth)
        .unwrap()
        .with_policy(policy);
    (engine, request)
}

#[tokio::test]
async fn nix_archive_is_imported_and_published_with_auth_and_nix_tag() {
    let (engine, request) = setup(ExistingTagPolicy::Overwrite).await;
    let dag = engine.query();
    let image = nix_image(&dag, dag.host().directory("/work").file("result"));
    let report = Publisher::new(engine.client())
        .publish(&image, &request)
        .await
        .unwrap_or_else(|e| panic!("publish: {e}"));
    assert_eq!(
        report.primary().image.to_string(),
        "registry.ops.eblu.me/blumeops/tool:v2.1.0-c86b5d7-nix"
    );
    let published = engine.published();
    assert_eq!(published.len(), 1);
    let record = &published[0];
    assert_eq!(record.host, REGISTRY);
    let auth = record.auth.as_ref().expect("the push used the credentials");
    assert_eq!(auth.username, "zot-ci");
    // The image is the archive, nothing built on top (the auth step changes no content).
    let content: Vec<&BuildStep> = record
        .container
        .steps
        .iter()
        .filter(|s| !matches!(s, BuildStep::RegistryAuth { .. }))
        .collect();
    assert!(
        matches!(content.as_slice(), [BuildStep::Import { source }] if source.contains("result")),
        "{}",
        record.container
    );
    assert_eq!(
        engine.registry(REGISTRY).tags("blumeops/tool"),
        ["v2.1.0-c86b5d7-nix"]
    );
    engine.assert_never_sent(PASSWORD);
}

#[tokio::test]
async fn an_existing_nix_tag_is_refused_like_any_container() {
    let (engine, request) = setup(ExistingTagPolicy::Fail).await;
    engine
        .registry(REGISTRY)
        .existing_tag("blumeops/tool", "v2.1.0-c86b5d7-nix");
    let dag = engine.query();
    let image = nix_image(&dag, dag.host().directory("/work").file("result"));
    let err = Publisher::new(engine.client())
        .publish(&image, &request)
        .await
        .expect_err("the tag exists");
    assert!(!matches!(err, PublishError::InvalidRequest(_)), "{err:?}");
    assert!(err.to_string().contains("v2.1.0-c86b5d7-nix"), "{err}");
}
