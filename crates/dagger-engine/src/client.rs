use std::sync::Arc;

use async_trait::async_trait;
use dagger_sdk::core::gql_client::{GraphQLErrorMessage, GraphQLErrorPathParam, GraphQlExtension};
use dagger_sdk::core::graphql_client::{GraphQLClient, GraphQLError};

use super::error::{GraphQLErrorEntry, PathSegment, QueryError};
use super::http::{HttpTransport, HttpTransportConfig, SessionEnvError, SessionParams};
use super::transport::{Response, Transport};

/// A typed client over a [`Transport`]: raw queries for what `dagger-sdk` cannot express
/// (aliases, batches, tolerant error parsing), and a `dagger_sdk::Query` on the same transport.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use std::sync::Arc;
/// use dagger_engine::{EngineClient, Response, Transport, TransportError};
///
/// /// A transport that answers every query with the same version.
/// struct Fixed;
/// #[async_trait::async_trait]
/// impl Transport for Fixed {
///     async fn execute(&self, _query: &str) -> Result<Response, TransportError> {
///         Ok(serde_json::from_str(r#"{"data":{"version":"v0.21.11"}}"#).unwrap())
///     }
/// }
///
/// let client = EngineClient::new(Arc::new(Fixed));
/// let data = client.query("query{version}").await.unwrap();
/// assert_eq!(data["version"], "v0.21.11");
/// # });
/// ```
///
/// The mock engine (crate `dagger-mock-engine`) is such a transport, with the engine's schema
/// behind it: `MockEngine::new().client()`.
#[derive(Clone)]
pub struct EngineClient {
    transport: Arc<dyn Transport>,
}

impl std::fmt::Debug for EngineClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineClient").finish_non_exhaustive()
    }
}

impl EngineClient {
    /// A client sending its queries through `transport`.
    pub fn new(transport: Arc<dyn Transport>) -> Self {
        Self { transport }
    }

    /// A client for the session named by `DAGGER_SESSION_PORT` / `DAGGER_SESSION_TOKEN`,
    /// `Ok(None)` when the process runs outside a session. Each query may take up to an hour
    /// (a build runs inside one query), or `DAGGER_QUERY_TIMEOUT_SECS` seconds. Variables that
    /// are set but unusable are a [`SessionEnvError`].
    pub fn from_session_env() -> Result<Option<Self>, SessionEnvError> {
        let Some(session) = SessionParams::from_env()? else {
            return Ok(None);
        };
        let config = HttpTransportConfig::from_env()?;
        Ok(Some(Self::new(Arc::new(HttpTransport::new(
            &session, config,
        )))))
    }

    /// Sends `query` and returns the engine's whole answer, data and errors.
    pub async fn execute(&self, query: &str) -> Result<Response, QueryError> {
        tracing::trace!(query_len = query.len(), "dagger-query");
        Ok(self.transport.execute(query).await?)
    }

    /// Sends `query` and returns its `data`; any GraphQL error fails the whole query.
    pub async fn query(&self, query: &str) -> Result<serde_json::Value, QueryError> {
        let answer = self.execute(query).await?;
        if !answer.errors.is_empty() {
            return Err(QueryError::GraphQL(answer.errors));
        }
        answer.data.ok_or_else(|| QueryError::MissingData {
            what: "data".into(),
        })
    }

    /// A `dagger_sdk::Query` whose requests go through this client's transport.
    pub fn dagger(&self) -> dagger_sdk::Query {
        dagger_sdk::Query {
            proc: None,
            selection: dagger_sdk::Selection::default(),
            graphql_client: Arc::new(SdkAdapter {
                transport: self.transport.clone(),
            }),
        }
    }
}

/// Runs `dagger-sdk`'s queries on a [`Transport`], turning its answers into the crate's
/// `GraphQLError` without tripping on errors that lack the `_type` extension.
pub struct SdkAdapter {
    transport: Arc<dyn Transport>,
}

#[async_trait]
impl GraphQLClient for SdkAdapter {
    async fn query(&self, query: &str) -> Result<Option<serde_json::Value>, GraphQLError> {
        let answer = self
            .transport
            .execute(query)
            .await
            .map_err(|e| GraphQLError::HttpError(e.to_string()))?;
        if answer.errors.is_empty() {
            // dagger-sdk unwraps the data of every answer: an answer with neither data nor errors
            // becomes an error here instead of a panic there.
            return match answer.data {
                Some(serde_json::Value::Null) | None => Err(GraphQLError::HttpError(
                    "the Dagger engine answered with neither data nor errors".into(),
                )),
                data => Ok(data),
            };
        }
        let message = answer.errors[0].message.clone();
        Err(GraphQLError::DomainError {
            message,
            fields: answer.errors.iter().map(to_sdk_error).collect(),
        })
    }
}

fn to_sdk_error(entry: &GraphQLErrorEntry) -> GraphQLErrorMessage {
    let extensions = match entry.exec_error() {
        Some(exec) => Some(GraphQlExtension::ExecError {
            cmd: exec.cmd,
            exit_code: exec.exit_code,
            stderr: exec.stderr,
            stdout: exec.stdout,
        }),
        None => entry.extensions.as_ref().map(|_| GraphQlExtension::Other),
    };
    GraphQLErrorMessage {
        message: entry.message.clone(),
        locations: None,
        extensions,
        path: Some(
            entry
                .path
                .iter()
                .map(|p| match p {
                    PathSegment::Field(name) => GraphQLErrorPathParam::String(name.clone()),
                    PathSegment::Index(i) => GraphQLErrorPathParam::Number(*i as u32),
                })
                .collect(),
        ),
    }
}

/// The engine's errors inside a `dagger_sdk::errors::DaggerError`, recovered as
/// [`QueryError`] so that exec errors and messages can be read the same way everywhere.
pub fn query_error_from_sdk(err: &dagger_sdk::errors::DaggerError) -> QueryError {
    use dagger_sdk::errors::DaggerError;
    match err {
        DaggerError::Query(GraphQLError::DomainError { fields, message }) => {
            let mut entries: Vec<GraphQLErrorEntry> = fields.iter().map(from_sdk_error).collect();
            if entries.is_empty() {
                entries.push(GraphQLErrorEntry::message(message.clone()));
            }
            QueryError::GraphQL(entries)
        }
        other => QueryError::MissingData {
            what: format!("usable answer ({other})"),
        },
    }
}

fn from_sdk_error(msg: &GraphQLErrorMessage) -> GraphQLErrorEntry {
    let extensions = match &msg.extensions {
        Some(GraphQlExtension::ExecError {
            cmd,
            exit_code,
            stderr,
            stdout,
        }) => Some(serde_json::json!({
            "_type": "EXEC_ERROR", "cmd": cmd, "exitCode": exit_code,
            "stdout": stdout, "stderr": stderr,
        })),
        Some(GraphQlExtension::Other) => Some(serde_json::json!({})),
        None => None,
    };
    GraphQLErrorEntry {
        message: msg.message.clone(),
        path: msg
            .path
            .iter()
            .flatten()
            .map(|p| match p {
                GraphQLErrorPathParam::String(s) => PathSegment::Field(s.clone()),
                GraphQLErrorPathParam::Number(n) => PathSegment::Index(u64::from(*n)),
            })
            .collect(),
        extensions,
    }
}
