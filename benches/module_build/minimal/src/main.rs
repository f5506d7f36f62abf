//! Connects to the Dagger session named by `DAGGER_SESSION_PORT` / `DAGGER_SESSION_TOKEN` and
//! prints the engine's version: the least a module binary must compile.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    dagger_sdk::connect(|client| async move {
        let version = client.version().await?;
        println!("{version}");
        Ok(())
    })
    .await?;
    Ok(())
}
