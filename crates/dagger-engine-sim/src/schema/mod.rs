//! The mock engine's GraphQL schema and resolvers: one file per GraphQL type.
//!
//! # Adding a type or a field
//! Each file under `schema/` declares one [`TypeImpl`]:
//! - `sdl`: the type's fields in GraphQL SDL, with names, argument names, types and defaults taken
//!   from the engine's schema (dagger/dagger v0.21.8 `docs/docs-graphql/schema.graphqls`;
//!   `tests/mock_engine.rs` checks every field against the file named by `DAGGER_SCHEMA`). Fields of `Query` go in an `extend type Query { ... }` block. An
//!   argument holding an object's ID keeps the schema's `@expectedType(name: "...")` directive: the
//!   executor then loads (and replays) that ID before the resolver runs.
//! - `resolve`: answers a field of an object of this type. Return [`Out::Chain`] for a lazy field
//!   that returns an object (the call is appended to the object's chain, nothing runs, like the real
//!   engine), [`Out::Value`] for a leaf, or [`Out::Later`] for work that must await (a real push).
//!   `id` is answered by the executor for every type.
//! - `apply`: evaluates one call of a chain on the parent's [`State`] (what `Out::Chain` deferred);
//!   leaves such as `stdout` or `publish` call [`Ctx::eval`], which folds `apply` over the chain.
//!
//! Then add the file's `TYPE` to [`TYPES`] below (and a `mod` line). Validation, argument defaults,
//! IDs, `node(id:)`, errors with paths and dagql's all-or-nothing answers come from the executor.

pub(crate) mod address;
pub(crate) mod cache;
pub(crate) mod config_objects;
pub(crate) mod container;
pub(crate) mod container_fields;
pub(crate) mod directory;
pub(crate) mod directory_fields;
pub(crate) mod error;
pub(crate) mod exempt;
pub(crate) mod file;
pub(crate) mod file_fields;
pub(crate) mod git;
pub(crate) mod git_fields;
pub(crate) mod host;
pub(crate) mod image_config;
pub(crate) mod label;
pub(crate) mod module;
pub(crate) mod patch;
pub(crate) mod query;
pub(crate) mod registry;
pub(crate) mod search;
pub(crate) mod secret;

use std::collections::HashMap;
use std::sync::{Arc, MutexGuard, OnceLock};

use futures::future::BoxFuture;
use serde_json::{Map, Value};

use super::ids::{Call, Obj};
use super::state::{EngineState, Shared};

/// One GraphQL type of the mock: its SDL and resolvers.
pub(crate) struct TypeImpl {
    /// The type's name.
    pub name: &'static str,
    /// The type's SDL (a `type` definition, or `extend type Query` for root fields).
    pub sdl: &'static str,
    /// Answers one field of an object of this type.
    pub resolve: Resolve,
    /// Evaluates one call of a chain whose parent is of this type.
    pub apply: Apply,
}

/// See [`TypeImpl::resolve`]: `(ctx, parent, field name, arguments with defaults)`.
pub(crate) type Resolve = fn(&Ctx, &Obj, &str, &Args) -> Result<Out, FieldError>;
/// See [`TypeImpl::apply`]: `(ctx, parent state, call, arguments with defaults)`.
pub(crate) type Apply = fn(&Ctx, State, &Call, &Args) -> Result<State, FieldError>;

/// Every type of the mock's schema.
pub(crate) const TYPES: &[TypeImpl] = &[
    query::TYPE,
    address::TYPE,
    container::TYPE,
    directory::TYPE,
    file::TYPE,
    secret::TYPE,
    cache::TYPE,
    git::REPOSITORY,
    git::REF,
    host::TYPE,
    label::TYPE,
    error::TYPE,
    module::FUNCTION_CALL,
    module::ARG_VALUE,
    module::MODULE,
    module::TYPE_DEF,
    module::FUNCTION,
    // Fields added to the types above, and the objects they return.
    container_fields::EXTENSION,
    directory_fields::EXTENSION,
    file_fields::EXTENSION,
    file_fields::ENV_FILE,
    file_fields::JSON_VALUE,
    git_fields::EXTENSION,
    config_objects::ENV_VARIABLE,
    config_objects::PORT,
    config_objects::HEALTHCHECK,
    config_objects::STAT,
    search::RESULT,
    search::SUBMATCH,
    exempt::TYPE,
];

/// Scalars, enums, inputs and interfaces used by the types above (names and values from the
/// engine's schema).
const COMMON_SDL: &str = r#"
scalar JSON
scalar Platform
scalar Void
interface Node { id: ID! }
interface Syncer { id: ID! }
type Query implements Node { id: ID! }
enum CacheSharingMode { SHARED PRIVATE LOCKED }
enum ReturnType { SUCCESS FAILURE ANY }
enum NetworkProtocol { TCP UDP }
enum ImageLayerCompression { Gzip Zstd EStarGZ Uncompressed }
enum ImageMediaTypes { OCIMediaTypes DockerMediaTypes }
input BuildArg { name: String! value: String! }
directive @expectedType(name: String!) on ARGUMENT_DEFINITION | FIELD_DEFINITION
"#;

/// What a resolver answers.
pub(crate) enum Out {
    /// A leaf value (scalar, enum, list of scalars, or null).
    Value(Value),
    /// The field's call appended to the parent's chain: a lazy object of the field's type.
    Chain,
    /// An object other than "parent + this call" (loaded from an ID, or built differently).
    Object(Obj),
    /// A list of objects.
    Objects(Vec<Obj>),
    /// Work that must be awaited; its result is one of the above.
    Later(BoxFuture<'static, Result<Out, FieldError>>),
}

/// A resolver's failure: becomes one entry of the answer's `errors`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FieldError {
    /// The message, worded as the real engine words it.
    pub message: String,
    /// Extensions (`_type: EXEC_ERROR`, ...).
    pub extensions: Option<Value>,
}

impl FieldError {
    /// An error with a message only.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            extensions: None,
        }
    }
}

impl From<super::ids::IdError> for FieldError {
    fn from(e: super::ids::IdError) -> Self {
        Self::new(e.to_string())
    }
}

/// The evaluated state of an object (what [`Ctx::eval`] computes from a chain).
#[derive(Debug, Clone)]
pub(crate) enum State {
    /// The root.
    Query,
    /// A container.
    Container(Box<container::ContainerState>),
    /// A directory tree.
    Directory(directory::DirState),
    /// A file.
    File(file::FileState),
    /// A secret (never its plaintext: that stays in the engine's store).
    Secret(secret::SecretState),
    /// A cache volume.
    CacheVolume { key: String },
    /// A git repository.
    GitRepository { url: String },
    /// A git ref of a repository.
    GitRef { url: String, reference: String },
    /// The host.
    Host,
    /// An address (`Query.address(value:)`).
    Address { value: String },
    /// An error object.
    Error { message: String },
    /// State of a type defined outside this folder's built-in types (e.g. module types).
    Other(Value),
}

impl State {
    /// A short name of the state's kind, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            State::Query => "Query",
            State::Container(_) => "Container",
            State::Directory(_) => "Directory",
            State::File(_) => "File",
            State::Secret(_) => "Secret",
            State::CacheVolume { .. } => "CacheVolume",
            State::GitRepository { .. } => "GitRepository",
            State::GitRef { .. } => "GitRef",
            State::Host => "Host",
            State::Address { .. } => "Address",
            State::Error { .. } => "Error",
            State::Other(_) => "object",
        }
    }
}

/// The error for a state that is not what a call needs (a damaged or hand-made ID).
pub(crate) fn wrong_state(call: &Call, state: &State) -> FieldError {
    FieldError::new(format!(
        "invalid ID: field {:?} cannot apply to a {}",
        call.field,
        state.kind()
    ))
}

/// The evaluation context of one query: the engine's shared state.
pub(crate) struct Ctx {
    pub(crate) shared: Arc<Shared>,
}

impl Ctx {
    /// Locks the engine's state (recovering from a poisoned lock: the state stays usable).
    pub fn state(&self) -> MutexGuard<'_, EngineState> {
        self.shared.lock()
    }

    /// Loads an object from its ID: decodes the chain and replays every call through the
    /// resolvers, so that side effects of the chain happen again (registry credentials of a
    /// `withRegistryAuth` in it are stored in the session, as upstream `dagql` does when it loads
    /// an ID by re-selecting its calls, `dagql/server.go` `Load`).
    pub fn load(&self, id: &str, expected: Option<&str>) -> Result<Obj, FieldError> {
        let obj = Obj::decode(id)?;
        if let Some(expected) = expected {
            if obj.ty != expected {
                return Err(FieldError::new(format!(
                    "expected ID of type {expected}, got ID of type {}",
                    obj.ty
                )));
            }
        }
        let schema = schema();
        let mut current = Obj::root();
        for call in &obj.calls {
            let field = schema.field(&current.ty, &call.field).ok_or_else(|| {
                FieldError::new(format!(
                    "invalid ID: type {} has no field {:?}",
                    current.ty, call.field
                ))
            })?;
            let args = schema.fill_defaults(field, &call.args);
            for arg in &field.args {
                if let Some(expected) = &arg.expected_type {
                    for nested in id_values(args.get(&arg.name)) {
                        self.load(nested, Some(expected))?;
                    }
                }
            }
            let out = resolve(self, &current, &call.field, &Args(args))?;
            current = match out {
                Out::Chain => current.then(call.clone(), field.ty.named()),
                Out::Object(next) => next,
                // An element of a list of objects (`inputArgs{id}`, what `dagger-sdk`'s
                // `input_args()` loads with `node(id:)`): upstream names it by its position
                // (`nth` in `dagql/call/id.go`); here each element's own last call tells it apart.
                Out::Objects(items) => items
                    .into_iter()
                    .find(|item| item.calls.last() == Some(call))
                    .ok_or_else(|| {
                        FieldError::new(format!(
                            "invalid ID: no element of {:?} is the one it names",
                            call.field
                        ))
                    })?,
                _ => {
                    return Err(FieldError::new(format!(
                        "invalid ID: field {:?} does not return an object",
                        call.field
                    )))
                }
            };
        }
        if current != obj {
            return Err(FieldError::new(
                "invalid ID: its calls do not rebuild the object it names",
            ));
        }
        Ok(obj)
    }

    /// Evaluates an object: folds the types' `apply` over its chain, from the root.
    pub fn eval(&self, obj: &Obj) -> Result<State, FieldError> {
        let schema = schema();
        let mut state = State::Query;
        let mut ty = "Query".to_string();
        for call in &obj.calls {
            let field = schema.chain_field(&ty, call)?;
            let imp = type_impl(&ty)
                .ok_or_else(|| FieldError::new(format!("invalid ID: unknown type {ty}")))?;
            let args = Args(schema.fill_defaults(field, &call.args));
            state = (imp.apply)(self, state, call, &args)?;
            ty = field.ty.named().to_string();
        }
        Ok(state)
    }

    /// Evaluates the object named by an ID (no replay of side effects: the executor has loaded
    /// every ID argument before the resolver runs).
    pub fn eval_id(&self, id: &str) -> Result<State, FieldError> {
        self.eval(&Obj::decode(id)?)
    }
}

/// Calls the resolver of `parent`'s type.
pub(crate) fn resolve(
    ctx: &Ctx,
    parent: &Obj,
    field: &str,
    args: &Args,
) -> Result<Out, FieldError> {
    if let Some(why) = exempt::reason(&parent.ty, field) {
        return Err(exempt::error(&parent.ty, field, why));
    }
    let imp = type_impl(&parent.ty)
        .ok_or_else(|| FieldError::new(format!("unknown type {}", parent.ty)))?;
    (imp.resolve)(ctx, parent, field, args)
}

/// The implementation of a type, by name.
pub(crate) fn type_impl(name: &str) -> Option<&'static TypeImpl> {
    TYPES.iter().find(|t| t.name == name)
}

/// Go's `strconv.Quote` (what `%q` prints) for the characters a command line holds.
pub(crate) fn go_quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The ID strings inside an argument value (one ID or a list of IDs).
pub(crate) fn id_values(value: Option<&Value>) -> Vec<&str> {
    match value {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// A field's arguments after coercion, with the schema's defaults filled in.
#[derive(Debug, Clone, Default)]
pub(crate) struct Args(pub Map<String, Value>);

impl Args {
    /// The raw value of an argument.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }

    /// A required string argument.
    pub fn str(&self, name: &str) -> Result<&str, FieldError> {
        self.opt_str(name)
            .ok_or_else(|| FieldError::new(format!("argument {name:?} must be a string")))
    }

    /// An optional string argument.
    pub fn opt_str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(Value::as_str)
    }

    /// A list of strings (absent: empty).
    pub fn strings(&self, name: &str) -> Vec<String> {
        match self.get(name) {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            Some(Value::String(s)) => vec![s.clone()],
            _ => Vec::new(),
        }
    }

    /// A boolean argument (absent: false).
    pub fn bool(&self, name: &str) -> bool {
        self.get(name).and_then(Value::as_bool).unwrap_or(false)
    }

    /// An integer argument.
    pub fn int(&self, name: &str) -> Option<i64> {
        self.get(name).and_then(Value::as_i64)
    }
}

/// A type reference of the schema: `String`, `[ID!]`, `Container!`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TypeRef {
    /// A named type.
    Named(String),
    /// A list.
    List(Box<TypeRef>),
    /// Non-null.
    NonNull(Box<TypeRef>),
}

impl TypeRef {
    fn from_ast(t: &graphql_parser::schema::Type<'_, String>) -> Self {
        use graphql_parser::schema::Type;
        match t {
            Type::NamedType(n) => TypeRef::Named(n.clone()),
            Type::ListType(inner) => TypeRef::List(Box::new(Self::from_ast(inner))),
            Type::NonNullType(inner) => TypeRef::NonNull(Box::new(Self::from_ast(inner))),
        }
    }

    /// The innermost named type.
    pub fn named(&self) -> &str {
        match self {
            TypeRef::Named(n) => n,
            TypeRef::List(inner) | TypeRef::NonNull(inner) => inner.named(),
        }
    }

    /// Whether the value may be null.
    pub fn nullable(&self) -> bool {
        !matches!(self, TypeRef::NonNull(_))
    }
}

impl std::fmt::Display for TypeRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TypeRef::Named(n) => write!(f, "{n}"),
            TypeRef::List(inner) => write!(f, "[{inner}]"),
            TypeRef::NonNull(inner) => write!(f, "{inner}!"),
        }
    }
}

/// An argument of a field.
#[derive(Debug, Clone)]
pub(crate) struct ArgDef {
    pub name: String,
    pub ty: TypeRef,
    pub default: Option<Value>,
    /// The object type an `ID` argument names (`@expectedType(name:)`).
    pub expected_type: Option<String>,
}

/// A field of an object type.
#[derive(Debug, Clone)]
pub(crate) struct FieldDef {
    pub name: String,
    pub args: Vec<ArgDef>,
    pub ty: TypeRef,
}

/// The kind of a named type.
#[derive(Debug, Clone)]
pub(crate) enum Kind {
    Scalar,
    Object,
    Interface,
    Enum(Vec<String>),
    Input(Vec<ArgDef>),
}

/// A named type of the schema.
#[derive(Debug, Clone)]
pub(crate) struct TypeDefn {
    pub kind: Kind,
    /// Fields in declaration order.
    pub fields: Vec<FieldDef>,
    pub interfaces: Vec<String>,
}

/// The mock's schema, assembled from every [`TypeImpl::sdl`].
#[derive(Debug)]
pub(crate) struct Schema {
    pub types: HashMap<String, TypeDefn>,
}

impl Schema {
    /// A field of a type (`None` when either is unknown).
    pub fn field(&self, ty: &str, field: &str) -> Option<&FieldDef> {
        self.types.get(ty)?.fields.iter().find(|f| f.name == field)
    }

    /// The field one call of an ID's chain names on type `ty`; an ID naming a field its type
    /// lacks is an invalid ID.
    pub fn chain_field(&self, ty: &str, call: &Call) -> Result<&FieldDef, FieldError> {
        self.field(ty, &call.field).ok_or_else(|| {
            FieldError::new(format!(
                "invalid ID: type {ty} has no field {:?}",
                call.field
            ))
        })
    }

    /// Whether an object of type `concrete` matches a fragment's type condition `condition`.
    pub fn matches(&self, concrete: &str, condition: &str) -> bool {
        concrete == condition
            || self
                .types
                .get(concrete)
                .is_some_and(|t| t.interfaces.iter().any(|i| i == condition))
    }

    /// `given` plus the defaults of the arguments not given.
    pub fn fill_defaults(
        &self,
        field: &FieldDef,
        given: &Map<String, Value>,
    ) -> Map<String, Value> {
        let mut all = given.clone();
        for arg in &field.args {
            if !all.contains_key(&arg.name) {
                if let Some(default) = &arg.default {
                    all.insert(arg.name.clone(), default.clone());
                }
            }
        }
        all
    }

    fn build(sdl: &str) -> Result<Self, String> {
        use graphql_parser::schema::{Definition, TypeDefinition, TypeExtension};
        let doc = graphql_parser::parse_schema::<String>(sdl).map_err(|e| e.to_string())?;
        let mut types: HashMap<String, TypeDefn> = HashMap::new();
        for scalar in ["String", "Int", "Float", "Boolean", "ID"] {
            types.insert(
                scalar.into(),
                TypeDefn {
                    kind: Kind::Scalar,
                    fields: Vec::new(),
                    interfaces: Vec::new(),
                },
            );
        }
        let fields_of = |fields: &[graphql_parser::schema::Field<'_, String>]| -> Vec<FieldDef> {
            fields
                .iter()
                .map(|f| FieldDef {
                    name: f.name.clone(),
                    args: f.arguments.iter().map(arg_def).collect(),
                    ty: TypeRef::from_ast(&f.field_type),
                })
                .collect()
        };
        for def in &doc.definitions {
            // A name defined twice would merge two types silently: refused (fields are added
            // to a type with `extend type`).
            if let Definition::TypeDefinition(t) = def {
                let name = type_definition_name(t);
                if types.contains_key(name) {
                    return Err(format!(
                        "type {name} is defined twice: each type is defined once (add fields with `extend type {name}`)"
                    ));
                }
            }
            match def {
                Definition::TypeDefinition(TypeDefinition::Object(o)) => {
                    types.insert(
                        o.name.clone(),
                        TypeDefn {
                            kind: Kind::Object,
                            fields: fields_of(&o.fields),
                            interfaces: o.implements_interfaces.clone(),
                        },
                    );
                }
                Definition::TypeExtension(TypeExtension::Object(o)) => {
                    let entry = types.get_mut(&o.name).ok_or_else(|| {
                        format!("extend type {}: the type is not defined before", o.name)
                    })?;
                    entry.fields.extend(fields_of(&o.fields));
                }
                Definition::TypeDefinition(TypeDefinition::Interface(i)) => {
                    types.insert(
                        i.name.clone(),
                        TypeDefn {
                            kind: Kind::Interface,
                            fields: fields_of(&i.fields),
                            interfaces: Vec::new(),
                        },
                    );
                }
                Definition::TypeDefinition(TypeDefinition::Scalar(s)) => {
                    types.insert(
                        s.name.clone(),
                        TypeDefn {
                            kind: Kind::Scalar,
                            fields: Vec::new(),
                            interfaces: Vec::new(),
                        },
                    );
                }
                Definition::TypeDefinition(TypeDefinition::Enum(e)) => {
                    types.insert(
                        e.name.clone(),
                        TypeDefn {
                            kind: Kind::Enum(e.values.iter().map(|v| v.name.clone()).collect()),
                            fields: Vec::new(),
                            interfaces: Vec::new(),
                        },
                    );
                }
                Definition::TypeDefinition(TypeDefinition::InputObject(i)) => {
                    types.insert(
                        i.name.clone(),
                        TypeDefn {
                            kind: Kind::Input(i.fields.iter().map(arg_def).collect()),
                            fields: Vec::new(),
                            interfaces: Vec::new(),
                        },
                    );
                }
                _ => {}
            }
        }
        // Every type's field types must exist.
        for (name, t) in &types {
            for f in &t.fields {
                if !types.contains_key(f.ty.named()) {
                    return Err(format!("{name}.{}: unknown type {}", f.name, f.ty));
                }
            }
        }
        Ok(Self { types })
    }
}

/// The name a type definition defines.
fn type_definition_name<'a>(t: &'a graphql_parser::schema::TypeDefinition<'_, String>) -> &'a str {
    use graphql_parser::schema::TypeDefinition as T;
    match t {
        T::Scalar(s) => &s.name,
        T::Object(o) => &o.name,
        T::Interface(i) => &i.name,
        T::Union(u) => &u.name,
        T::Enum(e) => &e.name,
        T::InputObject(i) => &i.name,
    }
}

fn arg_def(v: &graphql_parser::schema::InputValue<'_, String>) -> ArgDef {
    ArgDef {
        name: v.name.clone(),
        ty: TypeRef::from_ast(&v.value_type),
        default: v.default_value.as_ref().map(const_to_json),
        expected_type: v
            .directives
            .iter()
            .find(|d| d.name == "expectedType")
            .and_then(|d| d.arguments.iter().find(|(n, _)| n == "name"))
            .and_then(|(_, v)| match v {
                graphql_parser::schema::Value::String(s) => Some(s.clone()),
                _ => None,
            }),
    }
}

/// A constant (default) value of the SDL as JSON; enum values become strings.
fn const_to_json(v: &graphql_parser::schema::Value<'_, String>) -> Value {
    use graphql_parser::schema::Value as V;
    match v {
        V::Variable(_) | V::Null => Value::Null,
        V::Int(n) => Value::from(n.as_i64().unwrap_or_default()),
        V::Float(f) => Value::from(*f),
        V::String(s) => Value::from(s.clone()),
        V::Boolean(b) => Value::from(*b),
        V::Enum(e) => Value::from(e.clone()),
        V::List(items) => Value::Array(items.iter().map(const_to_json).collect()),
        V::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, v)| (k.clone(), const_to_json(v)))
                .collect(),
        ),
    }
}

/// The mock's whole SDL (every type file's SDL after the common definitions).
pub(crate) fn sdl() -> String {
    let mut all = String::from(COMMON_SDL);
    for t in TYPES {
        all.push('\n');
        all.push_str(t.sdl);
    }
    all
}

/// The mock's schema, built once. A broken SDL is a bug of this crate, reported on every query.
pub(crate) fn schema_result() -> &'static Result<Schema, String> {
    static SCHEMA: OnceLock<Result<Schema, String>> = OnceLock::new();
    SCHEMA.get_or_init(|| Schema::build(&sdl()))
}

/// The mock's schema; an empty one when the SDL is broken (every query then fails validation
/// with the SDL's error, see `exec.rs`).
pub(crate) fn schema() -> &'static Schema {
    static EMPTY: OnceLock<Schema> = OnceLock::new();
    match schema_result() {
        Ok(s) => s,
        Err(_) => EMPTY.get_or_init(|| Schema {
            types: HashMap::new(),
        }),
    }
}

#[cfg(test)]
mod build_tests {
    use super::*;

    #[test]
    fn the_mock_schema_builds() {
        assert!(
            schema_result().is_ok(),
            "{:?}",
            schema_result().as_ref().err()
        );
    }

    #[test]
    fn a_type_name_given_twice_is_refused() {
        let err = Schema::build("type A { x: String }\ntype A { y: String }")
            .map(|_| ())
            .expect_err("a duplicate type is refused");
        assert!(err.contains("type A is defined twice"), "{err}");
        let err = Schema::build("scalar S\nenum S { X }")
            .map(|_| ())
            .expect_err("refused");
        assert!(err.contains("type S is defined twice"), "{err}");
        // Extending a type is how fields are added.
        assert!(Schema::build("type A { x: String }\nextend type A { y: String }").is_ok());
    }
}
