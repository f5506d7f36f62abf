//! The catalog of containers, with hybrid dispatch: a native [`Pipeline`] when one is registered
//! for the name, otherwise the legacy `containers/<name>/Dockerfile` built by the engine.

use dagger_sdk::{Directory, Query};

use super::dockerfile::{arg_default, ArgError};
use crate::defaults;
use dagger_engine::registry::RepositoryName;
use dagger_engine::{query_error_from_sdk, QueryError};
use dagger_publish::pipeline::{BuildContext, ForgeConfig, Pipeline};
use dagger_publish::pipeline::{StepError, StepLog};

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

/// A described (not yet run) build: the container, the step log to explain failures with, and
/// how it is built.
#[derive(Clone)]
pub struct BuiltContainer {
    /// The container's name.
    pub name: String,
    /// The lazily built container.
    pub container: dagger_sdk::Container,
    /// Its recorded steps.
    pub steps: StepLog,
    /// Native or legacy.
    pub kind: ContainerKind,
}

impl std::fmt::Debug for BuiltContainer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BuiltContainer")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("steps", &self.steps.steps().len())
            .finish_non_exhaustive()
    }
}

impl BuiltContainer {
    /// The failed step, when `err` carries the engine's exec error.
    pub fn explain(&self, err: &QueryError) -> Option<StepError> {
        self.steps.explain_query_error(err)
    }
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
    /// A legacy Dockerfile does not pin a usable version.
    #[error("container {name:?} has no version: {CONTAINERS_DIR}/{name}/Dockerfile: {source}")]
    NoVersion {
        /// The container.
        name: String,
        /// What is wrong with its `ARG`.
        #[source]
        source: ArgError,
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

    /// Describes the build of `name`, without any engine round trip: the native pipeline when
    /// one is registered, otherwise `src.directory("containers/<name>").dockerBuild()`.
    ///
    /// A legacy name that does not exist is only noticed when the build runs; pass that failure
    /// to [`Catalog::classify_failure`] to get [`CatalogError::UnknownContainer`].
    pub fn build(
        &self,
        dag: &Query,
        src: &Directory,
        name: &str,
    ) -> Result<BuiltContainer, CatalogError> {
        validate_container_name(name)?;
        if let Some(pipeline) = self.native(name) {
            let ctx =
                BuildContext::new(dag.clone(), src.clone(), name).with_forge(self.forge.clone());
            let container = pipeline.build(&ctx);
            return Ok(BuiltContainer {
                name: name.into(),
                container,
                steps: ctx.steps,
                kind: ContainerKind::Native,
            });
        }
        let steps = StepLog::new(name).with_fallback_step(format!(
            "Dockerfile build ({CONTAINERS_DIR}/{name}/Dockerfile)"
        ));
        Ok(BuiltContainer {
            name: name.into(),
            container: src
                .directory(format!("{CONTAINERS_DIR}/{name}"))
                .docker_build(),
            steps,
            kind: ContainerKind::Legacy,
        })
    }

    /// Turns a failure of a build from [`Catalog::build`] into the error a person needs:
    /// - a failed command -> [`CatalogError::Step`] (pipeline, step, command, exit code, stderr);
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
        let folders = self.legacy_folders(src).await.ok()?;
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
        let path = format!("{CONTAINERS_DIR}/{name}/Dockerfile");
        let dockerfile = match src.file(path).contents().await {
            Ok(text) => text,
            Err(err) => {
                if let Some(unknown) = self.unknown_legacy(src, name).await {
                    return Err(unknown);
                }
                return Err(CatalogError::Engine {
                    name: name.into(),
                    action: "reading the Dockerfile",
                    source: Box::new(query_error_from_sdk(&err)),
                });
            }
        };
        arg_default(&dockerfile, VERSION_ARG).map_err(|source| CatalogError::NoVersion {
            name: name.into(),
            source,
        })
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
