//! Direct registry HTTP calls: the digest behind a tag, a repository's tags, and pushing a small
//! OCI image. Built on `oci-client` (token auth, tag lists, blob and manifest uploads), with
//! `reqwest` for the one call `oci-client` words too loosely (see [`RegistryApi::manifest_digest`]).
//!
//! The test kit's registry client (`dagger-mock-engine`'s `LocalRegistry` and the registry model
//! backed by a real registry); the publish path asks the registry through the engine instead.
//!
//! Errors carry the registry's error codes (OCI distribution spec, "Error Codes"), and never the
//! password: [`RegistryCredentials`] keeps it in a `SecretString` and its `Debug` redacts it.
//!
//! - `credentials.rs`: [`RegistryCredentials`];
//! - `error.rs`: [`RegistryApiError`];
//! - `client.rs`: [`RegistryApi`], one registry host with fixed credentials and time bounds;
//! - `calls.rs`: the three calls ([`RegistryApi::manifest_digest`], [`RegistryApi::list_tags`],
//!   [`RegistryApi::push_image`]);
//! - `map.rs`: registry answers (statuses, error envelopes, `oci-client` errors) to errors.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use dagger_engine::registry::{RegistryHost, RepositoryName, Tag};
//! use oci_registry_api::{RegistryApi, RegistryApiError, RegistryCredentials};
//!
//! // Nothing listens on port 9 of the loopback: the call says so, and never shows the password.
//! let host = RegistryHost::parse("127.0.0.1:9").unwrap();
//! let api = RegistryApi::new(host, Some(RegistryCredentials::new("ci", "s3cret")));
//! let repo = RepositoryName::parse("team/app").unwrap();
//! let err = api.manifest_digest(&repo, &Tag::parse("v1").unwrap()).await.unwrap_err();
//! assert!(matches!(err, RegistryApiError::Unreachable { .. }) && err.is_transient());
//! assert!(!format!("{err} {api:?}").contains("s3cret"));
//! # });
//! ```

use std::time::Duration;

mod calls;
mod client;
mod credentials;
mod error;
mod map;

pub use client::RegistryApi;
pub use credentials::RegistryCredentials;
pub use error::RegistryApiError;

/// The manifest types a tag can point at: OCI index and manifest, Docker v2 list and manifest.
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
application/vnd.oci.image.manifest.v1+json, \
application/vnd.docker.distribution.manifest.list.v2+json, \
application/vnd.docker.distribution.manifest.v2+json";

/// Media type of the config blob [`RegistryApi::push_image`] writes.
pub const OCI_CONFIG_MEDIA_TYPE: &str = "application/vnd.oci.image.config.v1+json";

/// Default bound on establishing a connection.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default bound on one whole API call (all its HTTP requests).
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// Tags asked for per page of `GET /v2/<name>/tags/list` by default.
pub const DEFAULT_TAGS_PAGE_SIZE: usize = 1000;
/// Pages followed at most before giving up (a registry that ignores `last` would loop forever).
pub(crate) const TAGS_MAX_PAGES: usize = 10_000;

/// The README's example, compiled and run as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
