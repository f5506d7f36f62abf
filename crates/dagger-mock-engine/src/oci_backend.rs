//! [`OciBackend`]: the simulator's [`RegistryBackend`] over `oci-registry-api`, so that a
//! simulated host's pushes and resolutions reach a real registry.

use async_trait::async_trait;
use dagger_engine::registry::{Digest, RegistryHost, RepositoryName, Tag};
use dagger_engine_sim::{BackendCredentials, BackendError, RegistryBackend};
use oci_registry_api::{RegistryApi, RegistryApiError, RegistryCredentials};
use secrecy::ExposeSecret;

/// A real registry behind a simulated host: each request is made with the credentials the
/// simulated engine holds for the host.
///
/// ```no_run
/// # async fn example() -> Result<(), String> {
/// use dagger_mock_engine::{LocalRegistry, MockEngine};
///
/// let registry = LocalRegistry::start(&[]).await?;
/// let engine = MockEngine::new();
/// engine
///     .registry(registry.host().as_str())
///     .backed_by(registry.backend());
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct OciBackend {
    host: RegistryHost,
    plain_http: bool,
}

impl OciBackend {
    /// The registry at `host`, over plain HTTP when `plain_http` (a loopback registry).
    pub fn new(host: RegistryHost, plain_http: bool) -> Self {
        Self { host, plain_http }
    }

    /// The registry `api` talks to, with the same scheme (its credentials are not used: the
    /// engine's are).
    pub fn from_api(api: &RegistryApi) -> Self {
        Self::new(api.host().clone(), api.plain_http())
    }

    fn client(&self, credentials: Option<BackendCredentials>) -> RegistryApi {
        let credentials = credentials
            .map(|c| RegistryCredentials::new(c.username, c.password.expose_secret().to_owned()));
        RegistryApi::new(self.host.clone(), credentials).with_plain_http(self.plain_http)
    }
}

fn backend_error(e: RegistryApiError) -> BackendError {
    match e {
        RegistryApiError::Unauthorized { .. } => BackendError::Unauthorized,
        RegistryApiError::Denied { codes, .. } => BackendError::Denied { codes },
        RegistryApiError::TooManyRequests { .. } => BackendError::TooManyRequests,
        RegistryApiError::Server { status, codes, .. } => BackendError::Server { status, codes },
        RegistryApiError::Unreachable { detail, .. } => BackendError::Unreachable { detail },
        RegistryApiError::Protocol { detail, .. } => BackendError::Protocol { detail },
    }
}

#[async_trait]
impl RegistryBackend for OciBackend {
    async fn manifest_digest(
        &self,
        credentials: Option<BackendCredentials>,
        repository: &RepositoryName,
        tag: &Tag,
    ) -> Result<Option<Digest>, BackendError> {
        self.client(credentials)
            .manifest_digest(repository, tag)
            .await
            .map_err(backend_error)
    }

    async fn list_tags(
        &self,
        credentials: Option<BackendCredentials>,
        repository: &RepositoryName,
    ) -> Result<Vec<String>, BackendError> {
        self.client(credentials)
            .list_tags(repository)
            .await
            .map_err(backend_error)
    }

    async fn push_image(
        &self,
        credentials: Option<BackendCredentials>,
        repository: &RepositoryName,
        tag: &Tag,
        config: Vec<u8>,
        layers: Vec<Vec<u8>>,
    ) -> Result<Digest, BackendError> {
        self.client(credentials)
            .push_image(repository, tag, config, layers)
            .await
            .map_err(backend_error)
    }

    async fn tag_manifest(
        &self,
        credentials: Option<BackendCredentials>,
        repository: &RepositoryName,
        digest: &Digest,
        tag: &Tag,
    ) -> Result<Digest, BackendError> {
        self.client(credentials)
            .tag_manifest(repository, digest, tag)
            .await
            .map_err(backend_error)
    }
}
