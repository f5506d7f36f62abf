//! The Blumeops module's registration, as the mock engine records it (objects, functions,
//! arguments, types, defaults, descriptions, `ignore`, default paths, cache policies), against
//! the golden file `tests/golden/blumeops_registration.json`.
//!
//! A change to the module's interface regenerates the golden file in the same commit, so that
//! the diff shows the change: `UPDATE_GOLDEN=1 cargo test --test module_registration_golden`.

use std::path::PathBuf;

use blumeops::module::Blumeops;
use dagger_mock_engine::{FunctionCallSpec, MockEngine};
use dagger_module_runtime::{serve, Outcome};
use serde_json::Value;

fn golden_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/blumeops_registration.json")
}

/// The registration the mock records when the module registers itself.
async fn registered() -> Value {
    let engine = MockEngine::new();
    engine.set_function_call(FunctionCallSpec::registration());
    engine.reset_recorder();
    let outcome = serve(&Blumeops::new(), &engine.client())
        .await
        .expect("registration runs");
    assert!(
        matches!(outcome, Outcome::Registered(_)),
        "not a registration: {outcome:?}"
    );
    let module = engine
        .registered_module()
        .expect("the mock recorded a module");
    serde_json::to_value(&module).expect("a registered module serializes")
}

#[tokio::test]
async fn registration_equals_the_golden_file() {
    let got = registered().await;
    let path = golden_path();
    if std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1") {
        let text = serde_json::to_string_pretty(&got).expect("JSON") + "\n";
        std::fs::write(&path, text).expect("golden file written");
        return;
    }
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{} cannot be read ({e}); UPDATE_GOLDEN=1 writes it",
            path.display()
        )
    });
    let want: Value = serde_json::from_str(&text).expect("the golden file is JSON");
    if got != want {
        // The whole registration, pretty, so that a diff tool shows the change.
        let got_text = serde_json::to_string_pretty(&got).expect("JSON");
        panic!(
            "the registration differs from {}; if the change is intended, run \
             UPDATE_GOLDEN=1 cargo test --test module_registration_golden and commit the file.\n\
             registered now:\n{got_text}",
            path.display()
        );
    }
}

#[tokio::test]
async fn the_golden_file_covers_every_recorded_property() {
    // The golden file is only as good as what it records: each property the issue names
    // appears in it, so a regression in one of them cannot pass unseen.
    let text = std::fs::read_to_string(golden_path()).expect("golden file present");
    let golden: Value = serde_json::from_str(&text).expect("JSON");
    let object = &golden["objects"][0];
    assert_eq!(object["name"], "Blumeops");
    let functions = object["functions"].as_array().expect("functions");
    assert_eq!(functions.len(), 14);
    let all_args = || functions.iter().flat_map(|f| f["args"].as_array().unwrap());
    assert!(all_args().any(|a| !a["ignore"].as_array().unwrap().is_empty()));
    assert!(all_args().any(|a| a["default_value"].is_string()));
    assert!(all_args().any(|a| a["default_path"].is_string()));
    assert!(all_args().all(|a| a["description"].as_str().is_some_and(|d| !d.is_empty())));
    assert!(functions.iter().any(|f| f["cache_policy"] == "Never"));
    assert!(functions.iter().any(|f| f["cache_policy"].is_null()));
}
