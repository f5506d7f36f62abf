//! A fault-injecting proxy for the engine's session protocol, on loopback: it stands between a
//! client (the main job, the module binary) and an engine (the mock's session server) and can
//! drop, delay, corrupt or cut a request, before or after forwarding it, so that tests see what
//! the client does when the network between it and the engine fails.
//!
//! One request per connection: the proxy reads an HTTP/1.1 request, applies the first rule whose
//! text the body contains (each rule a given number of times), forwards it with
//! `Connection: close` and answers the client from what the engine sent.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the proxy does with a request a rule matches.
#[derive(Debug, Clone)]
pub(crate) enum Fault {
    /// Close the connection once the request is read; the engine never sees it.
    CloseBeforeForward,
    /// Forward, wait for the engine's whole answer, then close without replying: the engine did
    /// the work and the client never hears of it (a lost answer).
    LoseAnswer,
    /// Forward, then send the answer's headers and half its body, then close.
    CutMidBody,
    /// Forward, then answer HTTP 200 with a body that is not JSON.
    Corrupt,
    /// Wait this long, then forward as usual.
    Delay(Duration),
    /// Read the request and never answer; the connection stays open.
    Stall,
    /// Forward, then answer HTTP 200 with a JSON object padded to this many bytes.
    Oversized(usize),
}

#[derive(Debug)]
struct Rule {
    contains: String,
    fault: Fault,
    remaining: usize,
}

/// The proxy, listening on 127.0.0.1; stops when dropped.
pub(crate) struct FaultProxy {
    port: u16,
    rules: Arc<Mutex<Vec<Rule>>>,
    applied: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FaultProxy {
    /// A proxy in front of the engine listening on `127.0.0.1:<upstream>`.
    pub(crate) async fn start(upstream: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let port = listener.local_addr().expect("bound").port();
        let rules: Arc<Mutex<Vec<Rule>>> = Arc::default();
        let applied: Arc<Mutex<Vec<String>>> = Arc::default();
        let (r, a) = (rules.clone(), applied.clone());
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (r, a) = (r.clone(), a.clone());
                tokio::spawn(async move {
                    let _ = serve(client, upstream, r, a).await;
                });
            }
        });
        Self {
            port,
            rules,
            applied,
            task,
        }
    }

    /// The proxy's port: what `DAGGER_SESSION_PORT` names.
    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// Applies `fault` to the next `times` requests whose body contains `text` ("" matches
    /// every request). Rules are tried in the order given.
    pub(crate) fn inject(&self, text: &str, fault: Fault, times: usize) {
        self.rules.lock().unwrap().push(Rule {
            contains: text.to_string(),
            fault,
            remaining: times,
        });
    }

    /// The faults applied so far, as `Debug` text, in order.
    pub(crate) fn applied(&self) -> Vec<String> {
        self.applied.lock().unwrap().clone()
    }
}

/// Reads one HTTP/1.1 request: its head (up to the blank line) and its body.
async fn read_request(stream: &mut TcpStream) -> std::io::Result<Option<(String, Vec<u8>)>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(at) = find(&buf, b"\r\n\r\n") {
            break at;
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())
                .flatten()
        })
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Ok(Some((head, body)))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The request sent on with `Connection: close`, and the engine's whole answer.
async fn forward(upstream: u16, head: &str, body: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut engine = TcpStream::connect(("127.0.0.1", upstream)).await?;
    let mut out = String::new();
    for line in head.lines() {
        if !line.to_ascii_lowercase().starts_with("connection:") {
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    out.push_str("Connection: close\r\n\r\n");
    engine.write_all(out.as_bytes()).await?;
    engine.write_all(body).await?;
    let mut answer = Vec::new();
    engine.read_to_end(&mut answer).await?;
    Ok(answer)
}

fn ok_answer(body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

async fn serve(
    mut client: TcpStream,
    upstream: u16,
    rules: Arc<Mutex<Vec<Rule>>>,
    applied: Arc<Mutex<Vec<String>>>,
) -> std::io::Result<()> {
    let Some((head, body)) = read_request(&mut client).await? else {
        return Ok(());
    };
    let text = String::from_utf8_lossy(&body);
    let fault = {
        let mut rules = rules.lock().unwrap();
        rules
            .iter_mut()
            .find(|r| r.remaining > 0 && text.contains(&r.contains))
            .map(|r| {
                r.remaining -= 1;
                r.fault.clone()
            })
    };
    if let Some(fault) = &fault {
        applied.lock().unwrap().push(format!("{fault:?}"));
    }
    match fault {
        None => {
            let answer = forward(upstream, &head, &body).await?;
            client.write_all(&answer).await?;
        }
        Some(Fault::Delay(wait)) => {
            tokio::time::sleep(wait).await;
            let answer = forward(upstream, &head, &body).await?;
            client.write_all(&answer).await?;
        }
        Some(Fault::CloseBeforeForward) => {}
        Some(Fault::LoseAnswer) => {
            forward(upstream, &head, &body).await?;
        }
        Some(Fault::CutMidBody) => {
            let answer = forward(upstream, &head, &body).await?;
            let body_at = find(&answer, b"\r\n\r\n").map_or(answer.len(), |at| at + 4);
            let half = body_at + (answer.len() - body_at) / 2;
            client.write_all(&answer[..half]).await?;
        }
        Some(Fault::Corrupt) => {
            forward(upstream, &head, &body).await?;
            client
                .write_all(&ok_answer(b"<html>502 Bad Gateway</html>"))
                .await?;
        }
        Some(Fault::Stall) => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
        Some(Fault::Oversized(size)) => {
            forward(upstream, &head, &body).await?;
            let padding = "x".repeat(size);
            let body = format!("{{\"data\":{{\"padding\":\"{padding}\"}}}}");
            client.write_all(&ok_answer(body.as_bytes())).await?;
        }
    }
    client.shutdown().await
}
