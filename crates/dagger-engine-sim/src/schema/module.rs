//! The module protocol (upstream `core/schema/module.go`, `core/typedef.go`, `core/modfunc.go`):
//! `currentFunctionCall` with the call a test sets ([`MockEngine::set_function_call`]),
//! `returnValue` / `returnError` answering `null` (Void) as the engine does, and the type
//! definitions a module registers (`module`, `typeDef`, `function`), which are lazy chains like
//! every object: [`MockEngine::registered_module`] reads the returned module ID back into
//! objects, functions and arguments.
//!
//! As upstream: function and argument names are normalised with `strcase.ToLowerCamel` and the
//! name given is kept as the original name (`core/typedef.go`, `NewFunction`, `WithArg`);
//! `Module.withObject` refuses a type definition that is not an object; `FunctionCall`'s `parent`
//! and each `inputArgs` value are JSON text in the `JSON` scalar (`core/modfunc.go`,
//! `setCallInputs`).
//!
//! The protocol's per-engine state (the call and what was returned) is a field of the engine's
//! state ([`ProtocolState`]).

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::super::ids::{Call, Obj};
use super::super::state::Shared;
use super::super::MockEngine;
use super::{schema, wrong_state, Args, Ctx, FieldError, Out, State};
use dagger_engine::naming::engine_lower_camel;

/// The call the engine hands to a module process (what `currentFunctionCall` answers).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FunctionCallSpec {
    /// The parent object's name; empty when the engine asks for the module's definition.
    pub parent_name: String,
    /// The function's name as registered (its original name); empty for the constructor.
    pub name: String,
    /// The parent object's state (sent as JSON text).
    pub parent: Value,
    /// The arguments: names as registered, values as JSON values (each sent as JSON text).
    pub input_args: Vec<(String, Value)>,
}

impl FunctionCallSpec {
    /// The call with which the engine asks a module for its definition.
    pub fn registration() -> Self {
        Self {
            parent: Value::Object(Map::new()),
            ..Self::default()
        }
    }

    /// A call of `function` on the object `parent_name` (whose state is `{}`).
    pub fn call(parent_name: &str, function: &str) -> Self {
        Self {
            parent_name: parent_name.to_string(),
            name: function.to_string(),
            parent: Value::Object(Map::new()),
            input_args: Vec::new(),
        }
    }

    /// Adds an argument.
    pub fn arg(mut self, name: &str, value: Value) -> Self {
        self.input_args.push((name.to_string(), value));
        self
    }
}

/// A type definition registered by a module.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisteredType {
    /// The kind, as the schema's `TypeDefKind` (`STRING_KIND`, `LIST_KIND`, ...; unset: empty).
    pub kind: String,
    /// Whether the value may be null.
    pub optional: bool,
    /// The object's name, for `OBJECT_KIND`.
    pub object_name: Option<String>,
    /// The element type, for `LIST_KIND`.
    pub element: Option<Box<RegisteredType>>,
}

impl std::fmt::Display for RegisteredType {
    /// `String`, `Int`, `Boolean`, `Void`, `[String]`, `Secret`; `?` after an optional type.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.kind.as_str(), &self.object_name, &self.element) {
            ("STRING_KIND", _, _) => write!(f, "String")?,
            ("INTEGER_KIND", _, _) => write!(f, "Int")?,
            ("BOOLEAN_KIND", _, _) => write!(f, "Boolean")?,
            ("FLOAT_KIND", _, _) => write!(f, "Float")?,
            ("VOID_KIND", _, _) => write!(f, "Void")?,
            ("OBJECT_KIND", Some(name), _) => write!(f, "{name}")?,
            ("LIST_KIND", _, Some(element)) => write!(f, "[{element}]")?,
            (kind, _, _) => write!(f, "<{kind}>")?,
        }
        if self.optional {
            write!(f, "?")?;
        }
        Ok(())
    }
}

/// An argument of a registered function.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisteredArg {
    /// The name the engine uses (lowerCamelCase).
    pub name: String,
    /// The name the module registered.
    pub original_name: String,
    /// The doc string.
    pub description: String,
    /// The argument's type.
    pub type_def: RegisteredType,
    /// The default value (decoded from its JSON text).
    pub default_value: Option<Value>,
    /// The context path loaded when the caller leaves a Directory or File out.
    pub default_path: Option<String>,
    /// Patterns excluded from a Directory argument when it is loaded (`withArg(ignore:)`).
    #[serde(default)]
    pub ignore: Vec<String>,
}

/// A registered function.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisteredFunction {
    /// The name the engine uses (lowerCamelCase).
    pub name: String,
    /// The name the module registered.
    pub original_name: String,
    /// The doc string.
    pub description: String,
    /// The return type.
    pub return_type: RegisteredType,
    /// The arguments in registration order.
    pub args: Vec<RegisteredArg>,
    /// The cache policy set with `withCachePolicy` (`Default`, `PerSession`, `Never`); `None`
    /// when the module set none (the engine then caches as `Default`).
    #[serde(default)]
    pub cache_policy: Option<String>,
    /// The time to live of a `Default` policy, in seconds, when one was given.
    #[serde(default)]
    pub cache_ttl_seconds: Option<i64>,
}

impl RegisteredFunction {
    /// The argument called `name` (engine name or original name).
    pub fn arg(&self, name: &str) -> Option<&RegisteredArg> {
        self.args
            .iter()
            .find(|a| a.name == name || a.original_name == name)
    }
}

/// A registered object type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisteredObject {
    /// The object's name.
    pub name: String,
    /// The doc string.
    pub description: String,
    /// The functions in registration order.
    pub functions: Vec<RegisteredFunction>,
}

impl RegisteredObject {
    /// The function called `name` (engine name or original name).
    pub fn function(&self, name: &str) -> Option<&RegisteredFunction> {
        self.functions
            .iter()
            .find(|f| f.name == name || f.original_name == name)
    }
}

/// A module's definition as registered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisteredModule {
    /// The doc string.
    pub description: String,
    /// The objects in registration order.
    pub objects: Vec<RegisteredObject>,
}

/// What the module protocol keeps per engine.
#[derive(Debug, Default)]
pub(crate) struct ProtocolState {
    call: Option<FunctionCallSpec>,
    returned_value: Option<Value>,
    returned_error: Option<String>,
}

/// Runs `f` on the protocol state of the engine behind `shared`.
fn with_state<R>(shared: &Arc<Shared>, f: impl FnOnce(&mut ProtocolState) -> R) -> R {
    f(&mut shared.lock().protocol)
}

impl MockEngine {
    /// Sets the call the module process will read with `currentFunctionCall`, and forgets what
    /// an earlier call returned.
    pub fn set_function_call(&self, spec: FunctionCallSpec) {
        with_state(&self.shared, |s| {
            *s = ProtocolState {
                call: Some(spec),
                ..ProtocolState::default()
            }
        });
    }

    /// The value the module returned with `returnValue`, decoded from its JSON text.
    pub fn returned_value(&self) -> Option<Value> {
        with_state(&self.shared, |s| s.returned_value.clone())
    }

    /// The message of the error the module returned with `returnError`.
    pub fn returned_error(&self) -> Option<String> {
        with_state(&self.shared, |s| s.returned_error.clone())
    }

    /// The module definition whose ID the module returned (after a registration call), read
    /// back from the ID's call chain; `None` when no module ID was returned.
    pub fn registered_module(&self) -> Option<RegisteredModule> {
        let id = self.returned_value()?;
        let obj = Obj::decode(id.as_str()?).ok()?;
        if obj.ty != "Module" {
            return None;
        }
        let ctx = Ctx {
            shared: self.shared.clone(),
        };
        match interpret(&ctx, &obj).ok()? {
            Def::Module(m) => Some(m),
            _ => None,
        }
    }
}

const SDL: &str = r#"
enum FunctionCachePolicy { Default PerSession Never }
enum TypeDefKind {
  STRING_KIND INTEGER_KIND FLOAT_KIND BOOLEAN_KIND SCALAR_KIND LIST_KIND OBJECT_KIND
  INTERFACE_KIND INPUT_KIND VOID_KIND ENUM_KIND
  STRING INTEGER FLOAT BOOLEAN SCALAR LIST OBJECT INTERFACE INPUT VOID ENUM
}
extend type Query {
  currentFunctionCall: FunctionCall!
  function(name: String!, returnType: ID! @expectedType(name: "TypeDef")): Function!
  module: Module!
  typeDef: TypeDef!
}
type FunctionCall implements Node {
  id: ID!
  inputArgs: [FunctionCallArgValue!]!
  name: String!
  parent: JSON!
  parentName: String!
  returnError(error: ID! @expectedType(name: "Error")): Void
  returnValue(value: JSON!): Void
}
type FunctionCallArgValue implements Node {
  id: ID!
  name: String!
  value: JSON!
}
"#;

/// `FunctionCall` (and the root field `currentFunctionCall`, through `Query`'s default chain).
pub(crate) const FUNCTION_CALL: super::TypeImpl = super::TypeImpl {
    name: "FunctionCall",
    sdl: SDL,
    resolve: resolve_call,
    apply: apply_none,
};

/// `FunctionCallArgValue`.
pub(crate) const ARG_VALUE: super::TypeImpl = super::TypeImpl {
    name: "FunctionCallArgValue",
    sdl: "",
    resolve: resolve_arg_value,
    apply: apply_none,
};

/// `Module` (the parts a module's registration uses).
pub(crate) const MODULE: super::TypeImpl = super::TypeImpl {
    name: "Module",
    sdl: r#"
type Module implements Node {
  id: ID!
  description: String!
  withDescription(description: String!): Module!
  withObject(object: ID! @expectedType(name: "TypeDef")): Module!
}
"#,
    resolve: resolve_def,
    apply: apply_def,
};

/// `TypeDef`.
pub(crate) const TYPE_DEF: super::TypeImpl = super::TypeImpl {
    name: "TypeDef",
    sdl: r#"
type TypeDef implements Node {
  id: ID!
  kind: TypeDefKind!
  optional: Boolean!
  withFunction(function: ID! @expectedType(name: "Function")): TypeDef!
  withKind(kind: TypeDefKind!): TypeDef!
  withListOf(elementType: ID! @expectedType(name: "TypeDef")): TypeDef!
  withObject(name: String!, description: String = "", sourceMap: ID @expectedType(name: "SourceMap"), deprecated: String): TypeDef!
  withOptional(optional: Boolean!): TypeDef!
}
"#,
    resolve: resolve_def,
    apply: apply_def,
};

/// `Function`.
pub(crate) const FUNCTION: super::TypeImpl = super::TypeImpl {
    name: "Function",
    sdl: r#"
type Function implements Node {
  id: ID!
  description: String!
  name: String!
  withArg(name: String!, typeDef: ID! @expectedType(name: "TypeDef"), description: String = "", defaultValue: JSON, defaultPath: String = "", ignore: [String!] = [], sourceMap: ID @expectedType(name: "SourceMap"), deprecated: String, defaultAddress: String = ""): Function!
  withCachePolicy(policy: FunctionCachePolicy!, timeToLive: String): Function!
  withDescription(description: String!): Function!
}
"#,
    resolve: resolve_def,
    apply: apply_def,
};

fn apply_none(_ctx: &Ctx, state: State, call: &Call, _args: &Args) -> Result<State, FieldError> {
    Err(wrong_state(call, &state))
}

fn current_call(ctx: &Ctx) -> Result<FunctionCallSpec, FieldError> {
    with_state(&ctx.shared, |s| s.call.clone()).ok_or_else(|| {
        FieldError::new(
            "failed to get current function call: this client is not running a module function \
             (tests: MockEngine::set_function_call)",
        )
    })
}

fn resolve_call(ctx: &Ctx, parent: &Obj, field: &str, args: &Args) -> Result<Out, FieldError> {
    let call = current_call(ctx)?;
    match field {
        "name" => Ok(Out::Value(Value::from(call.name))),
        "parentName" => Ok(Out::Value(Value::from(call.parent_name))),
        "parent" => Ok(Out::Value(Value::from(call.parent.to_string()))),
        "inputArgs" => Ok(Out::Objects(
            call.input_args
                .iter()
                .map(|(name, _)| {
                    let mut args = Map::new();
                    args.insert("name".into(), Value::from(name.clone()));
                    parent.then(
                        Call {
                            field: "inputArgs".into(),
                            args,
                        },
                        "FunctionCallArgValue",
                    )
                })
                .collect(),
        )),
        "returnValue" => {
            let text = args.str("value")?;
            // upstream: the JSON scalar is decoded when the value is returned.
            let value: Value = serde_json::from_str(text).map_err(|e| {
                FieldError::new(format!("returnValue: the value is not valid JSON: {e}"))
            })?;
            with_state(&ctx.shared, |s| s.returned_value = Some(value));
            Ok(Out::Value(Value::Null))
        }
        "returnError" => {
            // The executor has loaded the ID (type Error) before this runs.
            let message = match ctx.eval_id(args.str("error")?)? {
                State::Error { message } => message,
                other => {
                    return Err(FieldError::new(format!(
                        "returnError: expected an Error, got a {}",
                        other.kind()
                    )))
                }
            };
            with_state(&ctx.shared, |s| s.returned_error = Some(message));
            Ok(Out::Value(Value::Null))
        }
        _ => Err(FieldError::new(format!(
            "FunctionCall.{field} is not implemented by the mock engine"
        ))),
    }
}

fn resolve_arg_value(
    ctx: &Ctx,
    parent: &Obj,
    field: &str,
    _args: &Args,
) -> Result<Out, FieldError> {
    let name = parent
        .calls
        .last()
        .and_then(|c| c.args.get("name"))
        .and_then(Value::as_str)
        .ok_or_else(|| FieldError::new("invalid ID: not an input argument of a call"))?
        .to_string();
    let call = current_call(ctx)?;
    let value = call
        .input_args
        .iter()
        .find(|(n, _)| n == &name)
        .map(|(_, v)| v.clone())
        .ok_or_else(|| FieldError::new(format!("the current call has no argument {name:?}")))?;
    match field {
        "name" => Ok(Out::Value(Value::from(name))),
        "value" => Ok(Out::Value(Value::from(value.to_string()))),
        _ => Err(FieldError::new(format!(
            "FunctionCallArgValue.{field} is not implemented by the mock engine"
        ))),
    }
}

/// The value of a registration object, folded from its chain.
#[derive(Debug, Clone, Serialize, Deserialize)]
enum Def {
    Type(RegisteredType, Option<RegisteredObject>),
    Function(RegisteredFunction),
    Module(RegisteredModule),
}

impl Def {
    fn into_state(self) -> State {
        State::Other(serde_json::to_value(&self).unwrap_or(Value::Null))
    }

    fn from_state(state: &State) -> Option<Self> {
        match state {
            State::Other(v) => serde_json::from_value(v.clone()).ok(),
            _ => None,
        }
    }
}

/// Folds a registration chain (`typeDef...`, `function(...)...`, `module...`), reading the IDs
/// in its arguments the same way.
fn interpret(ctx: &Ctx, obj: &Obj) -> Result<Def, FieldError> {
    let schema = schema();
    let mut ty = "Query".to_string();
    let mut def: Option<Def> = None;
    for call in &obj.calls {
        let field = schema.chain_field(&ty, call)?;
        let args = Args(schema.fill_defaults(field, &call.args));
        def = Some(match def {
            None => root(ctx, call, &args)?,
            Some(d) => step(ctx, d, call, &args)?,
        });
        ty = field.ty.named().to_string();
    }
    def.ok_or_else(|| FieldError::new("invalid ID: not a module type definition"))
}

fn interpret_id(ctx: &Ctx, id: &str) -> Result<Def, FieldError> {
    interpret(ctx, &Obj::decode(id)?)
}

fn interpret_type(
    ctx: &Ctx,
    id: &str,
) -> Result<(RegisteredType, Option<RegisteredObject>), FieldError> {
    match interpret_id(ctx, id)? {
        Def::Type(t, o) => Ok((t, o)),
        _ => Err(FieldError::new("expected ID of type TypeDef")),
    }
}

fn root(ctx: &Ctx, call: &Call, args: &Args) -> Result<Def, FieldError> {
    match call.field.as_str() {
        "typeDef" => Ok(Def::Type(
            RegisteredType {
                kind: String::new(),
                optional: false,
                object_name: None,
                element: None,
            },
            None,
        )),
        "module" => Ok(Def::Module(RegisteredModule {
            description: String::new(),
            objects: Vec::new(),
        })),
        "function" => {
            let name = args.str("name")?;
            let (return_type, _) = interpret_type(ctx, args.str("returnType")?)?;
            Ok(Def::Function(RegisteredFunction {
                name: engine_lower_camel(name),
                original_name: name.to_string(),
                description: String::new(),
                return_type,
                args: Vec::new(),
                cache_policy: None,
                cache_ttl_seconds: None,
            }))
        }
        other => Err(FieldError::new(format!(
            "invalid ID: {other:?} is not a module type definition"
        ))),
    }
}

/// The `@enumValue` aliases of `TypeDefKind` (`STRING` is `STRING_KIND`).
fn kind_value(kind: &str) -> String {
    if kind.ends_with("_KIND") {
        kind.to_string()
    } else {
        format!("{kind}_KIND")
    }
}

fn step(ctx: &Ctx, def: Def, call: &Call, args: &Args) -> Result<Def, FieldError> {
    match (def, call.field.as_str()) {
        (Def::Type(mut t, obj), "withKind") => {
            t.kind = kind_value(args.str("kind")?);
            Ok(Def::Type(t, obj))
        }
        (Def::Type(mut t, obj), "withOptional") => {
            t.optional = args.bool("optional");
            Ok(Def::Type(t, obj))
        }
        (Def::Type(mut t, obj), "withListOf") => {
            let (element, _) = interpret_type(ctx, args.str("elementType")?)?;
            t.kind = "LIST_KIND".into();
            t.element = Some(Box::new(element));
            Ok(Def::Type(t, obj))
        }
        (Def::Type(mut t, _), "withObject") => {
            let name = args.str("name")?;
            if name.is_empty() {
                return Err(FieldError::new("withObject: the object's name is empty"));
            }
            t.kind = "OBJECT_KIND".into();
            t.object_name = Some(name.to_string());
            let obj = RegisteredObject {
                name: name.to_string(),
                description: args.opt_str("description").unwrap_or_default().to_string(),
                functions: Vec::new(),
            };
            Ok(Def::Type(t, Some(obj)))
        }
        (Def::Type(t, obj), "withFunction") => {
            // upstream core/typedef.go (WithFunction): only objects and interfaces have functions.
            let Some(mut obj) = obj else {
                return Err(FieldError::new(format!(
                    "cannot add function to non-object type: {}",
                    t.kind
                )));
            };
            match interpret_id(ctx, args.str("function")?)? {
                Def::Function(f) => obj.functions.push(f),
                _ => return Err(FieldError::new("expected ID of type Function")),
            }
            Ok(Def::Type(t, Some(obj)))
        }
        (Def::Function(mut f), "withDescription") => {
            f.description = args.str("description")?.trim().to_string();
            Ok(Def::Function(f))
        }
        (Def::Function(mut f), "withArg") => {
            let name = args.str("name")?;
            let (mut type_def, object) = interpret_type(ctx, args.str("typeDef")?)?;
            check_arg(&type_def, object.as_ref(), args)?;
            let default_value = match args.opt_str("defaultValue") {
                None => None,
                Some(text) => Some(serde_json::from_str(text).map_err(|e| {
                    FieldError::new(format!(
                        "failed to decode default value for arg {:?}: {e}",
                        engine_lower_camel(name)
                    ))
                })?),
            };
            let default_path = args
                .opt_str("defaultPath")
                .filter(|p| !p.is_empty())
                .map(str::to_string);
            // upstream module.go: "When using a default path or address, SDKs can't set a
            // default value and the argument may be non-nullable, so we need to enforce it as
            // optional." A default value leaves the type as it is: `String!` with a default is
            // allowed.
            if default_path.is_some() {
                type_def.optional = true;
            }
            f.args.push(RegisteredArg {
                name: engine_lower_camel(name),
                original_name: name.to_string(),
                description: args.opt_str("description").unwrap_or_default().to_string(),
                type_def,
                default_value,
                default_path,
                ignore: args.strings("ignore"),
            });
            Ok(Def::Function(f))
        }
        (Def::Function(mut f), "withCachePolicy") => {
            let (policy, ttl) = cache_policy(args.str("policy")?, args.opt_str("timeToLive"))?;
            f.cache_policy = Some(policy.to_string());
            f.cache_ttl_seconds = ttl;
            Ok(Def::Function(f))
        }
        (Def::Module(mut m), "withDescription") => {
            m.description = args.str("description")?.to_string();
            Ok(Def::Module(m))
        }
        (Def::Module(mut m), "withObject") => {
            match interpret_type(ctx, args.str("object")?)? {
                (_, Some(obj)) => m.objects.push(obj),
                (t, None) => {
                    return Err(FieldError::new(format!(
                        "expected object type def, got {}",
                        if t.kind.is_empty() {
                            "no kind"
                        } else {
                            &t.kind
                        }
                    )))
                }
            }
            Ok(Def::Module(m))
        }
        (_, field) => Err(FieldError::new(format!(
            "invalid ID: field {field:?} does not apply here"
        ))),
    }
}

/// The checks of `Function.withArg` on the argument's type (upstream `core/schema/module.go`,
/// `functionWithArg`): at most one of `defaultValue`, `defaultPath`, `defaultAddress`; a default
/// path only on a Directory, File, GitRepository or GitRef; a default address only on a
/// Container; `ignore` only on a Directory.
fn check_arg(
    type_def: &RegisteredType,
    object: Option<&RegisteredObject>,
    args: &Args,
) -> Result<(), FieldError> {
    let set = |name: &str| args.opt_str(name).is_some_and(|v| !v.is_empty());
    let defaults = [
        args.get("defaultValue").is_some(),
        set("defaultPath"),
        set("defaultAddress"),
    ];
    if defaults.iter().filter(|d| **d).count() > 1 {
        return Err(FieldError::new("cannot set more than one default value"));
    }
    let object_name = || object.map(|o| o.name.as_str()).unwrap_or_default();
    let is_object = type_def.kind == "OBJECT_KIND";
    if set("defaultPath") {
        if !is_object {
            return Err(FieldError::new(format!(
                "can only set default path for Object, not {}",
                type_def.kind
            )));
        }
        if !["Directory", "File", "GitRepository", "GitRef"].contains(&object_name()) {
            return Err(FieldError::new(format!(
                "cannot set default path for {}",
                object_name()
            )));
        }
    }
    if set("defaultAddress") {
        if !is_object {
            return Err(FieldError::new(format!(
                "can only set default address for Object, not {}",
                type_def.kind
            )));
        }
        if object_name() != "Container" {
            return Err(FieldError::new(format!(
                "can only set default address for Container type, not {}",
                object_name()
            )));
        }
    }
    if !args.strings("ignore").is_empty() {
        if !is_object {
            return Err(FieldError::new(format!(
                "can only set ignore for Object type, not {}",
                type_def.kind
            )));
        }
        if object_name() != "Directory" {
            return Err(FieldError::new(format!(
                "can only set ignore for Directory type, not {}",
                object_name()
            )));
        }
    }
    Ok(())
}

/// The shortest and longest time to live of a function's cache (upstream `core/modfunc.go`,
/// `MinFunctionCacheTTLSeconds`, `MaxFunctionCacheTTLSeconds`: one week).
const MIN_TTL_SECONDS: i128 = 1;
const MAX_TTL_SECONDS: i128 = 7 * 24 * 60 * 60;

/// `Function.withCachePolicy` (upstream `core/schema/module.go`, `functionWithCachePolicy`):
/// a time to live only with `Default`, parsed as a Go duration; `0s` means `Never`; otherwise
/// between 1s and 168h. Answers the policy and the time to live in seconds.
fn cache_policy(
    policy: &str,
    time_to_live: Option<&str>,
) -> Result<(&'static str, Option<i64>), FieldError> {
    let policy = match policy {
        "Default" => "Default",
        "PerSession" => "PerSession",
        "Never" => "Never",
        other => {
            return Err(FieldError::new(format!(
                "invalid cache policy {other:?}: expected Default, PerSession or Never"
            )))
        }
    };
    let Some(ttl) = time_to_live else {
        return Ok((policy, None));
    };
    if policy != "Default" {
        return Err(FieldError::new(
            "time to live can only be set with default cache policy",
        ));
    }
    let nanos = go_duration(ttl).map_err(|e| {
        FieldError::new(format!(
            "failed to parse time to live duration {}: {e}",
            super::go_quote(ttl)
        ))
    })?;
    const SECOND: i128 = 1_000_000_000;
    match nanos {
        0 => Ok(("Never", None)),
        n if n < MIN_TTL_SECONDS * SECOND => Err(FieldError::new(format!(
            "time to live duration must be at least \"1s\", got {}",
            super::go_quote(ttl)
        ))),
        n if n > MAX_TTL_SECONDS * SECOND => Err(FieldError::new(format!(
            "time to live duration must be at most \"168h0m0s\", got {}",
            super::go_quote(ttl)
        ))),
        // Go's `int(d.Seconds())` truncates.
        n => Ok((policy, Some((n / SECOND) as i64))),
    }
}

/// Go's `time.ParseDuration`, in nanoseconds: `[-+]` then one or more `<decimal><unit>`
/// (`ns`, `us`, `µs`, `μs`, `ms`, `s`, `m`, `h`); `0` alone needs no unit. Errors are worded as
/// Go words them (`time: unknown unit "d" in duration "7d"`).
fn go_duration(text: &str) -> Result<i128, String> {
    let invalid = || format!("time: invalid duration {}", super::go_quote(text));
    let (negative, mut rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total: i128 = 0;
    while !rest.is_empty() {
        if !rest.starts_with(|c: char| c == '.' || c.is_ascii_digit()) {
            return Err(invalid());
        }
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        let whole: i128 = if digits == 0 {
            0
        } else {
            rest[..digits].parse().map_err(|_| invalid())?
        };
        rest = &rest[digits..];
        let mut fraction = (0i128, 1i128);
        let mut fraction_digits = 0;
        if let Some(after) = rest.strip_prefix('.') {
            fraction_digits =
                after.len() - after.trim_start_matches(|c: char| c.is_ascii_digit()).len();
            for d in after[..fraction_digits].bytes().take(18) {
                fraction = (fraction.0 * 10 + i128::from(d - b'0'), fraction.1 * 10);
            }
            rest = &after[fraction_digits..];
        }
        if digits == 0 && fraction_digits == 0 {
            return Err(invalid());
        }
        let unit_len = rest.len()
            - rest
                .trim_start_matches(|c: char| c != '.' && !c.is_ascii_digit())
                .len();
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let scale: i128 = match unit {
            "" => {
                return Err(format!(
                    "time: missing unit in duration {}",
                    super::go_quote(text)
                ))
            }
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            other => {
                return Err(format!(
                    "time: unknown unit {} in duration {}",
                    super::go_quote(other),
                    super::go_quote(text)
                ))
            }
        };
        total += whole * scale + fraction.0 * scale / fraction.1;
        if total > i128::from(i64::MAX) {
            return Err(invalid());
        }
    }
    Ok(if negative { -total } else { total })
}

fn apply_def(ctx: &Ctx, state: State, call: &Call, args: &Args) -> Result<State, FieldError> {
    let def = Def::from_state(&state).ok_or_else(|| wrong_state(call, &state))?;
    Ok(step(ctx, def, call, args)?.into_state())
}

fn resolve_def(ctx: &Ctx, parent: &Obj, field: &str, args: &Args) -> Result<Out, FieldError> {
    if field.starts_with("with") {
        // Lazy like every object, but a call the engine refuses fails here, as it fails there
        // when the field is resolved.
        let call = Call {
            field: field.to_string(),
            args: args.0.clone(),
        };
        step(ctx, interpret(ctx, parent)?, &call, args)?;
        return Ok(Out::Chain);
    }
    let value = match (interpret(ctx, parent)?, field) {
        (Def::Type(t, _), "kind") => Value::from(t.kind),
        (Def::Type(t, _), "optional") => Value::from(t.optional),
        (Def::Function(f), "name") => Value::from(f.name),
        (Def::Function(f), "description") => Value::from(f.description),
        (Def::Module(m), "description") => Value::from(m.description),
        (_, field) => {
            return Err(FieldError::new(format!(
                "{}.{field} is not implemented by the mock engine",
                parent.ty
            )))
        }
    };
    Ok(Out::Value(value))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[tokio::test]
    async fn the_call_is_read_in_one_query_with_json_text_values() {
        let engine = MockEngine::new();
        engine.set_function_call(
            FunctionCallSpec::call("Blumeops", "publish")
                .arg("containerName", json!("app"))
                .arg("tags", json!(["a"])),
        );
        let data = engine
            .client()
            .query("query{currentFunctionCall{parentName name parent inputArgs{name value}}}")
            .await
            .unwrap();
        assert_eq!(
            data,
            json!({"currentFunctionCall": {"parentName": "Blumeops", "name": "publish",
                "parent": "{}", "inputArgs": [
                    {"name": "containerName", "value": "\"app\""},
                    {"name": "tags", "value": "[\"a\"]"}]}})
        );
    }

    #[tokio::test]
    async fn without_a_call_the_fields_fail() {
        let engine = MockEngine::new();
        let err = engine
            .client()
            .query("query{currentFunctionCall{name}}")
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("not running a module function"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn return_value_and_error_answer_void() {
        let engine = MockEngine::new();
        engine.set_function_call(FunctionCallSpec::call("Blumeops", "x"));
        let data = engine
            .client()
            .query("query{currentFunctionCall{returnValue(value:\"{\\\"a\\\":1}\")}}")
            .await
            .unwrap();
        assert_eq!(data, json!({"currentFunctionCall": {"returnValue": null}}));
        assert_eq!(engine.returned_value(), Some(json!({"a": 1})));
        let err = engine
            .client()
            .query("query{currentFunctionCall{returnValue(value:\"{not json\")}}")
            .await
            .unwrap_err();
        assert!(err.to_string().contains("not valid JSON"), "{err}");

        let data = engine
            .client()
            .query("query{error(message:\"it broke\"){id}}")
            .await
            .unwrap();
        let id = data["error"]["id"].as_str().unwrap().to_string();
        engine
            .client()
            .query(&format!(
                "query{{currentFunctionCall{{returnError(error:\"{id}\")}}}}"
            ))
            .await
            .unwrap();
        assert_eq!(engine.returned_error().as_deref(), Some("it broke"));
        // A new call forgets the old results.
        engine.set_function_call(FunctionCallSpec::registration());
        assert_eq!(engine.returned_value(), None);
        assert_eq!(engine.returned_error(), None);
    }

    async fn id(engine: &MockEngine, query: &str) -> String {
        let data = engine.client().query(query).await.unwrap();
        let mut v = &data;
        loop {
            match v.get("id") {
                Some(Value::String(s)) => return s.clone(),
                _ => v = v.as_object().unwrap().values().next().unwrap(),
            }
        }
    }

    #[tokio::test]
    async fn a_registered_module_is_read_back_from_its_id() {
        let engine = MockEngine::new();
        engine.set_function_call(FunctionCallSpec::registration());
        let string = id(&engine, "query{typeDef{withKind(kind:STRING_KIND){id}}}").await;
        let secret = id(
            &engine,
            "query{typeDef{withObject(name:\"Secret\"){withOptional(optional:true){id}}}}",
        )
        .await;
        let list = id(
            &engine,
            &format!("query{{typeDef{{withListOf(elementType:\"{string}\"){{withOptional(optional:true){{id}}}}}}}}"),
        )
        .await;
        let function = id(
            &engine,
            &format!(
                "query{{function(name:\"container_version\",returnType:\"{string}\"){{\
                 withDescription(description:\"The version\"){{\
                 withArg(name:\"registry_password\",typeDef:\"{secret}\"){{\
                 withArg(name:\"tags\",typeDef:\"{list}\",description:\"More\",defaultValue:\"[\\\"x\\\"]\"){{id}}}}}}}}}}"
            ),
        )
        .await;
        let object = id(
            &engine,
            &format!("query{{typeDef{{withObject(name:\"Blumeops\",description:\"d\"){{withFunction(function:\"{function}\"){{id}}}}}}}}"),
        )
        .await;
        let module = id(
            &engine,
            &format!("query{{module{{withDescription(description:\"m\"){{withObject(object:\"{object}\"){{id}}}}}}}}"),
        )
        .await;
        engine
            .client()
            .query(&format!(
                "query{{currentFunctionCall{{returnValue(value:{})}}}}",
                dagger_engine::gql::string(&Value::from(module).to_string())
            ))
            .await
            .unwrap();
        let m = engine.registered_module().unwrap();
        assert_eq!(m.description, "m");
        let o = &m.objects[0];
        assert_eq!((o.name.as_str(), o.description.as_str()), ("Blumeops", "d"));
        let f = o.function("containerVersion").unwrap();
        assert_eq!(f.original_name, "container_version");
        assert_eq!(f.description, "The version");
        assert_eq!(f.return_type.to_string(), "String");
        let pw = f.arg("registryPassword").unwrap();
        assert_eq!(pw.type_def.to_string(), "Secret?");
        assert_eq!(pw.default_value, None);
        let tags = f.arg("tags").unwrap();
        assert_eq!(tags.type_def.to_string(), "[String]?");
        assert_eq!(tags.default_value, Some(json!(["x"])));
        assert_eq!(tags.description, "More");
    }

    #[tokio::test]
    async fn the_engine_refuses_what_it_refuses() {
        let engine = MockEngine::new();
        let string = id(&engine, "query{typeDef{withKind(kind:STRING){id}}}").await;
        let err = engine
            .client()
            .query(&format!(
                "query{{module{{withObject(object:\"{string}\"){{id}}}}}}"
            ))
            .await
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("expected object type def, got STRING_KIND"),
            "{err}"
        );
        let f = id(
            &engine,
            &format!("query{{function(name:\"f\",returnType:\"{string}\"){{id}}}}"),
        )
        .await;
        let err = engine
            .client()
            .query(&format!(
                "query{{typeDef{{withKind(kind:STRING_KIND){{withFunction(function:\"{f}\"){{id}}}}}}}}"
            ))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("non-object"), "{err}");
        let err = engine
            .client()
            .query(&format!(
                "query{{function(name:\"f\",returnType:\"{string}\"){{withArg(name:\"a\",typeDef:\"{string}\",defaultValue:\"nope\"){{id}}}}}}"
            ))
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("failed to decode default value"),
            "{err}"
        );
        // A Function ID where a TypeDef ID is expected.
        let err = engine
            .client()
            .query(&format!(
                "query{{typeDef{{withListOf(elementType:\"{f}\"){{id}}}}}}"
            ))
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("expected ID of type TypeDef"),
            "{err}"
        );
    }

    #[test]
    fn go_durations_parse_as_go_parses_them() {
        const S: i128 = 1_000_000_000;
        assert_eq!(go_duration("5m"), Ok(300 * S));
        assert_eq!(go_duration("1h30s"), Ok(3630 * S));
        assert_eq!(go_duration("1.5s"), Ok(S + S / 2));
        assert_eq!(go_duration("0"), Ok(0));
        assert_eq!(go_duration("-2s"), Ok(-2 * S));
        assert_eq!(go_duration("300ms"), Ok(S * 3 / 10));
        assert_eq!(go_duration("2\u{b5}s"), Ok(2_000));
        assert_eq!(
            go_duration("7d"),
            Err(r#"time: unknown unit "d" in duration "7d""#.into())
        );
        assert_eq!(
            go_duration("5"),
            Err(r#"time: missing unit in duration "5""#.into())
        );
        for bad in ["", "s", ".s", "1..2s", "1s2"] {
            assert!(go_duration(bad).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn cache_policies_are_recorded_and_checked_as_the_engine_checks_them() {
        let engine = MockEngine::new();
        let string = id(&engine, "query{typeDef{withKind(kind:STRING_KIND){id}}}").await;
        let function = |chain: &str| {
            format!("query{{function(name:\"f\",returnType:\"{string}\"){{{chain}{{id}}}}}}")
        };
        let read = |engine: &MockEngine, id: String| {
            let ctx = Ctx {
                shared: engine.shared.clone(),
            };
            match interpret_id(&ctx, &id).unwrap() {
                Def::Function(f) => (f.cache_policy, f.cache_ttl_seconds),
                _ => panic!("not a function"),
            }
        };
        for (chain, policy, ttl) in [
            ("withCachePolicy(policy:Never)", "Never", None),
            ("withCachePolicy(policy:PerSession)", "PerSession", None),
            (
                "withCachePolicy(policy:Default,timeToLive:\"1h30s\")",
                "Default",
                Some(3630),
            ),
            (
                "withCachePolicy(policy:Default,timeToLive:\"168h\")",
                "Default",
                Some(604800),
            ),
            (
                "withCachePolicy(policy:Default,timeToLive:\"0s\")",
                "Never",
                None,
            ),
        ] {
            let f = id(&engine, &function(chain)).await;
            assert_eq!(read(&engine, f), (Some(policy.to_string()), ttl), "{chain}");
        }
        for (chain, message) in [
            (
                "withCachePolicy(policy:Never,timeToLive:\"1h\")",
                "time to live can only be set with default cache policy",
            ),
            (
                "withCachePolicy(policy:Default,timeToLive:\"7d\")",
                r#"failed to parse time to live duration "7d": time: unknown unit "d" in duration "7d""#,
            ),
            (
                "withCachePolicy(policy:Default,timeToLive:\"500ms\")",
                r#"time to live duration must be at least "1s", got "500ms""#,
            ),
            (
                "withCachePolicy(policy:Default,timeToLive:\"169h\")",
                r#"time to live duration must be at most "168h0m0s", got "169h""#,
            ),
        ] {
            let err = engine.client().query(&function(chain)).await.unwrap_err();
            assert_eq!(err.to_string(), message, "{chain}");
        }
    }

    #[tokio::test]
    async fn ignore_is_kept_on_directories_and_refused_elsewhere() {
        let engine = MockEngine::new();
        let string = id(&engine, "query{typeDef{withKind(kind:STRING_KIND){id}}}").await;
        let dir = id(
            &engine,
            "query{typeDef{withObject(name:\"Directory\"){id}}}",
        )
        .await;
        let secret = id(&engine, "query{typeDef{withObject(name:\"Secret\"){id}}}").await;
        let with_arg = |ty: &str, extra: &str| {
            format!(
                "query{{function(name:\"f\",returnType:\"{string}\"){{withArg(name:\"a\",typeDef:\"{ty}\"{extra}){{id}}}}}}"
            )
        };
        let f = id(
            &engine,
            &with_arg(&dir, ",ignore:[\"**/target\",\"sdk/.venv\"]"),
        )
        .await;
        let ctx = Ctx {
            shared: engine.shared.clone(),
        };
        let Def::Function(f) = interpret_id(&ctx, &f).unwrap() else {
            panic!("not a function")
        };
        assert_eq!(f.args[0].ignore, ["**/target", "sdk/.venv"]);
        for (ty, extra, message) in [
            (
                &string,
                ",ignore:[\"x\"]",
                "can only set ignore for Object type, not STRING_KIND",
            ),
            (
                &secret,
                ",ignore:[\"x\"]",
                "can only set ignore for Directory type, not Secret",
            ),
            (
                &string,
                ",defaultPath:\"/\"",
                "can only set default path for Object, not STRING_KIND",
            ),
            (
                &secret,
                ",defaultPath:\"/\"",
                "cannot set default path for Secret",
            ),
            (
                &dir,
                ",defaultPath:\"/\",defaultValue:\"\\\"x\\\"\"",
                "cannot set more than one default value",
            ),
        ] {
            let err = engine
                .client()
                .query(&with_arg(ty, extra))
                .await
                .unwrap_err();
            assert_eq!(err.to_string(), message, "{extra}");
        }
        // A non-null argument may have a default value; it stays non-null.
        let f = id(
            &engine,
            &with_arg(&string, ",defaultValue:\"\\\"r.example\\\"\""),
        )
        .await;
        let Def::Function(f) = interpret_id(&ctx, &f).unwrap() else {
            panic!("not a function")
        };
        assert_eq!(f.args[0].type_def.to_string(), "String");
        assert_eq!(f.args[0].default_value, Some(json!("r.example")));
    }
}
