//! `Address`, `Container.labels`, and the recording engine's plan: stand-ins named as such with
//! a digest of their own, and the plan read top-down.

use dagger_mock_engine::MockEngine;
use serde_json::json;

#[tokio::test]
async fn an_address_loads_a_local_directory_with_its_exclusions_and_a_secret() {
    let engine = MockEngine::new();
    engine.add_host_directory(
        "/src",
        &[
            ("a.txt", "a"),
            ("target/x", "x"),
            ("ui/node_modules/m", "m"),
            ("ui/app.js", "j"),
        ],
    );
    engine.set_env("TOKEN", "t0ken");
    let data = engine
        .client()
        .query(
            r#"query{d:address(value:"/src"){directory(exclude:["**/target","**/node_modules"]){entries}}
               s:address(value:"TOKEN"){secret{plaintext}} e:address(value:"env:TOKEN"){secret{plaintext}}
               v:address(value:"file:///src"){value}}"#,
        )
        .await
        .unwrap();
    assert_eq!(data["d"]["directory"]["entries"], json!(["a.txt", "ui/"]));
    assert_eq!(data["s"]["secret"]["plaintext"], "t0ken");
    assert_eq!(data["e"]["secret"]["plaintext"], "t0ken");
    assert_eq!(data["v"]["value"], "file:///src");
    let err = engine
        .client()
        .query(r#"query{address(value:""){value}}"#)
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("resource cannot have empty address"),
        "{err}"
    );
}

#[tokio::test]
async fn labels_are_those_the_chain_set_the_last_one_winning() {
    let engine = MockEngine::new();
    let data = engine
        .client()
        .query(
            r#"query{container{from(address:"alpine"){withLabel(name:"a",value:"1"){withLabel(name:"b",value:"2"){withLabel(name:"a",value:"3"){labels{name value}}}}}}}"#,
        )
        .await
        .unwrap();
    let labels = &data["container"]["from"]["withLabel"]["withLabel"]["withLabel"]["labels"];
    assert_eq!(
        labels,
        &json!([{"name": "b", "value": "2"}, {"name": "a", "value": "3"}])
    );
}

#[tokio::test]
async fn the_plan_shows_the_image_first_and_stand_ins_with_digests_of_their_own() {
    let engine = MockEngine::recording();
    let dag = engine.query();
    let repo = dag.git("https://forge.example/app.git");
    let tree = repo.tag("v1").tree();
    let builder = dag
        .container()
        .from("golang:1.25")
        .with_directory("/src", tree.clone())
        .with_directory("/src/ui", tree.directory("ui"))
        .with_exec(vec![
            "go", "build", "-ldflags", "-w -s", "-o", "/out/app", ".",
        ]);
    let image = dag
        .container()
        .from("alpine:3.22")
        .with_file("/usr/bin/app", builder.file("/out/app"))
        .with_label("org.opencontainers.image.description", "An app");
    image.publish("registry.example/team/app:v1").await.unwrap();
    let plan = engine.plan().to_string();
    let image_at = plan.find("The image (FROM alpine:3.22)").expect(&plan);
    let stage_at = plan
        .find("Stage 1 (FROM golang:1.25) builds /out/app, copied to /usr/bin/app in the image")
        .expect(&plan);
    assert!(image_at < stage_at, "{plan}");
    assert!(
        plan.contains("RUN go build -ldflags '-w -s' -o /out/app ."),
        "{plan}"
    );
    assert!(
        plan.contains("LABEL org.opencontainers.image.description='An app'"),
        "{plan}"
    );
    assert!(
        plan.contains("COPY to /usr/bin/app: /out/app of stage 1, file app sha256:")
            && plan.contains("(stand-in: the recording engine runs nothing)"),
        "{plan}"
    );
    let tree_digests: Vec<&str> = plan
        .lines()
        .filter(|l| l.contains("(stand-in: the recording engine fetches nothing)"))
        .filter_map(|l| l.split("directory ").nth(1))
        .collect();
    assert_eq!(tree_digests.len(), 2, "{plan}");
    assert_ne!(
        tree_digests[0], tree_digests[1],
        "the tree and its ui/ are different content"
    );
    // The empty file's hash is not shown as if it were the binary's.
    assert!(!plan.contains("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
}
