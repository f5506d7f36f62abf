//! The catalog of containers, with hybrid dispatch: a native [`Pipeline`] when one is registered
//! for the name, otherwise the legacy `containers/<name>/Dockerfile` built by the engine.

use dagger_sdk::{Container, Directory, DirectoryDockerBuildOpts, Query};

use super::dockerfile::{arg_default, ArgError};
use crate::defaults;
use crate::release::Created;
use dagger_engine::registry::RepositoryName;
use dagger_engine::{query_error_from_sdk, EngineClient, QueryError};
use dagger_pipeline::helpers::OciLabels;
use dagger_pipeline::{
    run_smoke_checks, BuildContext, ForgeConfig, Pipeline, SmokeCheck, SmokeCheckError,
    StageInputError, StageInputs, TargetPlatform, WrongOutput,
};
use dagger_pipeline::{StepError, StepLog};

/// The folder of the repository holding one folder per container.
pub const CONTAINERS_DIR: &str = "containers";

/// The Dockerfile `ARG` that pins a legacy container's upstream version.
pub const VERSION_ARG: &str = "CONTAINER_APP_VERSION";

/// How a container is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerKind {
    /// By a native [`Pipeline`].
    Native,
    /// By the engine's Dockerfile build of `containers/<name>/Dockerfile`.
    Legacy,
}

/// Where a published image comes from: the release it is tagged as, the commit of this
/// repository it was built from, and its creation time. Written on the image as labels and
/// manifest annotations (`org.opencontainers.image.version`, `.revision`, `.created`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provenance {
    /// The version the image is published as (a Dockerfile container's version label; a native
    /// pipeline's label is its own pinned version, which the version guard made sure matches).
    pub version: String,
    /// The commit sha, as given.
    pub revision: String,
    /// The creation time (never the wall clock).
    pub created: Created,
}

/// How to build: for which platforms, and with which provenance.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildOptions {
    /// One image per platform, published together as a multi-platform image; empty: one image
    /// for the engine's platform (Dagger's default).
    pub platforms: Vec<TargetPlatform>,
    /// The provenance labels of a release; `None` (a plain `build`): no revision or creation
    /// time, and a Dockerfile container gets no labels.
    pub provenance: Option<Provenance>,
}

/// A described (not yet run) build: the image (one per platform), the step log to explain
/// failures with, how it is built, and its smoke check.
#[derive(Clone)]
pub struct BuiltContainer {
    /// The container's name.
    pub name: String,
    /// The lazily built image (the first platform's, when several).
    pub container: Container,
    /// The images of the other platforms, in the order asked for.
    pub variants: Vec<Container>,
    /// The platforms of `container` then `variants`; empty: the engine's platform.
    pub platforms: Vec<TargetPlatform>,
    /// Its recorded steps.
    pub steps: StepLog,
    /// Native or legacy.
    pub kind: ContainerKind,
    /// The check run in the final image before publishing (native pipelines).
    pub smoke_check: Option<SmokeCheck>,
    /// The objects the stages of a native build handed on, shared by every platform's build,
    /// for the cause of a failed ID lookup; `None` for a Dockerfile build.
    pub inputs: Option<StageInputs>,
}

impl std::fmt::Debug for BuiltContainer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BuiltContainer")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("platforms", &self.platforms)
            .field("steps", &self.steps.steps().len())
            .field("smoke_check", &self.smoke_check)
            .finish_non_exhaustive()
    }
}

impl BuiltContainer {
    /// The failed step, when `err` carries the engine's exec error.
    pub fn explain(&self, err: &QueryError) -> Option<StepError> {
        self.steps.explain_query_error(err)
    }

    /// Why the IDs of the build's stage inputs could not be looked up, when they could not
    /// (every request using them then fails: this is the cause).
    pub fn input_failure(&self) -> Option<StageInputError> {
        self.inputs.as_ref().and_then(StageInputs::failure)
    }

    /// Each image with its platform (`None`: the engine's).
    pub fn images(&self) -> Vec<(Option<TargetPlatform>, Container)> {
        let all = std::iter::once(&self.container).chain(&self.variants);
        if self.platforms.is_empty() {
            return all.map(|c| (None, c.clone())).collect();
        }
        self.platforms
            .iter()
            .cloned()
            .map(Some)
            .zip(all.cloned())
            .collect()
    }
}

/// The version a container pins, and what pins it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinnedVersion {
    /// The version, as written where it is pinned.
    pub version: String,
    /// What pins it, for messages: `its native pipeline` or `containers/<name>/Dockerfile
    /// (ARG CONTAINER_APP_VERSION)`.
    pub pinned_by: String,
}

/// What went wrong finding, building or versioning a container.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CatalogError {
    /// The name breaks the container name rule (one OCI repository path component).
    #[error("container name {name:?} is invalid: {reason}")]
    InvalidName {
        /// The name as given.
        name: String,
        /// The rule broken.
        reason: String,
    },
    /// Neither a native pipeline nor `containers/<name>/Dockerfile` exists.
    #[error("unknown container {name:?}: no native pipeline and no {CONTAINERS_DIR}/{name}/Dockerfile; known containers: {}", known_list(.known))]
    UnknownContainer {
        /// The name asked for.
        name: String,
        /// The native pipelines and the legacy container folders, sorted.
        known: Vec<String>,
    },
    /// A build step failed.
    #[error("{0}")]
    Step(Box<StepError>),
    /// The smoke check ran but its output does not name the version.
    #[error("{0}")]
    SmokeCheck(Box<WrongOutput>),
    /// A pipeline's smoke check is unusable (a bug of the pipeline).
    #[error("container {name:?}: {source}")]
    InvalidSmokeCheck {
        /// The container.
        name: String,
        /// What is wrong with the check.
        #[source]
        source: SmokeCheckError,
    },
    /// A legacy Dockerfile does not pin a usable version.
    #[error("container {name:?} has no version: {CONTAINERS_DIR}/{name}/Dockerfile: {source}")]
    NoVersion {
        /// The container.
        name: String,
        /// What is wrong with its `ARG`.
        #[source]
        source: ArgError,
    },
    /// The IDs of a native build's stage inputs could not be looked up, so the engine refused
    /// the build; `source` says why.
    #[error("the build of container {name:?} could not be described to the engine: {source}")]
    StageInputs {
        /// The container.
        name: String,
        /// The failed lookup.
        #[source]
        source: StageInputError,
    },
    /// The engine failed for another reason.
    #[error("{action} of container {name:?} failed: {source}")]
    Engine {
        /// The container.
        name: String,
        /// What was being done.
        action: &'static str,
        /// The engine's error.
        #[source]
        source: Box<QueryError>,
    },
    /// Two pipelines were registered under one name.
    #[error("a pipeline named {name:?} is already registered")]
    DuplicatePipeline {
        /// The name.
        name: String,
    },
}

impl From<StepError> for CatalogError {
    fn from(step: StepError) -> Self {
        CatalogError::Step(Box::new(step))
    }
}

fn known_list(known: &[String]) -> String {
    if known.is_empty() {
        "(none)".into()
    } else {
        known.join(", ")
    }
}

/// Checks a container name: one OCI repository path component (the grammar of
/// [`RepositoryName`], the one place for it), so it can be both a folder under `containers/`
/// and the last part of a repository name.
pub fn validate_container_name(name: &str) -> Result<(), CatalogError> {
    let invalid = |reason: String| CatalogError::InvalidName {
        name: name.into(),
        reason,
    };
    if name.contains('/') {
        return Err(invalid(
            "a container name is one path component, without '/'".into(),
        ));
    }
    RepositoryName::parse(name)
        .map(|_| ())
        .map_err(|e| invalid(e.to_string()))
}

/// The engine's build of the Dockerfile in `context`, for `platform` (the engine's when `None`).
fn docker_build(context: &Directory, platform: Option<TargetPlatform>) -> Container {
    match platform {
        None => context.docker_build(),
        Some(platform) => context.docker_build_opts(DirectoryDockerBuildOpts {
            build_args: None,
            dockerfile: None,
            no_init: None,
            platform: Some(platform.to_sdk()),
            secrets: None,
            ssh: None,
            target: None,
        }),
    }
}

/// The containers this project can build: native pipelines first, then the legacy fallback.
pub struct Catalog {
    pipelines: Vec<Box<dyn Pipeline>>,
    forge: ForgeConfig,
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalog")
            .field("natives", &self.native_names())
            .field("forge", &self.forge)
            .finish()
    }
}

impl Default for Catalog {
    fn default() -> Self {
        Self::standard()
    }
}

impl Catalog {
    /// A catalog with no native pipeline (everything is legacy) and the default forge.
    pub fn empty() -> Self {
        Self {
            pipelines: Vec::new(),
            forge: defaults::forge(),
        }
    }

    /// This project's catalog: the pipelines of [`super::containers::standard`].
    pub fn standard() -> Self {
        let mut catalog = Self::empty();
        for pipeline in super::containers::standard() {
            // The standard list is fixed at compile time and checked by a unit test
            // (`standard_catalog_is_valid`), so no input can make this fail.
            #[allow(clippy::expect_used)]
            catalog
                .register(pipeline)
                .expect("the standard pipelines have valid, distinct names");
        }
        catalog
    }

    /// The same catalog cloning from another forge.
    pub fn with_forge(mut self, forge: ForgeConfig) -> Self {
        self.forge = forge;
        self
    }

    /// The forge upstream sources are cloned from.
    pub fn forge(&self) -> &ForgeConfig {
        &self.forge
    }

    /// Adds a native pipeline. Its name must be a valid container name and not taken.
    pub fn register(&mut self, pipeline: Box<dyn Pipeline>) -> Result<(), CatalogError> {
        validate_container_name(pipeline.name())?;
        if self.native(pipeline.name()).is_some() {
            return Err(CatalogError::DuplicatePipeline {
                name: pipeline.name().into(),
            });
        }
        self.pipelines.push(pipeline);
        Ok(())
    }

    /// [`Catalog::register`] as a builder.
    pub fn with(mut self, pipeline: impl Pipeline + 'static) -> Result<Self, CatalogError> {
        self.register(Box::new(pipeline))?;
        Ok(self)
    }

    /// The native pipeline named `name`.
    pub fn native(&self, name: &str) -> Option<&dyn Pipeline> {
        self.pipelines
            .iter()
            .find(|p| p.name() == name)
            .map(|p| p.as_ref())
    }

    /// The names of the native pipelines, in registration order.
    pub fn native_names(&self) -> Vec<String> {
        self.pipelines
            .iter()
            .map(|p| p.name().to_string())
            .collect()
    }

    /// Describes the build of `name` for the engine's platform, without provenance:
    /// [`Catalog::build_with`] with the default [`BuildOptions`].
    pub fn build(
        &self,
        dag: &Query,
        src: &Directory,
        name: &str,
    ) -> Result<BuiltContainer, CatalogError> {
        self.build_with(dag, src, name, &BuildOptions::default())
    }

    /// Describes the build of `name`, without any engine round trip: the native pipeline when
    /// one is registered, otherwise `src.directory("containers/<name>").dockerBuild()`; one
    /// image per platform of `options` (a native pipeline's platform-independent stages, such
    /// as a web UI, are the same call chain for each and built once), each with the OCI labels
    /// and annotations (see [`Catalog::labels`]).
    ///
    /// A legacy name that does not exist is only noticed when the build runs; pass that failure
    /// to [`Catalog::classify_failure`] to get [`CatalogError::UnknownContainer`].
    pub fn build_with(
        &self,
        dag: &Query,
        src: &Directory,
        name: &str,
        options: &BuildOptions,
    ) -> Result<BuiltContainer, CatalogError> {
        validate_container_name(name)?;
        let platforms: Vec<Option<TargetPlatform>> = if options.platforms.is_empty() {
            vec![None]
        } else {
            options.platforms.iter().cloned().map(Some).collect()
        };
        let labels = self.labels(name, options.provenance.as_ref());
        let label = |image: Container| match &labels {
            Some(labels) => labels.apply(image),
            None => image,
        };
        let mut images = Vec::new();
        let (steps, kind, smoke_check, inputs) = match self.native(name) {
            Some(pipeline) => {
                // One context for every platform: the clones share its step log and its stage
                // inputs, so a platform-independent stage (a web UI) is looked up once.
                let ctx = BuildContext::new(dag.clone(), src.clone(), name)
                    .with_forge(self.forge.clone());
                for platform in platforms {
                    images.push(label(pipeline.build(&ctx.clone().for_platform(platform))));
                }
                let inputs = Some(ctx.inputs().clone());
                (
                    ctx.steps,
                    ContainerKind::Native,
                    pipeline.smoke_check(),
                    inputs,
                )
            }
            None => {
                let context = src.directory(format!("{CONTAINERS_DIR}/{name}"));
                for platform in platforms {
                    images.push(label(docker_build(&context, platform)));
                }
                let steps = StepLog::new(name).with_fallback_step(format!(
                    "Dockerfile build ({CONTAINERS_DIR}/{name}/Dockerfile)"
                ));
                (steps, ContainerKind::Legacy, None, None)
            }
        };
        let container = images.remove(0);
        Ok(BuiltContainer {
            name: name.into(),
            container,
            variants: images,
            platforms: options.platforms.clone(),
            steps,
            kind,
            smoke_check,
            inputs,
        })
    }

    /// The OCI labels (and annotations) of `name`: a native pipeline's name, description,
    /// pinned version and upstream mirror; a Dockerfile container's name, its Dockerfile, the
    /// version it is published as and the forge mirror named like it (the convention native
    /// pipelines follow by default), only with a provenance (its version is not known without
    /// one). The vendor always; the provenance's revision and creation time when given.
    pub fn labels(&self, name: &str, provenance: Option<&Provenance>) -> Option<OciLabels> {
        let labels = match (self.native(name), provenance) {
            (Some(pipeline), _) => {
                OciLabels::new(pipeline.name(), pipeline.description(), pipeline.version())
                    .with_source(self.forge.repository_url(pipeline.upstream_repo()))
            }
            (None, Some(provenance)) => OciLabels::new(
                name,
                format!("{name}, built from {CONTAINERS_DIR}/{name}/Dockerfile"),
                provenance.version.clone(),
            )
            .with_source(self.forge.repository_url(name)),
            (None, None) => return None,
        };
        let labels = labels.with_vendor(defaults::VENDOR);
        Some(match provenance {
            Some(p) => labels
                .with_revision(p.revision.clone())
                .with_created(p.created.to_string()),
            None => labels,
        })
    }

    /// Runs `built`'s smoke check in each of its images (one engine round trip for all), and
    /// returns it with the same images loaded by ID, ready to publish; a build without a check
    /// is returned as it is. A failed build step or check command is [`CatalogError::Step`], an
    /// output that does not name the version [`CatalogError::SmokeCheck`].
    pub async fn smoke_check(
        &self,
        client: &EngineClient,
        src: &Directory,
        built: BuiltContainer,
    ) -> Result<BuiltContainer, CatalogError> {
        let Some(check) = built.smoke_check.clone() else {
            return Ok(built);
        };
        let checked = match run_smoke_checks(client, &built.images(), &check, &built.steps).await {
            Ok(checked) => checked,
            Err(SmokeCheckError::Engine(err)) => {
                return Err(self.classify_failure(src, &built, &err).await)
            }
            Err(SmokeCheckError::WrongOutput(wrong)) => {
                return Err(CatalogError::SmokeCheck(wrong))
            }
            Err(invalid @ SmokeCheckError::Invalid { .. }) => {
                return Err(CatalogError::InvalidSmokeCheck {
                    name: built.name.clone(),
                    source: invalid,
                })
            }
        };
        let dag = client.dagger();
        let mut images: Vec<Container> = checked
            .into_iter()
            .map(|image| dag.r#ref::<Container>(image.id))
            .collect();
        if images.is_empty() {
            return Ok(built);
        }
        let container = images.remove(0);
        Ok(BuiltContainer {
            container,
            variants: images,
            ..built
        })
    }

    /// Turns a failure of a build from [`Catalog::build`] into the error a person needs:
    /// - a failed command -> [`CatalogError::Step`] (pipeline, step, command, exit code, stderr);
    /// - a failed lookup of the IDs of the build's stage inputs, which makes every request using
    ///   them fail -> [`CatalogError::StageInputs`] with the lookup's own error;
    /// - a legacy container whose folder or Dockerfile does not exist ->
    ///   [`CatalogError::UnknownContainer`] listing the known containers (the `containers/`
    ///   listing is fetched here, on this error path only);
    /// - anything else -> [`CatalogError::Engine`].
    pub async fn classify_failure(
        &self,
        src: &Directory,
        built: &BuiltContainer,
        err: &QueryError,
    ) -> CatalogError {
        if let Some(step) = built.explain(err) {
            return step.into();
        }
        if let Some(source) = built.input_failure() {
            return CatalogError::StageInputs {
                name: built.name.clone(),
                source,
            };
        }
        if built.kind == ContainerKind::Legacy {
            if let Some(unknown) = self.unknown_legacy(src, &built.name).await {
                return unknown;
            }
        }
        CatalogError::Engine {
            name: built.name.clone(),
            action: "the build",
            source: Box::new(err.clone()),
        }
    }

    /// [`Catalog::classify_failure`] for a `dagger-sdk` error.
    pub async fn classify_sdk_failure(
        &self,
        src: &Directory,
        built: &BuiltContainer,
        err: &dagger_sdk::errors::DaggerError,
    ) -> CatalogError {
        self.classify_failure(src, built, &query_error_from_sdk(err))
            .await
    }

    /// Every container name: the native pipelines and the folders under `containers/`, sorted
    /// and deduplicated. One engine round trip; when the listing fails, the natives alone.
    pub async fn known_containers(&self, src: &Directory) -> Vec<String> {
        let mut known = self.native_names();
        known.extend(self.legacy_folders(src).await.unwrap_or_default());
        known.sort();
        known.dedup();
        known
    }

    /// `UnknownContainer` when `containers/<name>` has no Dockerfile; `None` when it has one
    /// (the failure is something else) or the engine cannot tell.
    async fn unknown_legacy(&self, src: &Directory, name: &str) -> Option<CatalogError> {
        let folders = match self.legacy_folders(src).await {
            Ok(folders) => folders,
            // A source without `containers/` has no legacy container at all: the engine's
            // `lstat /containers: no such file or directory` (upstream `core/directory.go`,
            // a lazy `Subdirectory` failing when used) is the caller's unknown name, not a
            // failure of the engine.
            Err(e) if e.to_string().contains("no such file or directory") => Vec::new(),
            Err(_) => return None,
        };
        let exists = if folders.iter().any(|f| f == name) {
            let files = src
                .directory(format!("{CONTAINERS_DIR}/{name}"))
                .entries()
                .await
                .ok()?;
            files.iter().any(|f| f == "Dockerfile")
        } else {
            false
        };
        if exists {
            return None;
        }
        let mut known = self.native_names();
        known.extend(folders);
        known.sort();
        known.dedup();
        Some(CatalogError::UnknownContainer {
            name: name.into(),
            known,
        })
    }

    /// The folder names under `containers/` that are valid container names.
    async fn legacy_folders(
        &self,
        src: &Directory,
    ) -> Result<Vec<String>, dagger_sdk::errors::DaggerError> {
        let entries = src.directory(CONTAINERS_DIR).entries().await?;
        Ok(entries
            .into_iter()
            // The engine lists subdirectories with a trailing '/'.
            .map(|e| e.trim_end_matches('/').to_string())
            .filter(|e| validate_container_name(e).is_ok())
            .collect())
    }

    /// The version of `name`: a native pipeline's [`Pipeline::version`] (no engine round trip),
    /// or the value of `ARG CONTAINER_APP_VERSION=` in `containers/<name>/Dockerfile` (one round
    /// trip). Never an empty string: a missing or empty value is [`CatalogError::NoVersion`].
    pub async fn container_version(
        &self,
        src: &Directory,
        name: &str,
    ) -> Result<String, CatalogError> {
        validate_container_name(name)?;
        if let Some(pipeline) = self.native(name) {
            return Ok(pipeline.version().to_string());
        }
        let dockerfile = self.read_dockerfile(src, name).await?;
        arg_default(&dockerfile, VERSION_ARG).map_err(|source| CatalogError::NoVersion {
            name: name.into(),
            source,
        })
    }

    /// The version `name` pins, for the version guard: a native pipeline's (no engine round
    /// trip), or a Dockerfile's `ARG CONTAINER_APP_VERSION=` (one round trip); `None` when the
    /// Dockerfile declares no such `ARG` or declares it without a value. A Dockerfile whose
    /// `ARG` cannot be read (empty, conflicting, `$` expansion) is [`CatalogError::NoVersion`].
    pub async fn pinned_version(
        &self,
        src: &Directory,
        name: &str,
    ) -> Result<Option<PinnedVersion>, CatalogError> {
        validate_container_name(name)?;
        if let Some(pipeline) = self.native(name) {
            return Ok(Some(PinnedVersion {
                version: pipeline.version().to_string(),
                pinned_by: "its native pipeline".into(),
            }));
        }
        let dockerfile = self.read_dockerfile(src, name).await?;
        match arg_default(&dockerfile, VERSION_ARG) {
            Ok(version) => Ok(Some(PinnedVersion {
                version,
                pinned_by: format!("{CONTAINERS_DIR}/{name}/Dockerfile (ARG {VERSION_ARG})"),
            })),
            Err(ArgError::NotDeclared { .. } | ArgError::NoValue { .. }) => Ok(None),
            Err(source) => Err(CatalogError::NoVersion {
                name: name.into(),
                source,
            }),
        }
    }

    /// The text of `containers/<name>/Dockerfile` (one round trip); an unknown container when
    /// it cannot be read and the folder has no Dockerfile.
    async fn read_dockerfile(&self, src: &Directory, name: &str) -> Result<String, CatalogError> {
        let path = format!("{CONTAINERS_DIR}/{name}/Dockerfile");
        match src.file(path).contents().await {
            Ok(text) => Ok(text),
            Err(err) => {
                if let Some(unknown) = self.unknown_legacy(src, name).await {
                    return Err(unknown);
                }
                Err(CatalogError::Engine {
                    name: name.into(),
                    action: "reading the Dockerfile",
                    source: Box::new(query_error_from_sdk(&err)),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_catalog_is_valid() {
        let catalog = Catalog::standard();
        assert_eq!(catalog.native_names(), ["navidrome", "miniflux"]);
        for name in catalog.native_names() {
            assert!(validate_container_name(&name).is_ok());
        }
    }

    #[test]
    fn container_names_follow_the_oci_component_grammar() {
        for ok in ["navidrome", "mini-flux", "a.b", "a__b", "x1"] {
            assert!(validate_container_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "Navidrome", "a/b", "..", "../etc", "a b", "-a", "a-"] {
            let err = validate_container_name(bad).unwrap_err();
            assert!(matches!(err, CatalogError::InvalidName { .. }), "{bad}");
            assert!(err.to_string().contains("is invalid"), "{err}");
        }
    }

    #[test]
    fn duplicate_and_invalid_pipelines_are_refused() {
        struct Named(&'static str);
        impl Pipeline for Named {
            fn name(&self) -> &str {
                self.0
            }
            fn version(&self) -> &str {
                "1"
            }
            fn description(&self) -> &str {
                "test"
            }
            fn build(&self, ctx: &BuildContext) -> dagger_sdk::Container {
                ctx.dag.container()
            }
        }
        let err = Catalog::standard().with(Named("navidrome")).unwrap_err();
        assert_eq!(
            err,
            CatalogError::DuplicatePipeline {
                name: "navidrome".into()
            }
        );
        assert!(Catalog::empty().with(Named("Bad Name")).is_err());
        let catalog = Catalog::empty().with(Named("third")).unwrap();
        assert_eq!(catalog.native("third").map(|p| p.version()), Some("1"));
    }

    #[test]
    fn unknown_container_lists_what_is_known() {
        let err = CatalogError::UnknownContainer {
            name: "nope".into(),
            known: vec!["miniflux".into(), "navidrome".into()],
        };
        assert_eq!(
            err.to_string(),
            "unknown container \"nope\": no native pipeline and no containers/nope/Dockerfile; known containers: miniflux, navidrome"
        );
    }

    #[test]
    fn dispatch_is_native_or_legacy_without_engine() {
        // Builds are lazy: nothing reaches this engine.
        let dag = dagger_mock_engine::MockEngine::new().query();
        let src = dag.directory();
        let catalog = Catalog::standard();
        let native = catalog.build(&dag, &src, "navidrome").unwrap();
        assert_eq!(native.kind, ContainerKind::Native);
        assert!(native.steps.steps().iter().any(|s| s.name == "go build"));
        let legacy = catalog.build(&dag, &src, "homepage").unwrap();
        assert_eq!(legacy.kind, ContainerKind::Legacy);
        assert!(legacy.steps.steps().is_empty());
        assert!(matches!(
            catalog.build(&dag, &src, "Bad/Name"),
            Err(CatalogError::InvalidName { .. })
        ));
    }
}
