//! [`StubServer`]: an HTTP server on 127.0.0.1 whose every answer comes from one function, for
//! tests that need a registry, a token endpoint or any HTTP peer saying something a real one will
//! not say on demand (429 with `Retry-After`, 5xx, paginated tag lists, bearer challenges).
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use dagger_mock_engine::{StubAnswer, StubServer};
//!
//! let server = StubServer::start(|request| {
//!     if request.path == "/v2/" {
//!         StubAnswer::new(200).body("{}")
//!     } else {
//!         StubAnswer::new(404)
//!     }
//! })
//! .await
//! .unwrap();
//! assert!(server.address().starts_with("127.0.0.1:"));
//! assert_eq!(server.requests().len(), 0);
//! # });
//! ```

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::{to_bytes, Body};
use axum::http::{HeaderName, HeaderValue, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;

/// The largest request body a stub reads (a test registry never receives more).
const MAX_BODY: usize = 64 * 1024 * 1024;

/// One request as the stub saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StubRequest {
    /// `GET`, `HEAD`, `PUT`, ...
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The query string, without `?` (empty when there is none).
    pub query: String,
    /// The headers, names in lowercase, in the order received.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl StubRequest {
    /// The first value of the header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The value of the query parameter `key`, as sent (not percent-decoded).
    pub fn query_param(&self, key: &str) -> Option<&str> {
        self.query
            .split('&')
            .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
    }
}

/// What the stub answers: a status, headers and a body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StubAnswer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl StubAnswer {
    /// An answer with `status`, no headers and an empty body.
    pub fn new(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// A JSON body with its content type.
    pub fn json(self, value: &serde_json::Value) -> Self {
        self.header("content-type", "application/json")
            .body(value.to_string())
    }
}

impl IntoResponse for StubAnswer {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, self.body).into_response();
        for (name, value) in self.headers {
            // A header a test spells wrongly is dropped rather than failing the whole answer;
            // the test then sees its absence.
            if let (Ok(name), Ok(value)) = (
                HeaderName::try_from(name.as_str()),
                HeaderValue::try_from(value.as_str()),
            ) {
                response.headers_mut().append(name, value);
            }
        }
        response
    }
}

type Handler = dyn Fn(&StubRequest) -> StubAnswer + Send + Sync;

/// The HTTP server. Stops when dropped.
pub struct StubServer {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<StubRequest>>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl std::fmt::Debug for StubServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StubServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl StubServer {
    /// Starts a server on a free port of 127.0.0.1 answering every request with `handler`.
    pub async fn start(
        handler: impl Fn(&StubRequest) -> StubAnswer + Send + Sync + 'static,
    ) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let requests = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let seen = requests.clone();
        let router = Router::new().fallback(move |request: Request<Body>| {
            let handler = handler.clone();
            let seen = seen.clone();
            async move {
                let (parts, body) = request.into_parts();
                let body = match to_bytes(body, MAX_BODY).await {
                    Ok(bytes) => bytes.to_vec(),
                    Err(e) => {
                        return StubAnswer::new(400)
                            .body(format!("stub server: cannot read the body: {e}"))
                    }
                };
                let request = StubRequest {
                    method: parts.method.to_string(),
                    path: parts.uri.path().to_owned(),
                    query: parts.uri.query().unwrap_or_default().to_owned(),
                    headers: parts
                        .headers
                        .iter()
                        .map(|(n, v)| {
                            (
                                n.as_str().to_owned(),
                                String::from_utf8_lossy(v.as_bytes()).into_owned(),
                            )
                        })
                        .collect(),
                    body,
                };
                let answer = handler(&request);
                seen.lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .push(request);
                answer
            }
        });
        let tx = crate::server::serve_until_stopped(listener, router);
        Ok(Self {
            addr,
            requests,
            shutdown: Some(tx),
        })
    }

    /// A server answering every request with the same answer.
    pub async fn fixed(answer: StubAnswer) -> std::io::Result<Self> {
        Self::start(move |_| answer.clone()).await
    }

    /// `127.0.0.1:<port>`.
    pub fn address(&self) -> String {
        self.addr.to_string()
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Every request answered so far, in order.
    pub fn requests(&self) -> Vec<StubRequest> {
        self.requests
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }
}

impl Drop for StubServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
