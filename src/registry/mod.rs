//! Registry addresses, OCI references and tags, and direct registry API calls.
//!
//! - [`address`]: [`RegistryHost::parse`], the engine's registry address normalisation (the only
//!   copy of that rule).
//! - [`reference`]: the OCI grammar ([`RepositoryName`], [`Tag`], [`Digest`]), full references
//!   ([`ImageRef`], [`PublishedRef`]) and release tags ([`Version`], [`CommitSha`],
//!   [`release_tag`]).

pub mod address;
pub mod reference;

pub use address::{AddressError, RegistryHost};
pub use reference::{
    release_tag, repository, CommitSha, Digest, ImageRef, PublishedRef, ReferenceError,
    RepositoryName, Tag, VPrefix, Version,
};
