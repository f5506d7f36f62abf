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
use crate::pipeline::{Catalog, TargetPlatform};
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

    /// The version tags of each container in the registry, one line per container
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
    ) -> Result<String, FunctionError> {
        let registry = Registry::new(registry, registry_username, registry_password, namespace);
        let names = container_names.unwrap_or_default();
        functions::container_list(self, ctx, src, names, registry).await
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
}
