//! Fidelity tests of the mock Dagger engine: it must answer as the real
//! engine does wherever the crate relies on it.

use std::sync::Arc;

use dagger_engine::{EngineClient, HttpTransport, HttpTransportConfig, PathSegment, QueryError};
use dagger_mock_engine::{AccountRights, BuildStep, ExecFailure, MockEngine, PushFailure};
use serde_json::json;

fn field(name: &str) -> PathSegment {
    PathSegment::Field(name.to_string())
}

async fn id_of(engine: &MockEngine, query: &str, pointer: &str) -> String {
    let data = engine.client().query(query).await.unwrap();
    data.pointer(pointer)
        .and_then(|v| v.as_str())
        .unwrap_or_else(|| panic!("no ID at {pointer} in {data}"))
        .to_string()
}

// ---------------------------------------------------------------------------------------------
// dagger-sdk's generated API, on both transports

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
async fn sdk_chain_runs_over_http_with_both_clients() {
    let engine = MockEngine::new();
    let server = dagger_mock_engine::SessionServer::start(&engine)
        .await
        .unwrap();
    // The crate's HttpTransport (standard base64).
    let client = EngineClient::new(Arc::new(HttpTransport::new(
        &server.session_params(),
        HttpTransportConfig::default(),
    )));
    let out = client
        .dagger()
        .container()
        .from("alpine")
        .with_exec(vec!["echo", "over", "http"])
        .stdout()
        .await
        .unwrap();
    assert_eq!(out, "over http\n");
    // dagger-sdk's own client (URL-safe base64), as a process using DAGGER_SESSION_* would.
    let params =
        dagger_sdk::core::connect_params::ConnectParams::new(server.port().into(), server.token());
    let sdk_client = dagger_sdk::core::graphql_client::DefaultGraphQLClient::new(
        &params,
        &dagger_sdk::Config::default(),
    );
    let query = dagger_sdk::Query {
        proc: None,
        selection: dagger_sdk::Selection::default(),
        graphql_client: Arc::new(sdk_client),
    };
    let out = query
        .container()
        .from("alpine")
        .with_exec(vec!["echo", "sdk"])
        .stdout()
        .await
        .unwrap();
    assert_eq!(out, "sdk\n");
    let vars = server.env_vars();
    assert_eq!(
        vars[0],
        ("DAGGER_SESSION_PORT".into(), server.port().to_string())
    );
    assert_eq!(vars[1].0, "DAGGER_SESSION_TOKEN");
    assert_eq!(engine.round_trips(), 2);
}

#[tokio::test]
async fn sdk_sync_then_reads_through_node() {
    let engine = MockEngine::new();
    let synced = engine
        .query()
        .container()
        .from("alpine")
        .with_exec(vec!["echo", "x"])
        .sync()
        .await
        .unwrap();
    // dagger-sdk continues from `node(id:) { ... on Container { ... } }`.
    assert_eq!(synced.stdout().await.unwrap(), "x\n");
    assert!(engine.queries()[1].contains("node(id:"));
}

// ---------------------------------------------------------------------------------------------
// HTTP session server

#[tokio::test]
async fn http_refuses_a_wrong_or_missing_token() {
    let engine = MockEngine::new();
    let server = dagger_mock_engine::SessionServer::start(&engine)
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let body = json!({"query": "{version}"});
    let missing = http
        .post(server.endpoint())
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 401);
    let wrong = http
        .post(server.endpoint())
        .basic_auth("not-the-token", Some(""))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let right = http
        .post(server.endpoint())
        .basic_auth(server.token(), Some(""))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), 200);
    let answer: serde_json::Value = right.json().await.unwrap();
    assert_eq!(answer["data"]["version"], "v0.21.11");
    // A refused request never reaches the evaluator.
    assert_eq!(engine.round_trips(), 1);
}

#[tokio::test]
async fn http_answers_422_for_validation_errors_and_200_for_execution_errors() {
    let engine = MockEngine::new();
    engine.fail_exec(ExecFailure {
        args_contains: vec!["false".into()],
        exit_code: 1,
        stdout: String::new(),
        stderr: String::new(),
    });
    let server = dagger_mock_engine::SessionServer::start(&engine)
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let post = |q: &str| {
        http.post(server.endpoint())
            .basic_auth(server.token(), Some(""))
            .json(&json!({"query": q, "variables": null}))
            .send()
    };
    let invalid = post("{container{nope}}").await.unwrap();
    assert_eq!(invalid.status(), 422);
    let body: serde_json::Value = invalid.json().await.unwrap();
    assert!(body.get("data").is_none(), "{body}");
    assert_eq!(
        body["errors"][0]["message"],
        "Cannot query field \"nope\" on type \"Container\"."
    );
    let failed = post(r#"{container{from(address:"alpine"){withExec(args:["false"]){sync}}}}"#)
        .await
        .unwrap();
    assert_eq!(failed.status(), 200);
    let body: serde_json::Value = failed.json().await.unwrap();
    assert_eq!(body["data"], serde_json::Value::Null);
    assert_eq!(body["errors"][0]["extensions"]["_type"], "EXEC_ERROR");
    // The crate's transport turns 422 into a GraphQL error answer, not a transport failure.
    let client = EngineClient::new(Arc::new(HttpTransport::new(
        &server.session_params(),
        HttpTransportConfig::default(),
    )));
    let err = client.query("{nope}").await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "Cannot query field \"nope\" on type \"Query\"."
    );
}

#[tokio::test]
async fn http_server_stops_when_dropped() {
    let engine = MockEngine::new();
    let server = dagger_mock_engine::SessionServer::start(&engine)
        .await
        .unwrap();
    let params = server.session_params();
    drop(server);
    tokio::task::yield_now().await;
    let client = EngineClient::new(Arc::new(HttpTransport::new(
        &params,
        HttpTransportConfig {
            connect_timeout: std::time::Duration::from_secs(2),
            request_timeout: std::time::Duration::from_secs(5),
        },
    )));
    let mut refused = false;
    for _ in 0..50 {
        if client.query("{version}").await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(refused, "the server kept answering after drop");
}

// ---------------------------------------------------------------------------------------------
// Validation

#[tokio::test]
async fn validation_errors_name_the_rule() {
    let engine = MockEngine::new();
    let client = engine.client();
    let cases = [
        ("{container{bogus}}", "Cannot query field \"bogus\" on type \"Container\"."),
        (
            r#"{container{from(address:"a", bogus: 1){id}}}"#,
            "Unknown argument \"bogus\" on field \"Container.from\".",
        ),
        (
            "{container{from{id}}}",
            "Field \"from\" argument \"address\" of type \"String!\" is required, but it was not provided.",
        ),
        (
            "{container}",
            "Field \"container\" of type \"Container!\" must have a selection of subfields. Did you mean \"container { ... }\"?",
        ),
        (
            "{version{x}}",
            "Field \"version\" must not have a selection since type \"String!\" has no subfields.",
        ),
        (
            r#"{container{withExec(args:["a"], expect: MAYBE){id}}}"#,
            "Argument \"expect\" of field \"Container.withExec\" has an invalid value: Expected value of type \"ReturnType\", found MAYBE.",
        ),
        (
            r#"{container{withExposedPort(port:"80"){id}}}"#,
            "Argument \"port\" of field \"Container.withExposedPort\" has an invalid value: Expected value of type \"Int\", found \"80\".",
        ),
    ];
    for (query, message) in cases {
        let answer = client.execute(query).await.unwrap();
        assert_eq!(answer.data, None, "{query}");
        assert_eq!(answer.errors.len(), 1, "{query}: {:?}", answer.errors);
        assert_eq!(answer.errors[0].message, message, "{query}");
    }
    let answer = client.execute("{container{").await.unwrap();
    assert!(
        answer.errors[0].message.starts_with("syntax error"),
        "{:?}",
        answer.errors
    );
}

#[tokio::test]
async fn literals_of_every_kind_and_variables_parse() {
    let engine = MockEngine::new();
    let q = r#"query Build {
        c: container(platform: "linux/arm64") {
            withExec(args: "echo", expect: ANY, useEntrypoint: false, stdin: null) {
                withExposedPort(port: 8080, protocol: UDP) { platform stdout }
            }
        }
        d: directory { dockerBuild(buildArgs: [{name: "A", value: "1"}]) { sync } }
    }"#;
    let answer = engine.client().execute(q).await.unwrap();
    // dockerBuild fails (no Dockerfile): `data` is null, the error names the failing object's
    // chain (field names, not the alias `d`) and the field.
    assert_eq!(answer.data, None);
    assert_eq!(
        answer.errors[0].path,
        vec![field("directory"), field("dockerBuild"), field("sync")]
    );
    let ok = engine
        .client()
        .query(r#"{c: container(platform: "linux/arm64") { withExec(args: "echo") { platform stdout } }}"#)
        .await
        .unwrap();
    assert_eq!(ok["c"]["withExec"]["platform"], "linux/arm64");
    assert_eq!(ok["c"]["withExec"]["stdout"], "\n");
}

// ---------------------------------------------------------------------------------------------
// IDs

#[tokio::test]
async fn ids_are_stable_quote_free_and_round_trip() {
    let engine = MockEngine::new();
    let q =
        r#"{container{from(address:"alpine"){withEnvVariable(name:"A", value:"\"quoted\\"){id}}}}"#;
    let a = id_of(&engine, q, "/container/from/withEnvVariable/id").await;
    let b = id_of(&engine, q, "/container/from/withEnvVariable/id").await;
    assert_eq!(a, b, "the same chain gives the same ID");
    assert!(!a.contains('"') && !a.contains('\\'));
    // Arguments in another order, and a default written out, name the same object.
    let c = id_of(
        &engine,
        r#"{container{from(address:"alpine"){withEnvVariable(expand: false, value:"\"quoted\\", name:"A"){id}}}}"#,
        "/container/from/withEnvVariable/id",
    )
    .await;
    assert_eq!(a, c);
    // The ID passed back as an argument resolves to its object.
    let q = format!(
        r#"{{node(id:"{a}"){{... on Container{{withExec(args:["echo","again"]){{stdout}}}}}}}}"#
    );
    let data = engine.client().query(&q).await.unwrap();
    assert_eq!(data["node"]["withExec"]["stdout"], "again\n");
    let description = engine.describe_container(&a).unwrap();
    assert_eq!(
        description.steps,
        vec![
            BuildStep::From {
                address: "alpine".into()
            },
            BuildStep::EnvVariable {
                name: "A".into(),
                value: "\"quoted\\".into()
            },
        ]
    );
}

#[tokio::test]
async fn node_with_a_fragment_of_another_type_gives_no_fields() {
    let engine = MockEngine::new();
    let id = id_of(&engine, "{container{id}}", "/container/id").await;
    let q = format!(r#"{{node(id:"{id}"){{__typename ... on Directory{{entries}}}}}}"#);
    let data = engine.client().query(&q).await.unwrap();
    assert_eq!(data["node"], json!({"__typename": "Container"}));
}

#[tokio::test]
async fn garbled_or_wrong_type_ids_are_errors() {
    let engine = MockEngine::new();
    let answer = engine
        .client()
        .execute(r#"{ok: version, n: node(id:"mockid:AAAA"){id}}"#)
        .await
        .unwrap();
    // dagql: `node` is nullable, yet its failure voids the whole answer, `version` included.
    // A field of the root keeps its alias as the path.
    assert_eq!(answer.data, None);
    assert_eq!(answer.errors.len(), 1);
    assert_eq!(answer.errors[0].path, vec![field("n")]);
    assert!(
        answer.errors[0].message.contains("failed to decode ID"),
        "{:?}",
        answer.errors
    );

    let container = id_of(&engine, "{container{id}}", "/container/id").await;
    let q = format!(
        r#"{{container{{withRegistryAuth(address:"r.example.com", username:"u", secret:"{container}"){{id}}}}}}"#
    );
    let answer = engine.client().execute(&q).await.unwrap();
    assert_eq!(answer.data, None);
    assert_eq!(
        answer.errors[0].message,
        "expected ID of type Secret, got ID of type Container"
    );
}

// ---------------------------------------------------------------------------------------------
// Exec errors and all-or-nothing answers

#[tokio::test]
async fn exec_error_has_the_engine_message_and_extensions() {
    let engine = MockEngine::new();
    engine.fail_exec(ExecFailure {
        args_contains: vec!["go".into(), "build".into()],
        exit_code: 2,
        stdout: "partial".into(),
        stderr: "undefined: x".into(),
    });
    let err = engine
        .query()
        .container()
        .from("golang")
        .with_exec(vec!["go", "build", "./..."])
        .sync()
        .await
        .err()
        .expect("the exec fails");
    let err = dagger_engine::query_error_from_sdk(&err);
    let entry = &err.graphql_errors()[0];
    assert_eq!(
        entry.message,
        "process \"go build ./...\" did not complete successfully: exit code: 2"
    );
    assert_eq!(
        entry.extensions,
        Some(
            json!({"_type": "EXEC_ERROR", "cmd": ["go", "build", "./..."], "exitCode": 2,
                    "stdout": "partial", "stderr": "undefined: x"})
        )
    );
    assert_eq!(
        entry.path,
        vec![
            field("container"),
            field("from"),
            field("withExec"),
            field("sync")
        ]
    );
    // Nothing runs until a leaf is asked: building the chain alone is fine.
    let lazy = engine
        .client()
        .query(r#"{container{from(address:"golang"){withExec(args:["go","build"]){id}}}}"#)
        .await;
    assert!(lazy.is_ok(), "{lazy:?}");
    // expect: ANY turns the failure into an exit code.
    let data = engine
        .client()
        .query(r#"{container{withExec(args:["go","build"], expect: ANY){exitCode stderr}}}"#)
        .await
        .unwrap();
    assert_eq!(data["container"]["withExec"]["exitCode"], 2);
    assert_eq!(data["container"]["withExec"]["stderr"], "undefined: x");
}

#[tokio::test]
async fn one_failing_alias_voids_the_whole_answer_even_under_node() {
    let engine = MockEngine::new();
    engine.fail_exec(ExecFailure {
        args_contains: vec!["bad".into()],
        exit_code: 1,
        stdout: String::new(),
        stderr: String::new(),
    });
    let good = r#"container{withExec(args:["echo","ok"]){stdout}}"#;
    let bad = r#"container{withExec(args:["bad"]){stdout}}"#;
    let bad2 = r#"container{withExec(args:["bad","again"]){stdout}}"#;
    let answer = engine
        .client()
        .execute(&format!("{{a: {good} b: {bad} c: {bad2}}}"))
        .await
        .unwrap();
    // dagql (upstream dagql/server.go, Resolve): no data at all, one error per failing field,
    // each with the path of its object's chain, not its alias.
    assert_eq!(answer.data, None);
    assert_eq!(answer.errors.len(), 2, "{:?}", answer.errors);
    for e in &answer.errors {
        assert_eq!(
            e.path,
            vec![field("container"), field("withExec"), field("stdout")]
        );
    }

    // `node(id:)` is nullable, but dagql does not null it: the answer is void all the same.
    let base = id_of(&engine, "{container{id}}", "/container/id").await;
    let answer = engine
        .client()
        .execute(&format!(
            r#"{{a: node(id:"{base}"){{... on Container{{withExec(args:["echo","ok"]){{stdout}}}}}}
                 b: node(id:"{base}"){{... on Container{{withExec(args:["bad"]){{stdout}}}}}}}}"#
        ))
        .await
        .unwrap();
    assert_eq!(answer.data, None);
    assert_eq!(answer.errors.len(), 1);
    assert_eq!(
        answer.errors[0].path,
        vec![field("container"), field("withExec"), field("stdout")]
    );
}

#[tokio::test]
async fn from_of_a_malformed_address_fails_when_selected() {
    let engine = MockEngine::new();
    // upstream core/schema/container.go: `from` resolves the image when it is selected.
    let eager = engine
        .client()
        .query(r#"{container{from(address:"Not A Ref"){id}}}"#)
        .await;
    assert!(eager.is_err());
    let err = engine
        .client()
        .query(r#"{container{from(address:"Not A Ref"){sync}}}"#)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("invalid reference format"),
        "{err}"
    );
}

// ---------------------------------------------------------------------------------------------
// Files and directories

#[tokio::test]
async fn host_and_git_trees_are_readable() {
    let engine = MockEngine::new();
    engine.add_host_directory(
        ".",
        &[
            ("containers/app/Dockerfile", "FROM alpine\n"),
            ("README", "x"),
        ],
    );
    engine.add_git_repository(
        "https://github.com/a/b",
        "v1.0.0",
        &[("go.mod", "module b\n")],
    );
    let data = engine
        .client()
        .query(
            r#"{
            df: host{directory(path:"."){file(path:"containers/app/Dockerfile"){contents}}}
            ls: host{directory(path:"./", include:["containers"]){entries}}
            git: git(url:"https://github.com/a/b"){tag(name:"v1.0.0"){tree{file(path:"go.mod"){contents name}}}}
            new: directory{withNewFile(path:"a/b.txt", contents:"hi"){directory(path:"a"){entries}}}
        }"#,
        )
        .await
        .unwrap();
    assert_eq!(data["df"]["directory"]["file"]["contents"], "FROM alpine\n");
    assert_eq!(data["ls"]["directory"]["entries"], json!(["containers/"]));
    assert_eq!(data["git"]["tag"]["tree"]["file"]["contents"], "module b\n");
    assert_eq!(data["git"]["tag"]["tree"]["file"]["name"], "go.mod");
    assert_eq!(
        data["new"]["withNewFile"]["directory"]["entries"],
        json!(["b.txt"])
    );

    let err = engine
        .client()
        .query(r#"{host{directory(path:"."){file(path:"containers/none/Dockerfile"){contents}}}}"#)
        .await
        .unwrap_err();
    assert!(
        err.to_string().ends_with("no such file or directory"),
        "{err}"
    );
}

#[tokio::test]
async fn docker_build_and_container_files() {
    let engine = MockEngine::new();
    engine.add_host_directory("/src", &[("containers/app/Dockerfile", "FROM alpine\n")]);
    let data = engine
        .client()
        .query(
            r#"{host{directory(path:"/src"){directory(path:"containers/app"){dockerBuild{
                withNewFile(path:"/etc/motd", contents:"hello"){file(path:"/etc/motd"){contents} id}}}}}}"#,
        )
        .await
        .unwrap();
    let built = &data["host"]["directory"]["directory"]["dockerBuild"]["withNewFile"];
    assert_eq!(built["file"]["contents"], "hello");
    let description = engine
        .describe_container(built["id"].as_str().unwrap())
        .unwrap();
    assert!(
        matches!(&description.steps[0], BuildStep::DockerBuild { dockerfile, .. } if dockerfile == "Dockerfile")
    );
    assert!(description
        .to_string()
        .starts_with("DOCKER BUILD directory sha256:"));
}

// ---------------------------------------------------------------------------------------------
// Registry auth and publish

fn publish_query(auth: Option<(&str, &str, &str)>, address: &str) -> String {
    let auth = auth
        .map(|(a, u, s)| {
            format!(r#"withRegistryAuth(address:"{a}", username:"{u}", secret:"{s}"){{"#)
        })
        .unwrap_or_default();
    let close = if auth.is_empty() { "" } else { "}" };
    format!(
        r#"{{container{{from(address:"alpine"){{{auth}publish(address:"{address}"){close}}}}}}}"#
    )
}

async fn secret_id(engine: &MockEngine, name: &str, plaintext: &str) -> String {
    id_of(
        engine,
        &format!(r#"{{setSecret(name:"{name}", plaintext:"{plaintext}"){{id}}}}"#),
        "/setSecret/id",
    )
    .await
}

#[tokio::test]
async fn auth_is_keyed_by_the_normalised_host() {
    let cases = [
        (
            "https://registry.example.com/team/app:v1",
            "registry.example.com",
            "registry.example.com/team/app:v2",
        ),
        (
            "registry.example.com",
            "registry.example.com",
            "registry.example.com/app",
        ),
        (
            "localhost:5000/x:1.0",
            "localhost:5000",
            "localhost:5000/y:2",
        ),
        ("index.docker.io", "docker.io", "docker.io/team/app:1"),
        ("bitnami/redis", "docker.io", "team/app:1"),
    ];
    for (auth_address, host, publish_to) in cases {
        let engine = MockEngine::new();
        // A host with a model answers `from` with what it holds: the base image must be there.
        engine
            .registry("docker.io")
            .existing_tag("library/alpine", "latest");
        engine.registry(host).allow_anonymous_push(false).account(
            "ci",
            "pw",
            AccountRights::ReadWrite,
        );
        let secret = secret_id(&engine, "pw-secret", "pw").await;
        let data = engine
            .client()
            .query(&publish_query(
                Some((auth_address, "ci", &secret)),
                publish_to,
            ))
            .await
            .unwrap_or_else(|e| panic!("{auth_address} -> {publish_to}: {e}"));
        let reference = data["container"]["from"]["withRegistryAuth"]["publish"]
            .as_str()
            .unwrap();
        assert!(reference.contains("@sha256:"), "{reference}");
        let record = &engine.published()[0];
        assert_eq!(record.host, host, "{auth_address}");
        let auth = record.auth.as_ref().unwrap();
        assert_eq!(
            (
                auth.host.as_str(),
                auth.username.as_str(),
                auth.secret_name.as_str()
            ),
            (host, "ci", "pw-secret")
        );
    }
}

#[tokio::test]
async fn publish_answers_the_normalised_name_with_digest() {
    let engine = MockEngine::new();
    let data = engine
        .client()
        .query(r#"{a: container{publish(address:"team/app:1")} b: container{publish(address:"registry.example.com/x")}}"#)
        .await
        .unwrap();
    let a = data["a"]["publish"].as_str().unwrap();
    assert!(a.starts_with("docker.io/team/app:1@sha256:"), "{a}");
    let b = data["b"]["publish"].as_str().unwrap();
    assert!(b.starts_with("registry.example.com/x@sha256:"), "{b}");
    assert_eq!(b.len(), "registry.example.com/x@sha256:".len() + 64);
    assert_eq!(
        engine.registry("registry.example.com").tags("x"),
        ["latest"]
    );
}

#[tokio::test]
async fn anonymous_push_refused_gives_containerd_401() {
    let engine = MockEngine::new();
    engine
        .registry("registry.example.com")
        .allow_anonymous_push(false);
    let err = engine
        .client()
        .query(&publish_query(None, "registry.example.com/team/app:v1"))
        .await
        .unwrap_err();
    // containerd's ErrUnexpectedStatus: method, URL and status, no body and no prefix.
    assert_eq!(
        err.to_string(),
        "unexpected status from POST request to \
         https://registry.example.com/v2/team/app/blobs/uploads/: 401 Unauthorized"
    );
    // A registry that sends an error body: containerd joins its errors as a second line.
    engine.registry("registry.example.com").error_bodies(true);
    let err = engine
        .client()
        .query(&publish_query(None, "registry.example.com/team/app:v1"))
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .ends_with("/blobs/uploads/: 401 Unauthorized\nunauthorized"),
        "{err}"
    );
    // A registry that lets nobody in anonymously refuses the first request, a HEAD (no body).
    engine
        .registry("registry.example.com")
        .allow_anonymous_pull(false);
    let err = engine
        .client()
        .query(&publish_query(None, "registry.example.com/team/app:v1"))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("unexpected status from HEAD request to https://registry.example.com/v2/team/app/blobs/sha256:")
            && err.ends_with(": 401 Unauthorized"),
        "{err}"
    );
    assert!(engine.published().is_empty());
}

#[tokio::test]
async fn wrong_password_and_unknown_user_are_401() {
    let engine = MockEngine::new();
    engine
        .registry("r.example.com")
        .allow_anonymous_push(false)
        .account("ci", "right", AccountRights::ReadWrite);
    for (user, pw) in [("ci", "wrong"), ("nobody", "right")] {
        let secret = secret_id(&engine, "s", pw).await;
        let err = engine
            .client()
            .query(&publish_query(
                Some(("r.example.com", user, &secret)),
                "r.example.com/a:1",
            ))
            .await
            .unwrap_err();
        assert!(err.to_string().contains(": 401 Unauthorized"), "{err}");
        assert!(!err.to_string().contains(pw), "no plaintext in errors");
    }
}

#[tokio::test]
async fn create_only_account_cannot_overwrite_a_tag() {
    let engine = MockEngine::new();
    let registry = engine.registry("registry.example.com");
    registry
        .allow_anonymous_push(false)
        .account("zot-ci", "zak_key", AccountRights::CreateOnly);
    let old = registry.existing_tag("blumeops/app", "v1");
    assert!(old.starts_with("sha256:") && old.len() == 71);
    let secret = secret_id(&engine, "key", "zak_key").await;
    let err = engine
        .client()
        .query(&publish_query(
            Some(("registry.example.com", "zot-ci", &secret)),
            "registry.example.com/blumeops/app:v1",
        ))
        .await
        .unwrap_err();
    let msg = err.to_string();
    // The engine's words (issue 11): the manifest's PUT refused, no body.
    assert!(msg.starts_with("push content sha256:"), "{msg}");
    assert!(
        msg.contains(": failed commit on ref \"manifest-sha256:"),
        "{msg}"
    );
    assert!(msg.ends_with(": unexpected status from PUT request to https://registry.example.com/v2/blumeops/app/manifests/v1: 403 Forbidden"), "{msg}");
    registry.error_bodies(true);
    let msg = engine
        .client()
        .query(&publish_query(
            Some(("registry.example.com", "zot-ci", &secret)),
            "registry.example.com/blumeops/app:v1",
        ))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        msg.ends_with("/manifests/v1: 403 Forbidden\ndenied"),
        "{msg}"
    );
    // A new tag is fine.
    engine
        .client()
        .query(&publish_query(
            Some(("registry.example.com", "zot-ci", &secret)),
            "registry.example.com/blumeops/app:v2",
        ))
        .await
        .unwrap();
    assert_eq!(registry.tags("blumeops/app"), ["v1", "v2"]);
}

#[tokio::test]
async fn transient_failures_then_success() {
    let engine = MockEngine::new();
    let registry = engine.registry("r.example.com");
    registry
        .fail_next_pushes(1, PushFailure::Status(503))
        .fail_next_pushes(1, PushFailure::Status(429))
        .fail_next_pushes(1, PushFailure::ConnectionReset);
    let q = publish_query(None, "r.example.com/a:1");
    let expect = [
        "unexpected status from POST request to https://r.example.com/v2/a/blobs/uploads/: 503 Service Unavailable",
        "unexpected status from POST request to https://r.example.com/v2/a/blobs/uploads/: 429 Too Many Requests",
        "failed to do request: Put \"https://r.example.com/v2/a/manifests/1\": read tcp 127.0.0.1:41234->r.example.com: read: connection reset by peer",
    ];
    for want in expect {
        let err = engine.client().query(&q).await.unwrap_err();
        assert_eq!(err.to_string(), want);
    }
    engine.client().query(&q).await.unwrap();
    assert_eq!(engine.published().len(), 1);
}

#[tokio::test]
async fn unreachable_registry_is_a_dns_failure() {
    let engine = MockEngine::new();
    engine.registry("gone.example.com").unreachable(true);
    let err = engine
        .client()
        .query(&publish_query(None, "gone.example.com/a:1"))
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.starts_with("failed to do request: Head \"https://gone.example.com/v2/a/blobs/sha256:"),
        "{msg}"
    );
    assert!(
        msg.ends_with("dial tcp: lookup gone.example.com: no such host"),
        "{msg}"
    );
}

#[tokio::test]
async fn digest_is_stable_for_a_chain_and_ignores_registry_auth() {
    let engine = MockEngine::new();
    engine
        .registry("r.example.com")
        .account("u", "pw", AccountRights::ReadWrite);
    let secret = secret_id(&engine, "s", "pw").await;
    let digest_of = |q: String| {
        let engine = engine.clone();
        async move {
            let data = engine.client().query(&q).await.unwrap();
            let text = data.to_string();
            let at = text.find("@sha256:").unwrap();
            text[at + 1..at + 72].to_string()
        }
    };
    let plain = digest_of(publish_query(None, "r.example.com/a:1")).await;
    let again = digest_of(publish_query(None, "r.example.com/a:2")).await;
    let with_auth = digest_of(publish_query(
        Some(("r.example.com", "u", &secret)),
        "r.example.com/a:3",
    ))
    .await;
    let other = digest_of(
        r#"{container{from(address:"alpine"){withExec(args:["true"]){publish(address:"r.example.com/a:4")}}}}"#.into(),
    )
    .await;
    assert_eq!(plain, again);
    assert_eq!(plain, with_auth);
    assert_ne!(plain, other);
}

#[tokio::test]
async fn later_auth_replaces_earlier_and_without_removes() {
    let engine = MockEngine::new();
    engine
        .registry("r.example.com")
        .allow_anonymous_push(false)
        .account("new", "pw2", AccountRights::ReadWrite);
    let old = secret_id(&engine, "old", "pw1").await;
    let new = secret_id(&engine, "new", "pw2").await;
    let q = format!(
        r#"{{container{{withRegistryAuth(address:"r.example.com", username:"old", secret:"{old}"){{
            withRegistryAuth(address:"https://r.example.com/x", username:"new", secret:"{new}"){{publish(address:"r.example.com/a:1")}}}}}}}}"#
    );
    engine.client().query(&q).await.unwrap();
    assert_eq!(engine.published()[0].auth.as_ref().unwrap().username, "new");
    let q = format!(
        r#"{{container{{withRegistryAuth(address:"r.example.com", username:"new", secret:"{new}"){{
            withoutRegistryAuth(address:"r.example.com"){{publish(address:"r.example.com/a:2")}}}}}}}}"#
    );
    let err = engine.client().query(&q).await.unwrap_err();
    assert!(err.to_string().contains("401 Unauthorized"), "{err}");
}

#[tokio::test]
async fn auth_stored_when_a_chain_is_replayed_from_its_id() {
    let engine = MockEngine::new();
    engine
        .registry("r.example.com")
        .allow_anonymous_push(false)
        .account("ci", "pw", AccountRights::ReadWrite);
    let secret = secret_id(&engine, "s", "pw").await;
    let id = id_of(
        &engine,
        &format!(r#"{{container{{withRegistryAuth(address:"r.example.com", username:"ci", secret:"{secret}"){{id}}}}}}"#),
        "/container/withRegistryAuth/id",
    )
    .await;
    // Forget the session credential, then load the container from its ID: the chain replays.
    engine
        .client()
        .query(r#"{container{withoutRegistryAuth(address:"r.example.com"){id}}}"#)
        .await
        .unwrap();
    let q = format!(
        r#"{{node(id:"{id}"){{... on Container{{publish(address:"r.example.com/a:1")}}}}}}"#
    );
    let data = engine.client().query(&q).await.unwrap();
    assert!(data["node"]["publish"]
        .as_str()
        .unwrap()
        .contains("@sha256:"));
}

#[tokio::test]
async fn from_a_known_tag_resolves_its_digest() {
    let engine = MockEngine::new();
    let digest = engine
        .registry("r.example.com")
        .existing_tag("base/img", "1.0");
    let data = engine
        .client()
        .query(
            r#"{known: container{from(address:"r.example.com/base/img:1.0"){imageRef}}
                  public: container{from(address:"alpine"){imageRef}}}"#,
        )
        .await
        .unwrap();
    assert_eq!(
        data["known"]["from"]["imageRef"],
        format!("r.example.com/base/img:1.0@{digest}")
    );
    assert!(data["public"]["from"]["imageRef"]
        .as_str()
        .unwrap()
        .starts_with("docker.io/library/alpine:latest@sha256:"));
}

#[tokio::test]
async fn platform_variants_are_recorded() {
    let engine = MockEngine::new();
    let arm = id_of(
        &engine,
        r#"{container(platform:"linux/arm64"){id}}"#,
        "/container/id",
    )
    .await;
    let q = format!(
        r#"{{container(platform:"linux/amd64"){{publish(address:"r.example.com/a:1", platformVariants:["{arm}"])}}}}"#
    );
    engine.client().query(&q).await.unwrap();
    let record = &engine.published()[0];
    assert_eq!(record.platform_variants, 1);
    assert_eq!(record.container.platform.as_deref(), Some("linux/amd64"));
}

// ---------------------------------------------------------------------------------------------
// Secrets and the recorder

#[tokio::test]
async fn secrets_stay_out_of_ids_and_plaintext_reads_are_recorded() {
    let engine = MockEngine::new();
    engine.set_env("ZOT_KEY", "zak_from_env");
    let id = secret_id(&engine, "pw", "hunter2-plaintext").await;
    assert!(!id.contains("hunter2"));
    // Nor in any base64 form: decode the ID's body and look again.
    use base64::Engine as _;
    let body = id.split(':').nth(1).unwrap();
    let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(body)
        .unwrap();
    assert!(!String::from_utf8_lossy(&decoded).contains("hunter2"));
    let data = engine
        .client()
        .query(&format!(
            r#"{{a: node(id:"{id}"){{... on Secret{{name plaintext}}}} b: secret(uri:"env://ZOT_KEY"){{plaintext}}}}"#
        ))
        .await
        .unwrap();
    assert_eq!(data["a"]["plaintext"], "hunter2-plaintext");
    assert_eq!(data["b"]["plaintext"], "zak_from_env");
    assert_eq!(engine.plaintext_reads(), ["pw", "env://ZOT_KEY"]);
    // upstream env.go: an unset variable is named by its first 3 characters.
    let err = engine
        .client()
        .query(r#"{secret(uri:"env://MISSING"){plaintext}}"#)
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .ends_with(r#"secret env var not found: "MIS...""#),
        "{err}"
    );
}

#[tokio::test]
async fn secret_uris_need_a_known_provider_and_the_scheme_separator() {
    let engine = MockEngine::new();
    // upstream engine/client/secretprovider/secretprovider.go, ResolverForID.
    for (uri, message) in [
        (
            "env:ZOT_CI_API_KEY",
            r#"parse "env:ZOT_CI_API_KEY": malformed id"#,
        ),
        ("ZOT_CI_API_KEY", r#"parse "ZOT_CI_API_KEY": malformed id"#),
        ("foo://bar", r#"unsupported secret provider: "foo""#),
    ] {
        let answer = engine
            .client()
            .execute(&format!(r#"{{secret(uri:"{uri}"){{id}}}}"#))
            .await
            .unwrap();
        assert_eq!(answer.data, None, "{uri}");
        assert_eq!(answer.errors[0].message, message);
        assert_eq!(answer.errors[0].path, vec![field("secret")]);
    }
    // A known provider is accepted at once; the value is read when used.
    engine
        .client()
        .query(r#"{a: secret(uri:"cmd://echo x"){id} b: secret(uri:"env://UNSET"){id}}"#)
        .await
        .unwrap();
}

#[tokio::test]
async fn address_secret_maps_values_as_the_cli_does() {
    let engine = MockEngine::new();
    engine.set_env("ZOT_CI_API_KEY", "zak_env");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pw");
    std::fs::write(&file, "zak_file").unwrap();
    let file = file.display().to_string();
    for value in [
        "ZOT_CI_API_KEY".to_string(),
        "env:ZOT_CI_API_KEY".into(),
        "env://ZOT_CI_API_KEY".into(),
        format!("file:{file}"),
        format!("file://{file}"),
    ] {
        let data = engine
            .client()
            .query(&format!(
                r#"{{address(value:{}){{secret{{plaintext}}}}}}"#,
                dagger_engine::gql::string(&value)
            ))
            .await
            .unwrap_or_else(|e| panic!("{value}: {e}"));
        let expected = if value.contains("file") {
            "zak_file"
        } else {
            "zak_env"
        };
        assert_eq!(data["address"]["secret"]["plaintext"], expected, "{value}");
    }
    // The Secret is `Query.secret`'s: its ID names the mapped URI.
    let via_address = id_of(
        &engine,
        r#"{address(value:"env:ZOT_CI_API_KEY"){secret{id}}}"#,
        "/address/secret/id",
    )
    .await;
    let direct = id_of(
        &engine,
        r#"{secret(uri:"env://ZOT_CI_API_KEY"){id}}"#,
        "/secret/id",
    )
    .await;
    assert_eq!(via_address, direct);
    // Another scheme is refused by the provider check, and an empty address at once.
    let err = engine
        .client()
        .query(r#"{address(value:"MY:VAR"){secret{id}}}"#)
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), r#"unsupported secret provider: "MY""#);
    let err = engine
        .client()
        .query(r#"{address(value:""){value}}"#)
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "resource cannot have empty address");
    let err = engine
        .client()
        .query(r#"{address(value:"file:/nonexistent/pw"){secret{plaintext}}}"#)
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .ends_with(r#"failed to read secret file "/nonexistent/pw": open /nonexistent/pw: no such file or directory"#),
        "{err}"
    );
}

#[tokio::test]
async fn address_directory_excludes_what_it_is_told_and_file_ignores_filters() {
    let engine = MockEngine::new();
    engine.add_host_directory(
        "/repo",
        &[
            ("containers/app/Dockerfile", "FROM alpine"),
            ("target/debug/huge", "x"),
            ("fuzz/corpus/a", "y"),
            ("src/__pycache__/m.pyc", "z"),
            ("src/main.py", "print()"),
        ],
    );
    let data = engine
        .client()
        .query(
            r#"{address(value:"file:///repo"){directory(exclude:["**/target","fuzz/corpus","**/__pycache__"]){entries}}}"#,
        )
        .await
        .unwrap();
    assert_eq!(
        data["address"]["directory"]["entries"],
        json!(["containers/", "src/"])
    );
    // The Directory is `host.directory`'s, with the exclusions it was given.
    let via_address = id_of(
        &engine,
        r#"{address(value:"/repo"){directory(exclude:["**/target"], noCache: true){id}}}"#,
        "/address/directory/id",
    )
    .await;
    let direct = id_of(
        &engine,
        r#"{host{directory(path:"/repo", exclude:["**/target"]){id}}}"#,
        "/host/directory/id",
    )
    .await;
    assert_eq!(via_address, direct);
    let data = engine
        .client()
        .query(
            r#"{address(value:"/repo/containers/app/Dockerfile"){file(exclude:["**"]){contents}}}"#,
        )
        .await
        .unwrap();
    assert_eq!(data["address"]["file"]["contents"], "FROM alpine");
    let err = engine
        .client()
        .query(r#"{address(value:"/elsewhere"){directory{id}}}"#)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("no such file or directory"),
        "{err}"
    );
    // A git address loads the ref's tree; a file needs a path after the ref.
    engine.add_git_repository("https://github.com/a/b", "v1", &[("go.mod", "module b")]);
    let data = engine
        .client()
        .query(r#"{address(value:"https://github.com/a/b#v1"){directory{entries}}}"#)
        .await
        .unwrap();
    assert_eq!(data["address"]["directory"]["entries"], json!(["go.mod"]));
    let err = engine
        .client()
        .query(r#"{address(value:"https://github.com/a/b#v1"){file{contents}}}"#)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "no file path specified within git repository"
    );
}

#[tokio::test]
async fn with_registry_auth_reads_the_secret_at_once() {
    let engine = MockEngine::new();
    let secret = id_of(
        &engine,
        r#"{secret(uri:"env://NOT_SET_ANYWHERE"){id}}"#,
        "/secret/id",
    )
    .await;
    // upstream core/schema/container.go: withRegistryAuth calls Plaintext right away.
    let err = engine
        .client()
        .query(&format!(
            r#"{{container{{withRegistryAuth(address:"r.example.com", username:"u", secret:"{secret}"){{id}}}}}}"#
        ))
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .ends_with(r#"secret env var not found: "NOT...""#),
        "{err}"
    );
}

#[tokio::test]
async fn from_an_absent_tag_is_not_found_and_tags_resolve_once_per_session() {
    let engine = MockEngine::new();
    let registry = engine.registry("registry.example.org");
    registry
        .allow_anonymous_pull(false)
        .account("ci", "pw", AccountRights::ReadWrite);
    let secret = secret_id(&engine, "pw", "pw").await;
    let lookup = |tag: &str| {
        format!(
            r#"{{container{{withRegistryAuth(address:"registry.example.org", username:"ci", secret:"{secret}"){{from(address:"registry.example.org/team/app:{tag}"){{imageRef}}}}}}}}"#
        )
    };
    // upstream core/schema/container.go + containerd resolver.go: the engine's words.
    let answer = engine.client().execute(&lookup("v1")).await.unwrap();
    assert_eq!(answer.data, None);
    assert_eq!(
        answer.errors[0].message,
        r#"failed to resolve image "registry.example.org/team/app:v1" (platform: "linux/amd64"): registry.example.org/team/app:v1: not found"#
    );
    assert_eq!(
        answer.errors[0].path,
        vec![field("container"), field("withRegistryAuth"), field("from")]
    );
    // A scenario gives the tag with a digest; `imageRef` answers it.
    let old = format!("sha256:{}", "a".repeat(64));
    registry.existing_tag_with_digest("team/app", "v1", &old);
    let data = engine.client().query(&lookup("v1")).await.unwrap();
    assert_eq!(
        data["container"]["withRegistryAuth"]["from"]["imageRef"],
        format!("registry.example.org/team/app:v1@{old}")
    );
    // A push moves the tag; the session still answers the digest it resolved first.
    let pushed = engine
        .client()
        .query(&format!(
            r#"{{container{{withExec(args:["true"]){{withRegistryAuth(address:"registry.example.org", username:"ci", secret:"{secret}"){{publish(address:"registry.example.org/team/app:v1")}}}}}}}}"#
        ))
        .await
        .unwrap();
    let pushed = pushed.to_string();
    assert!(!pushed.contains(&old), "{pushed}");
    let data = engine.client().query(&lookup("v1")).await.unwrap();
    assert!(data.to_string().contains(&old), "{data}");
    // A new session resolves afresh (and has no credentials until given them again).
    engine.new_session();
    let data = engine.client().query(&lookup("v1")).await.unwrap();
    assert!(!data.to_string().contains(&old), "{data}");
    // Wrong credentials: the manifest's HEAD is refused.
    let wrong = secret_id(&engine, "wrong", "nope").await;
    let err = engine
        .client()
        .query(&lookup("v2").replace(&secret, &wrong))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"failed to resolve image "registry.example.org/team/app:v2" (platform: "linux/amd64"): unexpected status from HEAD request to https://registry.example.org/v2/team/app/manifests/v2: 401 Unauthorized"#
    );
    // Injected faults of a resolution, and a host without a model (a public image).
    registry.fail_next_resolves(1, PushFailure::Status(503));
    let err = engine.client().query(&lookup("v1")).await;
    assert!(err.is_ok(), "resolved before in this session: {err:?}");
    let err = engine.client().query(&lookup("v3")).await.unwrap_err();
    assert!(
        err.to_string()
            .ends_with("/v2/team/app/manifests/v3: 503 Service Unavailable"),
        "{err}"
    );
    let data = engine
        .client()
        .query(r#"{container(platform:"linux/arm64"){from(address:"golang:1.22"){imageRef}}}"#)
        .await
        .unwrap();
    assert!(data["container"]["from"]["imageRef"]
        .as_str()
        .unwrap()
        .starts_with("docker.io/library/golang:1.22@sha256:"));
}

#[tokio::test]
async fn a_read_only_account_is_refused_before_the_manifest() {
    let engine = MockEngine::new();
    engine
        .registry("r.example.com")
        .account("reader", "pw", AccountRights::ReadOnly);
    let secret = secret_id(&engine, "s", "pw").await;
    let err = engine
        .client()
        .query(&publish_query(
            Some(("r.example.com", "reader", &secret)),
            "r.example.com/a:1",
        ))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "unexpected status from POST request to https://r.example.com/v2/a/blobs/uploads/: 403 Forbidden"
    );
}

#[tokio::test]
async fn recorder_counts_and_resets() {
    let engine = MockEngine::new();
    engine.client().query("{version}").await.unwrap();
    engine.client().query("{defaultPlatform}").await.unwrap();
    assert_eq!(engine.round_trips(), 2);
    assert_eq!(engine.queries(), ["{version}", "{defaultPlatform}"]);
    engine.reset_recorder();
    assert_eq!(engine.round_trips(), 0);
    assert!(engine.published().is_empty());
}

#[tokio::test]
async fn assert_never_sent_names_the_query_index() {
    let engine = MockEngine::new();
    engine.client().query("{version}").await.unwrap();
    let _ = secret_id(&engine, "pw", "leaked-value").await;
    let e = engine.clone();
    let panic = std::panic::catch_unwind(move || e.assert_never_sent("leaked-value")).unwrap_err();
    let msg = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(msg.contains("query #1"), "{msg}");
    assert!(
        !msg.contains("leaked-value"),
        "the panic must not repeat the secret"
    );
    engine.assert_never_sent("never-sent");
}

#[tokio::test]
async fn set_exec_stdout_answers_matching_commands() {
    let engine = MockEngine::new();
    engine.set_exec_stdout(&["git", "describe"], "v1.2.3\n");
    let out = engine
        .query()
        .container()
        .with_exec(vec!["git", "describe", "--tags"])
        .stdout()
        .await
        .unwrap();
    assert_eq!(out, "v1.2.3\n");
}

#[tokio::test]
async fn error_paths_follow_the_id_chain_not_the_aliases() {
    let engine = MockEngine::new();
    let answer = engine
        .client()
        .execute(r#"{first: container{out: stdout}}"#)
        .await
        .unwrap();
    // The receiver's chain by field names, then the failing selection's own alias.
    assert_eq!(
        answer.errors[0].path,
        vec![field("container"), field("out")]
    );
    let err = QueryError::GraphQL(answer.errors);
    assert!(err.to_string().contains("no command"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// Every field the mock implements exists in the engine's schema, with the same arguments.

/// The engine's schema (dagger/dagger v0.21.8 `docs/docs-graphql/schema.graphqls`): the file
/// named by `DAGGER_SCHEMA`, by default `../shared/dagger/schema.graphqls` beside the workspace.
fn engine_schema_path() -> std::path::PathBuf {
    match std::env::var_os("DAGGER_SCHEMA") {
        Some(path) => path.into(),
        None => std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/dagger/schema.graphqls"),
    }
}

#[test]
#[ignore = "needs the engine's schema: DAGGER_SCHEMA=<schema.graphqls> (default ../shared/dagger/schema.graphqls)"]
fn mock_schema_matches_the_engine_schema() {
    use graphql_parser::schema::{Definition, TypeDefinition, TypeExtension};
    let path = engine_schema_path();
    let engine_sdl = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read the engine's schema at {}: {e}; set DAGGER_SCHEMA to dagger/dagger's \
             docs/docs-graphql/schema.graphqls (v0.21.8)",
            path.display()
        )
    });
    let engine = graphql_parser::parse_schema::<String>(&engine_sdl).expect("engine schema parses");
    let mock_sdl = dagger_mock_engine::schema_sdl();
    let mock = graphql_parser::parse_schema::<String>(&mock_sdl).expect("mock schema parses");

    type Fields = std::collections::HashMap<String, Vec<(String, String)>>;
    fn collect(
        doc: &graphql_parser::schema::Document<'_, String>,
    ) -> std::collections::HashMap<String, (Fields, Vec<String>)> {
        let mut out: std::collections::HashMap<String, (Fields, Vec<String>)> = Default::default();
        for def in &doc.definitions {
            let (name, fields, extra): (
                _,
                &[graphql_parser::schema::Field<'_, String>],
                Vec<String>,
            ) = match def {
                Definition::TypeDefinition(TypeDefinition::Object(o)) => {
                    (o.name.clone(), &o.fields, vec![])
                }
                Definition::TypeExtension(TypeExtension::Object(o)) => {
                    (o.name.clone(), &o.fields, vec![])
                }
                Definition::TypeDefinition(TypeDefinition::Interface(i)) => {
                    (i.name.clone(), &i.fields, vec![])
                }
                Definition::TypeDefinition(TypeDefinition::Enum(e)) => (
                    e.name.clone(),
                    &[],
                    e.values.iter().map(|v| v.name.clone()).collect(),
                ),
                _ => continue,
            };
            let entry = out.entry(name).or_default();
            for f in fields {
                entry.0.insert(
                    format!("{}: {}", f.name, f.field_type),
                    f.arguments
                        .iter()
                        .map(|a| (a.name.clone(), a.value_type.to_string()))
                        .collect(),
                );
            }
            entry.1.extend(extra);
        }
        out
    }
    let engine_types = collect(&engine);
    let mut checked = 0;
    let mut problems: Vec<String> = Vec::new();
    for (ty, (fields, values)) in collect(&mock) {
        let Some((engine_fields, engine_values)) = engine_types.get(&ty) else {
            problems.push(format!("type {ty} is not in the engine's schema"));
            continue;
        };
        for v in values {
            if !engine_values.contains(&v) {
                problems.push(format!("enum value {ty}.{v} is not in the engine's schema"));
            }
        }
        for (field, args) in fields {
            let Some(engine_args) = engine_fields.get(&field) else {
                problems.push(format!(
                    "field {ty}.{field} is not in the engine's schema (same name and type)"
                ));
                continue;
            };
            for arg in &args {
                if !engine_args.contains(arg) {
                    problems.push(format!(
                        "argument {arg:?} of {ty}.{field} differs from the engine's"
                    ));
                }
            }
            for arg in engine_args {
                if !args.contains(arg) {
                    problems.push(format!(
                        "argument {arg:?} of {ty}.{field} is missing from the mock"
                    ));
                }
            }
            checked += 1;
        }
    }
    assert!(
        problems.is_empty(),
        "{} differences:\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert!(checked > 60, "only {checked} fields checked");
}

#[tokio::test]
async fn http_variables_latency_and_concurrent_queries() {
    let engine = MockEngine::new();
    let server = dagger_mock_engine::SessionServer::start(&engine)
        .await
        .unwrap();
    server.set_latency(std::time::Duration::from_millis(5));
    let http = reqwest::Client::new();
    let answer: serde_json::Value = http
        .post(server.endpoint())
        .basic_auth(server.token(), Some(""))
        .json(&json!({
            "query": "query($a: String!){container{from(address: $a){withExec(args: [\"echo\", $a]){stdout}}}}",
            "variables": {"a": "alpine"}
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        answer["data"]["container"]["from"]["withExec"]["stdout"],
        "alpine\n"
    );
    let client = EngineClient::new(Arc::new(HttpTransport::new(
        &server.session_params(),
        HttpTransportConfig::default(),
    )));
    let q = client.dagger();
    let ca = q.container().with_exec(vec!["echo", "a"]);
    let cb = q.container().with_exec(vec!["echo", "b"]);
    let (a, b) = futures::join!(ca.stdout(), cb.stdout());
    assert_eq!(
        (a.unwrap(), b.unwrap()),
        ("a\n".to_string(), "b\n".to_string())
    );
    assert_eq!(engine.round_trips(), 3);
}
