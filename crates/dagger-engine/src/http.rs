use std::time::Duration;

use async_trait::async_trait;
use base64::Engine as _;
use secrecy::{ExposeSecret, SecretString};

use super::transport::{Response, Transport, TransportError};

/// Where a Dagger session listens: the values of `DAGGER_SESSION_PORT` and `DAGGER_SESSION_TOKEN`.
///
/// The token is a secret: its `Debug` output is redacted.
#[derive(Clone)]
pub struct SessionParams {
    /// The port on 127.0.0.1.
    pub port: u16,
    /// The session token (the Basic-auth user name; the password is empty).
    pub token: SecretString,
}

impl std::fmt::Debug for SessionParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionParams")
            .field("port", &self.port)
            .field("token", &"[REDACTED]")
            .finish()
    }
}

impl SessionParams {
    /// Reads the session from the environment, as `dagger-sdk` does (`core/engine.rs`,
    /// `from_session_env`). `Ok(None)` when neither variable is set; an error when they are
    /// set but unusable.
    pub fn from_env() -> Result<Option<Self>, SessionEnvError> {
        Self::from_values(
            std::env::var("DAGGER_SESSION_PORT").ok(),
            std::env::var("DAGGER_SESSION_TOKEN").ok(),
        )
    }

    /// [`SessionParams::from_env`] on given values of `DAGGER_SESSION_PORT` and
    /// `DAGGER_SESSION_TOKEN`.
    ///
    /// ```
    /// use dagger_engine::{SessionEnvError, SessionParams};
    ///
    /// assert!(SessionParams::from_values(None, None).unwrap().is_none());
    /// let session = SessionParams::from_values(Some("41234".into()), Some("tok".into()));
    /// assert_eq!(session.unwrap().unwrap().port, 41234);
    /// assert_eq!(
    ///     SessionParams::from_values(Some("41234".into()), None).unwrap_err(),
    ///     SessionEnvError::MissingToken
    /// );
    /// assert!(matches!(
    ///     SessionParams::from_values(Some("0".into()), Some("tok".into())),
    ///     Err(SessionEnvError::InvalidPort { .. })
    /// ));
    /// ```
    pub fn from_values(
        port: Option<String>,
        token: Option<String>,
    ) -> Result<Option<Self>, SessionEnvError> {
        match (port, token) {
            (None, None) => Ok(None),
            (Some(port), Some(token)) => {
                // Port 0 is no port a session listens on (it means "any" to bind).
                let port = port
                    .trim()
                    .parse::<u16>()
                    .ok()
                    .filter(|p| *p != 0)
                    .ok_or(SessionEnvError::InvalidPort { value: port })?;
                if token.is_empty() {
                    return Err(SessionEnvError::EmptyToken);
                }
                Ok(Some(Self {
                    port,
                    token: SecretString::from(token),
                }))
            }
            (Some(_), None) => Err(SessionEnvError::MissingToken),
            (None, Some(_)) => Err(SessionEnvError::MissingPort),
        }
    }

    /// The session's query endpoint.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}/query", self.port)
    }
}

/// Time limits of the HTTP transport. Every request is bounded: nothing waits forever.
#[derive(Debug, Clone)]
pub struct HttpTransportConfig {
    /// How long to wait for the TCP connection.
    pub connect_timeout: Duration,
    /// How long one query may take from request to full answer (a build runs inside one query).
    pub request_timeout: Duration,
}

impl Default for HttpTransportConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60 * 60),
        }
    }
}

impl HttpTransportConfig {
    /// The environment variable that sets [`HttpTransportConfig::request_timeout`] in seconds.
    pub const TIMEOUT_VAR: &'static str = "DAGGER_QUERY_TIMEOUT_SECS";

    /// The defaults, with the request timeout from `DAGGER_QUERY_TIMEOUT_SECS` when set.
    pub fn from_env() -> Result<Self, SessionEnvError> {
        Self::from_timeout(std::env::var(Self::TIMEOUT_VAR).ok())
    }

    /// [`HttpTransportConfig::from_env`] on a given value of `DAGGER_QUERY_TIMEOUT_SECS`.
    pub fn from_timeout(raw: Option<String>) -> Result<Self, SessionEnvError> {
        let mut config = Self::default();
        if let Some(raw) = raw {
            let seconds = raw.trim().parse::<u64>().ok().filter(|s| *s > 0).ok_or(
                SessionEnvError::InvalidTimeout {
                    variable: Self::TIMEOUT_VAR,
                    value: raw,
                },
            )?;
            config.request_timeout = Duration::from_secs(seconds);
        }
        Ok(config)
    }
}

/// Why the session environment cannot be used (the variables are set, but wrong). No variant
/// holds the session token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionEnvError {
    /// `DAGGER_SESSION_PORT` is not a port number.
    #[error("DAGGER_SESSION_PORT must be a port number (1-65535), got {value:?}")]
    InvalidPort {
        /// The value found.
        value: String,
    },
    /// `DAGGER_SESSION_TOKEN` is set to the empty string.
    #[error("DAGGER_SESSION_TOKEN is set but empty")]
    EmptyToken,
    /// `DAGGER_SESSION_PORT` is set without `DAGGER_SESSION_TOKEN`.
    #[error("DAGGER_SESSION_PORT is set but DAGGER_SESSION_TOKEN is not")]
    MissingToken,
    /// `DAGGER_SESSION_TOKEN` is set without `DAGGER_SESSION_PORT`.
    #[error("DAGGER_SESSION_TOKEN is set but DAGGER_SESSION_PORT is not")]
    MissingPort,
    /// The query timeout variable is not a whole number of seconds above 0.
    #[error("{variable} must be a whole number of seconds above 0, got {value:?}")]
    InvalidTimeout {
        /// The variable (`DAGGER_QUERY_TIMEOUT_SECS`).
        variable: &'static str,
        /// The value found.
        value: String,
    },
}

/// The engine's session protocol over HTTP: `POST /query` with a JSON body and Basic auth
/// carrying the session token as user name, as `dagger-sdk` 0.21.11 connects (`core/engine.rs`,
/// `from_session_env`; the engine reads it with Go's `r.BasicAuth`).
pub struct HttpTransport {
    client: reqwest::Client,
    endpoint: String,
    authorization: SecretString,
    request_timeout: Duration,
}

impl std::fmt::Debug for HttpTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpTransport")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl HttpTransport {
    /// A transport for `session` with the given time limits.
    pub fn new(session: &SessionParams, config: HttpTransportConfig) -> Self {
        let client = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .no_proxy()
            .build()
            .expect("a reqwest client with only timeouts set always builds");
        let basic = base64::engine::general_purpose::STANDARD
            .encode(format!("{}:", session.token.expose_secret()));
        Self {
            client,
            endpoint: session.endpoint(),
            authorization: SecretString::from(format!("Basic {basic}")),
            request_timeout: config.request_timeout,
        }
    }

    /// A failure before the engine answered: a timeout, or the engine could not be reached.
    fn classify(&self, err: reqwest::Error) -> TransportError {
        if err.is_timeout() {
            return self.timeout();
        }
        TransportError::Unreachable {
            endpoint: self.endpoint.clone(),
            detail: chain(&err),
        }
    }

    /// A failure while reading an answer that had begun: a timeout, or a broken connection.
    fn classify_body(&self, err: reqwest::Error) -> TransportError {
        if err.is_timeout() {
            return self.timeout();
        }
        TransportError::Dropped {
            endpoint: self.endpoint.clone(),
            detail: chain(&err),
        }
    }

    fn timeout(&self) -> TransportError {
        TransportError::Timeout {
            endpoint: self.endpoint.clone(),
            seconds: self.request_timeout.as_secs(),
        }
    }
}

#[async_trait]
impl Transport for HttpTransport {
    async fn execute(&self, query: &str) -> Result<Response, TransportError> {
        let body = serde_json::json!({ "query": query, "variables": null });
        let answer = self
            .client
            .post(&self.endpoint)
            .header(
                reqwest::header::AUTHORIZATION,
                self.authorization.expose_secret(),
            )
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_string())
            .send()
            .await
            .map_err(|e| self.classify(e))?;
        let status = answer.status();
        let text = answer.text().await.map_err(|e| self.classify_body(e))?;
        if status == reqwest::StatusCode::UNAUTHORIZED {
            return Err(TransportError::Unauthorized {
                endpoint: self.endpoint.clone(),
            });
        }
        // The engine answers execution errors with 200 and validation errors with 422, both
        // with a GraphQL body; any other status carries no GraphQL answer.
        let graphql_status = status.is_success() || status.as_u16() == 422;
        match serde_json::from_str::<Response>(&text) {
            Ok(parsed)
                if graphql_status && (parsed.data.is_some() || !parsed.errors.is_empty()) =>
            {
                Ok(parsed)
            }
            Ok(_) if graphql_status => Err(TransportError::Malformed {
                endpoint: self.endpoint.clone(),
                detail: "neither data nor errors".into(),
            }),
            Err(e) if graphql_status => Err(TransportError::Malformed {
                endpoint: self.endpoint.clone(),
                detail: format!("{e} (body starts {:?})", snippet(&text)),
            }),
            _ => Err(TransportError::Status {
                endpoint: self.endpoint.clone(),
                status: status.as_u16(),
                body: snippet(&text),
            }),
        }
    }
}

/// An error with its causes, as one line. reqwest's messages name the URL (host and port
/// only) and the cause; never a header.
/// An error and its sources, each said once: hyper's errors already end with their source's
/// text, so a source whose text the message so far already ends with adds nothing.
fn chain(err: &reqwest::Error) -> String {
    let mut detail = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        let text = s.to_string();
        if !detail.ends_with(&text) {
            detail.push_str(": ");
            detail.push_str(&text);
        }
        source = s.source();
    }
    detail
}

fn snippet(text: &str) -> String {
    const MAX: usize = 200;
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn some(s: &str) -> Option<String> {
        Some(s.to_string())
    }

    #[test]
    fn the_session_variables_are_read_into_typed_errors() {
        assert!(SessionParams::from_values(None, None).unwrap().is_none());
        let session = SessionParams::from_values(some(" 8080 "), some("tok"))
            .unwrap()
            .unwrap();
        assert_eq!(session.endpoint(), "http://127.0.0.1:8080/query");
        assert_eq!(
            SessionParams::from_values(some("http"), some("tok")).unwrap_err(),
            SessionEnvError::InvalidPort {
                value: "http".into()
            }
        );
        assert_eq!(
            SessionParams::from_values(some("1"), some("")).unwrap_err(),
            SessionEnvError::EmptyToken
        );
        assert_eq!(
            SessionParams::from_values(some("1"), None).unwrap_err(),
            SessionEnvError::MissingToken
        );
        let err = SessionParams::from_values(None, some("secret-token")).unwrap_err();
        assert_eq!(err, SessionEnvError::MissingPort);
        assert!(!format!("{err} {err:?}").contains("secret-token"));
    }

    #[test]
    fn the_timeout_variable_is_whole_seconds_above_zero() {
        assert_eq!(
            HttpTransportConfig::from_timeout(None)
                .unwrap()
                .request_timeout,
            HttpTransportConfig::default().request_timeout
        );
        assert_eq!(
            HttpTransportConfig::from_timeout(some("90"))
                .unwrap()
                .request_timeout,
            Duration::from_secs(90)
        );
        for bad in ["0", "-1", "1.5", "soon"] {
            let err = HttpTransportConfig::from_timeout(some(bad)).unwrap_err();
            assert_eq!(
                err,
                SessionEnvError::InvalidTimeout {
                    variable: HttpTransportConfig::TIMEOUT_VAR,
                    value: bad.into()
                }
            );
            assert!(err.to_string().contains("DAGGER_QUERY_TIMEOUT_SECS"));
        }
    }
}
