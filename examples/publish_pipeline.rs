//! The smallest pipeline: a container from an image, one command, published with optional
//! registry auth.
//!
//! ```text
//! # inside a Dagger session, with REGISTRY_PASSWORD set (or unset for an anonymous push):
//! dagger run cargo run --example publish_pipeline -- registry.example.com/team/hello:v1
//! ```
//!
//! `tests/example_pipeline.rs` runs the same `pipeline` function on both transports of the
//! mock engine, and the command above's arguments through [`image_arg`].

use dagger_engine::registry::{ImageRef, Tag};
use dagger_engine::EngineClient;
use dagger_publish::{PublishReport, PublishRequest, Publisher, RegistryAuth};

/// Builds `alpine` + `echo hello` and publishes it as `image` (a `host/repository:tag`), with
/// the password's secret when one is given.
pub(crate) async fn pipeline(
    client: &EngineClient,
    image: &str,
    password: Option<dagger_sdk::Secret>,
) -> eyre::Result<PublishReport> {
    let image = ImageRef::parse(image)?;
    let dag = client.dagger();
    let container = dag
        .container()
        .from("alpine:3.20")
        .with_exec(vec!["echo", "hello"]);
    let auth = RegistryAuth::new(image.host.as_str(), "ci")?.with_optional_password(password);
    let request = PublishRequest::new(
        image.host.as_str(),
        image.repository.clone(),
        [Tag::parse(image.tag.as_str())?],
    )?
    .with_auth(auth)?;
    Ok(Publisher::new(client.clone())
        .publish(&container, &request)
        .await?)
}

/// The image to publish, from the command line's arguments (without the program's name):
/// exactly one `HOST/REPOSITORY:TAG`.
pub(crate) fn image_arg(mut args: impl Iterator<Item = String>) -> eyre::Result<String> {
    let usage = "usage: publish_pipeline HOST/REPOSITORY:TAG";
    let image = args.next().ok_or_else(|| eyre::eyre!(usage))?;
    if args.next().is_some() {
        eyre::bail!("{usage} (one argument: the tag goes after a ':')");
    }
    ImageRef::parse(&image)?;
    Ok(image)
}

#[allow(dead_code)]
#[tokio::main]
async fn main() -> eyre::Result<()> {
    let image = image_arg(std::env::args().skip(1))?;
    let client = EngineClient::from_session_env()
        .map_err(eyre::Report::msg)?
        .ok_or_else(|| eyre::eyre!("not inside a Dagger session: run it with `dagger run`"))?;
    // As the Dagger CLI makes a secret of a flag value: `address(value:).secret` (the engine
    // reads the variable; `secret(uri:)` would need `env://REGISTRY_PASSWORD`).
    let password = std::env::var_os("REGISTRY_PASSWORD")
        .map(|_| client.dagger().address("env:REGISTRY_PASSWORD").secret());
    let report = pipeline(&client, &image, password).await?;
    println!("{}", report.primary());
    Ok(())
}
