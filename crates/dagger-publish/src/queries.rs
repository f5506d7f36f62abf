//! The query text of a publish, written with the engine crate's query builder: the IDs it
//! needs, the tag lookups and the pushes, one aliased field per tag.

use dagger_engine::gql::{Arg, Field};
use dagger_engine::registry::ImageRef;
use dagger_engine::QueryError;

use super::auth::{Credential, RegistryAuth};
use super::chain::Chain;
use super::error::PublishError;

/// The alias of tag number `i` of a request: the key of its answer.
pub(crate) fn tag_alias(i: usize) -> String {
    format!("tag{i}")
}

/// What the queries of one publish are built from.
pub(crate) struct Queries<'a> {
    refs: Vec<ImageRef>,
    /// `withRegistryAuth(...)`, when the credential is a password.
    auth: Option<Field>,
    variant_ids: &'a [String],
}

impl<'a> Queries<'a> {
    /// The queries for `refs`, with the request's credential (`None`: anonymous) and the
    /// platform variants' container IDs. A password must be known by its ID by now
    /// ([`RegistryAuth::with_password_id`]): a query names it, and asking the engine for it
    /// here would cost a round trip per query.
    pub(crate) fn new(
        refs: Vec<ImageRef>,
        auth: Option<&RegistryAuth>,
        variant_ids: &'a [String],
    ) -> Result<Self, PublishError> {
        let auth = match auth.map(RegistryAuth::credential) {
            None | Some(Credential::Anonymous) => None,
            Some(Credential::Password { username, password }) => {
                let Some(id) = password.id() else {
                    return Err(PublishError::Engine(QueryError::MissingData {
                        what: "the registry password's secret ID (the publisher asks the engine for it before any lookup or push)".into(),
                    }));
                };
                let host = auth.map(|a| a.host().as_str()).unwrap_or_default();
                // The engine stores the credential in the session when the field is
                // evaluated, and uses it for every pull and push that follows in the chain.
                Some(
                    Field::new("withRegistryAuth")
                        .arg("address", host)
                        .arg("username", username.as_str())
                        .arg("secret", id.0.as_str()),
                )
            }
        };
        Ok(Self {
            refs,
            auth,
            variant_ids,
        })
    }

    /// `withRegistryAuth(...)` of the request's credentials, when there is a password.
    fn auth(&self) -> Option<Field> {
        self.auth.clone()
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
