//! The module's type definitions, as the Rust side writes them, and their validation.

use std::collections::BTreeSet;
use std::time::Duration;

use dagger_engine::naming::{camel_case, check_snake_case, pascal_case, NameError};

/// How deep lists may nest in an argument or return type. Each level costs one registration
/// round trip; with two, registration stays within 8 round trips (read, 3 type levels,
/// functions, object, module, return).
pub const MAX_LIST_NESTING: usize = 2;

/// A type in a function's signature.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TypeRef {
    /// A string (`STRING_KIND`).
    String,
    /// An integer (`INTEGER_KIND`).
    Integer,
    /// A floating-point number (`FLOAT_KIND`).
    Float,
    /// A boolean (`BOOLEAN_KIND`).
    Boolean,
    /// No value (`VOID_KIND`); only as a return type.
    Void,
    /// A list of values of one type (`LIST_KIND`).
    List(Box<TypeRef>),
    /// An object of the engine's API or of this module (`OBJECT_KIND`), by name:
    /// `"Secret"`, `"Directory"`, `"File"`, `"Container"`, ...
    Object(String),
}

impl TypeRef {
    /// A list of `element`.
    pub fn list(element: TypeRef) -> Self {
        TypeRef::List(Box::new(element))
    }

    /// An object type by name.
    pub fn object(name: impl Into<String>) -> Self {
        TypeRef::Object(name.into())
    }

    /// The engine's `TypeDefKind` value for this type (schema enum `TypeDefKind`).
    pub fn kind(&self) -> &'static str {
        match self {
            TypeRef::String => "STRING_KIND",
            TypeRef::Integer => "INTEGER_KIND",
            TypeRef::Float => "FLOAT_KIND",
            TypeRef::Boolean => "BOOLEAN_KIND",
            TypeRef::Void => "VOID_KIND",
            TypeRef::List(_) => "LIST_KIND",
            TypeRef::Object(_) => "OBJECT_KIND",
        }
    }

    /// How many lists nest in this type (`[[String]]` is 2).
    pub fn list_nesting(&self) -> usize {
        match self {
            TypeRef::List(inner) => 1 + inner.list_nesting(),
            _ => 0,
        }
    }

    /// A short description for error messages: `a string`, `a list of strings`, `a Secret ID`.
    pub fn describe(&self) -> String {
        match self {
            TypeRef::String => "a string".into(),
            TypeRef::Integer => "an integer".into(),
            TypeRef::Float => "a number".into(),
            TypeRef::Boolean => "a boolean".into(),
            TypeRef::Void => "nothing".into(),
            TypeRef::List(inner) => format!("a list of {}", inner.describe_plural()),
            TypeRef::Object(name) => format!("a {name} ID (a JSON string)"),
        }
    }

    fn describe_plural(&self) -> String {
        match self {
            TypeRef::String => "strings".into(),
            TypeRef::Integer => "integers".into(),
            TypeRef::Float => "numbers".into(),
            TypeRef::Boolean => "booleans".into(),
            TypeRef::Void => "nothing".into(),
            TypeRef::List(inner) => format!("lists of {}", inner.describe_plural()),
            TypeRef::Object(name) => format!("{name} IDs"),
        }
    }

    /// Whether `value` is a JSON value of this type (object types: a non-empty string, the ID).
    pub fn accepts(&self, value: &serde_json::Value) -> bool {
        use serde_json::Value;
        match (self, value) {
            (TypeRef::String, Value::String(_)) => true,
            (TypeRef::Integer, Value::Number(n)) => n.is_i64() || n.is_u64(),
            (TypeRef::Float, Value::Number(_)) => true,
            (TypeRef::Boolean, Value::Bool(_)) => true,
            (TypeRef::Void, Value::Null) => true,
            (TypeRef::List(inner), Value::Array(items)) => items.iter().all(|v| inner.accepts(v)),
            (TypeRef::Object(_), Value::String(id)) => !id.is_empty(),
            _ => false,
        }
    }
}

/// One argument of a function.
#[derive(Debug, Clone, PartialEq)]
pub struct ArgDef {
    /// The name in snake_case; registered in camelCase.
    pub name: String,
    /// A doc string shown by `dagger call --help`.
    pub description: String,
    /// The argument's type.
    pub type_ref: TypeRef,
    /// Whether the type is nullable (`String` rather than `String!`): the caller may pass
    /// nothing and the function then gets no value.
    pub optional: bool,
    /// The value used when the caller leaves the argument out. A non-null argument may have
    /// one (`registry: str = "..."` in the Python SDK registers `String!` with a default); the
    /// caller may then leave it out although its type is non-null.
    pub default: Option<serde_json::Value>,
    /// For an optional Directory or File argument: the path in the module's context directory
    /// the engine loads when the caller leaves it out (`defaultPath` of `withArg`).
    pub default_path: Option<String>,
    /// For a String argument: the only values it takes (empty: any string). Checked by
    /// [`crate::Args::decode`], shown by command-line front ends.
    pub allowed_values: Vec<String>,
    /// For a Directory argument: patterns the engine leaves out when it loads the directory
    /// (`ignore` of `withArg`; the CLI passes them as `exclude` to `address(value:).directory`,
    /// the engine applies them again when the function is called), e.g. `**/target`.
    pub ignore: Vec<String>,
}

impl ArgDef {
    /// A required argument.
    pub fn required(
        name: impl Into<String>,
        type_ref: TypeRef,
        description: impl Into<String>,
    ) -> Self {
        Self {
            name: name.into(),
            description: description.into(),
            type_ref,
            optional: false,
            default: None,
            default_path: None,
            allowed_values: Vec::new(),
            ignore: Vec::new(),
        }
    }

    /// An optional argument without a default value.
    pub fn optional(
        name: impl Into<String>,
        type_ref: TypeRef,
        description: impl Into<String>,
    ) -> Self {
        Self {
            optional: true,
            ..Self::required(name, type_ref, description)
        }
    }

    /// A non-null argument with a default value: the caller may leave it out and the function
    /// then gets the default (the shape of `registry: str = "registry.example.org"` in the
    /// Python SDK: `String!` with a default).
    ///
    /// ```
    /// use dagger_module_runtime::{ArgDef, TypeRef};
    /// let registry = ArgDef::with_default("registry", TypeRef::String, "r.example".into(), "");
    /// assert!(!registry.optional);
    /// assert_eq!(registry.default, Some("r.example".into()));
    /// ```
    pub fn with_default(
        name: impl Into<String>,
        type_ref: TypeRef,
        default: serde_json::Value,
        description: impl Into<String>,
    ) -> Self {
        Self {
            default: Some(default),
            ..Self::required(name, type_ref, description)
        }
    }

    /// A nullable argument with a default value (`tags: list[str] | None = None` style, with a
    /// value other than null).
    pub fn optional_with_default(
        name: impl Into<String>,
        type_ref: TypeRef,
        default: serde_json::Value,
        description: impl Into<String>,
    ) -> Self {
        Self {
            optional: true,
            ..Self::with_default(name, type_ref, default, description)
        }
    }

    /// An optional Directory or File argument that the engine loads from `path` in the
    /// module's context directory when the caller leaves it out (`/` is the context's root).
    pub fn contextual(
        name: impl Into<String>,
        type_ref: TypeRef,
        path: impl Into<String>,
        description: impl Into<String>,
    ) -> Self {
        Self {
            optional: true,
            default_path: Some(path.into()),
            ..Self::required(name, type_ref, description)
        }
    }

    /// Restricts a String argument to `values` (its default, if any, must be one of them).
    ///
    /// ```
    /// use dagger_module_runtime::{ArgDef, TypeRef};
    /// let arg = ArgDef::with_default("policy", TypeRef::String, "fail".into(), "When a tag exists")
    ///     .allowing(["fail", "skip", "overwrite"]);
    /// assert!(arg.allows("skip"));
    /// assert!(!arg.allows("replace"));
    /// ```
    pub fn allowing<I, S>(mut self, values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.allowed_values = values.into_iter().map(Into::into).collect();
        self
    }

    /// Whether `value` is one this argument takes (always, when it has no list of values).
    pub fn allows(&self, value: &str) -> bool {
        self.allowed_values.is_empty() || self.allowed_values.iter().any(|v| v == value)
    }

    /// Sets the patterns left out of a Directory argument when the engine loads it
    /// (`**/target`, `fuzz/corpus`); only Directory arguments may have them.
    ///
    /// ```
    /// use dagger_module_runtime::{ArgDef, TypeRef};
    /// let src = ArgDef::required("src", TypeRef::object("Directory"), "")
    ///     .ignore(["**/target", "sdk/.venv"]);
    /// assert_eq!(src.ignore, ["**/target", "sdk/.venv"]);
    /// ```
    pub fn ignore<I, S>(mut self, patterns: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.ignore = patterns.into_iter().map(Into::into).collect();
        self
    }

    /// The name the engine knows: camelCase.
    pub fn engine_name(&self) -> String {
        camel_case(&self.name)
    }
}

/// How the engine may reuse a function's result (the schema's `FunctionCachePolicy`,
/// registered with `Function.withCachePolicy`).
///
/// A function registered without one is cached as [`CachePolicy::Default`] with the engine's
/// longest time to live (a week, upstream `core/modfunc.go`): a second call with the same
/// arguments answers the stored result without running. A function with effects outside the
/// engine's cache (a push, a listing of a registry) should be [`CachePolicy::Never`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CachePolicy {
    /// Results are kept across sessions, for `time_to_live` when given (whole seconds, from 1 s
    /// to 168 h), otherwise for the engine's longest time.
    Default {
        /// How long a result is kept.
        time_to_live: Option<Duration>,
    },
    /// Results are kept for the rest of the calling session only.
    PerSession,
    /// The function runs on every call.
    Never,
}

impl CachePolicy {
    /// The shortest time to live the engine accepts (upstream `MinFunctionCacheTTLSeconds`).
    pub const MIN_TIME_TO_LIVE: Duration = Duration::from_secs(1);
    /// The longest time to live the engine accepts (upstream `MaxFunctionCacheTTLSeconds`).
    pub const MAX_TIME_TO_LIVE: Duration = Duration::from_secs(7 * 24 * 60 * 60);

    /// The schema's enum value: `Default`, `PerSession`, `Never`.
    pub fn engine_name(&self) -> &'static str {
        match self {
            CachePolicy::Default { .. } => "Default",
            CachePolicy::PerSession => "PerSession",
            CachePolicy::Never => "Never",
        }
    }

    /// The `timeToLive` argument, a Go duration (`3600s`), when there is one.
    pub fn time_to_live_arg(&self) -> Option<String> {
        match self {
            CachePolicy::Default {
                time_to_live: Some(ttl),
            } => Some(format!("{}s", ttl.as_secs())),
            _ => None,
        }
    }

    /// Why the engine would refuse this policy, if it would.
    fn problem(&self) -> Option<String> {
        let CachePolicy::Default {
            time_to_live: Some(ttl),
        } = self
        else {
            return None;
        };
        if ttl.subsec_nanos() != 0 {
            Some(format!(
                "{ttl:?} is not a whole number of seconds (the engine keeps seconds)"
            ))
        } else if *ttl < Self::MIN_TIME_TO_LIVE || *ttl > Self::MAX_TIME_TO_LIVE {
            Some(format!("{ttl:?} is not between 1 s and 168 h"))
        } else {
            None
        }
    }
}

/// One function of the module's object.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionDef {
    /// The name in snake_case; registered in camelCase.
    pub name: String,
    /// A doc string shown by `dagger functions` and `dagger call --help`.
    pub description: String,
    /// What the function returns.
    pub return_type: TypeRef,
    /// The arguments, in the order the CLI lists them.
    pub args: Vec<ArgDef>,
    /// How the engine may reuse the function's result; `None` registers no policy (the
    /// engine's default, see [`CachePolicy`]).
    pub cache_policy: Option<CachePolicy>,
    /// Why the function is deprecated and what to use instead (`Function.withDeprecated`);
    /// `None` for a current function.
    pub deprecated: Option<String>,
}

impl FunctionDef {
    /// A function without arguments yet.
    pub fn new(
        name: impl Into<String>,
        return_type: TypeRef,
        description: impl Into<String>,
    ) -> Self {
        Self {
            name: name.into(),
            description: description.into(),
            return_type,
            args: Vec::new(),
            cache_policy: None,
            deprecated: None,
        }
    }

    /// Marks the function deprecated, with the reason or what to use instead; `dagger
    /// functions` and `dagger call --help` show it.
    ///
    /// ```
    /// use dagger_module_runtime::{FunctionDef, TypeRef};
    /// let old = FunctionDef::new("push", TypeRef::String, "").deprecated("use publish");
    /// assert_eq!(old.deprecated.as_deref(), Some("use publish"));
    /// ```
    pub fn deprecated(mut self, reason: impl Into<String>) -> Self {
        self.deprecated = Some(reason.into());
        self
    }

    /// Sets how the engine may reuse the function's result.
    ///
    /// ```
    /// use dagger_module_runtime::{CachePolicy, FunctionDef, TypeRef};
    /// let publish = FunctionDef::new("publish", TypeRef::String, "Push the image")
    ///     .cache_policy(CachePolicy::Never);
    /// assert_eq!(publish.cache_policy, Some(CachePolicy::Never));
    /// ```
    pub fn cache_policy(mut self, policy: CachePolicy) -> Self {
        self.cache_policy = Some(policy);
        self
    }

    /// Adds an argument.
    pub fn arg(mut self, arg: ArgDef) -> Self {
        self.args.push(arg);
        self
    }

    /// The name the engine knows: camelCase.
    pub fn engine_name(&self) -> String {
        camel_case(&self.name)
    }

    /// The argument called `name` (snake_case, or the camelCase form the engine sends).
    pub fn find_arg(&self, name: &str) -> Option<&ArgDef> {
        self.args
            .iter()
            .find(|a| a.name == name || a.engine_name() == name)
    }
}

/// The module's main object and its functions.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectDef {
    /// The object's name: the module name in PascalCase.
    pub name: String,
    /// A doc string.
    pub description: String,
    /// The functions.
    pub functions: Vec<FunctionDef>,
}

impl ObjectDef {
    /// The function called `name` (snake_case, or the camelCase form the engine sends).
    pub fn find_function(&self, name: &str) -> Option<&FunctionDef> {
        self.functions
            .iter()
            .find(|f| f.name == name || f.engine_name() == name)
    }
}

/// A whole module: its name, description and main object.
#[derive(Debug, Clone, PartialEq)]
pub struct ModuleDef {
    /// The module's name as in `dagger.json` (`blumeops`).
    pub name: String,
    /// A doc string.
    pub description: String,
    /// The main object, named after the module.
    pub object: ObjectDef,
}

impl ModuleDef {
    /// A module whose main object is named after it (`blumeops` -> `Blumeops`).
    pub fn new(
        name: impl Into<String>,
        description: impl Into<String>,
    ) -> Result<Self, DefinitionError> {
        let name = name.into();
        let description = description.into();
        let object_name = pascal_case(&name)?;
        Ok(Self {
            object: ObjectDef {
                name: object_name,
                description: description.clone(),
                functions: Vec::new(),
            },
            name,
            description,
        })
    }

    /// Adds a function to the main object.
    pub fn function(mut self, function: FunctionDef) -> Self {
        self.object.functions.push(function);
        self
    }

    /// Checks every rule of a definition; the first broken rule is the error.
    pub fn validate(&self) -> Result<(), DefinitionError> {
        let expected = pascal_case(&self.name)?;
        if self.object.name != expected {
            return Err(DefinitionError::ObjectName {
                module: self.name.clone(),
                expected,
                found: self.object.name.clone(),
            });
        }
        let mut seen = BTreeSet::new();
        for function in &self.object.functions {
            check_snake_case("function", &function.name)?;
            if !seen.insert(function.engine_name()) {
                return Err(DefinitionError::DuplicateFunction {
                    name: function.name.clone(),
                });
            }
            check_type(&function.name, None, &function.return_type)?;
            if let Some(reason) = function
                .cache_policy
                .as_ref()
                .and_then(CachePolicy::problem)
            {
                return Err(DefinitionError::CacheTimeToLive {
                    function: function.name.clone(),
                    reason,
                });
            }
            let mut seen_args = BTreeSet::new();
            for arg in &function.args {
                check_snake_case("argument", &arg.name)?;
                if !seen_args.insert(arg.engine_name()) {
                    return Err(DefinitionError::DuplicateArgument {
                        function: function.name.clone(),
                        name: arg.name.clone(),
                    });
                }
                if arg.type_ref == TypeRef::Void {
                    return Err(DefinitionError::VoidArgument {
                        function: function.name.clone(),
                        name: arg.name.clone(),
                    });
                }
                check_type(&function.name, Some(&arg.name), &arg.type_ref)?;
                if let Some(path) = &arg.default_path {
                    let loadable = matches!(&arg.type_ref, TypeRef::Object(n) if n == "Directory" || n == "File");
                    if !loadable || !arg.optional || arg.default.is_some() || path.is_empty() {
                        return Err(DefinitionError::DefaultPath {
                            function: function.name.clone(),
                            name: arg.name.clone(),
                        });
                    }
                }
                if !arg.allowed_values.is_empty() {
                    let default_allowed = match &arg.default {
                        Some(serde_json::Value::String(d)) => arg.allows(d),
                        Some(_) => false,
                        None => true,
                    };
                    if arg.type_ref != TypeRef::String || !default_allowed {
                        return Err(DefinitionError::AllowedValues {
                            function: function.name.clone(),
                            name: arg.name.clone(),
                        });
                    }
                }
                if !arg.ignore.is_empty() {
                    // upstream core/schema/module.go (functionWithArg) refuses it too.
                    if !matches!(&arg.type_ref, TypeRef::Object(n) if n == "Directory") {
                        return Err(DefinitionError::IgnoreOnNonDirectory {
                            function: function.name.clone(),
                            name: arg.name.clone(),
                            found: arg.type_ref.describe(),
                        });
                    }
                    if arg.ignore.iter().any(|p| p.trim().is_empty()) {
                        return Err(DefinitionError::EmptyIgnorePattern {
                            function: function.name.clone(),
                            name: arg.name.clone(),
                        });
                    }
                }
                if let Some(default) = &arg.default {
                    if matches!(arg.type_ref, TypeRef::Object(_)) {
                        return Err(DefinitionError::DefaultOnObject {
                            function: function.name.clone(),
                            name: arg.name.clone(),
                        });
                    }
                    if !arg.type_ref.accepts(default) {
                        return Err(DefinitionError::DefaultType {
                            function: function.name.clone(),
                            name: arg.name.clone(),
                            expected: arg.type_ref.describe(),
                        });
                    }
                }
            }
        }
        Ok(())
    }
}

fn check_type(
    function: &str,
    arg: Option<&str>,
    type_ref: &TypeRef,
) -> Result<(), DefinitionError> {
    let place = || match arg {
        Some(arg) => format!("argument {arg:?} of function {function:?}"),
        None => format!("return type of function {function:?}"),
    };
    if type_ref.list_nesting() > MAX_LIST_NESTING {
        return Err(DefinitionError::ListTooDeep {
            place: place(),
            max: MAX_LIST_NESTING,
        });
    }
    let mut inner = type_ref;
    while let TypeRef::List(element) = inner {
        if **element == TypeRef::Void {
            return Err(DefinitionError::VoidInList { place: place() });
        }
        inner = element;
    }
    if let TypeRef::Object(name) = inner {
        let pascal = name.starts_with(|c: char| c.is_ascii_uppercase())
            && name.chars().all(|c| c.is_ascii_alphanumeric());
        if !pascal {
            return Err(DefinitionError::ObjectTypeName {
                place: place(),
                name: name.clone(),
            });
        }
    }
    Ok(())
}

/// A definition that breaks a rule; found before anything is sent to the engine.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DefinitionError {
    /// A function, argument or module name breaks the naming rule.
    #[error(transparent)]
    Name(#[from] NameError),
    /// The main object is not named after the module.
    #[error("the main object of module {module:?} must be named {expected:?}, not {found:?}")]
    ObjectName {
        /// The module's name.
        module: String,
        /// The PascalCase name required.
        expected: String,
        /// The name given.
        found: String,
    },
    /// Two functions have the same (camelCase) name.
    #[error("function {name:?} is defined twice (names are compared in camelCase)")]
    DuplicateFunction {
        /// The repeated name.
        name: String,
    },
    /// Two arguments of one function have the same (camelCase) name.
    #[error("function {function:?} has argument {name:?} twice (names are compared in camelCase)")]
    DuplicateArgument {
        /// The function.
        function: String,
        /// The repeated argument.
        name: String,
    },
    /// Ignore patterns on an argument that is not a Directory.
    #[error("argument {name:?} of function {function:?} has ignore patterns, which only a Directory argument can have (it is {found})")]
    IgnoreOnNonDirectory {
        /// The function.
        function: String,
        /// The argument.
        name: String,
        /// The argument's type, described.
        found: String,
    },
    /// An empty ignore pattern.
    #[error("argument {name:?} of function {function:?} has an empty ignore pattern")]
    EmptyIgnorePattern {
        /// The function.
        function: String,
        /// The argument.
        name: String,
    },
    /// A cache policy's time to live the engine would refuse.
    #[error(
        "the cache policy of function {function:?} has a time to live the engine refuses: {reason}"
    )]
    CacheTimeToLive {
        /// The function.
        function: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An object argument has a default value (objects come from the caller, by ID).
    #[error(
        "argument {name:?} of function {function:?} is an object and cannot have a default value"
    )]
    DefaultOnObject {
        /// The function.
        function: String,
        /// The argument.
        name: String,
    },
    /// A default value does not have the argument's type.
    #[error("the default value of argument {name:?} of function {function:?} must be {expected}")]
    DefaultType {
        /// The function.
        function: String,
        /// The argument.
        name: String,
        /// The type required, described.
        expected: String,
    },
    /// A default path on an argument that is not an optional Directory or File without a
    /// default value, or an empty one.
    #[error("argument {name:?} of function {function:?} has a default path, which only an optional Directory or File argument without a default value can have (and the path must not be empty)")]
    DefaultPath {
        /// The function.
        function: String,
        /// The argument.
        name: String,
    },
    /// A list of allowed values on an argument that is not a String, or whose default is not
    /// one of them.
    #[error("argument {name:?} of function {function:?} has a list of allowed values, which only a String argument can have (and its default must be one of them)")]
    AllowedValues {
        /// The function.
        function: String,
        /// The argument.
        name: String,
    },
    /// An argument of type Void.
    #[error("argument {name:?} of function {function:?} cannot be Void")]
    VoidArgument {
        /// The function.
        function: String,
        /// The argument.
        name: String,
    },
    /// A list of Void.
    #[error("the {place} is a list of Void")]
    VoidInList {
        /// Where the type is.
        place: String,
    },
    /// Lists nest deeper than [`MAX_LIST_NESTING`].
    #[error("the {place} nests lists more than {max} deep")]
    ListTooDeep {
        /// Where the type is.
        place: String,
        /// The limit.
        max: usize,
    },
    /// An object type name that is not PascalCase.
    #[error("the {place} names object type {name:?}, which is not a PascalCase type name")]
    ObjectTypeName {
        /// Where the type is.
        place: String,
        /// The rejected name.
        name: String,
    },
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn sample() -> ModuleDef {
        ModuleDef::new("blumeops", "Build and publish containers")
            .unwrap()
            .function(
                FunctionDef::new("container_version", TypeRef::String, "The version")
                    .arg(ArgDef::required(
                        "container_name",
                        TypeRef::String,
                        "The container",
                    ))
                    .arg(ArgDef::optional(
                        "src",
                        TypeRef::object("Directory"),
                        "Sources",
                    )),
            )
            .function(
                FunctionDef::new("publish", TypeRef::String, "Publish")
                    .arg(ArgDef::with_default(
                        "registry",
                        TypeRef::String,
                        json!("registry.example.org"),
                        "",
                    ))
                    .arg(ArgDef::optional("tags", TypeRef::list(TypeRef::String), "")),
            )
    }

    #[test]
    fn a_good_definition_validates() {
        let def = sample();
        assert_eq!(def.object.name, "Blumeops");
        assert_eq!(def.validate(), Ok(()));
        let f = def.object.find_function("containerVersion").unwrap();
        assert_eq!(f.name, "container_version");
        assert_eq!(f.find_arg("containerName").unwrap().name, "container_name");
        assert_eq!(
            f.find_arg("container_name").unwrap().engine_name(),
            "containerName"
        );
    }

    #[test]
    fn duplicate_and_empty_names_are_rejected() {
        let def = sample().function(FunctionDef::new("publish", TypeRef::String, ""));
        assert_eq!(
            def.validate(),
            Err(DefinitionError::DuplicateFunction {
                name: "publish".into()
            })
        );
        let def = sample().function(FunctionDef::new("", TypeRef::String, ""));
        assert_eq!(
            def.validate(),
            Err(DefinitionError::Name(NameError::Empty { what: "function" }))
        );
        let def = sample().function(
            FunctionDef::new("f", TypeRef::String, "")
                .arg(ArgDef::required("a_b", TypeRef::String, ""))
                .arg(ArgDef::required("a_b", TypeRef::Integer, "")),
        );
        assert!(matches!(
            def.validate(),
            Err(DefinitionError::DuplicateArgument { .. })
        ));
    }

    #[test]
    fn defaults_follow_the_rules() {
        // A non-null argument with a default is what the Python SDK registers for
        // `registry: str = "..."`; the engine accepts it.
        let seed_like = ArgDef::with_default("registry", TypeRef::String, json!("r.example"), "");
        assert!(!seed_like.optional);
        let def = sample().function(FunctionDef::new("f", TypeRef::String, "").arg(seed_like));
        assert_eq!(def.validate(), Ok(()));
        let nullable = ArgDef::optional_with_default("n", TypeRef::Integer, json!(3), "");
        assert!(nullable.optional);

        let def = sample().function(FunctionDef::new("f", TypeRef::String, "").arg(
            ArgDef::with_default("n", TypeRef::Integer, json!("three"), ""),
        ));
        assert!(matches!(
            def.validate(),
            Err(DefinitionError::DefaultType { .. })
        ));

        let def = sample().function(FunctionDef::new("f", TypeRef::String, "").arg(
            ArgDef::with_default("s", TypeRef::object("Secret"), json!("x"), ""),
        ));
        assert!(matches!(
            def.validate(),
            Err(DefinitionError::DefaultOnObject { .. })
        ));
    }

    #[test]
    fn default_paths_only_on_optional_directories_and_files() {
        let ok = sample().function(FunctionDef::new("f", TypeRef::String, "").arg(
            ArgDef::contextual("src", TypeRef::object("Directory"), "/", ""),
        ));
        assert_eq!(ok.validate(), Ok(()));
        let bad = sample().function(
            FunctionDef::new("f", TypeRef::String, "").arg(ArgDef::contextual(
                "name",
                TypeRef::String,
                "/",
                "",
            )),
        );
        assert!(matches!(
            bad.validate(),
            Err(DefinitionError::DefaultPath { .. })
        ));
    }

    #[test]
    fn allowed_values_only_on_strings_with_an_allowed_default() {
        let ok =
            sample().function(FunctionDef::new("f", TypeRef::String, "").arg(
                ArgDef::with_default("p", TypeRef::String, json!("a"), "").allowing(["a", "b"]),
            ));
        assert_eq!(ok.validate(), Ok(()));
        let bad_default =
            sample().function(FunctionDef::new("f", TypeRef::String, "").arg(
                ArgDef::with_default("p", TypeRef::String, json!("c"), "").allowing(["a", "b"]),
            ));
        assert!(matches!(
            bad_default.validate(),
            Err(DefinitionError::AllowedValues { .. })
        ));
        let not_a_string = sample().function(
            FunctionDef::new("f", TypeRef::String, "")
                .arg(ArgDef::optional("n", TypeRef::Integer, "").allowing(["1"])),
        );
        assert!(matches!(
            not_a_string.validate(),
            Err(DefinitionError::AllowedValues { .. })
        ));
    }

    #[test]
    fn ignore_only_on_directories() {
        let ok = sample().function(
            FunctionDef::new("f", TypeRef::String, "").arg(
                ArgDef::required("src", TypeRef::object("Directory"), "")
                    .ignore(["**/target", "fuzz/corpus"]),
            ),
        );
        assert_eq!(ok.validate(), Ok(()));
        for bad in [
            ArgDef::required("pw", TypeRef::object("Secret"), "").ignore(["x"]),
            ArgDef::required("name", TypeRef::String, "").ignore(["x"]),
        ] {
            let def = sample().function(FunctionDef::new("f", TypeRef::String, "").arg(bad));
            let err = def.validate().unwrap_err();
            assert!(
                matches!(err, DefinitionError::IgnoreOnNonDirectory { .. }),
                "{err}"
            );
            assert!(err.to_string().contains("only a Directory"), "{err}");
        }
        let def = sample().function(
            FunctionDef::new("f", TypeRef::String, "")
                .arg(ArgDef::required("src", TypeRef::object("Directory"), "").ignore([" "])),
        );
        assert!(matches!(
            def.validate(),
            Err(DefinitionError::EmptyIgnorePattern { .. })
        ));
    }

    #[test]
    fn cache_time_to_live_within_the_engines_bounds() {
        let with = |ttl: Duration| {
            sample().function(FunctionDef::new("f", TypeRef::String, "").cache_policy(
                CachePolicy::Default {
                    time_to_live: Some(ttl),
                },
            ))
        };
        assert_eq!(with(Duration::from_secs(3600)).validate(), Ok(()));
        assert_eq!(with(CachePolicy::MAX_TIME_TO_LIVE).validate(), Ok(()));
        for bad in [
            Duration::ZERO,
            Duration::from_millis(1500),
            CachePolicy::MAX_TIME_TO_LIVE + Duration::from_secs(1),
        ] {
            assert!(
                matches!(
                    with(bad).validate(),
                    Err(DefinitionError::CacheTimeToLive { .. })
                ),
                "{bad:?}"
            );
        }
        assert_eq!(
            CachePolicy::Default {
                time_to_live: Some(Duration::from_secs(90))
            }
            .time_to_live_arg()
            .as_deref(),
            Some("90s")
        );
        assert_eq!(CachePolicy::Never.time_to_live_arg(), None);
    }

    #[test]
    fn type_rules() {
        let deep = TypeRef::list(TypeRef::list(TypeRef::list(TypeRef::String)));
        let def = sample().function(FunctionDef::new("f", deep, ""));
        assert!(matches!(
            def.validate(),
            Err(DefinitionError::ListTooDeep { max: 2, .. })
        ));
        let def = sample().function(
            FunctionDef::new("f", TypeRef::Void, "").arg(ArgDef::required("v", TypeRef::Void, "")),
        );
        assert!(matches!(
            def.validate(),
            Err(DefinitionError::VoidArgument { .. })
        ));
        let def = sample().function(FunctionDef::new("f", TypeRef::object("secret"), ""));
        assert!(matches!(
            def.validate(),
            Err(DefinitionError::ObjectTypeName { .. })
        ));
        let def = sample().function(FunctionDef::new("f", TypeRef::list(TypeRef::Void), ""));
        assert!(matches!(
            def.validate(),
            Err(DefinitionError::VoidInList { .. })
        ));
    }

    #[test]
    fn object_must_be_named_after_the_module() {
        let mut def = sample();
        def.object.name = "Other".into();
        assert!(matches!(
            def.validate(),
            Err(DefinitionError::ObjectName { .. })
        ));
    }

    #[test]
    fn accepts_checks_json_types() {
        assert!(TypeRef::String.accepts(&json!("a")));
        assert!(!TypeRef::String.accepts(&json!(1)));
        assert!(TypeRef::Integer.accepts(&json!(-3)));
        assert!(!TypeRef::Integer.accepts(&json!(1.5)));
        assert!(TypeRef::list(TypeRef::Boolean).accepts(&json!([true, false])));
        assert!(!TypeRef::list(TypeRef::Boolean).accepts(&json!([true, 1])));
        assert!(TypeRef::object("Secret").accepts(&json!("xyz")));
        assert!(!TypeRef::object("Secret").accepts(&json!("")));
        assert_eq!(
            TypeRef::list(TypeRef::object("File")).describe(),
            "a list of File IDs"
        );
    }
}
