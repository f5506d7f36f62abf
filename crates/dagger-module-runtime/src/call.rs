//! [`FunctionCall`]: the current call, read from the engine in one query.

use serde_json::Value;

use crate::args::decode_json_scalar;
use crate::RuntimeError;

/// The one query that reads the whole call: not `dagger-sdk`'s `input_args()`, which costs one
/// round trip plus two per argument.
pub const READ_CALL_QUERY: &str =
    "query{currentFunctionCall{parentName name parent inputArgs{name value}}}";

/// The current function call, as read in one query.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionCall {
    /// The parent object's name; empty when the engine asks for the module's definition.
    pub parent_name: String,
    /// The function's name as registered; empty for the constructor.
    pub name: String,
    /// The parent's state, decoded from its JSON text.
    pub parent: Value,
    /// The arguments: names as the engine sends them, values as JSON text (still encoded).
    pub input_args: Vec<(String, Value)>,
}

impl FunctionCall {
    /// Reads the `currentFunctionCall` object of [`READ_CALL_QUERY`]'s answer.
    pub fn from_answer(data: &Value) -> Result<Self, RuntimeError> {
        let call = data
            .get("currentFunctionCall")
            .filter(|c| c.is_object())
            .ok_or_else(|| RuntimeError::BadCall("no currentFunctionCall object".into()))?;
        let text = |field: &str| {
            call.get(field)
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| RuntimeError::BadCall(format!("{field} is not a string")))
        };
        let parent = match call.get("parent") {
            None | Some(Value::Null) => Value::Object(Default::default()),
            Some(raw) => decode_json_scalar(raw)
                .map_err(|e| RuntimeError::BadCall(format!("parent is not JSON text: {e}")))?,
        };
        let mut input_args = Vec::new();
        let list = match call.get("inputArgs") {
            None | Some(Value::Null) => &[][..],
            Some(Value::Array(items)) => items.as_slice(),
            Some(_) => return Err(RuntimeError::BadCall("inputArgs is not a list".into())),
        };
        for item in list {
            let name = item
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| RuntimeError::BadCall("an input argument has no name".into()))?;
            let value = item.get("value").cloned().unwrap_or(Value::Null);
            input_args.push((name.to_string(), value));
        }
        Ok(Self {
            parent_name: text("parentName")?,
            name: text("name")?,
            parent,
            input_args,
        })
    }
}
