//! A function that panics (as dagger-sdk 0.21.11 does when the query resolving an object
//! argument's ID fails) still ends in `returnError` and a failed outcome, not a dead process.

use async_trait::async_trait;
use dagger_mock_engine::{FunctionCallSpec, MockEngine};
use dagger_module_runtime::{
    serve, Args, CallContext, FunctionDef, FunctionError, FunctionResult, Module, ModuleDef,
    Outcome, TypeRef,
};
use serde_json::json;

struct Panicky;

#[async_trait]
impl Module for Panicky {
    fn definition(&self) -> ModuleDef {
        ModuleDef::new("panicky", "Panics")
            .expect("valid name")
            .function(FunctionDef::new("boom", TypeRef::String, "Panics"))
    }

    async fn call(
        &self,
        _: &CallContext,
        _: &str,
        _: &Args,
    ) -> Result<FunctionResult, FunctionError> {
        // What dagger-sdk's lazy ID argument does with a failed ID query: `unwrap` it.
        let resolved: Result<String, String> =
            std::hint::black_box(Err("the engine is gone".into()));
        Ok(FunctionResult::string(resolved.unwrap()))
    }
}

#[tokio::test]
async fn a_panicking_function_returns_an_error_to_the_engine() {
    let engine = MockEngine::new();
    engine.set_function_call(FunctionCallSpec {
        parent_name: "Panicky".into(),
        name: "boom".into(),
        parent: json!({}),
        input_args: vec![],
    });
    let outcome = serve(&Panicky, &engine.client()).await.unwrap();
    let Outcome::Failed { message, exit_code } = outcome else {
        panic!("expected a failure, got {outcome:?}")
    };
    assert_eq!(exit_code, 1);
    assert!(message.contains("stopped unexpectedly"), "{message}");
    assert!(message.contains("the engine is gone"), "{message}");
    assert_eq!(engine.returned_error().as_deref(), Some(message.as_str()));
}
