//! The query text of a publish, written with the engine crate's query builder: the IDs it
//! needs, the tag lookups and the pushes, one aliased field per tag.

use dagger_engine::gql::{Arg, Field};
use dagger_engine::registry::ImageRef;

use super::chain::Chain;
use super::request::PublishRequest;

/// The alias of tag number `i` of a request: the key of its answer.
pub(crate) fn tag_alias(i: usize) -> String {
    format!("tag{i}")
}

/// What the queries of one publish are built from.
pub(crate) struct Queries<'a> {
    request: &'a PublishRequest,
    refs: Vec<ImageRef>,
    secret_id: Option<&'a str>,
    variant_ids: &'a [String],
}

impl<'a> Queries<'a> {
    /// The queries of `request`, with the password's Secret ID (`None`: anonymous) and the
    /// platform variants' container IDs.
    pub(crate) fn new(
        request: &'a PublishRequest,
        secret_id: Option<&'a str>,
        variant_ids: &'a [String],
    ) -> Self {
        Self {
            request,
            refs: request.image_refs(),
            secret_id,
            variant_ids,
        }
    }

    /// `withRegistryAuth(...)` of the request's credentials, when there is a password. The
    /// engine stores the credential in the session when the field is evaluated, and uses it for
    /// every pull and push that follows in the chain.
    fn auth(&self) -> Option<Field> {
        let (auth, secret_id) = (self.request.auth()?, self.secret_id?);
        Some(
            Field::new("withRegistryAuth")
                .arg("address", auth.host().as_str())
                .arg("username", auth.username())
                .arg("secret", secret_id),
        )
    }

    /// `container` followed by the credentials, when there are some.
    fn authenticated_container(&self) -> Field {
        let container = Field::new("container");
        match self.auth() {
            Some(auth) => container.then(auth),
            None => container,
        }
    }

    /// The lookup of tag `i` through the engine: `from(address: <ref>)` after the credentials,
    /// answering `imageRef` (the reference with the digest the tag points at). A tag the
    /// registry lacks fails the field.
    pub(crate) fn lookup(&self, i: usize) -> Field {
        self.authenticated_container()
            .alias(tag_alias(i))
            .then(Field::new("from").arg("address", self.refs[i].to_string()))
            .then(Field::new("imageRef"))
    }

    /// The push of `container` as tag `i`: its chain, the credentials, then `publish`.
    pub(crate) fn push(&self, container: &Chain, i: usize) -> Field {
        let mut publish = Field::new("publish").arg("address", self.refs[i].to_string());
        if !self.variant_ids.is_empty() {
            publish = publish.arg("platformVariants", Arg::strings(self.variant_ids));
        }
        let leaf = match self.auth() {
            Some(auth) => auth.then(publish),
            None => publish,
        };
        container.ending_in(&tag_alias(i), leaf)
    }
}

/// The ID of an object's chain under `alias`.
pub(crate) fn id_of(chain: &Chain, alias: &str) -> Field {
    chain.ending_in(alias, Field::new("id"))
}
