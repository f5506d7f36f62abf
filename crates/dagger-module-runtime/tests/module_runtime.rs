//! The module runtime against the mock engine, in-process: registration read back from the
//! module ID, dispatch with every argument kind, errors, and the round-trip budgets.

use async_trait::async_trait;
use dagger_mock_engine::{FunctionCallSpec, MockEngine};
use dagger_module_runtime::{
    serve, ArgDef, Args, CachePolicy, CallContext, FunctionDef, FunctionError, FunctionResult,
    Module, ModuleDef, Outcome, TypeRef,
};
use serde_json::{json, Value};

/// A module with one function per argument kind, and functions that fail.
struct Sample;

#[async_trait]
impl Module for Sample {
    fn definition(&self) -> ModuleDef {
        ModuleDef::new("sample", "A sample module")
            .expect("valid name")
            .function(
                FunctionDef::new("describe", TypeRef::String, "Describes its arguments")
                    .arg(ArgDef::required(
                        "container_name",
                        TypeRef::String,
                        "A name",
                    ))
                    .arg(ArgDef::with_default(
                        "count",
                        TypeRef::Integer,
                        json!(2),
                        "How many",
                    ))
                    .arg(ArgDef::optional_with_default(
                        "loud",
                        TypeRef::Boolean,
                        json!(false),
                        "",
                    ))
                    .arg(ArgDef::optional(
                        "tags",
                        TypeRef::list(TypeRef::String),
                        "Tags",
                    ))
                    .arg(ArgDef::optional(
                        "password",
                        TypeRef::object("Secret"),
                        "A secret",
                    )),
            )
            .function(
                FunctionDef::new(
                    "alpine",
                    TypeRef::object("Container"),
                    "An alpine container",
                )
                .arg(
                    ArgDef::required("src", TypeRef::object("Directory"), "Sources")
                        .ignore(["**/target", "**/__pycache__"]),
                )
                .cache_policy(CachePolicy::Never),
            )
            .function(FunctionDef::new("broken", TypeRef::Void, "Always fails"))
    }

    async fn call(
        &self,
        ctx: &CallContext,
        function: &str,
        args: &Args,
    ) -> Result<FunctionResult, FunctionError> {
        match function {
            "describe" => {
                let password = args.optional_id("password")?;
                Ok(FunctionResult::Value(json!(format!(
                    "{} count={} loud={} tags={:?} password={}",
                    args.string("container_name")?,
                    args.int("count")?,
                    args.boolean("loud")?,
                    args.string_list("tags")?,
                    password.is_some()
                ))))
            }
            "alpine" => {
                // Passed on by ID: `dagger-sdk` resolves a typed object argument with a query of
                // its own, an `Id` costs nothing.
                let src = args.id("src")?;
                let c = ctx
                    .query()
                    .container()
                    .from("alpine:3.20")
                    .with_directory("/src", src);
                Ok(FunctionResult::Container(c))
            }
            "broken" => Err(FunctionError::Failed("the step failed: exit code 1".into())),
            other => Err(FunctionError::Failed(format!("no function {other}"))),
        }
    }
}

#[tokio::test]
async fn registration_reads_back_every_function_and_argument_within_8_round_trips() {
    let engine = MockEngine::new();
    engine.set_function_call(FunctionCallSpec::registration());
    let outcome = serve(&Sample, &engine.client()).await.unwrap();
    assert!(matches!(outcome, Outcome::Registered(_)), "{outcome:?}");
    assert!(engine.round_trips() <= 8, "{:#?}", engine.queries());
    let module = engine
        .registered_module()
        .expect("a module ID was returned");
    assert_eq!(module.description, "A sample module");
    assert_eq!(module.objects.len(), 1);
    let object = &module.objects[0];
    assert_eq!(object.name, "Sample");
    let names: Vec<&str> = object.functions.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["describe", "alpine", "broken"]);
    let describe = object.function("describe").unwrap();
    let args: Vec<(String, String, Option<Value>)> = describe
        .args
        .iter()
        .map(|a| {
            (
                a.name.clone(),
                a.type_def.to_string(),
                a.default_value.clone(),
            )
        })
        .collect();
    assert_eq!(
        args,
        [
            ("containerName".into(), "String".into(), None),
            // Non-null with a default (the Python SDK's `count: int = 2`).
            ("count".into(), "Int".into(), Some(json!(2))),
            ("loud".into(), "Boolean?".into(), Some(json!(false))),
            ("tags".into(), "[String]?".into(), None),
            ("password".into(), "Secret?".into(), None),
        ]
    );
    assert_eq!(describe.arg("containerName").unwrap().description, "A name");
    assert_eq!(
        object.function("alpine").unwrap().return_type.to_string(),
        "Container"
    );
    assert_eq!(
        object.function("broken").unwrap().return_type.to_string(),
        "Void?"
    );
    // The engine keeps the cache policy and the ignore patterns it was given.
    let alpine = object.function("alpine").unwrap();
    assert_eq!(alpine.cache_policy.as_deref(), Some("Never"));
    assert_eq!(
        alpine.arg("src").unwrap().ignore,
        ["**/target", "**/__pycache__"]
    );
    assert_eq!(describe.cache_policy, None);
}

#[tokio::test]
async fn a_call_decodes_every_argument_kind_in_two_round_trips() {
    let engine = MockEngine::new();
    let secret = engine
        .client()
        .query("query{setSecret(name:\"pw\",plaintext:\"hunter2\"){id}}")
        .await
        .unwrap()["setSecret"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    engine.reset_recorder();
    engine.set_function_call(
        FunctionCallSpec::call("Sample", "describe")
            .arg("containerName", json!("navidrome"))
            .arg("tags", json!(["a", "b"]))
            .arg("password", json!(secret)),
    );
    let outcome = serve(&Sample, &engine.client()).await.unwrap();
    let expected = json!("navidrome count=2 loud=false tags=[\"a\", \"b\"] password=true");
    assert_eq!(outcome, Outcome::Returned(expected.clone()));
    assert_eq!(engine.returned_value(), Some(expected));
    assert_eq!(engine.round_trips(), 2, "{:#?}", engine.queries());
    engine.assert_never_sent("hunter2");
    assert!(engine.plaintext_reads().is_empty());
}

#[tokio::test]
async fn a_container_result_is_returned_by_id() {
    let engine = MockEngine::new();
    let dir = engine
        .client()
        .query("query{directory{withNewFile(path:\"a.txt\",contents:\"x\"){id}}}")
        .await
        .unwrap()["directory"]["withNewFile"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    engine.reset_recorder();
    engine.set_function_call(FunctionCallSpec::call("Sample", "alpine").arg("src", json!(dir)));
    let outcome = serve(&Sample, &engine.client()).await.unwrap();
    let Outcome::Returned(Value::String(id)) = outcome else {
        panic!("{outcome:?}")
    };
    let description = engine.describe_container(&id).unwrap();
    assert!(
        format!("{description:?}").contains("alpine:3.20"),
        "{description:?}"
    );
    // read, the container's ID, return.
    assert_eq!(engine.round_trips(), 3, "{:#?}", engine.queries());
}

#[tokio::test]
async fn errors_are_returned_with_return_error() {
    let engine = MockEngine::new();
    engine.set_function_call(FunctionCallSpec::call("Sample", "broken"));
    let outcome = serve(&Sample, &engine.client()).await.unwrap();
    assert_eq!(
        outcome,
        Outcome::Failed {
            message: "the step failed: exit code 1".into(),
            exit_code: 1
        }
    );
    assert_eq!(
        engine.returned_error().as_deref(),
        Some("the step failed: exit code 1")
    );
    assert_eq!(engine.returned_value(), None);

    engine.set_function_call(
        FunctionCallSpec::call("Sample", "describe").arg("containerName", json!(12)),
    );
    let outcome = serve(&Sample, &engine.client()).await.unwrap();
    assert!(
        matches!(outcome, Outcome::Failed { exit_code: 2, .. }),
        "{outcome:?}"
    );
    assert_eq!(
        engine.returned_error().as_deref(),
        Some("argument --container-name of function \"describe\" must be a string, got an integer")
    );
}
