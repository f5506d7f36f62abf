//! The entrypoint's work: read the current call in one query, then register the module or run
//! one function, and hand the result (or the error) back to the engine.
//!
//! Mirrors the Go SDK's generated `main`/`dispatch` (upstream `cmd/codegen/generator/go/
//! templates/src/dagger.gen.go.tmpl`): read `currentFunctionCall`, register when `parentName` is
//! empty, otherwise invoke, then `returnValue` or `returnError` and a non-zero exit.

use std::process::ExitCode;

use serde_json::Value;

use dagger_engine::{query_error_from_sdk, EngineClient};

use crate::args::Args;
use crate::protocol::{register, return_error, return_value};
use crate::{
    CallContext, FunctionCall, FunctionError, FunctionResult, Module, RuntimeError, READ_CALL_QUERY,
};

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The module's definition was registered; the value is the module ID.
    Registered(String),
    /// A function (or the constructor) returned this JSON value.
    Returned(Value),
    /// A function failed; the message was returned with `returnError`.
    Failed {
        /// The message sent to the engine.
        message: String,
        /// The exit code.
        exit_code: u8,
    },
}

impl Outcome {
    /// The process exit code for this outcome.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Outcome::Registered(_) | Outcome::Returned(_) => ExitCode::SUCCESS,
            Outcome::Failed { exit_code, .. } => ExitCode::from(*exit_code),
        }
    }
}

/// The module entrypoint: connect to the session from the environment, serve the current
/// call, and turn the outcome into the process exit code. Never panics; errors that cannot
/// reach the engine are printed to standard error.
pub async fn run<M: Module>(module: M) -> ExitCode {
    let client = match EngineClient::from_session_env() {
        Ok(Some(client)) => client,
        Ok(None) => {
            eprintln!(
                "error: {}",
                RuntimeError::NoSession(
                    "DAGGER_SESSION_PORT and DAGGER_SESSION_TOKEN are not set; this program is \
                     run by the Dagger engine (`dagger call`)"
                        .into()
                )
            );
            return ExitCode::from(1);
        }
        Err(e) => {
            // A value that is set but unusable (a port, a timeout) is the environment's, not
            // a missing session.
            eprintln!("error: the Dagger session's environment: {e}");
            return ExitCode::from(1);
        }
    };
    match serve(&module, &client).await {
        Ok(outcome) => {
            if let Outcome::Failed { message, .. } = &outcome {
                eprintln!("error: {message}");
            }
            outcome.exit_code()
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

/// Serves the current call on `client`: the whole protocol without the process around it.
///
/// `Err` only when even `returnError` could not reach the engine; every other failure is
/// returned to the engine and reported as [`Outcome::Failed`].
pub async fn serve<M: Module + ?Sized>(
    module: &M,
    client: &EngineClient,
) -> Result<Outcome, RuntimeError> {
    match serve_inner(module, client).await {
        Ok(outcome) => Ok(outcome),
        Err(Failure { message, exit_code }) => {
            // An error may quote a huge argument; a person is shown a bounded message.
            let message = dagger_engine::text::bounded(&message).into_owned();
            match return_error(client, &message).await {
                Ok(()) => Ok(Outcome::Failed { message, exit_code }),
                Err(source) => Err(RuntimeError::Unreported {
                    message,
                    source: Box::new(source),
                }),
            }
        }
    }
}

struct Failure {
    message: String,
    exit_code: u8,
}

impl From<RuntimeError> for Failure {
    fn from(e: RuntimeError) -> Self {
        Failure {
            message: e.to_string(),
            exit_code: 1,
        }
    }
}

impl From<FunctionError> for Failure {
    fn from(e: FunctionError) -> Self {
        Failure {
            exit_code: e.exit_code(),
            message: e.to_string(),
        }
    }
}

async fn serve_inner<M: Module + ?Sized>(
    module: &M,
    client: &EngineClient,
) -> Result<Outcome, Failure> {
    let data = client
        .query(READ_CALL_QUERY)
        .await
        .map_err(RuntimeError::query("reading the current function call"))?;
    let call = FunctionCall::from_answer(&data)?;
    let def = module.definition();
    if call.parent_name.is_empty() {
        let id = register(&def, client).await?;
        return_value(client, &Value::String(id.clone())).await?;
        return Ok(Outcome::Registered(id));
    }
    def.validate().map_err(RuntimeError::from)?;
    if call.parent_name != def.object.name {
        return Err(RuntimeError::UnknownObject {
            module: def.name.clone(),
            parent: call.parent_name,
            object: def.object.name.clone(),
        }
        .into());
    }
    if call.name.is_empty() {
        // The constructor: the object has no fields, its state is the parent as given.
        let state = match call.parent {
            Value::Null => Value::Object(Default::default()),
            other => other,
        };
        return_value(client, &state).await?;
        return Ok(Outcome::Returned(state));
    }
    let function =
        def.object
            .find_function(&call.name)
            .ok_or_else(|| RuntimeError::UnknownFunction {
                object: def.object.name.clone(),
                function: call.name.clone(),
            })?;
    let args = Args::decode(function, &call.input_args).map_err(FunctionError::from)?;
    let ctx = CallContext::new(client.clone(), call.parent);
    let result = call_guarded(module, &ctx, &function.name, &args).await?;
    let value = match result {
        FunctionResult::Value(v) => v,
        FunctionResult::Void => Value::Null,
        FunctionResult::Object(id) => Value::String(id.0),
        FunctionResult::Container(container) => {
            let id = container.id().await.map_err(|e| {
                FunctionError::Failed(format!(
                    "function {:?}: the container could not be built: {}",
                    function.name,
                    query_error_from_sdk(&e)
                ))
            })?;
            Value::String(id.0)
        }
    };
    if !function.return_type.accepts(&value) {
        return Err(RuntimeError::ResultType {
            function: function.name.clone(),
            declared: function.return_type.describe(),
            found: describe_value(&value),
        }
        .into());
    }
    return_value(client, &value).await?;
    Ok(Outcome::Returned(value))
}

/// Runs the user's function, turning a panic into a failure that still reaches the engine
/// with `returnError`. `dagger-sdk` 0.21.11 `unwrap`s the answer of the query that resolves an
/// object argument's ID, so a failing engine can panic inside a function's own code.
async fn call_guarded<M: Module + ?Sized>(
    module: &M,
    ctx: &CallContext,
    function: &str,
    args: &Args,
) -> Result<FunctionResult, FunctionError> {
    use futures::FutureExt;
    match std::panic::AssertUnwindSafe(module.call(ctx, function, args))
        .catch_unwind()
        .await
    {
        Ok(result) => result,
        Err(payload) => {
            let detail = payload
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| payload.downcast_ref::<&str>().copied())
                .unwrap_or("no message");
            Err(FunctionError::Failed(format!(
                "function {function:?} stopped unexpectedly (a panic, most likely dagger-sdk \
                 failing to resolve an object argument's ID): {detail}"
            )))
        }
    }
}

fn describe_value(value: &Value) -> String {
    match value {
        Value::Null => "nothing".into(),
        Value::Bool(_) => "a boolean".into(),
        Value::Number(_) => "a number".into(),
        Value::String(_) => "a string".into(),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "a JSON object".into(),
    }
}
