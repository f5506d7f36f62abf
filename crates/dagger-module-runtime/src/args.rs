//! The arguments of one function call, decoded by name and checked against the definition.

use std::collections::BTreeMap;

use dagger_sdk::loadable::Loadable;
use serde_json::Value;

use super::def::{ArgDef, FunctionDef, TypeRef};
use dagger_engine::naming::cli_flag;

/// An argument the engine sent that the function cannot use.
///
/// Messages name the argument (as the CLI flag) and the type it must have; they never repeat
/// the value, which may be an ID or something private.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArgError {
    /// A required argument is missing.
    #[error("function {function:?} needs argument {flag} ({expected})")]
    Missing {
        /// The function.
        function: String,
        /// The argument as a CLI flag.
        flag: String,
        /// The type required, described.
        expected: String,
    },
    /// The value has the wrong JSON type.
    #[error("argument {flag} of function {function:?} must be {expected}, got {found}")]
    WrongType {
        /// The function.
        function: String,
        /// The argument as a CLI flag.
        flag: String,
        /// The type required, described.
        expected: String,
        /// The JSON type found (for a list, the first item of the wrong type).
        found: String,
    },
    /// The value is not JSON text (the engine sends every argument as JSON).
    #[error("argument {flag} of function {function:?} is not JSON text: {detail}")]
    NotJson {
        /// The function.
        function: String,
        /// The argument as a CLI flag.
        flag: String,
        /// The parser's message.
        detail: String,
    },
    /// A String argument with a list of allowed values got another value.
    #[error("argument {flag} of function {function:?} must be one of {allowed}; got {found:?}")]
    NotAllowed {
        /// The function.
        function: String,
        /// The argument as a CLI flag.
        flag: String,
        /// The allowed values, comma-separated.
        allowed: String,
        /// The value given (a short choice word, never an ID or a secret: only String
        /// arguments have allowed values).
        found: String,
    },
    /// The engine sent an argument the function does not declare.
    #[error("function {function:?} has no argument {name:?}")]
    Unknown {
        /// The function.
        function: String,
        /// The name sent.
        name: String,
    },
    /// The engine sent the same argument twice.
    #[error("argument {flag} of function {function:?} was given twice")]
    Repeated {
        /// The function.
        function: String,
        /// The argument as a CLI flag.
        flag: String,
    },
    /// The function's code asked for an argument in a way its definition does not allow
    /// (an undeclared name, or a Rust type that does not match the declared type).
    #[error("function {function:?} reads argument {name:?} as {asked}, but {declared}")]
    Misuse {
        /// The function.
        function: String,
        /// The name asked for.
        name: String,
        /// What the code asked for.
        asked: String,
        /// What the definition says.
        declared: String,
    },
}

/// Decoded arguments of one call: every declared argument with its value (given, or the
/// default, or absent when optional).
#[derive(Debug, Clone)]
pub struct Args {
    function: String,
    values: BTreeMap<String, (ArgDef, Option<Value>)>,
}

/// What a value is, for a message: its JSON type, and for a list of the wrong items, which
/// item is wrong (`a list whose item 1 is an integer`).
fn found(expected: &TypeRef, value: &Value) -> String {
    if let (TypeRef::List(inner), Value::Array(items)) = (expected, value) {
        if let Some((i, item)) = items.iter().enumerate().find(|(_, v)| !inner.accepts(v)) {
            return format!("a list whose item {} is {}", i + 1, found(inner, item));
        }
    }
    json_type(value).to_string()
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        Value::Number(_) => "a fractional number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a JSON object",
    }
}

/// Reads one `inputArgs` value: the engine sends JSON text in a JSON string (the `JSON`
/// scalar), as the Go SDK's generated `main` reads it (`inputArgs[argName] = []byte(argValue)`).
pub fn decode_json_scalar(value: &Value) -> Result<Value, serde_json::Error> {
    match value {
        Value::String(text) => serde_json::from_str(text),
        // Already decoded (a transport that hands over JSON values as they are).
        other => Ok(other.clone()),
    }
}

impl Args {
    /// Decodes the engine's `inputArgs` (names as the engine sends them, values as JSON text)
    /// against `function`'s definition. Absent optional arguments take their default.
    pub fn decode(function: &FunctionDef, input: &[(String, Value)]) -> Result<Self, ArgError> {
        let fname = function.name.clone();
        let mut given: BTreeMap<String, Value> = BTreeMap::new();
        for (name, raw) in input {
            let def = function.find_arg(name).ok_or_else(|| ArgError::Unknown {
                function: fname.clone(),
                name: name.clone(),
            })?;
            let value = decode_json_scalar(raw).map_err(|e| ArgError::NotJson {
                function: fname.clone(),
                flag: cli_flag(&def.name),
                detail: e.to_string(),
            })?;
            if given.insert(def.name.clone(), value).is_some() {
                return Err(ArgError::Repeated {
                    function: fname.clone(),
                    flag: cli_flag(&def.name),
                });
            }
        }
        let mut values = BTreeMap::new();
        for def in &function.args {
            let value = match given.remove(&def.name) {
                Some(Value::Null) if def.optional => def.default.clone(),
                Some(value) => Some(value),
                None => def.default.clone(),
            };
            match &value {
                None if !def.optional => {
                    return Err(ArgError::Missing {
                        function: fname.clone(),
                        flag: cli_flag(&def.name),
                        expected: def.type_ref.describe(),
                    })
                }
                Some(v) if !def.type_ref.accepts(v) => {
                    return Err(ArgError::WrongType {
                        function: fname.clone(),
                        flag: cli_flag(&def.name),
                        expected: def.type_ref.describe(),
                        found: found(&def.type_ref, v),
                    })
                }
                Some(Value::String(s)) if !def.allows(s) => {
                    return Err(ArgError::NotAllowed {
                        function: fname.clone(),
                        flag: cli_flag(&def.name),
                        allowed: def.allowed_values.join(", "),
                        found: s.clone(),
                    })
                }
                _ => {}
            }
            values.insert(def.name.clone(), (def.clone(), value));
        }
        Ok(Self {
            function: fname,
            values,
        })
    }

    /// The function these arguments belong to.
    pub fn function(&self) -> &str {
        &self.function
    }

    fn lookup(&self, name: &str, asked: &TypeRef) -> Result<Option<&Value>, ArgError> {
        let misuse = |declared: String| ArgError::Misuse {
            function: self.function.clone(),
            name: name.to_string(),
            asked: asked.describe(),
            declared,
        };
        let (def, value) = self
            .values
            .get(name)
            .ok_or_else(|| misuse("the function declares no such argument".into()))?;
        let compatible = match (asked, &def.type_ref) {
            (TypeRef::Object(_), TypeRef::Object(_)) => true,
            (a, d) => a == d,
        };
        if !compatible {
            return Err(misuse(format!(
                "it is declared as {}",
                def.type_ref.describe()
            )));
        }
        Ok(value.as_ref())
    }

    fn required<T>(
        &self,
        name: &str,
        asked: TypeRef,
        read: impl Fn(&Value) -> Option<T>,
    ) -> Result<T, ArgError> {
        self.optional(name, asked.clone(), read)?
            .ok_or_else(|| ArgError::Missing {
                function: self.function.clone(),
                flag: cli_flag(name),
                expected: asked.describe(),
            })
    }

    fn optional<T>(
        &self,
        name: &str,
        asked: TypeRef,
        read: impl Fn(&Value) -> Option<T>,
    ) -> Result<Option<T>, ArgError> {
        match self.lookup(name, &asked)? {
            None => Ok(None),
            Some(value) => read(value).map(Some).ok_or_else(|| ArgError::WrongType {
                function: self.function.clone(),
                flag: cli_flag(name),
                found: found(&asked, value),
                expected: asked.describe(),
            }),
        }
    }

    /// A string argument (required, or optional with a default).
    pub fn string(&self, name: &str) -> Result<String, ArgError> {
        self.required(name, TypeRef::String, |v| v.as_str().map(str::to_string))
    }

    /// An optional string argument.
    pub fn optional_string(&self, name: &str) -> Result<Option<String>, ArgError> {
        self.optional(name, TypeRef::String, |v| v.as_str().map(str::to_string))
    }

    /// An integer argument.
    pub fn int(&self, name: &str) -> Result<i64, ArgError> {
        self.required(name, TypeRef::Integer, Value::as_i64)
    }

    /// An optional integer argument.
    pub fn optional_int(&self, name: &str) -> Result<Option<i64>, ArgError> {
        self.optional(name, TypeRef::Integer, Value::as_i64)
    }

    /// A boolean argument.
    pub fn boolean(&self, name: &str) -> Result<bool, ArgError> {
        self.required(name, TypeRef::Boolean, Value::as_bool)
    }

    /// An optional boolean argument.
    pub fn optional_boolean(&self, name: &str) -> Result<Option<bool>, ArgError> {
        self.optional(name, TypeRef::Boolean, Value::as_bool)
    }

    /// A list of strings; an absent optional list is empty.
    pub fn string_list(&self, name: &str) -> Result<Vec<String>, ArgError> {
        let read = |v: &Value| {
            v.as_array()?
                .iter()
                .map(|s| s.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
        };
        Ok(self
            .optional(name, TypeRef::list(TypeRef::String), read)?
            .unwrap_or_default())
    }

    /// An object argument (Secret, Directory, ...) as its ID, exactly as the engine sent it:
    /// nothing is loaded, nothing is sent to the engine, and a Secret's plaintext is never read.
    pub fn id(&self, name: &str) -> Result<dagger_sdk::Id, ArgError> {
        self.required(name, TypeRef::object("Object"), read_id)
    }

    /// An optional object argument as its ID.
    pub fn optional_id(&self, name: &str) -> Result<Option<dagger_sdk::Id>, ArgError> {
        self.optional(name, TypeRef::object("Object"), read_id)
    }

    /// An object argument as a typed `dagger-sdk` object (`Directory`, `File`, ...), built
    /// lazily on `node(id:)` by `Query::ref`: no engine round trip here.
    ///
    /// Passing such an object as an argument to another call makes `dagger-sdk` fetch its ID
    /// again (one round trip); where a call only needs the ID, use [`Args::id`].
    pub fn object<T: Loadable>(
        &self,
        query: &dagger_sdk::Query,
        name: &str,
    ) -> Result<T, ArgError> {
        Ok(query.r#ref::<T>(self.id(name)?))
    }

    /// An optional object argument as a typed `dagger-sdk` object.
    pub fn optional_object<T: Loadable>(
        &self,
        query: &dagger_sdk::Query,
        name: &str,
    ) -> Result<Option<T>, ArgError> {
        Ok(self.optional_id(name)?.map(|id| query.r#ref::<T>(id)))
    }

    /// The value of argument `name` as decoded (given, or its default), already checked
    /// against its declared type; `None` when it is absent or not declared. The attribute
    /// macros read arguments through this and [`crate::FunctionArg`].
    pub fn value(&self, name: &str) -> Option<&Value> {
        self.values.get(name).and_then(|(_, v)| v.as_ref())
    }

    /// Whether the caller gave the argument (or it has a default).
    pub fn is_set(&self, name: &str) -> bool {
        matches!(self.values.get(name), Some((_, Some(_))))
    }
}

fn read_id(value: &Value) -> Option<dagger_sdk::Id> {
    value
        .as_str()
        .filter(|s| !s.is_empty())
        .map(|s| dagger_sdk::Id(s.to_string()))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn publish() -> FunctionDef {
        FunctionDef::new("publish", TypeRef::String, "")
            .arg(ArgDef::required("container_name", TypeRef::String, ""))
            .arg(ArgDef::required("src", TypeRef::object("Directory"), ""))
            .arg(ArgDef::with_default(
                "registry",
                TypeRef::String,
                json!("r.example"),
                "",
            ))
            .arg(ArgDef::optional(
                "registry_password",
                TypeRef::object("Secret"),
                "",
            ))
            .arg(ArgDef::optional("tags", TypeRef::list(TypeRef::String), ""))
            .arg(ArgDef::with_default(
                "retries",
                TypeRef::Integer,
                json!(3),
                "",
            ))
            .arg(ArgDef::with_default(
                "dry_run",
                TypeRef::Boolean,
                json!(false),
                "",
            ))
    }

    fn text(v: Value) -> Value {
        Value::String(v.to_string())
    }

    #[test]
    fn decodes_json_text_values_by_camel_case_name() {
        let args = Args::decode(
            &publish(),
            &[
                ("containerName".into(), text(json!("app"))),
                ("src".into(), text(json!("dir-id-123"))),
                ("registryPassword".into(), text(json!("secret-id-xyz"))),
                ("tags".into(), text(json!(["latest", "v1"]))),
                ("retries".into(), text(json!(5))),
            ],
        )
        .unwrap();
        assert_eq!(args.string("container_name").unwrap(), "app");
        assert_eq!(args.string("registry").unwrap(), "r.example");
        assert_eq!(args.id("src").unwrap(), dagger_sdk::Id("dir-id-123".into()));
        assert_eq!(
            args.optional_id("registry_password").unwrap(),
            Some(dagger_sdk::Id("secret-id-xyz".into()))
        );
        assert_eq!(args.string_list("tags").unwrap(), ["latest", "v1"]);
        assert_eq!(args.int("retries").unwrap(), 5);
        assert!(!args.boolean("dry_run").unwrap());
    }

    #[test]
    fn absent_optionals_are_none_or_default() {
        let args = Args::decode(
            &publish(),
            &[
                ("container_name".into(), text(json!("x"))),
                ("src".into(), text(json!("d"))),
                ("registryPassword".into(), text(Value::Null)),
            ],
        )
        .unwrap();
        assert_eq!(args.optional_id("registry_password").unwrap(), None);
        assert!(!args.is_set("registry_password"));
        assert!(args.string_list("tags").unwrap().is_empty());
        assert_eq!(args.int("retries").unwrap(), 3);
    }

    #[test]
    fn a_value_outside_the_allowed_ones_is_refused_with_the_list() {
        let f = FunctionDef::new("publish", TypeRef::String, "").arg(
            ArgDef::with_default("policy", TypeRef::String, json!("fail"), "")
                .allowing(["fail", "skip"]),
        );
        let args = Args::decode(&f, &[("policy".into(), text(json!("skip")))]).unwrap();
        assert_eq!(args.string("policy").unwrap(), "skip");
        assert_eq!(
            Args::decode(&f, &[]).unwrap().string("policy").unwrap(),
            "fail"
        );
        let err = Args::decode(&f, &[("policy".into(), text(json!("replace")))]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "argument --policy of function \"publish\" must be one of fail, skip; got \"replace\""
        );
    }

    #[test]
    fn missing_required_names_the_flag_and_type() {
        let err = Args::decode(&publish(), &[("src".into(), text(json!("d")))]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "function \"publish\" needs argument --container-name (a string)"
        );
    }

    #[test]
    fn wrong_types_are_named_without_the_value() {
        let err = Args::decode(
            &publish(),
            &[
                ("containerName".into(), text(json!(42))),
                ("src".into(), text(json!("d"))),
            ],
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "argument --container-name of function \"publish\" must be a string, got an integer"
        );
        let err = Args::decode(
            &publish(),
            &[
                ("containerName".into(), text(json!("n"))),
                ("src".into(), text(json!({"k": "hidden-value"}))),
            ],
        )
        .unwrap_err();
        assert!(err.to_string().contains("a Directory ID"), "{err}");
        assert!(!err.to_string().contains("hidden-value"), "{err}");
        let err = Args::decode(
            &publish(),
            &[
                ("containerName".into(), text(json!("n"))),
                ("src".into(), text(json!("d"))),
                ("tags".into(), text(json!(["a", 1]))),
            ],
        )
        .unwrap_err();
        assert!(err.to_string().contains("a list of strings"), "{err}");
        // Which item is wrong, not just "got a list" (issue 19, item 12).
        assert!(
            err.to_string()
                .ends_with("got a list whose item 2 is an integer"),
            "{err}"
        );
    }

    #[test]
    fn unknown_repeated_and_non_json_arguments_fail() {
        let err = Args::decode(&publish(), &[("nope".into(), text(json!(1)))]).unwrap_err();
        assert!(matches!(err, ArgError::Unknown { .. }));
        let err = Args::decode(
            &publish(),
            &[
                ("containerName".into(), text(json!("a"))),
                ("container_name".into(), text(json!("b"))),
            ],
        )
        .unwrap_err();
        assert!(matches!(err, ArgError::Repeated { .. }));
        let err = Args::decode(
            &publish(),
            &[("containerName".into(), Value::String("{not json".into()))],
        )
        .unwrap_err();
        assert!(matches!(err, ArgError::NotJson { .. }), "{err}");
    }

    #[test]
    fn misuse_by_the_function_is_an_error_not_a_panic() {
        let args = Args::decode(
            &publish(),
            &[
                ("containerName".into(), text(json!("a"))),
                ("src".into(), text(json!("d"))),
            ],
        )
        .unwrap();
        assert!(matches!(
            args.int("container_name"),
            Err(ArgError::Misuse { .. })
        ));
        assert!(matches!(
            args.string("undeclared"),
            Err(ArgError::Misuse { .. })
        ));
        assert!(matches!(args.string("src"), Err(ArgError::Misuse { .. })));
    }
}
