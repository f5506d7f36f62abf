//! Registry addresses, OCI references and tags, and direct registry API calls.
//!
//! - [`address`]: [`RegistryHost::parse`], the engine's registry address normalisation (the only
//!   copy of that rule).
//! - [`reference`](mod@reference): the OCI grammar ([`RepositoryName`], [`Tag`], [`Digest`]), full references
//!   ([`ImageRef`], [`PublishedRef`]) and release tags ([`Version`], [`CommitSha`],
//!   [`release_tag`]).
//! - [`api`]: [`RegistryApi`], direct registry HTTP calls (a tag's digest, a repository's tags,
//!   pushing a small image), with [`RegistryCredentials`] and typed [`RegistryApiError`]s.

pub mod address;
pub mod api;
pub mod reference;

pub use address::{AddressError, RegistryHost};
pub use api::{RegistryApi, RegistryApiError, RegistryCredentials};
pub use reference::{
    release_tag, repository, CommitSha, Digest, ImageRef, PublishedRef, ReferenceError,
    RepositoryName, Tag, VPrefix, Version,
};
