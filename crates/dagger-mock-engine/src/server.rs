//! The session protocol over HTTP (as `dagger-sdk` 0.21.11 speaks it, `core/engine.rs`): `POST /query` on
//! 127.0.0.1 with `Authorization: Basic base64("<token>:")`.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State as AxState;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response as AxResponse};
use axum::routing::post;
use axum::Router;
use base64::Engine as _;
use rand::distr::{Alphanumeric, SampleString};
use serde_json::Value;

use dagger_engine_sim::MockEngine;

/// A running session server; it stops when dropped.
pub struct SessionServer {
    addr: SocketAddr,
    token: String,
    latency: Arc<Mutex<Option<Duration>>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl std::fmt::Debug for SessionServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionServer")
            .field("addr", &self.addr)
            .field("token", &"[REDACTED]")
            .finish()
    }
}

#[derive(Clone)]
struct App {
    engine: MockEngine,
    token: Arc<str>,
    latency: Arc<Mutex<Option<Duration>>>,
}

impl SessionServer {
    /// Serves the session protocol for `engine` on 127.0.0.1 (random port, random token) until
    /// the returned server is dropped.
    pub async fn start(engine: &MockEngine) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let token = Alphanumeric.sample_string(&mut rand::rng(), 32);
        let latency = Arc::new(Mutex::new(None));
        let app = App {
            engine: engine.clone(),
            token: Arc::from(token.as_str()),
            latency: latency.clone(),
        };
        let router = Router::new().route("/query", post(query)).with_state(app);
        let tx = serve_until_stopped(listener, router);
        Ok(Self {
            addr,
            token,
            latency,
            shutdown: Some(tx),
        })
    }

    /// The port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The session token.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// `http://127.0.0.1:<port>/query`.
    pub fn endpoint(&self) -> String {
        format!("http://{}/query", self.addr)
    }

    /// `DAGGER_SESSION_PORT` and `DAGGER_SESSION_TOKEN` for a child process.
    pub fn env_vars(&self) -> Vec<(String, String)> {
        vec![
            ("DAGGER_SESSION_PORT".into(), self.port().to_string()),
            ("DAGGER_SESSION_TOKEN".into(), self.token.clone()),
        ]
    }

    /// Session parameters for [`dagger_engine::HttpTransport`].
    pub fn session_params(&self) -> dagger_engine::SessionParams {
        dagger_engine::SessionParams {
            port: self.port(),
            token: secrecy::SecretString::from(self.token.clone()),
        }
    }

    /// Delay added before each answer (for benchmarks); `Duration::ZERO` removes it.
    pub fn set_latency(&self, latency: Duration) {
        *self.latency.lock().unwrap_or_else(|e| e.into_inner()) =
            (!latency.is_zero()).then_some(latency);
    }
}

impl Drop for SessionServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Whether the Authorization header carries the token (Basic, user = token, empty password;
/// standard or URL-safe base64, padded or not: `dagger-sdk` sends URL-safe).
fn authorised(headers: &HeaderMap, token: &str) -> bool {
    let Some(value) = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let Some(encoded) = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))
    else {
        return false;
    };
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let encoded = encoded.trim();
    let decoded = [STANDARD, URL_SAFE, STANDARD_NO_PAD, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|e| e.decode(encoded).ok());
    let Some(decoded) = decoded else {
        return false;
    };
    let expected = format!("{token}:");
    // Constant-time comparison: the token is a credential.
    decoded.len() == expected.len()
        && decoded
            .iter()
            .zip(expected.as_bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

async fn query(AxState(app): AxState<App>, headers: HeaderMap, body: String) -> AxResponse {
    let latency = *app.latency.lock().unwrap_or_else(|e| e.into_inner());
    if !authorised(&headers, &app.token) {
        return (StatusCode::UNAUTHORIZED, "unauthorized\n").into_response();
    }
    let parsed: Value = match serde_json::from_str(&body) {
        Ok(v) => v,
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                axum::Json(serde_json::json!({"errors": [{"message": format!("request body is not JSON: {e}")}]})),
            )
                .into_response()
        }
    };
    let Some(text) = parsed.get("query").and_then(Value::as_str) else {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(serde_json::json!({"errors": [{"message": "request body has no \"query\" string"}]})),
        )
            .into_response();
    };
    // The latency is waited inside `run`, after the query is recorded as arrived.
    let outcome = app
        .engine
        .execute(text, parsed.get("variables"), latency)
        .await;
    let mut body = serde_json::Map::new();
    if !outcome.invalid {
        body.insert(
            "data".into(),
            outcome.response.data.clone().unwrap_or(Value::Null),
        );
    }
    if !outcome.response.errors.is_empty() {
        body.insert(
            "errors".into(),
            serde_json::to_value(&outcome.response.errors).unwrap_or(Value::Null),
        );
    }
    let status = if outcome.invalid {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    (status, axum::Json(Value::Object(body))).into_response()
}

/// Serves `router` on `listener` in the background until the returned sender is used or
/// dropped: the one way the mock's HTTP servers run.
pub(crate) fn serve_until_stopped(
    listener: tokio::net::TcpListener,
    router: Router,
) -> tokio::sync::oneshot::Sender<()> {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
    });
    tx
}
