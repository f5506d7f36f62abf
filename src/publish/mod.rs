//! Publishing a built container: the `with_registry_auth` builder, several tags in one engine
//! request, the existing-tag policy, retries, and errors a person can act on.
//!
//! ```no_run
//! # async fn run(client: blumeops::engine::EngineClient, container: dagger_sdk::Container,
//! #              password: Option<dagger_sdk::Id>) -> Result<(), blumeops::publish::PublishError> {
//! use blumeops::publish::{ExistingTagPolicy, PublishRequest, Publisher, RegistryAuth};
//! use blumeops::registry::{release_tag, repository, CommitSha, VPrefix, Version};
//!
//! let auth = RegistryAuth::new("registry.ops.eblu.me")?.with_password(password);
//! let tag = release_tag(
//!     &Version::parse("v0.61.1", VPrefix::Keep)?,
//!     &CommitSha::parse("c86b5d7")?,
//! );
//! let request = PublishRequest::new("registry.ops.eblu.me", repository("blumeops", "navidrome")?, [tag])?
//!     .with_auth(auth)?
//!     .with_policy(ExistingTagPolicy::Skip);
//! let report = Publisher::new(client).publish(&container, &request).await?;
//! println!("{}", report.primary());
//! # Ok(()) }
//! ```

mod auth;
mod chain;
mod error;
mod lookup;
mod publisher;
mod retry;

pub use auth::{with_registry_auth, PasswordSecret, RegistryAuth, DEFAULT_USERNAME};
pub use error::{FailedTag, PublishError, TagExistsEvidence};
pub use lookup::{RegistryApiLookup, TagLookup};
pub use publisher::{
    ExistingTagPolicy, PublishReport, PublishRequest, PublishedTag, Publisher, TagOutcome,
};
pub use retry::RetryPolicy;
