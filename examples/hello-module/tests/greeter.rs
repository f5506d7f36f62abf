//! The greeter module's binary, spawned as the engine spawns it (the session variables of the
//! mock engine's HTTP session server): its registration, and each function's answer.

use std::time::Duration;

use dagger_mock_engine::{FunctionCallSpec, MockEngine, SessionServer};
use serde_json::{json, Value};

/// Runs the module binary once for `spec`: its exit code and standard error.
async fn run(engine: &MockEngine, spec: FunctionCallSpec) -> (Option<i32>, String) {
    let server = SessionServer::start(engine)
        .await
        .expect("session server starts");
    engine.set_function_call(spec);
    engine.reset_recorder();
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_hello-module"));
    cmd.envs(server.env_vars()).kill_on_drop(true);
    // A guard against a hang, not a timing assertion.
    let out = tokio::time::timeout(Duration::from_secs(120), cmd.output())
        .await
        .expect("the module binary finishes")
        .expect("the module binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.code(), stderr)
}

/// The value a call returned, after checking that it succeeded.
async fn answer(engine: &MockEngine, spec: FunctionCallSpec) -> Value {
    let (code, stderr) = run(engine, spec).await;
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(engine.returned_error(), None);
    engine.returned_value().expect("a value was returned")
}

async fn id_of(engine: &MockEngine, query: &str, path: &[&str]) -> String {
    let mut data = engine.client().query(query).await.expect("setup query");
    for p in path {
        data = data[p].take();
    }
    data.as_str().expect("an ID").to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn registers_four_functions_with_their_types_defaults_and_descriptions() {
    let engine = MockEngine::new();
    let (code, stderr) = run(&engine, FunctionCallSpec::registration()).await;
    assert_eq!(code, Some(0), "{stderr}");
    // read, leaf types, functions, object, module, return: batched whatever the functions.
    assert!(engine.round_trips() <= 7, "{:#?}", engine.queries());
    let module = engine.registered_module().expect("a module was registered");
    assert_eq!(
        module.description,
        "Greetings, word counts and a look inside a container."
    );
    let object = &module.objects[0];
    assert_eq!(object.name, "Greeter");
    let names: Vec<&str> = object.functions.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["hello", "wordCount", "alpineVersion", "loginCheck"]);
    let signature = |name: &str| {
        let f = object.function(name).expect("registered");
        let args: Vec<String> = f
            .args
            .iter()
            .map(|a| match &a.default_value {
                Some(d) => format!("{}: {} = {d}", a.name, a.type_def),
                None => format!("{}: {}", a.name, a.type_def),
            })
            .collect();
        format!("{}({}) -> {}", f.name, args.join(", "), f.return_type)
    };
    assert_eq!(
        signature("hello"),
        r#"hello(name: String = "world", shout: Boolean = false) -> String"#
    );
    assert_eq!(signature("wordCount"), "wordCount(src: Directory) -> Int");
    assert_eq!(
        signature("alpineVersion"),
        r#"alpineVersion(tag: String = "3.22") -> String"#
    );
    assert_eq!(
        signature("loginCheck"),
        "loginCheck(registry: String, username: String, password: Secret?) -> String"
    );
    let hello = object.function("hello").unwrap();
    assert_eq!(hello.description, "Say hello to someone.");
    assert_eq!(hello.arg("name").unwrap().description, "Who to greet");
    assert_eq!(hello.arg("shout").unwrap().description, "Greet in capitals");
    assert_eq!(hello.cache_policy, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn hello_takes_its_defaults_and_its_arguments() {
    let engine = MockEngine::new();
    let hello = || FunctionCallSpec::call("Greeter", "hello");
    assert_eq!(answer(&engine, hello()).await, json!("hello, world!"));
    let loud = hello()
        .arg("name", json!("dagger"))
        .arg("shout", json!(true));
    assert_eq!(answer(&engine, loud).await, json!("HELLO, DAGGER!"));
}

#[tokio::test(flavor = "multi_thread")]
async fn word_count_counts_the_words_of_the_files() {
    let engine = MockEngine::new();
    let src = id_of(
        &engine,
        r#"query{directory{withNewFile(path:"a.txt",contents:"one two\nthree"){withNewFile(path:"b.md",contents:"four"){withNewFile(path:"sub/c.txt",contents:"not counted"){id}}}}}"#,
        &["directory", "withNewFile", "withNewFile", "withNewFile", "id"],
    )
    .await;
    let call = FunctionCallSpec::call("Greeter", "wordCount").arg("src", json!(src));
    assert_eq!(answer(&engine, call).await, json!(4));
}

#[tokio::test(flavor = "multi_thread")]
async fn alpine_version_runs_a_container_of_the_tag_asked_for() {
    let engine = MockEngine::new();
    engine.set_exec_stdout(&["cat", "/etc/alpine-release"], "3.20.6\n");
    let call = FunctionCallSpec::call("Greeter", "alpineVersion").arg("tag", json!("3.20"));
    assert_eq!(answer(&engine, call).await, json!("3.20.6"));
    let queries = engine.queries().join("\n");
    assert!(
        queries.contains(r#"from(address:"alpine:3.20")"#),
        "{queries}"
    );
    // Without a tag: the default.
    let call = FunctionCallSpec::call("Greeter", "alpineVersion");
    answer(&engine, call).await;
    let queries = engine.queries().join("\n");
    assert!(
        queries.contains(r#"from(address:"alpine:3.22")"#),
        "{queries}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn login_check_with_and_without_a_password_never_reads_it() {
    let engine = MockEngine::new();
    let secret = id_of(
        &engine,
        r#"query{setSecret(name:"pw",plaintext:"hunter2"){id}}"#,
        &["setSecret", "id"],
    )
    .await;
    let call = || {
        FunctionCallSpec::call("Greeter", "loginCheck")
            .arg("registry", json!("registry.example.org"))
            .arg("username", json!("ci"))
    };
    assert_eq!(
        answer(&engine, call()).await,
        json!("ci@registry.example.org: anonymous")
    );
    assert_eq!(
        answer(&engine, call().arg("password", json!(secret))).await,
        json!("ci@registry.example.org: with a password")
    );
    let queries = engine.queries().join("\n");
    assert!(!queries.contains("plaintext"), "{queries}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_argument_and_a_failed_engine_call_are_returned_as_errors() {
    let engine = MockEngine::new();
    let (code, _) = run(&engine, FunctionCallSpec::call("Greeter", "loginCheck")).await;
    assert_eq!(code, Some(2));
    let error = engine.returned_error().expect("an error was returned");
    assert!(error.contains("--registry"), "{error}");
    let bad = FunctionCallSpec::call("Greeter", "wordCount").arg("src", json!("not-an-id"));
    let (code, stderr) = run(&engine, bad).await;
    assert_eq!(code, Some(1), "{stderr}");
    assert!(engine.returned_error().is_some());
}
