//! The dispatch protocol on the mock engine: what each kind of call costs in round trips, how
//! values and errors go back, and the exit code of each outcome.

use std::process::ExitCode;
use std::sync::Arc;

use async_trait::async_trait;
use dagger_engine::{EngineClient, Response, Transport, TransportError};
use dagger_mock_engine::{FunctionCallSpec, MockEngine};
use dagger_module_runtime::{
    serve, ArgDef, Args, CallContext, FunctionDef, FunctionError, FunctionResult, Module,
    ModuleDef, Outcome, RuntimeError, TypeRef, READ_CALL_QUERY,
};
use serde_json::{json, Value};

struct Demo;

#[async_trait]
impl Module for Demo {
    fn definition(&self) -> ModuleDef {
        ModuleDef::new("demo", "A demo")
            .unwrap()
            .function(
                FunctionDef::new("greet", TypeRef::String, "Greets")
                    .arg(ArgDef::required("who_is_it", TypeRef::String, ""))
                    .arg(ArgDef::with_default(
                        "times",
                        TypeRef::Integer,
                        json!(1),
                        "",
                    ))
                    .arg(ArgDef::optional("token", TypeRef::object("Secret"), ""))
                    .arg(ArgDef::optional(
                        "words",
                        TypeRef::list(TypeRef::list(TypeRef::String)),
                        "",
                    )),
            )
            .function(FunctionDef::new("fail", TypeRef::String, ""))
            .function(FunctionDef::new("wrong", TypeRef::Integer, ""))
            .function(
                FunctionDef::new("dir", TypeRef::object("Directory"), "").arg(ArgDef::required(
                    "src",
                    TypeRef::object("Directory"),
                    "",
                )),
            )
    }

    async fn call(
        &self,
        ctx: &CallContext,
        function: &str,
        args: &Args,
    ) -> Result<FunctionResult, FunctionError> {
        match function {
            "greet" => {
                let who = args.string("who_is_it")?;
                if who.is_empty() {
                    return Err(FunctionError::InvalidArgument(
                        "--who-is-it must not be empty".into(),
                    ));
                }
                let token = args.optional_id("token")?.map(|id| id.0);
                Ok(FunctionResult::Value(json!(format!(
                    "hello {who} x{} token={}",
                    args.int("times")?,
                    token.unwrap_or_default()
                ))))
            }
            "fail" => Err(FunctionError::Failed("it broke".into())),
            "wrong" => Ok(FunctionResult::string("not a number")),
            "dir" => {
                // Building the typed object is lazy: it must cost no round trip.
                let _dir: dagger_sdk::Directory = args.object(&ctx.query(), "src")?;
                Ok(FunctionResult::Object(args.id("src")?))
            }
            other => Err(FunctionError::Failed(format!("unexpected {other}"))),
        }
    }
}

async fn serve_call(spec: FunctionCallSpec) -> (MockEngine, Result<Outcome, RuntimeError>) {
    let engine = MockEngine::new();
    engine.set_function_call(spec);
    let outcome = serve(&Demo, &engine.client()).await;
    (engine, outcome)
}

#[tokio::test]
async fn registration_is_bounded_by_depth() {
    let (engine, outcome) = serve_call(FunctionCallSpec::registration()).await;
    let outcome = outcome.unwrap();
    let Outcome::Registered(id) = &outcome else {
        panic!("{outcome:?}")
    };
    let queries = engine.queries();
    // read + 3 type levels ([[String]]) + functions + object + module + return = 8
    assert_eq!(queries.len(), 8, "{queries:#?}");
    assert_eq!(queries[0], READ_CALL_QUERY);
    assert_eq!(engine.returned_value(), Some(json!(id)));
    let module = engine.registered_module().expect("a module was registered");
    let greet = module.objects[0].function("greet").expect("greet");
    assert!(greet.arg("whoIsIt").is_some(), "{greet:?}");
    assert_eq!(outcome.exit_code(), ExitCode::SUCCESS);
}

#[tokio::test]
async fn a_call_costs_read_and_return() {
    let (engine, outcome) = serve_call(
        FunctionCallSpec::call("Demo", "greet")
            .arg("whoIsIt", json!("ops"))
            .arg("token", json!("secret-id")),
    )
    .await;
    assert_eq!(
        outcome.unwrap(),
        Outcome::Returned(json!("hello ops x1 token=secret-id"))
    );
    assert_eq!(engine.round_trips(), 2, "{:#?}", engine.queries());
    assert_eq!(
        engine.returned_value(),
        Some(json!("hello ops x1 token=secret-id"))
    );
}

#[tokio::test]
async fn the_constructor_returns_the_parent_state() {
    let (engine, outcome) = serve_call(FunctionCallSpec::call("Demo", "")).await;
    assert_eq!(outcome.unwrap(), Outcome::Returned(json!({})));
    assert_eq!(engine.returned_value(), Some(json!({})));
}

#[tokio::test]
async fn object_arguments_are_passed_by_id_without_a_round_trip() {
    let (engine, outcome) =
        serve_call(FunctionCallSpec::call("Demo", "dir").arg("src", json!("dir-id"))).await;
    assert_eq!(outcome.unwrap(), Outcome::Returned(json!("dir-id")));
    // read + return: building the typed Directory cost nothing.
    assert_eq!(engine.round_trips(), 2, "{:#?}", engine.queries());
}

#[tokio::test]
async fn bad_arguments_exit_2_with_the_error_returned() {
    let (engine, outcome) =
        serve_call(FunctionCallSpec::call("Demo", "greet").arg("whoIsIt", json!(7))).await;
    let outcome = outcome.unwrap();
    let Outcome::Failed { message, exit_code } = &outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(*exit_code, 2);
    assert!(message.contains("--who-is-it"), "{message}");
    assert_eq!(outcome.exit_code(), ExitCode::from(2));
    let queries = engine.queries();
    assert!(
        queries[1].starts_with("query{error(message:"),
        "{}",
        queries[1]
    );
    assert_eq!(engine.returned_error().as_deref(), Some(message.as_str()));

    let (_, outcome) =
        serve_call(FunctionCallSpec::call("Demo", "greet").arg("whoIsIt", json!(""))).await;
    assert!(matches!(
        outcome.unwrap(),
        Outcome::Failed { exit_code: 2, .. }
    ));
}

#[tokio::test]
async fn failures_exit_1() {
    let (engine, outcome) = serve_call(FunctionCallSpec::call("Demo", "fail")).await;
    assert_eq!(
        outcome.unwrap(),
        Outcome::Failed {
            message: "it broke".into(),
            exit_code: 1
        }
    );
    assert_eq!(engine.returned_error().as_deref(), Some("it broke"));
    let (_, outcome) = serve_call(FunctionCallSpec::call("Demo", "wrong")).await;
    let Outcome::Failed { message, .. } = outcome.unwrap() else {
        panic!()
    };
    assert!(message.contains("declares an integer"), "{message}");
    let (_, outcome) = serve_call(FunctionCallSpec::call("Demo", "nope")).await;
    let Outcome::Failed { message, .. } = outcome.unwrap() else {
        panic!()
    };
    assert_eq!(message, "object \"Demo\" has no function \"nope\"");
    let (_, outcome) = serve_call(FunctionCallSpec::call("Other", "greet")).await;
    let Outcome::Failed { message, .. } = outcome.unwrap() else {
        panic!()
    };
    assert!(message.contains("has no object \"Other\""), "{message}");
}

/// The mock engine, except that the engine is gone by the time the error is returned.
struct GoneBeforeReturnError(Arc<dyn Transport>);

#[async_trait]
impl Transport for GoneBeforeReturnError {
    async fn execute(&self, query: &str) -> Result<Response, TransportError> {
        if query.contains("returnError") {
            return Err(TransportError::Unreachable {
                endpoint: "mock".into(),
                detail: "gone".into(),
            });
        }
        self.0.execute(query).await
    }
}

#[tokio::test]
async fn an_engine_gone_while_returning_an_error_is_reported() {
    let engine = MockEngine::new();
    engine.set_function_call(FunctionCallSpec::call("Demo", "fail"));
    let client = EngineClient::new(Arc::new(GoneBeforeReturnError(engine.transport())));
    let err = serve(&Demo, &client).await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with("it broke (and the error could not be returned"),
        "{text}"
    );
    assert_eq!(engine.returned_error(), None);
}

#[test]
fn the_call_is_read_from_one_answer() {
    let call = dagger_module_runtime::FunctionCall::from_answer(&json!({"currentFunctionCall": {
        "parentName": "Blumeops", "name": "publish", "parent": "{\"a\":1}",
        "inputArgs": [{"name": "containerName", "value": "\"x\""}]}}))
    .unwrap();
    assert_eq!(call.parent, json!({"a": 1}));
    assert_eq!(call.input_args[0].0, "containerName");
    assert!(dagger_module_runtime::FunctionCall::from_answer(&json!({})).is_err());
    let bad: Value = json!({"currentFunctionCall": {"parentName": 1, "name": ""}});
    assert!(dagger_module_runtime::FunctionCall::from_answer(&bad).is_err());
}
