//! `container-list` with provenance on the strict mock: each container's build type and
//! repository, its recent version tags, and each tag marked `[main]`, `[branch]` or
//! `[unknown]` from the main branch's history.

use blumeops::pipeline::{
    container_listing, Catalog, ContainerListing, MainHistory, TagOrigin, REGISTRY_CLIENT_IMAGE,
};
use dagger_mock_engine::MockEngine;
use dagger_publish::RegistryAuth;

const HOST: &str = "registry.example.org";
const REPO: &str = "/repo";

/// `git rev-list main` of the repository: the commits of the main branch.
const MAIN: &str =
    "c86b5d7aa10f6c3c2b7e1f0e9d8c7b6a59483726\n1111111deadbeefdeadbeefdeadbeefdeadbeef\n";

fn engine() -> MockEngine {
    let engine = MockEngine::new();
    engine.public_image(REGISTRY_CLIENT_IMAGE).unwrap();
    let model = engine.registry(HOST);
    model.allow_anonymous_pull(true);
    for tag in [
        "v1.4.0-1111111",
        "v1.4.2-c86b5d7",
        "v1.4.2-c86b5d7-nix",
        "v1.4.3-abcdef0",
        "v1.4.3",
        "latest",
    ] {
        model.existing_tag("blumeops/homepage", tag);
    }
    for i in 0..12 {
        model.existing_tag("blumeops/tool", &format!("v1.{i}.0-c86b5d7"));
    }
    engine.add_host_directory(
        REPO,
        &[
            ("containers/homepage/Dockerfile", "FROM alpine\n"),
            ("containers/homepage/default.nix", "{ }\n"),
            ("containers/tool/default.nix", "{ }\n"),
        ],
    );
    engine
}

async fn list(engine: &MockEngine, names: &[&str], history: &MainHistory) -> ContainerListing {
    let dag = engine.query();
    let src = dag.host().directory(REPO);
    let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    container_listing(
        &engine.client(),
        &Catalog::standard(),
        &src,
        &RegistryAuth::anonymous(HOST).unwrap(),
        "blumeops",
        &names,
        history,
    )
    .await
    .unwrap_or_else(|e| panic!("listing: {e}"))
}

#[tokio::test]
async fn each_tag_is_marked_main_branch_or_unknown() {
    let engine = engine();
    let history = MainHistory::from_rev_list(MAIN).unwrap();
    let listing = list(&engine, &["homepage", "miniflux"], &history).await;
    let homepage = &listing.containers[0];
    assert_eq!(homepage.build.to_string(), "dockerfile+nix");
    assert_eq!(
        homepage.repository,
        "registry.example.org/blumeops/homepage"
    );
    // The 4 most recent version tags ("latest" is not one).
    assert_eq!(
        homepage.tags,
        [
            ("v1.4.2-c86b5d7".to_string(), TagOrigin::Main),
            ("v1.4.2-c86b5d7-nix".to_string(), TagOrigin::Main),
            ("v1.4.3".to_string(), TagOrigin::Unknown),
            ("v1.4.3-abcdef0".to_string(), TagOrigin::Branch),
        ]
    );
    let miniflux = &listing.containers[1];
    assert_eq!(miniflux.build.to_string(), "native");
    assert!(miniflux.tags.is_empty());
    let text = listing.to_string();
    assert!(
        text.starts_with(
            "homepage (dockerfile+nix)  registry.example.org/blumeops/homepage\n  v1.4.2-c86b5d7 [main]\n"
        ),
        "{text}"
    );
    assert!(text.contains("  v1.4.3-abcdef0 [branch]\n"), "{text}");
    assert!(text.contains("  v1.4.3 [unknown]\n"), "{text}");
    assert!(
        text.ends_with(
            "miniflux (native)  registry.example.org/blumeops/miniflux\n  (no version tags)\n"
        ),
        "{text}"
    );
}

#[tokio::test]
async fn without_history_every_tag_is_unknown() {
    let engine = engine();
    let listing = list(&engine, &["homepage", "tool"], &MainHistory::unknown()).await;
    assert!(listing.containers.iter().all(|c| !c.tags.is_empty()));
    assert!(listing
        .containers
        .iter()
        .flat_map(|c| &c.tags)
        .all(|(_, origin)| *origin == TagOrigin::Unknown));
}

#[tokio::test]
async fn one_name_shows_ten_tags_and_no_name_lists_every_container() {
    let engine = engine();
    let history = MainHistory::from_rev_list(MAIN).unwrap();
    let one = list(&engine, &["tool"], &history).await;
    assert_eq!(one.containers[0].tags.len(), 10);
    assert_eq!(one.containers[0].tags[9].0, "v1.11.0-c86b5d7");
    assert_eq!(one.containers[0].tags[0].0, "v1.2.0-c86b5d7");

    let all = list(&engine, &[], &history).await;
    let names: Vec<&str> = all.containers.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["homepage", "miniflux", "navidrome", "tool"]);
    assert_eq!(all.containers[3].tags.len(), 4);
}
