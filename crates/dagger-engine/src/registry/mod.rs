//! Registry addresses and OCI references: the two rules the publish library and the mock engine
//! both need, kept here so that each has one copy.
//!
//! - [`address`]: [`RegistryHost::parse`], the engine's registry address normalisation (the only
//!   copy of that rule).
//! - [`reference`](mod@reference): the OCI grammar ([`RepositoryName`], [`Tag`], [`Digest`]), full references
//!   ([`ImageRef`], [`PublishedRef`]).

pub mod address;
pub mod reference;

pub use address::{AddressError, RegistryHost};
pub use reference::{
    repository, Digest, ImageRef, PublishedRef, ReferenceError, RepositoryName, Tag,
    NAME_TOTAL_LENGTH_MAX, TAG_LENGTH_MAX,
};
