//! `address(value:).secret`, the way the Dagger CLI turns a flag value into a secret.

use dagger_mock_engine::{AccountRights, MockEngine};

#[tokio::test]
async fn a_flag_value_becomes_an_env_secret_usable_for_registry_auth() {
    let engine = MockEngine::new();
    engine.set_env("GHCR_TOKEN", "ghp_token");
    engine
        .registry("ghcr.io")
        .allow_anonymous_push(false)
        .account("me", "ghp_token", AccountRights::ReadWrite);
    let dag = engine.query();
    for value in ["GHCR_TOKEN", "env:GHCR_TOKEN", "env://GHCR_TOKEN"] {
        let secret = dag.address(value).secret();
        dag.container()
            .from("alpine:3.22")
            .with_registry_auth("ghcr.io", "me", secret)
            .publish("ghcr.io/me/app:v1")
            .await
            .unwrap_or_else(|e| panic!("{value}: {e}"));
    }
    let auth = engine.published()[0].auth.clone().unwrap();
    assert_eq!(
        (auth.host.as_str(), auth.username.as_str()),
        ("ghcr.io", "me")
    );
    assert_eq!(auth.secret_name, "env://GHCR_TOKEN");
    engine.assert_never_sent("ghp_token");
    assert_eq!(
        dag.address("GHCR_TOKEN").value().await.unwrap(),
        "GHCR_TOKEN"
    );
    let err = dag.address("").value().await.unwrap_err().to_string();
    assert!(err.contains("resource cannot have empty address"), "{err}");
}
