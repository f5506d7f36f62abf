//! A stand-in registry for tests: an HTTP server on 127.0.0.1 that answers every request with
//! the same raw HTTP answer, once the request's headers have arrived.

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Starts the server; returns its `127.0.0.1:<port>` and the task to abort when done.
#[allow(dead_code)]
pub async fn fixed_answer_server(answer: String) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let task = tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let answer = answer.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let mut seen = Vec::new();
                while let Ok(n) = stream.read(&mut buf).await {
                    if n == 0 {
                        return;
                    }
                    seen.extend_from_slice(&buf[..n]);
                    if seen.windows(4).any(|w| w == b"\r\n\r\n") {
                        let _ = stream.write_all(answer.as_bytes()).await;
                        return;
                    }
                }
            });
        }
    });
    (addr, task)
}

/// A listener on 127.0.0.1 that answers nothing and counts the connections made to it: stands
/// for a registry only the engine may reach. Returns its `127.0.0.1:<port>`, the count, and the
/// task to abort when done.
#[allow(dead_code)]
pub async fn sentinel() -> (
    String,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
    tokio::task::JoinHandle<()>,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = count.clone();
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            drop(stream);
        }
    });
    (addr, count, task)
}
