//! A Python app: wheels built in a builder stage (`pip wheel`), mounted into the runtime stage
//! for `pip install` (so they never stay in the published image), an entrypoint and a non-root
//! user, published as the version and `latest` with registry auth, and only if the app starts
//! (a smoke check).

use dagger_pipeline::{BuildContext, Pipeline, PublishBuilt, SmokeCheck};
use dagger_publish::dagger_sdk::{Container, Directory};
use dagger_publish::registry::{repository, Tag};
use dagger_publish::{
    EngineClient, ExistingTagPolicy, PublishReport, PublishRequest, Publisher, RegistryAuth,
};

use super::{password_secret, Release, ReleaseError};

/// The Python the wheels are built for and run on.
pub const PYTHON_IMAGE: &str = "python:3.12-slim";
/// Where the builder writes the wheels, and where the runtime stage mounts them.
pub const WHEELS: &str = "/wheels";
/// The app's command in the image.
pub const ENTRYPOINT: &str = "/usr/local/bin/webapp";

/// The app: the Python project at the source directory's root.
#[derive(Debug, Clone)]
pub struct PythonApp {
    /// The version being released (`1.4.0`).
    pub version: String,
}

impl Pipeline for PythonApp {
    fn name(&self) -> &str {
        "webapp"
    }

    fn version(&self) -> &str {
        &self.version
    }

    fn description(&self) -> &str {
        "A Python web app"
    }

    fn build(&self, ctx: &BuildContext) -> Container {
        // Builder stage: the project and its dependencies as wheels.
        let builder = ctx
            .dag
            .container()
            .from(PYTHON_IMAGE)
            .with_directory("/src", ctx.src.clone())
            .with_workdir("/src");
        let wheels: Directory = ctx
            .exec(
                &builder,
                "pip wheel",
                vec![
                    "pip".into(),
                    "wheel".into(),
                    "--wheel-dir".into(),
                    WHEELS.into(),
                    ".".into(),
                ],
            )
            .directory(WHEELS);
        // Runtime stage: the wheels mounted for the install only.
        let runtime = ctx
            .dag
            .container()
            .from(PYTHON_IMAGE)
            .with_mounted_directory(WHEELS, wheels);
        let installed = ctx.exec(
            &runtime,
            "pip install",
            vec![
                "sh".into(),
                "-c".into(),
                format!("pip install --no-index --find-links {WHEELS} {WHEELS}/*.whl"),
            ],
        );
        installed
            .without_mount(WHEELS)
            .with_user("10001:10001")
            .with_workdir("/srv")
            .with_env_variable("PYTHONUNBUFFERED", "1")
            .with_exposed_port(8000)
            .with_entrypoint(vec![ENTRYPOINT])
            .with_label("org.opencontainers.image.version", &self.version)
    }
}

/// Builds the app at `version` and publishes it as `<version>` (never moved) and `latest`
/// (moved by every release), only if `webapp --version` names the version.
pub async fn release_python(
    client: &EngineClient,
    src: Directory,
    version: &str,
    release: &Release,
) -> Result<PublishReport, ReleaseError> {
    let dag = client.dagger();
    let app = PythonApp {
        version: version.to_string(),
    };
    let image = BuildContext::new(dag.clone(), src, app.name()).build(&app)?;
    let auth = RegistryAuth::new(&release.registry, &release.username)
        .map_err(dagger_publish::PublishError::from)?
        .with_password(password_secret(&dag, &release.password));
    let latest = Tag::parse("latest")?;
    let request = PublishRequest::new(
        &release.registry,
        repository(&release.namespace, app.name())?,
        [Tag::parse(version)?, latest.clone()],
    )?
    .with_auth(auth)?
    .with_policy(release.policy)
    .with_tag_policy(&latest, ExistingTagPolicy::Overwrite)?;
    let check = SmokeCheck::new([ENTRYPOINT, "--version"], version);
    Ok(Publisher::new(client.clone())
        .publish_smoke_checked(&image, &check, &request)
        .await?)
}
