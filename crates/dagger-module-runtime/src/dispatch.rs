//! The entrypoint's work: read the current call in one query, then register the module or run
//! one function, and hand the result (or the error) back to the engine.
//!
//! Mirrors the Go SDK's generated `main`/`dispatch` (upstream `cmd/codegen/generator/go/
//! templates/src/dagger.gen.go.tmpl`): read `currentFunctionCall`, register when `parentName` is
//! empty, otherwise invoke, then `returnValue` or `returnError` and a non-zero exit.

use std::process::ExitCode;

use async_trait::async_trait;
use serde_json::Value;

use dagger_engine::{gql, query_error_from_sdk, EngineClient, QueryError};

use super::args::{decode_json_scalar, ArgError, Args};
use super::def::{DefinitionError, ModuleDef};
use super::register::{Ids, PlanAnswerError, RegistrationPlan};

/// The one query that reads the whole call: not `dagger-sdk`'s `input_args()`, which costs one
/// round trip plus two per argument.
pub const READ_CALL_QUERY: &str =
    "query{currentFunctionCall{parentName name parent inputArgs{name value}}}";

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

impl FunctionError {
    /// The process exit code for this error: 2 for bad arguments, 1 for failures.
    pub fn exit_code(&self) -> u8 {
        match self {
            FunctionError::Argument(_) | FunctionError::InvalidArgument(_) => 2,
            FunctionError::Failed(_) => 1,
        }
    }
}

/// The runtime's own failures (not a function's).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RuntimeError {
    /// The process is not inside a Dagger session, or the session variables are unusable.
    #[error("not inside a Dagger session: {0}")]
    NoSession(String),
    /// The module's definition breaks a rule.
    #[error("the module's definition is invalid: {0}")]
    Definition(#[from] DefinitionError),
    /// A query failed.
    #[error("{what} failed: {source}")]
    Query {
        /// Which step.
        what: &'static str,
        /// The engine's error.
        source: QueryError,
    },
    /// A registration answer was unusable.
    #[error(transparent)]
    Registration(#[from] PlanAnswerError),
    /// The call read from the engine has an unexpected shape.
    #[error("the engine's current function call is unusable: {0}")]
    BadCall(String),
    /// The engine asked for an object this module does not have.
    #[error("module {module:?} has no object {parent:?} (its object is {object:?})")]
    UnknownObject {
        /// The module.
        module: String,
        /// The name asked for.
        parent: String,
        /// The module's object.
        object: String,
    },
    /// The engine asked for a function this module does not have.
    #[error("object {object:?} has no function {function:?}")]
    UnknownFunction {
        /// The object.
        object: String,
        /// The name asked for.
        function: String,
    },
    /// A failure could not be returned to the engine either (the engine is gone).
    #[error("{message} (and the error could not be returned to the engine: {source})")]
    Unreported {
        /// The failure that was to be returned.
        message: String,
        /// Why returning it failed.
        source: Box<RuntimeError>,
    },
    /// A function's result does not have its declared type.
    #[error("function {function:?} returned {found} but declares {declared}")]
    ResultType {
        /// The function.
        function: String,
        /// The declared type, described.
        declared: String,
        /// What it returned.
        found: String,
    },
}

impl RuntimeError {
    fn query(what: &'static str) -> impl FnOnce(QueryError) -> Self {
        move |source| RuntimeError::Query { what, source }
    }
}

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
            eprintln!("error: {}", RuntimeError::NoSession(e.to_string()));
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
        Err(Failure { message, exit_code }) => match return_error(client, &message).await {
            Ok(()) => Ok(Outcome::Failed { message, exit_code }),
            Err(source) => Err(RuntimeError::Unreported {
                message,
                source: Box::new(source),
            }),
        },
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
                "function {function:?} stopped unexpectedly (a panic, most likely dagger-sdk                  failing to resolve an object argument's ID): {detail}"
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
    let query = format!(
        "query{{currentFunctionCall{{returnValue(value:{})}}}}",
        gql::string(&value.to_string())
    );
    client
        .query(&query)
        .await
        .map_err(RuntimeError::query("returning the function's value"))?;
    Ok(())
}

/// Creates an `Error` with `message` and sends it with `returnError`, raw (two round trips:
/// the error's ID is needed as the argument).
pub async fn return_error(client: &EngineClient, message: &str) -> Result<(), RuntimeError> {
    let data = client
        .query(&format!(
            "query{{error(message:{}){{id}}}}",
            gql::string(message)
        ))
        .await
        .map_err(RuntimeError::query("creating the error to return"))?;
    let id = data
        .get("error")
        .and_then(|e| e.get("id"))
        .and_then(Value::as_str)
        .ok_or_else(|| RuntimeError::BadCall("the engine's error has no ID".into()))?;
    client
        .query(&format!(
            "query{{currentFunctionCall{{returnError(error:{})}}}}",
            gql::string(id)
        ))
        .await
        .map_err(RuntimeError::query("returning the function's error"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use graphql_parser::query::{Definition, OperationDefinition, Selection, SelectionSet};
    use serde_json::json;

    use super::super::def::{ArgDef, FunctionDef, TypeRef};
    use super::*;
    use dagger_engine::{GraphQLErrorEntry, Response, Transport, TransportError};

    /// A stand-in engine for the protocol alone: answers `currentFunctionCall` from a script,
    /// gives every `id` a made-up ID naming its path and arguments, answers `returnValue` /
    /// `returnError` with `null` (Void) and records them.
    struct FakeEngine {
        call: Value,
        queries: Mutex<Vec<String>>,
        returned: Mutex<Vec<(String, String)>>,
        fail_reads: bool,
    }

    impl FakeEngine {
        fn new(parent_name: &str, name: &str, args: Vec<(&str, Value)>) -> Arc<Self> {
            let args: Vec<Value> = args
                .into_iter()
                .map(|(n, v)| json!({"name": n, "value": v.to_string()}))
                .collect();
            Arc::new(Self {
                call: json!({"parentName": parent_name, "name": name, "parent": "{}",
                             "inputArgs": args}),
                queries: Mutex::default(),
                returned: Mutex::default(),
                fail_reads: false,
            })
        }

        fn answer(&self, set: &SelectionSet<'_, String>, path: &str) -> Value {
            let mut out = serde_json::Map::new();
            for item in &set.items {
                let Selection::Field(field) = item else {
                    continue;
                };
                let key = field.alias.clone().unwrap_or_else(|| field.name.clone());
                let args: Vec<String> = field
                    .arguments
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                let here = format!("{path}.{}({})", field.name, args.join(","));
                let value = match field.name.as_str() {
                    "currentFunctionCall"
                        if field.selection_set.items.iter().any(
                            |s| matches!(s, Selection::Field(f) if f.name == "parentName"),
                        ) =>
                    {
                        self.call.clone()
                    }
                    "returnValue" | "returnError" => {
                        let (_, v) = &field.arguments[0];
                        let text = match v {
                            graphql_parser::query::Value::String(s) => s.clone(),
                            other => other.to_string(),
                        };
                        self.returned
                            .lock()
                            .unwrap()
                            .push((field.name.clone(), text));
                        Value::Null
                    }
                    "message" => Value::String("m".into()),
                    "id" => Value::String(format!("ID[{path}]")),
                    _ => self.answer(&field.selection_set, &here),
                };
                out.insert(key, value);
            }
            Value::Object(out)
        }
    }

    #[async_trait]
    impl Transport for FakeEngine {
        async fn execute(&self, query: &str) -> Result<Response, TransportError> {
            self.queries.lock().unwrap().push(query.to_string());
            if self.fail_reads && query.contains("returnError") {
                return Err(TransportError::Unreachable {
                    endpoint: "fake".into(),
                    detail: "gone".into(),
                });
            }
            let doc = graphql_parser::parse_query::<String>(query).map_err(|e| {
                TransportError::Malformed {
                    endpoint: "fake".into(),
                    detail: e.to_string(),
                }
            })?;
            let Some(Definition::Operation(OperationDefinition::Query(q))) =
                doc.definitions.first()
            else {
                return Ok(Response::errors(vec![GraphQLErrorEntry::message(
                    "not a query",
                )]));
            };
            Ok(Response::data(self.answer(&q.selection_set, "")))
        }
    }

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
                    FunctionDef::new("dir", TypeRef::object("Directory"), "")
                        .arg(ArgDef::required("src", TypeRef::object("Directory"), "")),
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

    async fn serve_on(engine: &Arc<FakeEngine>) -> Result<Outcome, RuntimeError> {
        let client = EngineClient::new(engine.clone());
        serve(&Demo, &client).await
    }

    #[tokio::test]
    async fn registration_is_bounded_by_depth() {
        let engine = FakeEngine::new("", "", vec![]);
        let outcome = serve_on(&engine).await.unwrap();
        let Outcome::Registered(id) = &outcome else {
            panic!("{outcome:?}")
        };
        let queries = engine.queries.lock().unwrap().clone();
        // read + 3 type levels ([[String]]) + functions + object + module + return = 8
        assert_eq!(queries.len(), 8, "{queries:#?}");
        assert_eq!(queries[0], READ_CALL_QUERY);
        assert!(id.contains("module"), "{id}");
        let returned = engine.returned.lock().unwrap().clone();
        assert_eq!(returned.len(), 1);
        assert_eq!(returned[0].0, "returnValue");
        assert_eq!(
            serde_json::from_str::<Value>(&returned[0].1).unwrap(),
            json!(id)
        );
        assert!(
            queries[5].contains("withObject(name:\"Demo\""),
            "{}",
            queries[5]
        );
        assert!(queries[4].contains("name:\"whoIsIt\""), "{}", queries[4]);
        assert_eq!(outcome.exit_code(), ExitCode::SUCCESS);
    }

    #[tokio::test]
    async fn a_call_costs_read_and_return() {
        let engine = FakeEngine::new(
            "Demo",
            "greet",
            vec![("whoIsIt", json!("ops")), ("token", json!("secret-id"))],
        );
        let outcome = serve_on(&engine).await.unwrap();
        assert_eq!(
            outcome,
            Outcome::Returned(json!("hello ops x1 token=secret-id"))
        );
        assert_eq!(engine.queries.lock().unwrap().len(), 2);
        let returned = engine.returned.lock().unwrap().clone();
        assert_eq!(returned[0].1, "\"hello ops x1 token=secret-id\"");
    }

    #[tokio::test]
    async fn the_constructor_returns_the_parent_state() {
        let engine = FakeEngine::new("Demo", "", vec![]);
        assert_eq!(
            serve_on(&engine).await.unwrap(),
            Outcome::Returned(json!({}))
        );
        assert_eq!(engine.returned.lock().unwrap()[0].1, "{}");
    }

    #[tokio::test]
    async fn object_arguments_are_passed_by_id_without_a_round_trip() {
        let engine = FakeEngine::new("Demo", "dir", vec![("src", json!("dir-id"))]);
        assert_eq!(
            serve_on(&engine).await.unwrap(),
            Outcome::Returned(json!("dir-id"))
        );
        // read + return: building the typed Directory cost nothing.
        assert_eq!(engine.queries.lock().unwrap().len(), 2);
    }

    #[tokio::test]
    async fn bad_arguments_exit_2_with_the_error_returned() {
        let engine = FakeEngine::new("Demo", "greet", vec![("whoIsIt", json!(7))]);
        let outcome = serve_on(&engine).await.unwrap();
        let Outcome::Failed { message, exit_code } = &outcome else {
            panic!("{outcome:?}")
        };
        assert_eq!(*exit_code, 2);
        assert!(message.contains("--who-is-it"), "{message}");
        assert_eq!(outcome.exit_code(), ExitCode::from(2));
        let queries = engine.queries.lock().unwrap().clone();
        assert!(
            queries[1].starts_with("query{error(message:"),
            "{}",
            queries[1]
        );
        let returned = engine.returned.lock().unwrap().clone();
        assert_eq!(returned[0].0, "returnError");
        assert!(returned[0].1.starts_with("ID["), "{}", returned[0].1);

        let engine = FakeEngine::new("Demo", "greet", vec![("whoIsIt", json!(""))]);
        let outcome = serve_on(&engine).await.unwrap();
        assert!(matches!(outcome, Outcome::Failed { exit_code: 2, .. }));
    }

    #[tokio::test]
    async fn failures_exit_1() {
        let engine = FakeEngine::new("Demo", "fail", vec![]);
        assert_eq!(
            serve_on(&engine).await.unwrap(),
            Outcome::Failed {
                message: "it broke".into(),
                exit_code: 1
            }
        );
        let engine = FakeEngine::new("Demo", "wrong", vec![]);
        let Outcome::Failed { message, .. } = serve_on(&engine).await.unwrap() else {
            panic!()
        };
        assert!(message.contains("declares an integer"), "{message}");
        let engine = FakeEngine::new("Demo", "nope", vec![]);
        let Outcome::Failed { message, .. } = serve_on(&engine).await.unwrap() else {
            panic!()
        };
        assert_eq!(message, "object \"Demo\" has no function \"nope\"");
        let engine = FakeEngine::new("Other", "greet", vec![]);
        let Outcome::Failed { message, .. } = serve_on(&engine).await.unwrap() else {
            panic!()
        };
        assert!(message.contains("has no object \"Other\""), "{message}");
    }

    #[tokio::test]
    async fn an_engine_gone_while_returning_an_error_is_reported() {
        let mut engine = FakeEngine::new("Demo", "fail", vec![]);
        Arc::get_mut(&mut engine).unwrap().fail_reads = true;
        let err = serve_on(&engine).await.unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("it broke (and the error could not be returned"),
            "{text}"
        );
    }

    #[test]
    fn the_call_is_read_from_one_answer() {
        let call = FunctionCall::from_answer(&json!({"currentFunctionCall": {
            "parentName": "Blumeops", "name": "publish", "parent": "{\"a\":1}",
            "inputArgs": [{"name": "containerName", "value": "\"x\""}]}}))
        .unwrap();
        assert_eq!(call.parent, json!({"a": 1}));
        assert_eq!(call.input_args[0].0, "containerName");
        assert!(FunctionCall::from_answer(&json!({})).is_err());
        assert!(FunctionCall::from_answer(&json!({"currentFunctionCall": {
            "parentName": 1, "name": ""}}))
        .is_err());
    }
}
