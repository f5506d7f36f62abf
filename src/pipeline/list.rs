//! `container_list`: the version tags each container has in the registry.

use futures::stream::{self, StreamExt, TryStreamExt};

use super::catalog::{validate_container_name, CatalogError};
use super::versions::version_tags;
use dagger_engine::registry::{repository, ReferenceError};
use oci_registry_api::{RegistryApi, RegistryApiError};

/// How many tag lists are fetched at once.
const CONCURRENT_REQUESTS: usize = 4;

/// Why a container list could not be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ListError {
    /// A container name is invalid (checked before any request).
    #[error(transparent)]
    Name(#[from] CatalogError),
    /// The namespace and a name do not make a repository name.
    #[error("container {name:?} in namespace {namespace:?}: {source}")]
    Repository {
        /// The namespace.
        namespace: String,
        /// The container.
        name: String,
        /// The grammar broken.
        #[source]
        source: ReferenceError,
    },
    /// The registry refused or failed a tags list.
    #[error("listing the tags of {repository} failed: {source}")]
    Registry {
        /// The repository.
        repository: String,
        /// The registry's error.
        #[source]
        source: RegistryApiError,
    },
}

/// For each container of `names`, in the order given, its version tags in
/// `<namespace>/<name>` (`GET /v2/<namespace>/<name>/tags/list`, with the API's credentials when
/// it has some): tags starting with `v` and a digit, sorted as
/// [`versions`](super::versions) documents. A repository the registry does not know has no tags.
///
/// Every name is checked before the first request.
pub async fn container_list(
    api: &RegistryApi,
    namespace: &str,
    names: &[String],
) -> Result<Vec<(String, Vec<String>)>, ListError> {
    let mut repositories = Vec::with_capacity(names.len());
    for name in names {
        validate_container_name(name)?;
        let repo = repository(namespace, name).map_err(|source| ListError::Repository {
            namespace: namespace.into(),
            name: name.clone(),
            source,
        })?;
        repositories.push((name.clone(), repo));
    }
    stream::iter(repositories)
        .map(|(name, repo)| async move {
            let tags = api
                .list_tags(&repo)
                .await
                .map_err(|source| ListError::Registry {
                    repository: repo.to_string(),
                    source,
                })?;
            Ok::<_, ListError>((name, version_tags(tags)))
        })
        .buffered(CONCURRENT_REQUESTS)
        .try_collect()
        .await
}
