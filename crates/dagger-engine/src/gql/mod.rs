//! Writing GraphQL query text, and reading answers back: the one place where strings are quoted
//! and where queries the `dagger-sdk` builder cannot express (aliases, several top-level fields,
//! `node(id:)` with a type condition) are put together, and where a chain `dagger-sdk` wrote is
//! read back ([`read_chain`]).
//!
//! ```
//! use dagger_engine::gql::{self, Field};
//!
//! // Two lookups in one request, each under its own alias.
//! let lookup = |alias: &str, address: &str| {
//!     Field::new("container")
//!         .alias(alias)
//!         .then(Field::new("from").arg("address", address))
//!         .then(Field::new("imageRef"))
//! };
//! let a = lookup("a", "alpine:3.20");
//! let b = lookup("b", "r.example/x:\"1\"");
//! assert_eq!(
//!     gql::query(&[a.clone(), b]),
//!     r#"query{a:container{from(address:"alpine:3.20"){imageRef}} b:container{from(address:"r.example/x:\"1\""){imageRef}}}"#
//! );
//!
//! // The answer is read by the same field: its key (the alias) and the keys below it.
//! let data = serde_json::json!({"a": {"from": {"imageRef": "docker.io/library/alpine:3.20@sha256:00"}}});
//! assert_eq!(a.answer(&data).and_then(|v| v.as_str()), Some("docker.io/library/alpine:3.20@sha256:00"));
//! ```

use std::fmt::{self, Write};

mod chain;
mod read;

pub use chain::Chain;
pub use read::{read_chain, ReadError};

/// A GraphQL string literal for `value`, with `"`, `\` and control characters escaped.
///
/// ```
/// assert_eq!(dagger_engine::gql::string("a\"b"), r#""a\"b""#);
/// ```
pub fn string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A GraphQL list of string literals.
///
/// ```
/// assert_eq!(dagger_engine::gql::string_list(["a", "b"]), r#"["a","b"]"#);
/// ```
pub fn string_list<I, S>(values: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let items: Vec<String> = values.into_iter().map(|v| string(v.as_ref())).collect();
    format!("[{}]", items.join(","))
}

/// An argument value of a field call.
///
/// ```
/// use dagger_engine::gql::Arg;
///
/// assert_eq!(Arg::from("x").to_string(), r#""x""#);
/// assert_eq!(Arg::strings(["a", "b"]).to_string(), r#"["a","b"]"#);
/// assert_eq!(Arg::Enum("Never".into()).to_string(), "Never");
/// assert_eq!(Arg::from(true).to_string(), "true");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    /// A string (quoted and escaped when written).
    String(String),
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// A boolean.
    Boolean(bool),
    /// An enum value, written as is: it must be a GraphQL name (`Never`, `STRING_KIND`).
    Enum(String),
    /// A list.
    List(Vec<Arg>),
    /// An input object.
    Object(Vec<(String, Arg)>),
    /// `null`.
    Null,
}

impl Arg {
    /// A list of strings.
    pub fn strings<I, S>(values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Arg::List(values.into_iter().map(|v| Arg::String(v.into())).collect())
    }
}

impl From<&str> for Arg {
    fn from(value: &str) -> Self {
        Arg::String(value.to_string())
    }
}

impl From<String> for Arg {
    fn from(value: String) -> Self {
        Arg::String(value)
    }
}

impl From<&String> for Arg {
    fn from(value: &String) -> Self {
        Arg::String(value.clone())
    }
}

impl From<bool> for Arg {
    fn from(value: bool) -> Self {
        Arg::Boolean(value)
    }
}

impl From<i64> for Arg {
    fn from(value: i64) -> Self {
        Arg::Int(value)
    }
}

impl fmt::Display for Arg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Arg::String(s) => f.write_str(&string(s)),
            Arg::Int(n) => write!(f, "{n}"),
            Arg::Float(x) if x.is_finite() => write!(f, "{x:?}"),
            // GraphQL has no literal for them; the engine refuses a null where a number is due.
            Arg::Float(_) => f.write_str("null"),
            Arg::Boolean(b) => write!(f, "{b}"),
            Arg::Enum(name) => f.write_str(name),
            Arg::List(items) => {
                f.write_char('[')?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_char(',')?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_char(']')
            }
            Arg::Object(fields) => {
                f.write_char('{')?;
                for (i, (name, value)) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_char(',')?;
                    }
                    write!(f, "{name}:{value}")?;
                }
                f.write_char('}')
            }
            Arg::Null => f.write_str("null"),
        }
    }
}

/// One field of a selection: an optional alias, the field's name, its arguments and what is
/// selected below it (optionally inside `... on Type`, as `node(id:)` needs).
///
/// Names, aliases and type names are written as given and must be GraphQL names; argument
/// values are quoted here.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    alias: Option<String>,
    name: String,
    args: Vec<(String, Arg)>,
    on: Option<String>,
    selection: Vec<Field>,
}

impl Field {
    /// The field `name` with no arguments and nothing selected below it (a leaf).
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            alias: None,
            name: name.into(),
            args: Vec::new(),
            on: None,
            selection: Vec::new(),
        }
    }

    /// `node(id: <id>) { ... on <type_name> { ... } }`: an object loaded by its ID; the fields
    /// added with [`Field::select`] or [`Field::then`] go inside the type condition.
    ///
    /// ```
    /// use dagger_engine::gql::Field;
    /// let f = Field::node("abc", "Secret").then(Field::new("name"));
    /// assert_eq!(f.to_string(), r#"node(id:"abc"){... on Secret{name}}"#);
    /// ```
    pub fn node(id: &str, type_name: impl Into<String>) -> Self {
        Self::new("node").arg("id", id).on_type(type_name)
    }

    /// Sets the alias: the key of this field's answer.
    pub fn alias(mut self, alias: impl Into<String>) -> Self {
        self.alias = Some(alias.into());
        self
    }

    /// Adds an argument.
    pub fn arg(mut self, name: impl Into<String>, value: impl Into<Arg>) -> Self {
        self.args.push((name.into(), value.into()));
        self
    }

    /// Wraps what is selected below this field in `... on <type_name>`.
    pub fn on_type(mut self, type_name: impl Into<String>) -> Self {
        self.on = Some(type_name.into());
        self
    }

    /// Selects `child` below this field, beside what is already selected.
    pub fn select(mut self, child: Field) -> Self {
        self.selection.push(child);
        self
    }

    /// Appends `next` at the end of a chain: below the last field selected at each level, so
    /// that `a.then(b).then(c)` is `a{b{c}}`.
    pub fn then(mut self, next: Field) -> Self {
        self.append_innermost(next);
        self
    }

    fn append_innermost(&mut self, next: Field) {
        match self.selection.last_mut() {
            Some(last) => last.append_innermost(next),
            None => self.selection.push(next),
        }
    }

    /// The same field with every level's arguments sorted by name: two writings of one call
    /// chain (`dagger-sdk` writes a field's arguments in a hash map's order) compare equal.
    ///
    /// ```
    /// use dagger_engine::gql::Field;
    /// let a = Field::new("f").arg("b", "1").arg("a", "2").then(Field::new("g").arg("y", 1i64).arg("x", 2i64));
    /// let b = Field::new("f").arg("a", "2").arg("b", "1").then(Field::new("g").arg("x", 2i64).arg("y", 1i64));
    /// assert_eq!(a.canonical(), b.canonical());
    /// assert_eq!(a.canonical().to_string(), r#"f(a:"2",b:"1"){g(x:2,y:1)}"#);
    /// ```
    pub fn canonical(&self) -> Field {
        let mut args = self.args.clone();
        args.sort_by(|(a, _), (b, _)| a.cmp(b));
        Field {
            alias: self.alias.clone(),
            name: self.name.clone(),
            args,
            on: self.on.clone(),
            selection: self.selection.iter().map(Field::canonical).collect(),
        }
    }

    /// The field's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The field's arguments, in the order given.
    pub fn args(&self) -> &[(String, Arg)] {
        &self.args
    }

    /// The fields selected below this one.
    pub fn selection(&self) -> &[Field] {
        &self.selection
    }

    /// The key of this field's answer: its alias, or its name.
    pub fn key(&self) -> &str {
        self.alias.as_deref().unwrap_or(&self.name)
    }

    /// The keys from this field down the last selected field of each level: where the answer
    /// of a chain's leaf is.
    pub fn leaf_path(&self) -> Vec<&str> {
        let mut path = vec![self.key()];
        let mut at = self;
        while let Some(last) = at.selection.last() {
            path.push(last.key());
            at = last;
        }
        path
    }

    /// The answer of this chain's leaf in `data` (a query's `data` object), read along
    /// [`Field::leaf_path`].
    pub fn answer<'a>(&self, data: &'a serde_json::Value) -> Option<&'a serde_json::Value> {
        at(data, &self.leaf_path())
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(alias) = &self.alias {
            write!(f, "{alias}:")?;
        }
        f.write_str(&self.name)?;
        if !self.args.is_empty() {
            f.write_char('(')?;
            for (i, (name, value)) in self.args.iter().enumerate() {
                if i > 0 {
                    f.write_char(',')?;
                }
                write!(f, "{name}:{value}")?;
            }
            f.write_char(')')?;
        }
        if self.selection.is_empty() {
            return Ok(());
        }
        f.write_char('{')?;
        if let Some(on) = &self.on {
            write!(f, "... on {on}{{")?;
        }
        for (i, child) in self.selection.iter().enumerate() {
            if i > 0 {
                f.write_char(' ')?;
            }
            write!(f, "{child}")?;
        }
        if self.on.is_some() {
            f.write_char('}')?;
        }
        f.write_char('}')
    }
}

/// A query document whose top-level selection is `fields`: `query{a b ...}`.
pub fn query(fields: &[Field]) -> String {
    let mut out = String::from("query{");
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let _ = write!(out, "{field}");
    }
    out.push('}');
    out
}

/// The value at `path` (answer keys, from the top) in a query's `data`; `None` when a key is
/// missing or a value on the way is not an object.
///
/// ```
/// let data = serde_json::json!({"a": {"b": {"c": 1}}});
/// assert_eq!(dagger_engine::gql::at(&data, &["a", "b", "c"]), Some(&serde_json::json!(1)));
/// assert_eq!(dagger_engine::gql::at(&data, &["a", "x"]), None);
/// ```
pub fn at<'a>(data: &'a serde_json::Value, path: &[&str]) -> Option<&'a serde_json::Value> {
    path.iter().try_fold(data, |value, key| value.get(*key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(string("a\nb\u{1}"), "\"a\\nb\\u0001\"");
        assert_eq!(string("back\\slash"), "\"back\\\\slash\"");
    }

    #[test]
    fn chains_aliases_and_arguments_are_written() {
        let f = Field::new("container")
            .alias("t0")
            .then(
                Field::new("withRegistryAuth")
                    .arg("address", "r.example")
                    .arg("secret", "id\"x"),
            )
            .then(
                Field::new("publish")
                    .arg("address", "r.example/a:1")
                    .arg("platformVariants", Arg::strings(["v1", "v2"])),
            );
        assert_eq!(
            f.to_string(),
            r#"t0:container{withRegistryAuth(address:"r.example",secret:"id\"x"){publish(address:"r.example/a:1",platformVariants:["v1","v2"])}}"#
        );
        assert_eq!(f.leaf_path(), ["t0", "withRegistryAuth", "publish"]);
    }

    #[test]
    fn several_fields_and_node_with_a_type_condition() {
        let f = Field::node("abc", "Container")
            .alias("n")
            .select(Field::new("platform"))
            .select(Field::new("sync"));
        assert_eq!(
            query(&[f.clone(), Field::new("version")]),
            r#"query{n:node(id:"abc"){... on Container{platform sync}} version}"#
        );
        let data = serde_json::json!({"n": {"platform": "linux/amd64", "sync": "abc"}});
        assert_eq!(f.answer(&data), Some(&serde_json::json!("abc")));
    }

    #[test]
    fn every_kind_of_argument() {
        let f = Field::new("f")
            .arg("i", 3i64)
            .arg("x", Arg::Float(1.5))
            .arg("nan", Arg::Float(f64::NAN))
            .arg("e", Arg::Enum("ANY".into()))
            .arg(
                "o",
                Arg::Object(vec![
                    ("name".into(), "A".into()),
                    ("value".into(), Arg::Null),
                ]),
            )
            .arg("empty", Arg::List(vec![]));
        assert_eq!(
            f.to_string(),
            r#"f(i:3,x:1.5,nan:null,e:ANY,o:{name:"A",value:null},empty:[])"#
        );
    }

    #[test]
    fn at_reads_along_the_keys() {
        let data = serde_json::json!({"a": {"b": [1]}});
        assert_eq!(at(&data, &[]), Some(&data));
        assert_eq!(at(&data, &["a", "b", "c"]), None);
    }
}
