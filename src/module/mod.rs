//! This project's Dagger module: `publish`, `build`, `container-version`, `container-list`,
//! `publish-nix`, as the module it replaces offered them, on the [`dagger_module_runtime`].
//!
//! ```text
//! dagger call publish --src=. --container-name=navidrome --version=v0.61.1 \
//!     --commit-sha=c86b5d7 --registry-password=env:ZOT_CI_API_KEY
//! VERSION=$(dagger call container-version --container-name=navidrome)
//! ```
//!
//! Every argument is checked with the registry types' parsers (the one place of each rule)
//! before anything is built; errors come back as messages that say what to fix: a failed build
//! step with its command and stderr, an unknown container with the known ones, a rejected
//! credential with the host and user.

mod definition;
mod functions;

use std::sync::Arc;

use async_trait::async_trait;

use crate::pipeline::Catalog;
use dagger_module_runtime::{
    Args, CallContext, FunctionError, FunctionResult, Module as RuntimeModule, ModuleDef,
};
use dagger_publish::PublishReport;

pub use definition::{
    definition, DEFAULT_CREATED, DEFAULT_NAMESPACE, DEFAULT_POLICY, DEFAULT_REGISTRY, MODULE_NAME,
};
pub use functions::parse_platform;

/// The `blumeops` module: the container catalog.
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

/// What a publishing function did, for callers that want more than the reference it returns
/// (the main job's `--json`): every tag with its digest, and the images published.
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

impl Blumeops {
    /// Runs a publishing function (`publish` or `publish_nix`) and returns all it did; the
    /// module's own `call` returns only the first tag's reference.
    pub async fn call_publishing(
        &self,
        ctx: &CallContext,
        function: &str,
        args: &Args,
    ) -> Result<Published, FunctionError> {
        match function {
            "publish" => functions::publish_outcome(self, ctx, args).await,
            "publish_nix" => functions::publish_nix_outcome(self, ctx, args).await,
            other => Err(FunctionError::Failed(format!(
                "function {other:?} of module {MODULE_NAME} does not publish"
            ))),
        }
    }

    /// Whether `function` publishes images (see [`Blumeops::call_publishing`]).
    pub fn publishes(function: &str) -> bool {
        matches!(function, "publish" | "publish_nix")
    }
}

#[async_trait]
impl RuntimeModule for Blumeops {
    fn definition(&self) -> ModuleDef {
        definition()
    }

    async fn call(
        &self,
        ctx: &CallContext,
        function: &str,
        args: &Args,
    ) -> Result<FunctionResult, FunctionError> {
        match function {
            "publish" => functions::publish(self, ctx, args).await,
            "build" => functions::build(self, ctx, args).await,
            "container_version" => functions::container_version(self, ctx, args).await,
            "container_list" => functions::container_list(self, ctx, args).await,
            "publish_nix" => functions::publish_nix(self, ctx, args).await,
            other => Err(FunctionError::Failed(format!(
                "module {MODULE_NAME} has no function {other:?}"
            ))),
        }
    }
}
