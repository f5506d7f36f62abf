//! The naive baseline of the benchmarks reads a call with `dagger-sdk`'s own
//! `current_function_call().input_args()`, which loads each argument with `node(id:)` from the
//! IDs of a list: the mock engine must load list elements by ID as the engine does.

use dagger_mock_engine::{FunctionCallSpec, MockEngine};
use serde_json::json;

#[tokio::test]
async fn dagger_sdk_input_args_load_each_argument_by_id() {
    let engine = MockEngine::new();
    engine.set_function_call(
        FunctionCallSpec::call("Blumeops", "containerVersion")
            .arg("containerName", json!("navidrome"))
            .arg("extraTags", json!(["a", "b"])),
    );
    engine.reset_recorder();
    let call = engine.query().current_function_call();
    let mut seen = Vec::new();
    for arg in call.input_args().await.expect("input args") {
        let name = arg.name().await.expect("name");
        let value = arg.value().await.expect("value");
        seen.push((name, value.0));
    }
    assert_eq!(
        seen,
        [
            ("containerName".to_string(), "\"navidrome\"".to_string()),
            ("extraTags".to_string(), "[\"a\",\"b\"]".to_string()),
        ]
    );
    // The cost the runtime avoids: one query for the IDs, then two per argument.
    assert_eq!(engine.round_trips(), 1 + 2 * 2);
}

#[tokio::test]
async fn an_element_id_that_names_no_element_is_refused() {
    let engine = MockEngine::new();
    engine.set_function_call(
        FunctionCallSpec::call("Blumeops", "containerVersion").arg("containerName", json!("x")),
    );
    let ids = engine
        .client()
        .query("query{currentFunctionCall{inputArgs{id}}}")
        .await
        .expect("ids");
    let id = ids["currentFunctionCall"]["inputArgs"][0]["id"]
        .as_str()
        .expect("an ID")
        .to_string();
    // The same call with another argument: the element's ID no longer names one of them.
    engine.set_function_call(
        FunctionCallSpec::call("Blumeops", "containerVersion").arg("other", json!("y")),
    );
    let answer = engine
        .client()
        .execute(&format!(
            "query{{node(id:{}){{... on FunctionCallArgValue{{name}}}}}}",
            dagger_engine::gql::string(&id)
        ))
        .await
        .expect("an answer");
    assert!(
        answer
            .errors
            .iter()
            .any(|e| e.message.contains("no element of \"inputArgs\"")),
        "{answer:?}"
    );
}
