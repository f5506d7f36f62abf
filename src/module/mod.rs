//! This project's Dagger module: `publish`, `build`, `container-version`, `container-list`,
//! `publish-nix`, as the module it replaces offered them, written with the attribute macros of
//! [`dagger_module_runtime`] (definition and dispatch come from the code below).
//!
//! ```text
//! dagger call publish --src=. --container-name=navidrome --version=v0.61.1 \
//!     --commit-sha=c86b5d7 --registry-password=env:ZOT_CI_API_KEY
//! VERSION=$(dagger call container-version --container-name=navidrome)
//! ```
//!
//! Arguments arrive parsed by the registry types' parsers (the one place of each rule) before
//! anything is built; errors come back as messages that say what to fix: a failed build step
//! with its command and stderr, an unknown container with the known ones, a rejected credential
//! with the host and user.

mod definition;
mod functions;

use std::sync::Arc;

use crate::defaults;
use crate::pipeline::tasks::{self, TaskError};
use crate::pipeline::{Catalog, CheckScope, TargetPlatform};
use crate::release::{CommitSha, Created, Version};
use dagger_engine::registry::Tag;
use dagger_module_runtime::dagger_sdk::{Directory, File, Secret};
use dagger_module_runtime::{
    functions, object, Args, CallContext, FunctionError, IdOf, Module, ModuleDef,
};
use dagger_publish::{ExistingTagPolicy, PublishReport};

use definition::{doc, CONTEXT_SRC};
pub use definition::{
    DEFAULT_CREATED, DEFAULT_NAMESPACE, DEFAULT_POLICY, DEFAULT_REGISTRY, MODULE_NAME, SRC_IGNORE,
};
pub use functions::parse_platform;
use functions::{Registry, Release};

/// Build container images (native Rust pipelines or Dockerfiles) and publish them to an OCI
/// registry with registry auth
#[object]
#[derive(Clone)]
pub struct Blumeops {
    catalog: Arc<Catalog>,
}

impl std::fmt::Debug for Blumeops {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Blumeops")
            .field("catalog", &self.catalog)
            .finish()
    }
}

impl Default for Blumeops {
    fn default() -> Self {
        Self::new()
    }
}

impl Blumeops {
    /// The module with the standard catalog.
    pub fn new() -> Self {
        Self {
            catalog: Arc::new(Catalog::standard()),
        }
    }

    /// Uses another catalog (more pipelines, another forge).
    pub fn with_catalog(mut self, catalog: Catalog) -> Self {
        self.catalog = Arc::new(catalog);
        self
    }
}

/// A task's failure: a bad argument is the caller's to fix (exit code 2), the rest a failure.
fn task_error(err: TaskError) -> FunctionError {
    match err {
        TaskError::InvalidArgument { .. } => FunctionError::InvalidArgument(err.to_string()),
        other => FunctionError::Failed(other.to_string()),
    }
}

/// The module's definition (what `dagger functions` shows), read from its code.
pub fn definition() -> ModuleDef {
    Blumeops::new().definition()
}

/// What a publishing function did, for callers that want more than the reference it returns
/// (the main job's `--json`): every tag with its digest, and the images published. The engine
/// gets the first tag's reference with its digest.
#[derive(Clone)]
pub struct Published {
    /// Every requested tag, with its digest and whether it was pushed or already there.
    pub report: PublishReport,
    /// The image published (for a multi-platform image, its first platform).
    pub image: dagger_sdk::Container,
    /// The other platforms' images of a multi-platform image.
    pub variants: Vec<dagger_sdk::Container>,
}

impl std::fmt::Debug for Published {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Published")
            .field("report", &self.report)
            .field("variants", &self.variants.len())
            .finish_non_exhaustive()
    }
}

/// A publishing function answers the engine with the first tag's reference and its digest.
impl dagger_module_runtime::FunctionReturn for Published {
    fn type_ref() -> dagger_module_runtime::TypeRef {
        dagger_module_runtime::TypeRef::String
    }
    fn into_result(
        self,
    ) -> std::pin::Pin<
        Box<
            dyn std::future::Future<
                    Output = Result<dagger_module_runtime::FunctionResult, FunctionError>,
                > + Send,
        >,
    > {
        self.report.primary().to_string().into_result()
    }
}

impl Blumeops {
    /// Runs a publishing function (`publish` or `publish_nix`) and returns all it did; the
    /// engine gets only the first tag's reference.
    pub async fn call_publishing(
        &self,
        ctx: &CallContext,
        function: &str,
        args: &Args,
    ) -> Result<Published, FunctionError> {
        self.dagger_call_as::<Published>(ctx, function, args).await
    }

    /// Whether `function` publishes images (see [`Blumeops::call_publishing`]).
    pub fn publishes(function: &str) -> bool {
        Self::dagger_returns::<Published>(function)
    }
}

#[functions]
impl Blumeops {
    /// Builds a container and publishes it; returns the published reference with its digest.
    ///
    /// Checks `--version` against the version the container pins, builds through the catalog
    /// (one image per platform, with provenance labels), runs the smoke check, publishes every
    /// tag in one request.
    // A push must happen each time it is asked for: the engine must not answer a stored
    // reference (the tag may have been deleted or moved since).
    #[function(doc = doc::PUBLISH, cache = "never")]
    pub async fn publish(
        &self,
        ctx: &CallContext,
        #[arg(doc = doc::SRC, ignore = SRC_IGNORE)] src: Directory,
        #[arg(doc = doc::CONTAINER_NAME)] container_name: String,
        #[arg(parse, doc = doc::VERSION)] version: Version,
        #[arg(parse, doc = doc::COMMIT_SHA)] commit_sha: CommitSha,
        #[arg(default = DEFAULT_REGISTRY, doc = doc::REGISTRY)] registry: String,
        #[arg(default = defaults::REGISTRY_USERNAME, doc = doc::REGISTRY_USERNAME)]
        registry_username: String,
        #[arg(doc = doc::REGISTRY_PASSWORD)] registry_password: Option<IdOf<Secret>>,
        #[arg(default = DEFAULT_NAMESPACE, doc = doc::NAMESPACE)] namespace: String,
        #[arg(parse, doc = doc::EXTRA_TAGS)] extra_tags: Option<Vec<Tag>>,
        #[arg(parse, default = DEFAULT_POLICY, doc = doc::POLICY, values = ExistingTagPolicy::ALL)]
        existing_tag_policy: ExistingTagPolicy,
        #[arg(parse, doc = doc::PLATFORMS)] platforms: Option<Vec<TargetPlatform>>,
        #[arg(parse, default = DEFAULT_CREATED, doc = doc::CREATED)] created: Created,
    ) -> Result<Published, FunctionError> {
        let release = Release::new(version, commit_sha, extra_tags, existing_tag_policy);
        let registry = Registry::new(registry, registry_username, registry_password, namespace);
        functions::publish(
            self,
            ctx,
            src,
            container_name,
            release,
            registry,
            platforms,
            created,
        )
        .await
    }

    /// Builds a container (native pipeline, or the Dockerfile under `containers/`), evaluated,
    /// so that a failed step is reported with its command and stderr.
    #[function(doc = doc::BUILD)]
    pub async fn build(
        &self,
        ctx: &CallContext,
        #[arg(doc = doc::SRC, ignore = SRC_IGNORE)] src: Directory,
        #[arg(doc = doc::CONTAINER_NAME)] container_name: String,
    ) -> Result<IdOf<dagger_sdk::Container>, FunctionError> {
        functions::build(self, ctx, src, &container_name).await
    }

    /// The upstream version a container pins (a pipeline's version, or the Dockerfile's ARG
    /// CONTAINER_APP_VERSION)
    pub async fn container_version(
        &self,
        ctx: &CallContext,
        #[arg(doc = CONTEXT_SRC, default_path = "/", ignore = SRC_IGNORE)] src: Option<Directory>,
        #[arg(doc = doc::CONTAINER_NAME)] container_name: String,
    ) -> Result<String, FunctionError> {
        functions::container_version(self, ctx, src, &container_name).await
    }

    /// Each container with its build type, repository and recent version tags, each tag
    /// marked `[main]`, `[branch]` or `[unknown]` by where its commit is
    // The registry's tags change outside the engine: list afresh each time.
    #[function(cache = "never")]
    pub async fn container_list(
        &self,
        ctx: &CallContext,
        #[arg(doc = CONTEXT_SRC, default_path = "/", ignore = SRC_IGNORE)] src: Option<Directory>,
        #[arg(doc = doc::CONTAINER_NAMES)] container_names: Option<Vec<String>>,
        #[arg(default = DEFAULT_REGISTRY, doc = doc::REGISTRY)] registry: String,
        #[arg(default = defaults::REGISTRY_USERNAME, doc = doc::REGISTRY_USERNAME)]
        registry_username: String,
        #[arg(doc = doc::REGISTRY_PASSWORD)] registry_password: Option<IdOf<Secret>>,
        #[arg(default = DEFAULT_NAMESPACE, doc = doc::NAMESPACE)] namespace: String,
        #[arg(doc = doc::MAIN_COMMITS)] main_commits: Option<Vec<String>>,
    ) -> Result<String, FunctionError> {
        let registry = Registry::new(registry, registry_username, registry_password, namespace);
        let names = container_names.unwrap_or_default();
        functions::container_list(self, ctx, src, names, registry, main_commits).await
    }

    /// Publishes a Nix-built image (the docker-archive in `result`) under the `-nix` tags;
    /// returns the published reference with its digest.
    #[function(doc = doc::PUBLISH_NIX, cache = "never")]
    pub async fn publish_nix(
        &self,
        ctx: &CallContext,
        #[arg(doc = doc::ARCHIVE)] archive: IdOf<File>,
        #[arg(doc = doc::CONTAINER_NAME)] container_name: String,
        #[arg(parse, doc = doc::VERSION)] version: Version,
        #[arg(parse, doc = doc::COMMIT_SHA)] commit_sha: CommitSha,
        #[arg(default = DEFAULT_REGISTRY, doc = doc::REGISTRY)] registry: String,
        #[arg(default = defaults::REGISTRY_USERNAME, doc = doc::REGISTRY_USERNAME)]
        registry_username: String,
        #[arg(doc = doc::REGISTRY_PASSWORD)] registry_password: Option<IdOf<Secret>>,
        #[arg(default = DEFAULT_NAMESPACE, doc = doc::NAMESPACE)] namespace: String,
        #[arg(parse, doc = doc::EXTRA_TAGS)] extra_tags: Option<Vec<Tag>>,
        #[arg(parse, default = DEFAULT_POLICY, doc = doc::POLICY, values = ExistingTagPolicy::ALL)]
        existing_tag_policy: ExistingTagPolicy,
    ) -> Result<Published, FunctionError> {
        let release = Release::new(version, commit_sha, extra_tags, existing_tag_policy);
        let registry = Registry::new(registry, registry_username, registry_password, namespace);
        functions::publish_nix(self, ctx, archive, container_name, release, registry).await
    }

    /// Builds a Nix container (`containers/<name>/default.nix`, with `nixpkgs` resolved from
    /// the flake registry) and returns its docker-archive. Cached: a build follows from its
    /// source.
    #[function(doc = doc::BUILD_NIX)]
    pub async fn build_nix(
        &self,
        ctx: &CallContext,
        #[arg(doc = doc::SRC, ignore = SRC_IGNORE)] src: Directory,
        #[arg(doc = doc::CONTAINER_NAME)] container_name: String,
    ) -> Result<File, FunctionError> {
        tasks::nix::build_nix(&ctx.query(), &src, &container_name)
            .await
            .map_err(task_error)
    }

    /// The version of a nixpkgs package (`nix eval --raw nixpkgs#<package>.version`). Never
    /// cached: it resolves nixpkgs' latest revision.
    #[function(doc = doc::NIX_VERSION, cache = "never")]
    pub async fn nix_version(
        &self,
        ctx: &CallContext,
        #[arg(doc = doc::PACKAGE)] package: String,
    ) -> Result<String, FunctionError> {
        tasks::nix::nix_version(&ctx.query(), &package)
            .await
            .map_err(task_error)
    }

    /// Builds the documentation site with Quartz (pinned at v4.5.2) and returns it as
    /// `docs-<version>.tar.gz`. Cached: the site follows from the source and the version.
    #[function(doc = doc::BUILD_DOCS)]
    pub async fn build_docs(
        &self,
        ctx: &CallContext,
        #[arg(doc = doc::SRC, ignore = SRC_IGNORE)] src: Directory,
        #[arg(doc = doc::DOCS_VERSION)] version: String,
    ) -> Result<File, FunctionError> {
        tasks::docs::build_docs(&ctx.query(), &src, &version)
            .await
            .map_err(task_error)
    }

    /// Locks a flake (`nix flake lock`) and returns its `flake.lock`. Cached: locking adds only
    /// missing inputs, which follow from the source.
    #[function(doc = doc::FLAKE_LOCK)]
    pub async fn flake_lock(
        &self,
        ctx: &CallContext,
        #[arg(doc = doc::SRC, ignore = SRC_IGNORE)] src: Directory,
        #[arg(default = defaults::FLAKE_PATH, doc = doc::FLAKE_PATH)] flake_path: String,
    ) -> Result<File, FunctionError> {
        tasks::nix::flake_lock(&ctx.query(), &src, &flake_path)
            .await
            .map_err(task_error)
    }

    /// Updates a flake's inputs but the skipped ones (`nix flake update <inputs>`) and returns
    /// its `flake.lock`. Never cached: it resolves each input's latest revision.
    #[function(doc = doc::FLAKE_UPDATE, cache = "never")]
    pub async fn flake_update(
        &self,
        ctx: &CallContext,
        #[arg(doc = doc::SRC, ignore = SRC_IGNORE)] src: Directory,
        #[arg(default = defaults::FLAKE_PATH, doc = doc::FLAKE_PATH)] flake_path: String,
        #[arg(default = defaults::FLAKE_SKIP_INPUTS, doc = doc::SKIP_INPUTS)] skip_inputs: String,
    ) -> Result<File, FunctionError> {
        tasks::nix::flake_update(&ctx.query(), &src, &flake_path, &skip_inputs)
            .await
            .map_err(task_error)
    }

    /// Validates the Forgejo workflows (`forgejo-runner validate`) and returns its output.
    /// Cached: the verdict follows from the workflows and the runner version.
    #[function(doc = doc::VALIDATE_WORKFLOWS)]
    pub async fn validate_workflows(
        &self,
        ctx: &CallContext,
        #[arg(doc = doc::SRC, ignore = SRC_IGNORE)] src: Directory,
        #[arg(default = tasks::workflows::DEFAULT_RUNNER_VERSION, doc = doc::RUNNER_VERSION)]
        runner_version: String,
    ) -> Result<String, FunctionError> {
        tasks::workflows::validate_workflows(&ctx.query(), &src, &runner_version)
            .await
            .map_err(task_error)
    }

    /// Exports YOLOv9 to ONNX (`yolov9-<size>-<input>.onnx`), on linux/amd64. Cached: the
    /// released weights and the arguments determine the model.
    #[function(doc = doc::EXPORT_YOLOV9)]
    pub async fn export_yolov9(
        &self,
        ctx: &CallContext,
        #[arg(default = tasks::yolo::DEFAULT_MODEL_SIZE, doc = doc::MODEL_SIZE, values = tasks::yolo::MODEL_SIZES)]
        model_size: String,
        #[arg(default = tasks::yolo::DEFAULT_INPUT_SIZE, doc = doc::INPUT_SIZE)] input_size: i64,
    ) -> Result<File, FunctionError> {
        tasks::yolo::export_yolov9(&ctx.query(), &model_size, input_size)
            .await
            .map_err(task_error)
    }

    /// Checks that each container's versions agree (Dockerfile ARG, default.nix or nixpkgs,
    /// service-versions.yaml); returns the table, or fails with it. Never cached: nixpkgs
    /// versions move.
    #[function(doc = doc::VERSION_CHECK, cache = "never")]
    pub async fn container_version_check(
        &self,
        ctx: &CallContext,
        #[arg(doc = doc::SRC, ignore = SRC_IGNORE)] src: Directory,
        #[arg(doc = doc::CHANGED)] changed: Option<Vec<String>>,
        #[arg(default = false, doc = doc::ALL_FILES)] all_files: bool,
    ) -> Result<String, FunctionError> {
        let scope = match (all_files, changed) {
            (false, Some(changed)) => CheckScope::Changed(changed),
            _ => CheckScope::All,
        };
        let report = crate::pipeline::container_version_check(
            &ctx.query(),
            &self.catalog,
            &src,
            &defaults::version_rules(),
            &scope,
        )
        .await
        .map_err(|e| FunctionError::Failed(e.to_string()))?;
        let report = report
            .into_result()
            .map_err(|e| FunctionError::Failed(e.to_string()))?;
        Ok(report.to_string())
    }

    /// The containers the changed paths touch and how each is built, as a JSON array of
    /// `{name, build}` for a CI matrix.
    #[function(doc = doc::CHANGED_CONTAINERS)]
    pub async fn changed_containers(
        &self,
        #[arg(doc = doc::SRC, ignore = SRC_IGNORE)] src: Directory,
        #[arg(doc = doc::CHANGED)] changed: Vec<String>,
    ) -> Result<String, FunctionError> {
        let containers = crate::pipeline::changed_containers(&self.catalog, &src, &changed)
            .await
            .map_err(|e| FunctionError::Failed(e.to_string()))?;
        Ok(crate::pipeline::matrix_json(&containers))
    }
}
