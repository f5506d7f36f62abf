//! What a module implements: [`Module`], the [`CallContext`] its functions get, and what they
//! answer ([`FunctionResult`]) or fail with ([`FunctionError`]).

use async_trait::async_trait;
use serde_json::Value;

use dagger_engine::EngineClient;

use crate::args::{ArgError, Args};
use crate::def::ModuleDef;

/// A Dagger module written in Rust: its definition and the code of its functions.
#[async_trait]
pub trait Module: Send + Sync {
    /// The module's definition: its main object, functions and arguments.
    fn definition(&self) -> ModuleDef;

    /// Runs `function` (snake_case, as in the definition) with its decoded arguments.
    async fn call(
        &self,
        ctx: &CallContext,
        function: &str,
        args: &Args,
    ) -> Result<FunctionResult, FunctionError>;
}

/// What a function gets besides its arguments: the engine and the parent object's state.
#[derive(Debug, Clone)]
pub struct CallContext {
    client: EngineClient,
    parent: Value,
}

impl CallContext {
    /// A context on `client` with the parent object's state.
    pub fn new(client: EngineClient, parent: Value) -> Self {
        Self { client, parent }
    }

    /// The raw client (aliased and batched queries).
    pub fn client(&self) -> &EngineClient {
        &self.client
    }

    /// A `dagger-sdk` query root on the same transport.
    pub fn query(&self) -> dagger_sdk::Query {
        self.client.dagger()
    }

    /// The parent object's state (`{}` for a module without fields).
    pub fn parent(&self) -> &Value {
        &self.parent
    }
}

/// What a function returns.
pub enum FunctionResult {
    /// A JSON value (strings, numbers, booleans, lists).
    Value(Value),
    /// An object already known by its ID (returned as the ID string, no extra query).
    Object(dagger_sdk::Id),
    /// A container; its ID is fetched with one query, then returned.
    Container(dagger_sdk::Container),
    /// Nothing (a Void function).
    Void,
}

impl std::fmt::Debug for FunctionResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FunctionResult::Value(v) => f.debug_tuple("Value").field(v).finish(),
            FunctionResult::Object(_) => f.write_str("Object(..)"),
            FunctionResult::Container(_) => f.write_str("Container(..)"),
            FunctionResult::Void => f.write_str("Void"),
        }
    }
}

impl FunctionResult {
    /// A string result.
    pub fn string(value: impl Into<String>) -> Self {
        FunctionResult::Value(Value::String(value.into()))
    }
}

/// Why a function failed; the message goes back to the caller with `returnError`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FunctionError {
    /// An argument the engine sent does not fit the definition (exit code 2).
    #[error(transparent)]
    Argument(#[from] ArgError),
    /// An argument's value breaks a rule of the function (exit code 2).
    #[error("{0}")]
    InvalidArgument(String),
    /// The function ran and failed (exit code 1).
    #[error("{0}")]
    Failed(String),
}

/// A message with the chain of causes, `outer: cause: root cause`, as the caller needs it to
/// act (the engine's words are in the causes of a `dagger-sdk` error).
fn with_causes(err: &(dyn std::error::Error + 'static)) -> String {
    let mut message = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

/// A failed engine call inside a function (`?` on a `dagger-sdk` call): a failure (exit code 1)
/// with the engine's message.
impl From<dagger_sdk::errors::DaggerError> for FunctionError {
    fn from(err: dagger_sdk::errors::DaggerError) -> Self {
        FunctionError::Failed(with_causes(&err))
    }
}

/// An `eyre` report (`?` in a function returning `eyre::Result`): a failure (exit code 1) with
/// the report's chain of causes.
impl From<eyre::Report> for FunctionError {
    fn from(err: eyre::Report) -> Self {
        let chain: Vec<String> = err.chain().map(ToString::to_string).collect();
        FunctionError::Failed(chain.join(": "))
    }
}

impl FunctionError {
    /// The process exit code for this error: 2 for bad arguments, 1 for failures.
    pub fn exit_code(&self) -> u8 {
        match self {
            FunctionError::Argument(_) | FunctionError::InvalidArgument(_) => 2,
            FunctionError::Failed(_) => 1,
        }
    }
}
