//! A misbehaving Dagger session server on 127.0.0.1 for the reliability tests.
//!
//! It speaks just enough HTTP/1.1 to read one `POST /query` per connection and then does what
//! the test's script says for that query: answer like the engine (by forwarding to a
//! [`MockEngine`] in-process, so a whole module run works around the injected fault), close the
//! connection before answering, close it half-way through the answer, stall, or send raw bytes.
//! The server never answers with `Connection: keep-alive`, so every query is a new connection
//! and a fault hits exactly the query it is meant for.

#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use dagger_engine::Transport;
use dagger_mock_engine::MockEngine;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the server does with one query.
#[derive(Debug, Clone)]
pub(crate) enum Fault {
    /// Answer as the engine would (through the mock engine).
    Forward,
    /// Close the connection without a byte of answer.
    Close,
    /// Send the status line, headers announcing a longer body, part of the body, then close.
    DropMidAnswer,
    /// Wait this long before answering as the engine would.
    Stall(Duration),
    /// Answer with this status and body (`Content-Type: application/json`).
    Raw { status: u16, body: String },
}

impl Fault {
    /// An HTTP 200 answer with `body`.
    pub(crate) fn ok(body: impl Into<String>) -> Self {
        Fault::Raw {
            status: 200,
            body: body.into(),
        }
    }
}

type Script = dyn Fn(usize, &str) -> Fault + Send + Sync;

/// A running fault server; it stops accepting when dropped.
pub(crate) struct FaultServer {
    port: u16,
    queries: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FaultServer {
    /// Starts a server that answers query number `i` (0-based) with text `q` as
    /// `script(i, q)` says, forwarding to `engine` where it says [`Fault::Forward`].
    pub(crate) async fn start(
        engine: MockEngine,
        script: impl Fn(usize, &str) -> Fault + Send + Sync + 'static,
    ) -> FaultServer {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local addr").port();
        let queries = Arc::new(Mutex::new(Vec::new()));
        let script: Arc<Script> = Arc::new(script);
        let transport = engine.transport();
        let seen = queries.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let script = script.clone();
                let transport = transport.clone();
                let seen = seen.clone();
                tokio::spawn(async move {
                    let _ = serve_one(stream, script, transport, seen).await;
                });
            }
        });
        FaultServer {
            port,
            queries,
            task,
        }
    }

    /// The port on 127.0.0.1.
    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// Session parameters for `HttpTransport` (any token: the server does not check it).
    pub(crate) fn session(&self) -> dagger_engine::SessionParams {
        dagger_engine::SessionParams {
            port: self.port,
            token: secrecy::SecretString::from("fault-server-token".to_string()),
        }
    }

    /// Environment of a module process pointed at this server.
    pub(crate) fn env_vars(&self) -> Vec<(String, String)> {
        vec![
            ("DAGGER_SESSION_PORT".into(), self.port.to_string()),
            ("DAGGER_SESSION_TOKEN".into(), "fault-server-token".into()),
        ]
    }

    /// The query texts received, in order.
    pub(crate) fn queries(&self) -> Vec<String> {
        self.queries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// A port on 127.0.0.1 where nothing listens (bound, then released).
pub(crate) async fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    port
}

async fn serve_one(
    mut stream: TcpStream,
    script: Arc<Script>,
    transport: Arc<dyn Transport>,
    seen: Arc<Mutex<Vec<String>>>,
) -> std::io::Result<()> {
    let body = read_request(&mut stream).await?;
    let query = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("query").and_then(|q| q.as_str()).map(str::to_string))
        .unwrap_or_default();
    let index = {
        let mut seen = seen.lock().unwrap_or_else(|e| e.into_inner());
        seen.push(query.clone());
        seen.len() - 1
    };
    match script(index, &query) {
        Fault::Forward => forward(&mut stream, &transport, &query).await,
        Fault::Stall(d) => {
            tokio::time::sleep(d).await;
            forward(&mut stream, &transport, &query).await
        }
        Fault::Close => Ok(()),
        Fault::DropMidAnswer => {
            let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 4096\r\nConnection: close\r\n\r\n{\"data\":{\"currentFunc";
            stream.write_all(head.as_bytes()).await?;
            stream.flush().await?;
            // Closing the socket with the body short of its Content-Length.
            Ok(())
        }
        Fault::Raw { status, body } => write_answer(&mut stream, status, &body).await,
    }
}

async fn forward(
    stream: &mut TcpStream,
    transport: &Arc<dyn Transport>,
    query: &str,
) -> std::io::Result<()> {
    let answer = match transport.execute(query).await {
        Ok(r) => r,
        Err(e) => return write_answer(stream, 500, &e.to_string()).await,
    };
    let mut body = serde_json::Map::new();
    body.insert(
        "data".into(),
        answer.data.clone().unwrap_or(serde_json::Value::Null),
    );
    if !answer.errors.is_empty() {
        body.insert(
            "errors".into(),
            serde_json::to_value(&answer.errors).unwrap_or_default(),
        );
    }
    write_answer(stream, 200, &serde_json::Value::Object(body).to_string()).await
}

async fn write_answer(stream: &mut TcpStream, status: u16, body: &str) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        401 => "Unauthorized",
        422 => "Unprocessable Entity",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    };
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    stream.flush().await
}

/// Reads one request's headers and its `Content-Length` body.
async fn read_request(stream: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let header_end = loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(Vec::new());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..header_end]).to_ascii_lowercase();
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    while buf.len() < header_end + length {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Ok(buf[header_end..].to_vec())
}
