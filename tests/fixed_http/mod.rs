//! A stand-in for a registry only the engine may reach: a raw listener that counts connections
//! and answers nothing (HTTP stubs that answer are `dagger_mock_engine::StubServer`).

/// A listener on 127.0.0.1 that answers nothing and counts the connections made to it: stands
/// for a registry only the engine may reach. Returns its `127.0.0.1:<port>`, the count, and the
/// task to abort when done.
pub(crate) async fn sentinel() -> (
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
