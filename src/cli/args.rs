//! The arguments of one call: read from the command line, checked, and turned into the
//! `inputArgs` the module's function decodes (object arguments loaded on the engine).

use std::path::{Path, PathBuf};

use clap::parser::ValueSource;
use clap::ArgMatches;
use serde_json::{json, Value};

use super::command::kebab;
use super::source::ignore_patterns;
use dagger_engine::gql::{self, Arg, Field};
use dagger_engine::{EngineClient, QueryError};
use dagger_module_runtime::{cli_flag, ArgDef, FunctionDef, TypeRef};

/// One argument as the caller gave it, checked as far as it can be without an engine.
#[derive(Debug, Clone, PartialEq)]
pub enum Given {
    /// A string, number, boolean or list of them, as JSON.
    Value(Value),
    /// A local directory (absolute path).
    Directory(PathBuf),
    /// A local file (absolute path).
    File(PathBuf),
    /// A secret's address, as `dagger call` takes it (`env:NAME`, `file:PATH`, `NAME`, ...).
    Secret(String),
}

/// A function and the arguments the caller gave it (defaults are the module's to apply,
/// except a Directory argument's, which is the current directory in the main job).
#[derive(Debug, Clone)]
pub struct Call {
    /// The function called.
    pub function: FunctionDef,
    /// The arguments given, in the definition's order.
    pub given: Vec<(ArgDef, Given)>,
}

/// An argument that cannot be used: the flag and the rule it broke.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{flag}: {problem}")]
pub struct ArgumentError {
    /// The flag.
    pub flag: String,
    /// What is wrong with its value.
    pub problem: String,
}

/// Loading the object arguments on the engine failed.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The engine refused an argument (a path it cannot read, a secret provider it does not
    /// know): the caller's to fix.
    #[error("the engine refused the arguments: {0}")]
    Refused(QueryError),
    /// The engine could not be asked, or answered without an ID.
    #[error("loading the arguments on the engine failed: {0}")]
    Failed(String),
}

impl LoadError {
    /// 2 when the engine refused an argument, 1 when the engine failed.
    pub fn exit_code(&self) -> u8 {
        match self {
            LoadError::Refused(_) => 2,
            LoadError::Failed(_) => 1,
        }
    }
}

impl Call {
    /// The arguments of `function` given in `matches`.
    pub fn from_matches(
        function: &FunctionDef,
        matches: &ArgMatches,
    ) -> Result<Self, ArgumentError> {
        let mut given = Vec::new();
        for def in &function.args {
            if let Some(value) = read(def, matches)? {
                given.push((def.clone(), value));
            }
        }
        Ok(Self {
            function: function.clone(),
            given,
        })
    }

    /// The value given for the argument `name` (snake_case).
    pub fn get(&self, name: &str) -> Option<&Given> {
        self.given
            .iter()
            .find(|(def, _)| def.name == name)
            .map(|(_, g)| g)
    }

    /// Gives argument `name` the value `value` when the command line left it out (a value
    /// taken from the environment, such as `SOURCE_DATE_EPOCH` for `--created`), keeping the
    /// definition's order. `false` when the function has no such argument or it was given.
    pub fn default_from_environment(&mut self, name: &str, value: Value) -> bool {
        if self.get(name).is_some() {
            return false;
        }
        let Some(position) = self.function.args.iter().position(|a| a.name == name) else {
            return false;
        };
        let def = self.function.args[position].clone();
        let at = self
            .given
            .iter()
            .position(|(d, _)| {
                self.function
                    .args
                    .iter()
                    .position(|a| a.name == d.name)
                    .is_some_and(|p| p > position)
            })
            .unwrap_or(self.given.len());
        self.given.insert(at, (def, Given::Value(value)));
        true
    }

    /// The command line as given, for the plan's header: `publish --container-name=navidrome`.
    pub fn display(&self) -> String {
        let mut out = kebab(&self.function.name);
        for (def, given) in &self.given {
            let value = match given {
                Given::Value(Value::String(s)) => s.clone(),
                Given::Value(Value::Array(items)) => items
                    .iter()
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                    .collect::<Vec<_>>()
                    .join(","),
                Given::Value(other) => other.to_string(),
                Given::Directory(p) | Given::File(p) => p.display().to_string(),
                Given::Secret(address) => address.clone(),
            };
            out.push_str(&format!(" {}={value}", cli_flag(&def.name)));
        }
        out
    }

    /// The arguments as the engine would send them (`inputArgs`: engine names, JSON text),
    /// with the object arguments loaded on `client` in one round trip: a Directory as
    /// `address(value:).directory(exclude:)`, a Secret as `address(value:).secret`, a File
    /// from its host directory.
    pub async fn input_args(
        &self,
        client: &EngineClient,
    ) -> Result<Vec<(String, Value)>, LoadError> {
        let mut fields = Vec::new();
        for (i, (def, given)) in self.given.iter().enumerate() {
            let id = || Field::new("id");
            let field = match given {
                Given::Value(_) => continue,
                Given::Directory(path) => Field::new("address")
                    .arg("value", path.to_string_lossy().as_ref())
                    .select(
                        Field::new("directory")
                            .arg("exclude", Arg::strings(ignore_patterns(def)))
                            .select(id()),
                    ),
                Given::File(path) => {
                    let (dir, name) = split_file(path).map_err(|problem| {
                        LoadError::Failed(format!("{}: {problem}", cli_flag(&def.name)))
                    })?;
                    Field::new("host").select(
                        Field::new("directory")
                            .arg("path", dir)
                            .select(Field::new("file").arg("path", name).select(id())),
                    )
                }
                Given::Secret(address) => Field::new("address")
                    .arg("value", address.as_str())
                    .select(Field::new("secret").select(id())),
            };
            fields.push(field.alias(format!("a{i}")));
        }
        let data = if fields.is_empty() {
            Value::Null
        } else {
            client
                .query(&gql::query(&fields))
                .await
                .map_err(|e| match e {
                    QueryError::GraphQL(_) => LoadError::Refused(e),
                    other => LoadError::Failed(other.to_string()),
                })?
        };
        let mut input = Vec::new();
        for (i, (def, given)) in self.given.iter().enumerate() {
            let value = match given {
                Given::Value(v) => v.clone(),
                _ => json!(innermost_string(&data[format!("a{i}")]).ok_or_else(|| {
                    LoadError::Failed(format!("the engine gave no ID for {}", cli_flag(&def.name)))
                })?),
            };
            input.push((def.engine_name(), Value::String(value.to_string())));
        }
        Ok(input)
    }
}

/// The one string at the end of a chain of single-field objects (`{"a":{"b":{"id":"x"}}}`).
fn innermost_string(mut value: &Value) -> Option<&str> {
    while let Value::Object(map) = value {
        match map.values().next() {
            Some(inner) if map.len() == 1 => value = inner,
            _ => return None,
        }
    }
    value.as_str()
}

/// A file's directory and name.
pub fn split_file(path: &Path) -> Result<(String, String), String> {
    match (path.parent(), path.file_name()) {
        (Some(dir), Some(name)) => Ok((
            dir.to_string_lossy().into_owned(),
            name.to_string_lossy().into_owned(),
        )),
        _ => Err(format!("{} is not a file path", path.display())),
    }
}

fn explicit(def: &ArgDef, matches: &ArgMatches) -> bool {
    matches.value_source(&def.name) == Some(ValueSource::CommandLine)
}

fn read(def: &ArgDef, matches: &ArgMatches) -> Result<Option<Given>, ArgumentError> {
    let flag = || cli_flag(&def.name);
    let problem = |problem: String| ArgumentError {
        flag: flag(),
        problem,
    };
    let is_directory = matches!(&def.type_ref, TypeRef::Object(k) if k == "Directory");
    // The module applies its own defaults; the main job's only own default is a Directory's.
    if !explicit(def, matches) && !is_directory {
        return Ok(None);
    }
    let value = match &def.type_ref {
        TypeRef::String => Given::Value(json!(one::<String>(matches, def)?)),
        TypeRef::Integer => Given::Value(json!(one::<i64>(matches, def)?)),
        TypeRef::Float => Given::Value(json!(one::<f64>(matches, def)?)),
        TypeRef::Boolean => Given::Value(json!(one::<bool>(matches, def)?)),
        TypeRef::List(inner) => {
            let items: Vec<Value> = match inner.as_ref() {
                TypeRef::Integer => many::<i64>(matches, def)?
                    .into_iter()
                    .map(|v| json!(v))
                    .collect(),
                TypeRef::Boolean => many::<bool>(matches, def)?
                    .into_iter()
                    .map(|v| json!(v))
                    .collect(),
                _ => many::<String>(matches, def)?
                    .into_iter()
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .map(Value::from)
                    .collect(),
            };
            Given::Value(Value::Array(items))
        }
        TypeRef::Object(kind) => {
            let raw: String = one(matches, def)?;
            match kind.as_str() {
                "Directory" => Given::Directory(existing(&raw, true).map_err(problem)?),
                "File" => Given::File(existing(&raw, false).map_err(problem)?),
                "Secret" if raw.is_empty() => {
                    // upstream core/schema/address.go: "resource cannot have empty address".
                    return Err(problem(
                        "a secret needs an address: env:NAME, file:PATH, cmd:COMMAND or NAME"
                            .into(),
                    ));
                }
                "Secret" => Given::Secret(raw),
                other => {
                    return Err(problem(format!(
                        "objects of type {other} cannot be given here"
                    )))
                }
            }
        }
        TypeRef::Void => return Err(problem("takes no value".into())),
    };
    Ok(Some(value))
}

/// The command line is built from the same definition, so a flag of another type than its
/// argument's is a bug of the main job; it is still reported, never a panic.
fn mismatch(def: &ArgDef, e: impl std::fmt::Display) -> ArgumentError {
    ArgumentError {
        flag: cli_flag(&def.name),
        problem: format!("the main job read this flag with the wrong type ({e})"),
    }
}

fn one<T: Clone + Send + Sync + 'static>(
    matches: &ArgMatches,
    def: &ArgDef,
) -> Result<T, ArgumentError> {
    matches
        .try_get_one::<T>(&def.name)
        .map_err(|e| mismatch(def, e))?
        .cloned()
        .ok_or_else(|| mismatch(def, "no value"))
}

fn many<T: Clone + Send + Sync + 'static>(
    matches: &ArgMatches,
    def: &ArgDef,
) -> Result<Vec<T>, ArgumentError> {
    Ok(matches
        .try_get_many::<T>(&def.name)
        .map_err(|e| mismatch(def, e))?
        .map(|values| values.cloned().collect())
        .unwrap_or_default())
}

/// The absolute path of an existing directory (or file).
fn existing(raw: &str, directory: bool) -> Result<PathBuf, String> {
    let kind = if directory { "directory" } else { "file" };
    let path = std::fs::canonicalize(raw).map_err(|e| format!("{kind} {raw:?}: {e}"))?;
    if path.is_dir() != directory {
        return Err(format!("{raw:?} is not a {kind}"));
    }
    Ok(path)
}
