use async_trait::async_trait;
use serde::Deserialize;

use super::error::GraphQLErrorEntry;

/// One answer of the engine's GraphQL endpoint: `data` and `errors` as the engine sent them.
///
/// The GraphQL spec lets both be present (a partial answer); the Dagger engine's server (dagql)
/// never does that: when any field of a request fails, the answer has the errors and
/// `"data": null`, and the fields that succeeded are not reported (upstream `dagql/server.go`,
/// `Resolve` and `Exec`).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct Response {
    /// The `data` object, `None` when the engine answered `null` or nothing.
    #[serde(default)]
    pub data: Option<serde_json::Value>,
    /// The `errors` list, empty when the query succeeded.
    #[serde(default)]
    pub errors: Vec<GraphQLErrorEntry>,
}

impl Response {
    /// A successful answer carrying `data`.
    pub fn data(data: serde_json::Value) -> Self {
        Self {
            data: Some(data),
            errors: Vec::new(),
        }
    }

    /// A failed answer carrying `errors` and no data.
    pub fn errors(errors: Vec<GraphQLErrorEntry>) -> Self {
        Self { data: None, errors }
    }
}

/// Why a query got no GraphQL answer at all.
///
/// Every variant names what failed; none carries the query text (a query may hold a secret's ID,
/// never its plaintext, but logs stay short and clean either way).
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum TransportError {
    /// The engine could not be reached (connection refused, DNS, reset before an answer).
    #[error("the Dagger engine at {endpoint} could not be reached: {detail}")]
    Unreachable {
        /// The engine's endpoint.
        endpoint: String,
        /// What failed.
        detail: String,
    },
    /// The connection broke after the engine had started to answer.
    #[error("the Dagger engine at {endpoint} broke off its answer: {detail}")]
    Dropped {
        /// The engine's endpoint.
        endpoint: String,
        /// What failed.
        detail: String,
    },
    /// The engine did not answer within the configured time.
    #[error("the Dagger engine at {endpoint} did not answer within {seconds} s")]
    Timeout {
        /// The engine's endpoint.
        endpoint: String,
        /// The time limit, in seconds.
        seconds: u64,
    },
    /// The session token was refused (HTTP 401).
    #[error("the Dagger engine at {endpoint} refused the session token (HTTP 401); is DAGGER_SESSION_TOKEN from this session?")]
    Unauthorized {
        /// The engine's endpoint.
        endpoint: String,
    },
    /// The engine answered with an HTTP status that carries no GraphQL answer.
    #[error("the Dagger engine at {endpoint} answered HTTP {status}: {body}")]
    Status {
        /// The engine's endpoint.
        endpoint: String,
        /// The HTTP status.
        status: u16,
        /// The answer's body.
        body: String,
    },
    /// The answer was not the JSON the GraphQL protocol promises.
    #[error("the Dagger engine at {endpoint} sent an answer that is not GraphQL JSON: {detail}")]
    Malformed {
        /// The engine's endpoint.
        endpoint: String,
        /// What failed.
        detail: String,
    },
}

/// How queries reach an engine: one call, one round trip.
///
/// Implemented by [`super::HttpTransport`] for real sessions and by the mock engine for tests.
/// Modelled on kube-rs: the typed client above stays the same whatever carries its requests.
#[async_trait]
pub trait Transport: Send + Sync {
    /// Sends one GraphQL query document and returns the engine's answer.
    async fn execute(&self, query: &str) -> Result<Response, TransportError>;
}
