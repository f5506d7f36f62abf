use std::fmt;

use serde::{Deserialize, Serialize};

use super::transport::TransportError;

/// One entry of a GraphQL answer's `errors` list.
///
/// `extensions` is kept as raw JSON: the engine sends `_type` for exec errors only, and
/// `dagger-sdk` 0.21.11 fails to parse an error without it ("missing field `_type`"); here any
/// shape parses, and [`GraphQLErrorEntry::exec_error`] reads the exec error when there is one.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct GraphQLErrorEntry {
    /// The human-readable message.
    #[serde(default)]
    pub message: String,
    /// Where in the answer the error happened: field names (or aliases) and list indices.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub path: Vec<PathSegment>,
    /// Extra, engine-specific data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<serde_json::Value>,
}

/// One step of an error's `path`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum PathSegment {
    /// A field name or alias.
    Field(String),
    /// An index into a list.
    Index(u64),
}

impl GraphQLErrorEntry {
    /// An error with only a message.
    pub fn message(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            ..Self::default()
        }
    }

    /// The first path segment when it is a field name: the alias of a batched query.
    pub fn root_field(&self) -> Option<&str> {
        match self.path.first() {
            Some(PathSegment::Field(name)) => Some(name),
            _ => None,
        }
    }

    /// The exec error carried by `extensions`, when `_type` is `EXEC_ERROR`
    /// (upstream `core/exec_error.go`).
    pub fn exec_error(&self) -> Option<ExecError> {
        let ext = self.extensions.as_ref()?;
        if ext.get("_type")?.as_str()? != "EXEC_ERROR" {
            return None;
        }
        serde_json::from_value(ext.clone()).ok()
    }
}

/// A command that failed inside a container, as the engine reports it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ExecError {
    /// The command and its arguments.
    #[serde(default)]
    pub cmd: Vec<String>,
    /// The command's exit code.
    #[serde(rename = "exitCode")]
    pub exit_code: i32,
    /// What the command printed on standard output.
    #[serde(default)]
    pub stdout: String,
    /// What the command printed on standard error.
    #[serde(default)]
    pub stderr: String,
}

/// A query that failed: no answer at all, or an answer with GraphQL errors.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum QueryError {
    /// The query got no GraphQL answer.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The engine answered with errors.
    #[error("{}", ErrorList(.0))]
    GraphQL(Vec<GraphQLErrorEntry>),
    /// The engine answered without errors but the data has not the expected shape.
    #[error("the Dagger engine's answer has no {what}")]
    MissingData {
        /// What the answer lacks.
        what: String,
    },
    /// A lazy object argument of a chain had no ID: `dagger-sdk` panics when the engine
    /// refuses the ID query of an object a chain uses, and the panic was caught
    /// ([`gql::Chain::of`](crate::gql::Chain::of)).
    #[error("the engine did not resolve an object argument of the chain (its ID query failed: {detail})")]
    ObjectArgument {
        /// The panic's message.
        detail: String,
    },
}

impl QueryError {
    /// The GraphQL errors, empty for a transport failure.
    pub fn graphql_errors(&self) -> &[GraphQLErrorEntry] {
        match self {
            QueryError::GraphQL(errors) => errors,
            _ => &[],
        }
    }

    /// The first exec error among the GraphQL errors.
    pub fn exec_error(&self) -> Option<ExecError> {
        self.graphql_errors().iter().find_map(|e| e.exec_error())
    }
}

struct ErrorList<'a>(&'a [GraphQLErrorEntry]);

impl fmt::Display for ErrorList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            [] => write!(f, "the Dagger engine answered with an empty error list"),
            [one] => write!(f, "{}", one.message),
            many => {
                write!(f, "{} errors: ", many.len())?;
                for (i, e) in many.iter().enumerate() {
                    if i > 0 {
                        write!(f, "; ")?;
                    }
                    write!(f, "{}", e.message)?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_error_is_read_from_extensions() {
        let entry: GraphQLErrorEntry = serde_json::from_value(serde_json::json!({
            "message": "process \"go build\" did not complete successfully: exit code: 1",
            "path": ["container", "from", "withExec", "sync"],
            "extensions": {"_type": "EXEC_ERROR", "cmd": ["go", "build"], "exitCode": 1,
                           "stdout": "", "stderr": "undefined: buildtags.SQLITE_FTS5"}
        }))
        .unwrap();
        let exec = entry.exec_error().expect("exec error");
        assert_eq!(exec.exit_code, 1);
        assert_eq!(exec.cmd, ["go", "build"]);
        assert_eq!(entry.root_field(), Some("container"));
    }

    #[test]
    fn error_without_type_extension_parses() {
        let entry: GraphQLErrorEntry = serde_json::from_value(serde_json::json!({
            "message": "boom", "extensions": {"code": "X"}
        }))
        .unwrap();
        assert_eq!(entry.exec_error(), None);
        assert_eq!(QueryError::GraphQL(vec![entry]).to_string(), "boom");
    }
}
