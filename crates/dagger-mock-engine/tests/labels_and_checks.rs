//! Labels and annotations, label reading (an imported archive's own labels), recorded command
//! output reads and the plan's per-platform builds and checks.

use dagger_mock_engine::{BuildStep, MockEngine, DEFAULT_PLATFORM};
use dagger_sdk::{ContainerPublishOpts, QueryContainerOpts};

/// `label(name:)` as a raw query on the container selected by `container` (a selection left
/// open, e.g. `container{from(address:"a")`): the field is nullable, so `null` is an answer.
async fn label(engine: &MockEngine, container: &str, name: &str) -> serde_json::Value {
    let open = container.matches('{').count() - container.matches('}').count();
    let data = engine
        .client()
        .query(&format!(
            "query{{{container}{{label(name:{})}}{}}}",
            dagger_engine::gql::string(name),
            "}".repeat(open)
        ))
        .await
        .expect("label query");
    let mut value = &data;
    while let serde_json::Value::Object(map) = value {
        match map.values().next() {
            Some(inner) if map.len() == 1 => value = inner,
            _ => break,
        }
    }
    value.clone()
}

#[tokio::test]
async fn annotations_are_steps_and_labels_read_back() {
    let engine = MockEngine::new();
    let c = engine
        .query()
        .container()
        .from("alpine:3.22")
        .with_label("org.opencontainers.image.version", "1")
        .with_annotation("org.opencontainers.image.revision", "c86b5d7")
        .with_label("org.opencontainers.image.version", "2");
    let id = c.id().await.unwrap();
    let d = engine.describe_container(&id.0).unwrap();
    assert!(d.steps.contains(&BuildStep::Annotation {
        name: "org.opencontainers.image.revision".into(),
        value: "c86b5d7".into()
    }));
    assert!(d
        .to_string()
        .contains("ANNOTATION org.opencontainers.image.revision=c86b5d7"));
    let q = format!(
        "node(id:{}){{... on Container",
        dagger_engine::gql::string(&id.0)
    );
    // The last withLabel wins; an unknown label is null, not an error.
    let value = label(&engine, &q, "org.opencontainers.image.version").await;
    assert_eq!(value, "2");
    let value = label(&engine, &q, "org.opencontainers.image.title").await;
    assert_eq!(value, serde_json::Value::Null);
}

#[tokio::test]
async fn an_imported_archive_carries_the_labels_declared_for_it() {
    let engine = MockEngine::new();
    engine.add_host_directory("/work", &[("result", "tarball A"), ("other", "tarball B")]);
    engine.set_archive_labels(
        "tarball A",
        &[("org.opencontainers.image.version", "2.1.0")],
    );
    let dag = engine.query();
    for (file, want) in [
        ("result", serde_json::json!("2.1.0")),
        ("other", serde_json::Value::Null),
    ] {
        let archive = dag.host().directory("/work").file(file).id().await.unwrap();
        let q = format!(
            "container{{import(source:{})",
            dagger_engine::gql::string(&archive.0)
        );
        let value = label(&engine, &q, "org.opencontainers.image.version").await;
        assert_eq!(value, want, "{file}");
    }
}

#[tokio::test]
async fn command_output_reads_are_recorded_with_their_platform() {
    let engine = MockEngine::new();
    engine.set_exec_stdout(&["app", "--version"], "1.2.3\n");
    let out = engine
        .query()
        .container_opts(QueryContainerOpts {
            platform: Some(dagger_sdk::Platform("linux/arm64".into())),
        })
        .from("alpine:3.22")
        .with_exec(vec!["app", "--version"])
        .stdout()
        .await
        .unwrap();
    assert_eq!(out, "1.2.3\n");
    let reads = engine.output_reads();
    assert_eq!(reads.len(), 1);
    assert_eq!(reads[0].platform.as_deref(), Some("linux/arm64"));
    assert_eq!(reads[0].command, ["app", "--version"]);
    assert_eq!(
        (reads[0].field.as_str(), reads[0].value.as_str()),
        ("stdout", "1.2.3\n")
    );
    let plan = engine.plan().to_string();
    assert!(
        plan.contains(&format!(
            "RUN app --version on platform linux/arm64 (not the engine's {DEFAULT_PLATFORM}: its \
             commands run under the engine's emulation), stdout: 1.2.3"
        )),
        "{plan}"
    );
    engine.reset_recorder();
    assert!(engine.output_reads().is_empty());
}

#[tokio::test]
async fn the_plan_shows_every_platform_variant() {
    let engine = MockEngine::new();
    let dag = engine.query();
    let build = |platform: &str| {
        dag.container_opts(QueryContainerOpts {
            platform: Some(dagger_sdk::Platform(platform.into())),
        })
        .from("alpine:3.22")
        .with_exec(vec!["apk", "add", "tzdata"])
    };
    let amd = build("linux/amd64");
    let arm = build("linux/arm64");
    amd.publish_opts(
        "registry.example/app:1",
        ContainerPublishOpts {
            platform_variants: Some(vec![arm.id().await.unwrap()]),
            forced_compression: None,
            media_types: None,
            registry_service: None,
        },
    )
    .await
    .unwrap();
    let record = &engine.published()[0];
    assert_eq!(record.platform_variants, 1);
    assert_eq!(record.variants[0].platform.as_deref(), Some("linux/arm64"));
    let plan = engine.plan().to_string();
    assert!(plan.contains("      platform linux/amd64\n"), "{plan}");
    assert!(
        plan.contains(
            "Platform variant 2 of 2 (published with the image above as one multi-platform image):"
        ),
        "{plan}"
    );
    assert!(
        plan.contains("      platform linux/arm64 (not the engine's linux/amd64: its commands run"),
        "{plan}"
    );
}
