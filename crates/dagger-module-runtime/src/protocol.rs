//! The module protocol's own requests, sent raw: registration, `returnValue`, `returnError`.

use serde_json::Value;

use dagger_engine::gql::{self, Field};
use dagger_engine::EngineClient;

use crate::def::ModuleDef;
use crate::register::{Ids, RegistrationPlan};
use crate::RuntimeError;

/// Registers `def` level by level and returns the module's ID.
pub async fn register(def: &ModuleDef, client: &EngineClient) -> Result<String, RuntimeError> {
    let plan = RegistrationPlan::new(def)?;
    let mut ids = Ids::default();
    for level in 0..plan.level_count() {
        let query = plan.level_query(level, &ids)?;
        let data = client.query(&query).await.map_err(RuntimeError::query(
            "registering the module's type definitions",
        ))?;
        plan.record(level, &data, &mut ids)?;
    }
    plan.module_id(&ids)
        .map(str::to_string)
        .ok_or_else(|| RuntimeError::BadCall("registration produced no module ID".into()))
}

/// Sends `currentFunctionCall{returnValue(value: <JSON text>)}` raw: the engine answers `null`
/// (Void), which `dagger-sdk`'s `return_value` fails to deserialize.
pub async fn return_value(client: &EngineClient, value: &Value) -> Result<(), RuntimeError> {
    let query = gql::query(&[Field::new("currentFunctionCall")
        .select(Field::new("returnValue").arg("value", value.to_string()))]);
    client
        .query(&query)
        .await
        .map_err(RuntimeError::query("returning the function's value"))?;
    Ok(())
}

/// Creates an `Error` with `message` and sends it with `returnError`, raw (two round trips:
/// the error's ID is needed as the argument).
pub async fn return_error(client: &EngineClient, message: &str) -> Result<(), RuntimeError> {
    let error = Field::new("error")
        .arg("message", message)
        .select(Field::new("id"));
    let data = client
        .query(&gql::query(std::slice::from_ref(&error)))
        .await
        .map_err(RuntimeError::query("creating the error to return"))?;
    let id = error
        .answer(&data)
        .and_then(Value::as_str)
        .ok_or_else(|| RuntimeError::BadCall("the engine's error has no ID".into()))?;
    client
        .query(&gql::query(&[
            Field::new("currentFunctionCall").select(Field::new("returnError").arg("error", id))
        ]))
        .await
        .map_err(RuntimeError::query("returning the function's error"))?;
    Ok(())
}
