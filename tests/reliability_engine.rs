//! Engine faults: a misbehaving session server on 127.0.0.1 per case, against `HttpTransport`,
//! `EngineClient` (raw queries and the `dagger-sdk` adapter) and the real module binary.
//!
//! Each case must end with an error that names what failed, never a panic, never a hang: the
//! transport cases use a short request timeout; the module cases are guarded by a generous
//! `tokio::time::timeout` (a guard against a hang, not a timing assertion).

mod reliability_support;

use std::sync::atomic::Ordering::SeqCst;
use std::sync::Arc;
use std::time::Duration;

use dagger_engine::{
    EngineClient, HttpTransport, HttpTransportConfig, QueryError, SessionParams, Transport,
    TransportError,
};
use dagger_mock_engine::{FunctionCallSpec, MockEngine};
use reliability_support::{closed_port, Fault, FaultServer};
use serde_json::json;

/// A guard against hangs; the operations below end in well under a second.
const HANG_GUARD: Duration = Duration::from_secs(120);

fn transport(session: &SessionParams, timeout: Duration) -> HttpTransport {
    HttpTransport::new(
        session,
        HttpTransportConfig {
            connect_timeout: Duration::from_secs(2),
            request_timeout: timeout,
        },
    )
}

async fn execute(server: &FaultServer, timeout: Duration) -> Result<(), TransportError> {
    let t = transport(&server.session(), timeout);
    tokio::time::timeout(HANG_GUARD, t.execute("query{version}"))
        .await
        .expect("the transport answers within its own timeout")
        .map(|_| ())
}

async fn server(fault: Fault) -> FaultServer {
    FaultServer::start(MockEngine::new(), move |_, _| fault.clone()).await
}

#[tokio::test]
async fn connection_refused_is_unreachable_and_names_the_endpoint() {
    let port = closed_port().await;
    let session = SessionParams {
        port,
        token: secrecy::SecretString::from("t".to_string()),
    };
    let err = transport(&session, Duration::from_secs(5))
        .execute("query{version}")
        .await
        .unwrap_err();
    assert!(matches!(err, TransportError::Unreachable { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
    assert!(text.contains("could not be reached"), "{text}");
    assert!(text.to_lowercase().contains("connect"), "{text}");
}

#[tokio::test]
async fn a_connection_closed_before_the_answer_is_an_error_naming_the_endpoint() {
    let s = server(Fault::Close).await;
    let err = execute(&s, Duration::from_secs(5)).await.unwrap_err();
    assert!(matches!(err, TransportError::Unreachable { .. }), "{err:?}");
    assert!(err.to_string().contains(&s.port().to_string()), "{err}");
}

#[tokio::test]
async fn an_answer_dropped_half_way_is_an_error_not_a_hang() {
    let s = server(Fault::DropMidAnswer).await;
    let err = execute(&s, Duration::from_secs(5)).await.unwrap_err();
    // The body ends short of its Content-Length: reqwest reports a body error.
    let text = err.to_string();
    assert!(text.contains(&s.port().to_string()), "{text}");
    assert!(
        text.contains("body"),
        "the message says the body failed: {text}"
    );
    assert!(
        text.contains("broke off its answer") && !text.contains("could not be reached"),
        "an engine that answered was reached: {text}"
    );
}

#[tokio::test]
async fn a_slow_engine_times_out_at_the_configured_limit() {
    let s = server(Fault::Stall(Duration::from_secs(30))).await;
    let err = execute(&s, Duration::from_secs(1)).await.unwrap_err();
    assert_eq!(
        err,
        TransportError::Timeout {
            endpoint: format!("http://127.0.0.1:{}/query", s.port()),
            seconds: 1
        }
    );
    assert!(
        err.to_string().contains("did not answer within 1 s"),
        "{err}"
    );
}

#[tokio::test]
async fn malformed_json_is_named_as_such_with_the_start_of_the_body() {
    let s = server(Fault::ok("{\"data\": {\"version\": ")).await;
    let err = execute(&s, Duration::from_secs(5)).await.unwrap_err();
    assert!(matches!(err, TransportError::Malformed { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("not GraphQL JSON"), "{text}");
    assert!(text.contains("body starts"), "{text}");

    // Valid JSON but neither data nor errors.
    let s = server(Fault::ok("{\"hello\": 1}")).await;
    let err = execute(&s, Duration::from_secs(5)).await.unwrap_err();
    assert!(err.to_string().contains("neither data nor errors"), "{err}");

    // A huge non-JSON body is cut in the message.
    let s = server(Fault::ok("x".repeat(100_000))).await;
    let err = execute(&s, Duration::from_secs(5)).await.unwrap_err();
    assert!(err.to_string().len() < 2_000, "{}", err.to_string().len());
}

#[tokio::test]
async fn http_5xx_carries_the_status_and_the_body() {
    for status in [500u16, 502, 503] {
        let s = server(Fault::Raw {
            status,
            body: "engine exploded".into(),
        })
        .await;
        let err = execute(&s, Duration::from_secs(5)).await.unwrap_err();
        match &err {
            TransportError::Status {
                status: got, body, ..
            } => {
                assert_eq!(*got, status);
                assert_eq!(body, "engine exploded");
            }
            other => panic!("expected Status, got {other:?}"),
        }
        assert!(err.to_string().contains(&format!("HTTP {status}")), "{err}");
    }
    // A 5xx whose body looks like GraphQL is still a failure, not an answer.
    let s = server(Fault::Raw {
        status: 500,
        body: json!({"data": {"version": "v0.21.11"}}).to_string(),
    })
    .await;
    let err = execute(&s, Duration::from_secs(5)).await.unwrap_err();
    assert!(
        matches!(err, TransportError::Status { status: 500, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_refused_session_token_says_so() {
    let s = server(Fault::Raw {
        status: 401,
        body: "unauthorized".into(),
    })
    .await;
    let err = execute(&s, Duration::from_secs(5)).await.unwrap_err();
    assert!(
        matches!(err, TransportError::Unauthorized { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("DAGGER_SESSION_TOKEN"), "{err}");
}

/// An error whose extensions have no `_type`: `dagger-sdk` 0.21.11 alone fails to parse it
/// ("missing field `_type`"); through this crate's adapter it is a domain error with the message.
#[tokio::test]
async fn an_error_without_type_reaches_both_clients_with_its_message() {
    let body = json!({
        "data": null,
        "errors": [{"message": "failed to resolve image: not found", "path": ["container", "from"],
                    "extensions": {"code": "NOT_FOUND"}}]
    })
    .to_string();
    let s = server(Fault::ok(body)).await;
    let client = EngineClient::new(Arc::new(transport(&s.session(), Duration::from_secs(5))));

    let err = client.query("query{container{id}}").await.unwrap_err();
    match &err {
        QueryError::GraphQL(errors) => {
            assert_eq!(errors.len(), 1);
            assert_eq!(errors[0].extensions, Some(json!({"code": "NOT_FOUND"})));
            assert_eq!(errors[0].exec_error(), None);
        }
        other => panic!("expected GraphQL errors, got {other:?}"),
    }
    assert_eq!(err.to_string(), "failed to resolve image: not found");

    let sdk = client
        .dagger()
        .container()
        .from("alpine")
        .id()
        .await
        .unwrap_err();
    let recovered = dagger_engine::query_error_from_sdk(&sdk);
    assert_eq!(recovered.to_string(), "failed to resolve image: not found");
}

/// `dagger-sdk` unwraps the data of every answer; an answer with `data: null` and no errors
/// must be an error here, not a panic there.
#[tokio::test]
async fn the_sdk_adapter_turns_a_null_answer_into_an_error() {
    let s = server(Fault::ok(json!({"data": null}).to_string())).await;
    let client = EngineClient::new(Arc::new(transport(&s.session(), Duration::from_secs(5))));
    let err = client
        .dagger()
        .container()
        .from("alpine")
        .id()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("neither data nor errors"), "{err}");
    let err = client.query("query{version}").await.unwrap_err();
    assert!(err.to_string().contains("data"), "{err}");
}

#[tokio::test]
async fn every_sdk_call_on_a_dead_engine_is_an_error_naming_it() {
    let port = closed_port().await;
    let session = SessionParams {
        port,
        token: secrecy::SecretString::from("t".to_string()),
    };
    let client = EngineClient::new(Arc::new(transport(&session, Duration::from_secs(5))));
    let err = client
        .dagger()
        .container()
        .from("alpine")
        .with_exec(vec!["true"])
        .stdout()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("could not be reached"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// The module binary against a faulty engine

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

async fn run_module(env: Vec<(String, String)>) -> Run {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_blumeops-module"));
    cmd.envs(env)
        .env("RUST_LOG", "debug")
        .kill_on_drop(true)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let out = tokio::time::timeout(HANG_GUARD, cmd.output())
        .await
        .expect("the module binary finishes")
        .expect("the module binary runs");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn version_call() -> FunctionCallSpec {
    FunctionCallSpec::call("Blumeops", "containerVersion").arg("containerName", json!("navidrome"))
}

#[tokio::test(flavor = "multi_thread")]
async fn module_with_no_engine_listening_exits_1_naming_the_step_and_endpoint() {
    let port = closed_port().await;
    let run = run_module(vec![
        ("DAGGER_SESSION_PORT".into(), port.to_string()),
        ("DAGGER_SESSION_TOKEN".into(), "t".into()),
    ])
    .await;
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("reading the current function call failed"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(&format!("127.0.0.1:{port}")),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("could not be returned to the engine"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn module_with_a_broken_session_port_variable_exits_1() {
    let run = run_module(vec![
        ("DAGGER_SESSION_PORT".into(), "not-a-port".into()),
        ("DAGGER_SESSION_TOKEN".into(), "t".into()),
    ])
    .await;
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("DAGGER_SESSION_PORT must be a port number"),
        "{}",
        run.stderr
    );
}

/// A fault on the first query (reading the call); the engine works again for the rest, so the
/// module returns the failure with `returnError` and exits 1.
async fn module_first_query_fault(fault: Fault, expected: &str) {
    let engine = MockEngine::new();
    engine.set_function_call(version_call());
    let server = FaultServer::start(engine.clone(), move |i, _| {
        if i == 0 {
            fault.clone()
        } else {
            Fault::Forward
        }
    })
    .await;
    let run = run_module(server.env_vars()).await;
    assert_eq!(run.code, Some(1), "{expected}: {}", run.stderr);
    let returned = engine
        .returned_error()
        .unwrap_or_else(|| panic!("{expected}: no returnError; stderr: {}", run.stderr));
    assert!(
        returned.contains("reading the current function call failed"),
        "{returned}"
    );
    assert!(returned.contains(expected), "{expected}: {returned}");
    assert!(run.stderr.contains(expected), "{}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    assert_eq!(engine.returned_value(), None);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn module_reports_a_5xx_with_return_error() {
    module_first_query_fault(
        Fault::Raw {
            status: 503,
            body: "overloaded".into(),
        },
        "HTTP 503: overloaded",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn module_reports_malformed_json_with_return_error() {
    module_first_query_fault(Fault::ok("<html>proxy error</html>"), "not GraphQL JSON").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn module_reports_an_error_without_type_with_return_error() {
    let body = json!({"errors": [{"message": "session expired", "extensions": {"code": "X"}}]});
    module_first_query_fault(Fault::ok(body.to_string()), "session expired").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn module_reports_a_dropped_answer_with_return_error() {
    module_first_query_fault(Fault::DropMidAnswer, "body").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn module_reports_a_closed_connection_with_return_error() {
    module_first_query_fault(Fault::Close, "could not be reached").await;
}

/// Faults in the middle of a publish: the build is set up, then the request with the pushes
/// fails at the engine level.
async fn module_publish_fault(fault: Fault, persistent: bool, expected: &str, published: usize) {
    let engine = MockEngine::new();
    let src = engine
        .client()
        .query(
            "query{directory{withNewFile(path:\"containers/homepage/Dockerfile\",contents:\"FROM alpine\\nARG CONTAINER_APP_VERSION=v1.2.3\\n\"){id}}}",
        )
        .await
        .expect("setup")["directory"]["withNewFile"]["id"]
        .as_str()
        .expect("an ID")
        .to_string();
    engine.set_function_call(
        FunctionCallSpec::call("Blumeops", "publish")
            .arg("src", json!(src))
            .arg("containerName", json!("homepage"))
            .arg("version", json!("v1.2.3"))
            .arg("commitSha", json!("c86b5d7aa1"))
            .arg("extraTags", json!(["latest"]))
            .arg("existingTagPolicy", json!("overwrite")),
    );
    let hits = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let server = FaultServer::start(engine.clone(), move |_, q| {
        let first = hits.fetch_add(usize::from(q.contains("publish(address:")), SeqCst) == 0;
        if q.contains("publish(address:") && (persistent || first) {
            fault.clone()
        } else {
            Fault::Forward
        }
    })
    .await;
    let run = run_module(server.env_vars()).await;
    assert_eq!(run.code, Some(1), "{expected}: {}", run.stderr);
    let returned = engine
        .returned_error()
        .unwrap_or_else(|| panic!("{expected}: no returnError; stderr: {}", run.stderr));
    assert!(returned.contains(expected), "{expected}: {returned}");
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    assert_eq!(engine.published().len(), published, "{returned}");
    assert!(
        server
            .queries()
            .iter()
            .any(|q| q.contains("publish(address:")),
        "the publish request was sent"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn module_publish_with_the_engine_failing_5xx_exits_1() {
    let fault = Fault::Raw {
        status: 502,
        body: "bad gateway".into(),
    };
    module_publish_fault(fault, true, "HTTP 502", 0).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn module_publish_with_the_answer_dropped_exits_1() {
    module_publish_fault(Fault::DropMidAnswer, true, "the Dagger engine", 0).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn module_publish_with_malformed_json_exits_1() {
    module_publish_fault(Fault::ok("{\"data\":"), true, "not GraphQL JSON", 0).await;
}

/// One of the two pushes fails with an error that has no `_type` (dagger-sdk could not parse
/// it) and names no tag; dagql answers it alone, without data, its path made of the chain's
/// field names. The publisher never pushes again to learn what happened: it looks both tags up
/// through the engine, which (the answer being forged here, nothing was pushed) has neither, so
/// nothing is reported as published and the engine's own message survives.
#[tokio::test(flavor = "multi_thread")]
async fn module_publish_with_an_error_without_type_on_one_tag_is_partial() {
    let body = json!({"data": null, "errors": [{"message": "engine: internal failure",
                      "path": ["directory", "directory", "dockerBuild", "publish"],
                      "extensions": {"unexpected": true}}]});
    module_publish_fault(
        Fault::ok(body.to_string()),
        false,
        "engine: internal failure",
        0,
    )
    .await;
}

/// An error with no path at all on every push request: the engine's message must survive.
#[tokio::test(flavor = "multi_thread")]
async fn module_publish_with_a_pathless_error_keeps_the_engine_message() {
    let body = json!({"data": null, "errors": [{"message": "session closed by the engine"}]});
    module_publish_fault(
        Fault::ok(body.to_string()),
        true,
        "session closed by the engine",
        0,
    )
    .await;
}

/// A stalled engine ends the module process within `DAGGER_QUERY_TIMEOUT_SECS`, with the
/// failure sent back by `returnError` (the engine answers again after the stall).
#[tokio::test(flavor = "multi_thread")]
async fn module_with_a_stalled_engine_gives_up_at_the_configured_timeout() {
    let engine = MockEngine::new();
    engine.set_function_call(version_call());
    let server = FaultServer::start(engine.clone(), move |i, _| {
        if i == 0 {
            Fault::Stall(Duration::from_secs(30))
        } else {
            Fault::Forward
        }
    })
    .await;
    let mut env = server.env_vars();
    env.push(("DAGGER_QUERY_TIMEOUT_SECS".into(), "1".into()));
    let run = run_module(env).await;
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let returned = engine
        .returned_error()
        .unwrap_or_else(|| panic!("no returnError; stderr: {}", run.stderr));
    assert!(returned.contains("did not answer within 1 s"), "{returned}");
}
