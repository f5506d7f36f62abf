//! Publishing a built container: the `with_registry_auth` builder, several tags in one engine
//! request, the existing-tag policy, retries, and errors a person can act on. Everything goes
//! through the engine: the existing-tag check resolves the tags there with the session's
//! registry credential, so no password's plaintext reaches this process and no connection to
//! the registry leaves it.
//!
//! ```no_run
//! # async fn run(client: dagger_engine::EngineClient, container: dagger_sdk::Container,
//! #              password: dagger_sdk::Secret) -> Result<(), Box<dyn std::error::Error>> {
//! use dagger_publish::{ExistingTagPolicy, PublishRequest, Publisher, RegistryAuth};
//! use dagger_engine::registry::{repository, Tag};
//!
//! let auth = RegistryAuth::new("registry.example.org", "ci-bot")?.with_password(password);
//! let tags = [Tag::parse("v0.61.1")?, Tag::parse("latest")?];
//! let request = PublishRequest::new("registry.example.org", repository("team", "app")?, tags)?
//!     .with_auth(auth)?
//!     .with_policy(ExistingTagPolicy::Skip);
//! let report = Publisher::new(client).publish(&container, &request).await?;
//! println!("{}", report.primary());
//! # Ok(()) }
//! ```

mod auth;
mod chain;
mod error;
mod failure;
mod lookup;
mod publisher;
mod push;
mod queries;
mod request;
mod retry;

pub mod release;

pub use auth::{with_registry_auth, AuthError, Credential, PasswordSecret, RegistryAuth, Username};
pub use error::{FailedTag, PublishError, RegistryAction, TagExistsEvidence};
pub use publisher::{Publisher, TagCheck};
pub use request::{ExistingTagPolicy, PublishReport, PublishRequest, PublishedTag, TagOutcome};
pub use retry::RetryPolicy;

/// The engine seam: [`EngineClient`], and the registry types requests are made of
/// ([`registry::Tag`], [`registry::repository`], ...).
pub use dagger_engine::{self, registry, EngineClient, QueryError};
/// The `dagger-sdk` this crate speaks (`dagger-sdk = "=0.21.11"`), so a user needs no version
/// of their own.
pub use dagger_sdk;

/// The README's example, compiled and run as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
