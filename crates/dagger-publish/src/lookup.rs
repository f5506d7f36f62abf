//! The existing-tag check: does a tag already point at a manifest in the registry?
//!
//! # Why the registry's API and not the engine
//! The check could go through the engine (resolve `from(ref)` with the session's credentials,
//! so the password never leaves the engine) or straight to the registry's HTTP API (a manifest
//! `HEAD`). This library asks the registry directly, through [`RegistryApi`]:
//! - the answer is exact: 200 with a digest, 404, 401 or 403 with the registry's error codes,
//!   where the engine only passes on error messages whose wording differs between versions;
//! - a missing tag through the engine fails the whole GraphQL answer (every `Query` field but
//!   `node` is non-null), so one query could not tell several tags apart cheaply;
//! - the same client serves `container_list` (the tags list), which the engine has no field for.
//!
//! The price: the password's plaintext is read from the engine (`Secret.plaintext`) into this
//! process, held in a [`secrecy::SecretString`] (redacted in `Debug`, wiped on drop) and sent only
//! to the registry host the credential belongs to. Publishing with
//! [`super::ExistingTagPolicy::Overwrite`] skips the check and reads the plaintext only on one
//! failure path: when another tag's failure erased the answers of tags the engine pushed
//! (GraphQL null propagation), their digests are read back from the registry rather than by
//! pushing again.
//!
//! The check is racy: another job may create the tag between the check and the push. On a
//! create-only registry that push is then refused with 403 DENIED, reported as
//! [`super::PublishError::TagExists`] like a tag found by the check.

use async_trait::async_trait;

use dagger_engine::registry::{Digest, RegistryHost, RepositoryName, Tag};
use oci_registry_api::{RegistryApi, RegistryApiError, RegistryCredentials};

/// Answers whether a tag exists, and with which digest.
///
/// [`RegistryApiLookup`] asks the registry over HTTP; the mock engine offers one that reads its
/// registry model, so tests need no network.
#[async_trait]
pub trait TagLookup: Send + Sync {
    /// The digest the tag points at, `None` when the tag does not exist.
    async fn manifest_digest(
        &self,
        host: &RegistryHost,
        credentials: Option<&RegistryCredentials>,
        repository: &RepositoryName,
        tag: &Tag,
    ) -> Result<Option<Digest>, RegistryApiError>;
}

/// [`TagLookup`] through the registry's HTTP API (`HEAD /v2/<name>/manifests/<tag>`).
#[derive(Debug, Clone, Default)]
pub struct RegistryApiLookup;

#[async_trait]
impl TagLookup for RegistryApiLookup {
    async fn manifest_digest(
        &self,
        host: &RegistryHost,
        credentials: Option<&RegistryCredentials>,
        repository: &RepositoryName,
        tag: &Tag,
    ) -> Result<Option<Digest>, RegistryApiError> {
        RegistryApi::new(host.clone(), credentials.cloned())
            .manifest_digest(repository, tag)
            .await
    }
}
