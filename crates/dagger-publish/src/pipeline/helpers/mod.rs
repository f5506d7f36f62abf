//! Building blocks that pipelines compose: upstream sources, Go and Node builds, an Alpine
//! runtime image, OCI labels. Each records its commands in the build's step log.

mod alpine;
mod go;
mod labels;
mod node;
mod source;

pub use alpine::{AlpineRuntime, RuntimeUser, ALPINE_IMAGE};
pub use go::{GoBuild, GO_BUILD_CACHE, GO_IMAGE, GO_MOD_CACHE};
pub use labels::OciLabels;
pub use node::{NodeBuild, NODE_IMAGE, NPM_CACHE};
pub use source::git_tag_source;

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
