//! Fidelity tests of the mock Dagger engine (feature `testing`).
#![cfg(feature = "testing")]

use blumeops::testing::MockEngine;

#[tokio::test]
async fn sdk_chain_runs_in_process() {
    let engine = MockEngine::new();
    let out = engine
        .query()
        .container()
        .from("alpine")
        .with_exec(vec!["echo", "hi"])
        .stdout()
        .await
        .unwrap();
    assert_eq!(out, "hi\n");
    assert_eq!(engine.round_trips(), 1);
}

#[tokio::test]
async fn version_answers() {
    let engine = MockEngine::new();
    let data = engine.client().query("query{version}").await.unwrap();
    assert_eq!(data["version"], "v0.21.11");
}

#[tokio::test]
async fn publish_with_registry_auth_through_sdk() {
    let engine = MockEngine::new();
    engine
        .registry("registry.example.com")
        .allow_anonymous_push(false)
        .account("ci", "s3cret", blumeops::testing::AccountRights::ReadWrite);
    let q = engine.query();
    let secret = q.set_secret("pw", "s3cret");
    let reference = q
        .container()
        .from("alpine")
        .with_registry_auth("registry.example.com", "ci", secret)
        .publish("registry.example.com/team/app:v1")
        .await
        .unwrap();
    assert!(
        reference.starts_with("registry.example.com/team/app:v1@sha256:"),
        "{reference}"
    );
    engine.assert_never_sent("s3cret_never");
    let published = engine.published();
    assert_eq!(published.len(), 1);
    assert_eq!(published[0].auth.as_ref().unwrap().username, "ci");
}
