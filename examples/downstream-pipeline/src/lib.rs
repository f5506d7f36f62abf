#![doc = include_str!("../README.md")]

pub mod python_app;

use dagger_pipeline::helpers::{AlpineRuntime, GoBuild, OciLabels, RuntimeUser};
use dagger_pipeline::{BuildContext, BuildContextError, Pipeline, PublishBuilt};
use dagger_publish::dagger_sdk::{Container, Directory, Query, Secret};
use dagger_publish::registry::{repository, ReferenceError, Tag};
use dagger_publish::{
    EngineClient, ExistingTagPolicy, PublishError, PublishReport, PublishRequest, Publisher,
    RegistryAuth,
};

/// The Go toolchain the binary is built with.
pub const BUILDER_IMAGE: &str = "golang:1.24-alpine";
/// The image the binary runs in.
pub const RUNTIME_IMAGE: &str = "alpine:3.22";
/// Where the binary is in the runtime image.
pub const BINARY_PATH: &str = "/usr/local/bin/app";

/// The app: a Go module (the source directory's root) built into one static binary, run by a
/// non-root user in a small Alpine image.
#[derive(Debug, Clone)]
pub struct App {
    /// The version being released (`v1.2.0`): the image's version label and the binary's
    /// `main.version`.
    pub version: String,
}

impl Pipeline for App {
    fn name(&self) -> &str {
        "app"
    }

    fn version(&self) -> &str {
        &self.version
    }

    fn description(&self) -> &str {
        "A small Go web service"
    }

    fn build(&self, ctx: &BuildContext) -> Container {
        // Builder stage: `go build -o /out/app .` in the Go image; only the binary leaves it.
        let binary = GoBuild::new(BUILDER_IMAGE, ctx.src.clone(), "app")
            .ldflags(format!("-s -w -X main.version={}", self.version))
            .binary(ctx);
        let image = AlpineRuntime::new(RUNTIME_IMAGE, RuntimeUser::create("app", 10001, 10001))
            .packages(["ca-certificates"])
            .container(ctx)
            // A stage input: its ID is looked up with the builder's inputs, level by level,
            // rather than in a request of its own each time the image's chain is written out.
            .with_file(BINARY_PATH, ctx.input(&binary))
            .with_entrypoint(vec![BINARY_PATH]);
        OciLabels::for_pipeline(self, ctx)
            .with_source("https://github.com/me/app")
            .with_vendor("me")
            .apply(image)
    }
}

/// Where and how a release is published.
#[derive(Debug, Clone)]
pub struct Release {
    /// The registry host (`ghcr.io`).
    pub registry: String,
    /// The repository's namespace (`me`); the repository is `<namespace>/app`.
    pub namespace: String,
    /// The registry user.
    pub username: String,
    /// Where the registry password comes from, as a Dagger CLI flag value: `GHCR_TOKEN` or
    /// `env://GHCR_TOKEN` (an environment variable), `file:///run/secrets/token`, ...
    pub password: String,
    /// What to do when a tag is already there.
    pub policy: ExistingTagPolicy,
}

impl Release {
    /// A release to `ghcr.io/me/app` as `me`, the password from `$GHCR_TOKEN`, never
    /// overwriting a tag.
    pub fn ghcr() -> Self {
        Self {
            registry: "ghcr.io".into(),
            namespace: "me".into(),
            username: "me".into(),
            password: "GHCR_TOKEN".into(),
            policy: ExistingTagPolicy::Fail,
        }
    }

    /// The tags of version `version`: the version and `latest`.
    pub fn tags(version: &str) -> Result<Vec<Tag>, ReferenceError> {
        Ok(vec![Tag::parse(version)?, Tag::parse("latest")?])
    }
}

/// Why a release failed.
#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    /// The build asked for something its context lacks.
    #[error(transparent)]
    Build(#[from] BuildContextError),
    /// A version or name breaks the OCI grammar.
    #[error(transparent)]
    Reference(#[from] ReferenceError),
    /// The publish failed: a build step (named), the registry, the credentials, ...
    #[error(transparent)]
    Publish(#[from] PublishError),
    /// A smoke-checked publish failed: the program did not start (nothing pushed), a step
    /// (named), or the publish itself.
    #[error(transparent)]
    PublishBuilt(#[from] dagger_pipeline::PublishBuiltError),
}

/// The registry password as the Dagger CLI makes a `Secret` flag: `address(value:).secret`.
/// The plaintext stays in the engine; this process only holds the secret's ID.
pub fn password_secret(dag: &Query, value: &str) -> Secret {
    dag.address(value).secret()
}

/// Builds the app at `version` from `src` and publishes it as `<version>` and `latest`.
pub async fn release(
    client: &EngineClient,
    src: Directory,
    version: &str,
    release: &Release,
) -> Result<PublishReport, ReleaseError> {
    let dag = client.dagger();
    let app = App {
        version: version.to_string(),
    };
    let image = BuildContext::new(dag.clone(), src, app.name()).build(&app)?;
    let auth = RegistryAuth::new(&release.registry, &release.username)
        .map_err(PublishError::from)?
        .with_password(password_secret(&dag, &release.password));
    let request = PublishRequest::new(
        &release.registry,
        repository(&release.namespace, app.name())?,
        Release::tags(version)?,
    )?
    .with_auth(auth)?
    .with_policy(release.policy);
    Ok(Publisher::new(client.clone())
        .publish_built(&image, &request)
        .await?)
}

/// The repository README's Rust examples (its library snippet among them), compiled and run as
/// doc tests here, in a crate that does not depend on the app.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct RootReadme;
