//! The example pipeline (`examples/publish_pipeline.rs`) on both transports of the mock engine:
//! in-process, and over the HTTP session protocol as a real engine session.

#[path = "../examples/publish_pipeline.rs"]
mod example;

use std::sync::Arc;

use dagger_engine::{EngineClient, HttpTransport, HttpTransportConfig};
use dagger_mock_engine::{AccountRights, MockEngine};

const IMAGE: &str = "registry.example.com/team/hello:v1";

async fn run(engine: &MockEngine, client: &EngineClient, with_password: bool) {
    engine
        .registry("registry.example.com")
        .allow_anonymous_push(!with_password)
        .account("ci", "s3cret-pw", AccountRights::CreateOnly);
    engine.set_env("REGISTRY_PASSWORD", "s3cret-pw");
    let password = with_password.then(|| client.dagger().address("env:REGISTRY_PASSWORD").secret());
    let report = example::pipeline(client, IMAGE, password)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert!(report
        .primary()
        .to_string()
        .starts_with("registry.example.com/team/hello:v1@sha256:"));
    let published = engine.published();
    assert_eq!(published.len(), 1);
    assert_eq!(
        published[0].auth.as_ref().map(|a| a.username.as_str()),
        with_password.then_some("ci")
    );
    let line = published[0].to_string();
    if with_password {
        assert!(
            line.ends_with(
                "with credentials for host registry.example.com and user ci from secret env://REGISTRY_PASSWORD"
            ),
            "{line}"
        );
    } else {
        assert!(line.ends_with(", anonymously"), "{line}");
    }
    assert!(published[0]
        .container
        .to_string()
        .contains("RUN echo hello"));
    engine.assert_never_sent("s3cret-pw");
}

#[tokio::test]
async fn in_process() {
    for with_password in [false, true] {
        let engine = MockEngine::new();
        run(&engine, &engine.client(), with_password).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn over_the_session_protocol() {
    for with_password in [false, true] {
        let engine = MockEngine::new();
        let server = dagger_mock_engine::SessionServer::start(&engine)
            .await
            .unwrap();
        let client = EngineClient::new(Arc::new(HttpTransport::new(
            &server.session_params(),
            HttpTransportConfig::default(),
        )));
        run(&engine, &client, with_password).await;
    }
}

/// The command documented at the top of the example, as written: its arguments are accepted
/// and its image publishes on the mock engine.
#[tokio::test]
async fn the_documented_command_works_as_written() {
    let source = include_str!("../examples/publish_pipeline.rs");
    let command = source
        .lines()
        .find(|l| l.contains("cargo run --example publish_pipeline --"))
        .expect("the example documents its command");
    let args = command
        .split(" -- ")
        .nth(1)
        .expect("arguments after --")
        .split_whitespace()
        .map(str::to_string);
    let image = example::image_arg(args).unwrap_or_else(|e| panic!("{command}: {e}"));
    let engine = MockEngine::new();
    let report = example::pipeline(&engine.client(), &image, None)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert!(report
        .primary()
        .to_string()
        .starts_with(&format!("{image}@sha256:")));
    assert!(example::image_arg(
        ["registry.example.com/team/hello", "v1"]
            .map(String::from)
            .into_iter()
    )
    .is_err());
}
