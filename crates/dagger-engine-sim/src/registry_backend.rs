//! The seam to a real registry behind a simulated host ([`RegistryModel::backed_by`]): the
//! simulator asks it for a tag's digest, a repository's tags and to push an image, with the
//! session's credentials for the host, and words its answers as the engine does. The simulator
//! has no HTTP client of its own: `dagger-mock-engine` implements this trait over
//! `oci-registry-api`.
//!
//! [`RegistryModel::backed_by`]: crate::RegistryModel::backed_by

use async_trait::async_trait;
use dagger_engine::registry::{Digest, RepositoryName, Tag};
use secrecy::SecretString;

/// A credential the engine holds for a host, sent with a backend request (never logged).
#[derive(Debug, Clone)]
pub struct BackendCredentials {
    /// The user name.
    pub username: String,
    /// The password or token.
    pub password: SecretString,
}

/// How a real registry refused or failed a request, in the terms the engine's wording needs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackendError {
    /// 401: the credentials were refused, or none were sent where some are needed.
    #[error("the registry refused the credentials (401)")]
    Unauthorized,
    /// 403, with the registry's error codes (`DENIED`).
    #[error("the registry denied access (403)")]
    Denied {
        /// The error codes of the registry's error body.
        codes: Vec<String>,
    },
    /// 429.
    #[error("the registry is rate limiting requests (429)")]
    TooManyRequests,
    /// Any other refusal or failure status.
    #[error("the registry answered HTTP {status}")]
    Server {
        /// The HTTP status.
        status: u16,
        /// The error codes of the registry's error body.
        codes: Vec<String>,
    },
    /// No connection could be made.
    #[error("the registry is unreachable: {detail}")]
    Unreachable {
        /// What the connection attempt reported.
        detail: String,
    },
    /// An answer the client could not use.
    #[error("unexpected answer from the registry: {detail}")]
    Protocol {
        /// What was wrong with it.
        detail: String,
    },
}

/// A real registry a simulated host forwards to. Implementations send `credentials` only as the
/// registry asks for them.
#[async_trait]
pub trait RegistryBackend: Send + Sync + 'static {
    /// The digest `repository:tag` points at (`HEAD` of the manifest); `None` when the tag is
    /// not found.
    async fn manifest_digest(
        &self,
        credentials: Option<BackendCredentials>,
        repository: &RepositoryName,
        tag: &Tag,
    ) -> Result<Option<Digest>, BackendError>;

    /// The tags of a repository (`GET /v2/<name>/tags/list`).
    async fn list_tags(
        &self,
        credentials: Option<BackendCredentials>,
        repository: &RepositoryName,
    ) -> Result<Vec<String>, BackendError>;

    /// Pushes an image (its config and layers, then its manifest under `tag`); answers the
    /// manifest's digest.
    async fn push_image(
        &self,
        credentials: Option<BackendCredentials>,
        repository: &RepositoryName,
        tag: &Tag,
        config: Vec<u8>,
        layers: Vec<Vec<u8>>,
    ) -> Result<Digest, BackendError>;

    /// Points `tag` at the manifest `digest` of `repository`, byte for byte (a retag: an image
    /// pulled by digest and pushed unchanged); answers the digest. A backend that cannot
    /// copy a manifest answers [`BackendError::Protocol`].
    async fn tag_manifest(
        &self,
        credentials: Option<BackendCredentials>,
        repository: &RepositoryName,
        digest: &Digest,
        tag: &Tag,
    ) -> Result<Digest, BackendError> {
        let _ = (credentials, tag);
        Err(BackendError::Protocol {
            detail: format!(
                "this registry backend cannot point a tag at {repository}@{digest} (tag_manifest is not implemented)"
            ),
        })
    }
}
