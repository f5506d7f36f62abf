//! Building blocks that pipelines compose: upstream sources, Go and Node builds, an Alpine
//! runtime image, OCI labels. Each records its commands in the build's step log.
//!
//! # Images are the pipeline's choice
//!
//! Every helper takes its image (`golang:1.25-alpine3.22`, `node:22-alpine3.22`,
//! `alpine:3.22`) from the pipeline, which writes each once: a CGO binary links against the
//! builder's C libraries and must run on the same Alpine release, so builder and runtime are
//! pinned together, never floating (`golang:alpine` moves to a new Alpine release on its own).
//!
//! # Cache-friendly order
//!
//! Dependency downloads run before the rest of the source arrives: the build container first
//! gets only the dependency manifests (`go.mod`/`go.sum`, `package.json`/`package-lock.json`,
//! [`GoBuild::download_inputs`], [`NodeBuild::install_inputs`]), runs `go mod download` /
//! `npm ci`, then gets the whole source. The engine's cache is content-based, so a change to
//! the source that leaves the manifests alone reuses the download. Cache volumes are named per
//! toolchain image ([`cache_volume_name`]), so two toolchain versions never share one.
//!
//! # Round trips
//!
//! `dagger-sdk` passes an object argument (a cache volume, the source directory, a stage's
//! output) as the object's ID, looked up with a request of its own, one object after another,
//! each time a chain holding it is written out. The helpers pass every object they hand on
//! through [`BuildContext::input`] instead: the IDs are looked up together, one aliased
//! request per level of stages (caches and sources; a UI build; the binary that embeds it),
//! once per build whatever the number of platforms. A pipeline does the same with the objects
//! it passes itself, such as the binary copied into its runtime image:
//!
//! ```
//! # fn example(ctx: &dagger_pipeline::BuildContext, src: dagger_sdk::Directory) {
//! use dagger_pipeline::helpers::{AlpineRuntime, GoBuild, RuntimeUser};
//! let binary = GoBuild::new("golang:1.25-alpine3.22", src, "app").binary(ctx);
//! let image = AlpineRuntime::new("alpine:3.22", RuntimeUser::existing(65534, 65534))
//!     .container(ctx)
//!     .with_file("/usr/bin/app", ctx.input(&binary));
//! # }
//! ```
//!
//! [`BuildContext::input`]: crate::BuildContext::input

mod alpine;
mod go;
mod labels;
mod node;
mod source;

pub use alpine::{AlpineRuntime, RuntimeUser};
pub use go::{GoBuild, GO_BUILD_CACHE, GO_MANIFESTS, GO_MOD_CACHE};
pub use labels::OciLabels;
pub use node::{NodeBuild, NPM_CACHE, NPM_MANIFESTS};
pub use source::git_tag_source;

/// The cache volume key of `kind` (e.g. [`GO_MOD_CACHE`]) for the toolchain `image`:
/// `<kind>-<image>`, the image's `:`, `/` and `@` written as `-`, so each toolchain version has
/// its own volume.
///
/// ```
/// use dagger_pipeline::helpers::{cache_volume_name, GO_MOD_CACHE};
/// assert_eq!(cache_volume_name(GO_MOD_CACHE, "golang:1.25-alpine3.22"), "go-mod-golang-1.25-alpine3.22");
/// assert_eq!(cache_volume_name("npm", "mirror.example/node:22"), "npm-mirror.example-node-22");
/// ```
pub fn cache_volume_name(kind: &str, image: &str) -> String {
    let image: String = image
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("{kind}-{image}")
}

/// Owned strings from anything string-like.
pub(crate) fn strings<I, S>(items: I) -> Vec<String>
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    items.into_iter().map(Into::into).collect()
}

/// A `dagger_sdk::Query` whose every request fails: for unit tests of lazy builders, which
/// never send anything.
#[cfg(test)]
pub(crate) fn offline_query() -> dagger_sdk::Query {
    struct NoEngine;
    #[async_trait::async_trait]
    impl dagger_engine::Transport for NoEngine {
        async fn execute(
            &self,
            _query: &str,
        ) -> Result<dagger_engine::Response, dagger_engine::TransportError> {
            Err(dagger_engine::TransportError::Unreachable {
                endpoint: "none".into(),
                detail: "unit tests send no queries".into(),
            })
        }
    }
    dagger_engine::EngineClient::new(std::sync::Arc::new(NoEngine)).dagger()
}

/// A container of [`offline_query`], for unit tests.
#[cfg(test)]
pub(crate) fn offline_container() -> dagger_sdk::Container {
    offline_query().container()
}
