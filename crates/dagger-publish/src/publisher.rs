//! Publishing one built container under several tags: the order of the steps and the report.

use std::collections::BTreeMap;
use std::fmt;

use dagger_sdk::Container;
use tracing::Instrument;

use super::auth::{Credential, PasswordSecret, RegistryAuth};
use super::chain::Chain;
use super::error::{FailedTag, PublishError, RegistryAction, TagExistsEvidence};
use super::lookup::{self, Checked};
use super::push;
use super::queries::{id_of, Queries};
use super::request::{ExistingTagPolicy, PublishReport, PublishRequest, PublishedTag, TagOutcome};
use dagger_engine::registry::{Digest, ImageRef, PublishedRef, Tag};
use dagger_engine::{gql, EngineClient, QueryError};

/// Publishes containers through an engine. Cheap to clone.
///
/// Everything goes through the engine: the existing-tag check and the push use the session's
/// registry credential, whose password this process never reads, and no connection to the
/// registry is opened from here.
///
/// Engine round trips for one call, whatever the number of tags: one request for all the
/// pushes; one before it for the existing-tag check (policies `fail` and `skip`), and one more
/// only when the check finds tags that exist (their digests); one before those when the
/// password is a `dagger_sdk::Secret` object rather than an ID or platform variants are given
/// (their IDs; none for variants loaded by ID, such as smoke-checked images). A transient
/// failure adds one per retry; a request that failed part-way, one or two to learn which tags
/// made it. [`Publisher::check`] and [`Publisher::publish_checked`] split the check from the
/// push, so that the check's request can be in flight beside other work.
#[derive(Clone)]
pub struct Publisher {
    client: EngineClient,
}

impl fmt::Debug for Publisher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Publisher").finish_non_exhaustive()
    }
}

/// The outcome of the existing-tag check of one [`PublishRequest`] ([`Publisher::check`]),
/// for [`Publisher::publish_checked`] of the same request.
#[derive(Clone)]
pub struct TagCheck {
    refs: Vec<ImageRef>,
    policies: Vec<ExistingTagPolicy>,
    /// The request's credential with its password known by ID, when the check resolved it
    /// (the push reuses it).
    auth: Option<RegistryAuth>,
    /// What the check learnt, by tag index (none for tags under [`ExistingTagPolicy::Overwrite`]).
    found: BTreeMap<usize, Checked>,
}

impl TagCheck {
    /// The tags the registry has, each with its index in the request and its digest.
    pub fn existing(&self) -> impl Iterator<Item = (usize, &Digest)> {
        self.found.iter().filter_map(|(&i, state)| match state {
            Checked::Present(digest) => Some((i, digest)),
            _ => None,
        })
    }

    /// The references checked, one per tag of the request.
    pub fn references(&self) -> &[ImageRef] {
        &self.refs
    }
}

impl fmt::Debug for TagCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TagCheck")
            .field("refs", &list(&self.refs))
            .field("policies", &self.policies)
            .field("found", &self.found)
            .finish_non_exhaustive()
    }
}

/// The span a publish runs in: what it publishes where, never the password.
fn publish_span(request: &PublishRequest) -> tracing::Span {
    let tags: Vec<&str> = request.tags().iter().map(Tag::as_str).collect();
    tracing::info_span!(
        "publish",
        registry = %request.host(),
        repository = %request.repository(),
        tags = %tags.join(","),
        policy = %request.policy(),
        authenticated = request.auth().is_some_and(RegistryAuth::has_password),
    )
}

/// References as one comma-separated list, for messages.
fn list(refs: &[ImageRef]) -> String {
    refs.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// What the queries need that only the engine can give: the credential with its password
/// known by ID, and the platform variants' IDs.
struct Prepared {
    auth: Option<RegistryAuth>,
    variant_ids: Vec<String>,
}

impl Publisher {
    /// A publisher on `client`.
    pub fn new(client: EngineClient) -> Self {
        Self { client }
    }

    /// The engine client the publisher sends its requests on.
    pub fn client(&self) -> &EngineClient {
        &self.client
    }

    /// Publishes `container` as every tag of `request`: [`Publisher::check`], then
    /// [`Publisher::publish_checked`].
    ///
    /// The container is built once by the engine (all tags publish the same call chain) and the
    /// pushes go out in one request. Transient failures are retried per
    /// [`crate::RetryPolicy`]; when some tags end up published and others not, the error is
    /// [`PublishError::Partial`], naming each.
    pub async fn publish(
        &self,
        container: &Container,
        request: &PublishRequest,
    ) -> Result<PublishReport, PublishError> {
        let span = publish_span(request);
        async {
            let check = self.check(request).await?;
            self.push_checked(container, request, check).await
        }
        .instrument(span)
        .await
    }

    /// The existing-tag check of `request` on its own (policies [`ExistingTagPolicy::Fail`] and
    /// [`ExistingTagPolicy::Skip`]; nothing is sent for [`ExistingTagPolicy::Overwrite`]), to
    /// run beside other work that must finish before the push, such as a smoke check or a
    /// version guard: two requests in flight together cost one round trip's wait. Hand the
    /// outcome to [`Publisher::publish_checked`].
    ///
    /// With [`ExistingTagPolicy::Fail`], a tag the registry has is [`PublishError::TagExists`]
    /// here; rejected credentials or a denied read stop here too.
    ///
    /// ```no_run
    /// # async fn run(publisher: dagger_publish::Publisher, request: dagger_publish::PublishRequest,
    /// #              container: dagger_sdk::Container) -> Result<(), dagger_publish::PublishError> {
    /// async fn smoke_check() -> Result<(), dagger_publish::PublishError> { Ok(()) }
    /// let (smoke, check) = tokio::join!(smoke_check(), publisher.check(&request));
    /// smoke?;
    /// let report = publisher.publish_checked(&container, &request, check?).await?;
    /// # Ok(()) }
    /// ```
    pub async fn check(&self, request: &PublishRequest) -> Result<TagCheck, PublishError> {
        let mut check = TagCheck {
            refs: request.image_refs(),
            policies: request.policies(),
            auth: None,
            found: BTreeMap::new(),
        };
        if !request.needs_check() {
            return Ok(check);
        }
        // The password's ID, when it is a `dagger_sdk::Secret` (the push reuses it).
        check.auth = self.prepare(request, None, false).await?.auth;
        let queries = Queries::new(request.image_refs(), check.auth.as_ref(), &[])?;
        check.found = lookup::check(&self.client, &queries, request).await?;
        if let Some((i, digest)) = check
            .existing()
            .find(|&(i, _)| request.policy_of(i) == ExistingTagPolicy::Fail)
        {
            return Err(PublishError::TagExists {
                reference: check.refs[i].to_string(),
                evidence: TagExistsEvidence::Checked {
                    digest: digest.to_string(),
                },
            });
        }
        check.kept_image()?;
        Ok(check)
    }

    /// Publishes `container` as every tag of `request`, given the existing-tag check made for
    /// this request ([`Publisher::check`]): the tags found are left as they are (policy
    /// [`ExistingTagPolicy::Skip`]), the others pushed in one request. A check made for other
    /// tags or another policy is [`PublishError::InvalidRequest`].
    pub async fn publish_checked(
        &self,
        container: &Container,
        request: &PublishRequest,
        check: TagCheck,
    ) -> Result<PublishReport, PublishError> {
        self.push_checked(container, request, check)
            .instrument(publish_span(request))
            .await
    }

    async fn push_checked(
        &self,
        container: &Container,
        request: &PublishRequest,
        check: TagCheck,
    ) -> Result<PublishReport, PublishError> {
        if check.refs != request.image_refs() || check.policies != request.policies() {
            return Err(PublishError::InvalidRequest(format!(
                "the existing-tag check given was made for {} (policies {}), not for this request's {} (policies {}); check the request that is published",
                list(&check.refs),
                policy_list(&check.policies),
                list(&request.image_refs()),
                policy_list(&request.policies())
            )));
        }
        if let Some(kept) = check.kept_image()? {
            return self.point_at_existing(request, &check, kept).await;
        }
        let chain = Chain::of(&container.selection)
            .await
            .map_err(PublishError::Engine)?;
        let prepared = self.prepare(request, check.auth.clone(), true).await?;
        let queries = Queries::new(
            request.image_refs(),
            prepared.auth.as_ref(),
            &prepared.variant_ids,
        )?;
        // No tag the check found is left here: one under `fail` stopped the check, one under
        // `skip` took the publish to `point_at_existing`, and `overwrite` tags are not checked.
        let to_push: Vec<usize> = (0..request.tags().len()).collect();
        let outcomes = push::push(&self.client, &queries, &chain, request, to_push).await?;
        report(request, BTreeMap::new(), outcomes, None)
    }

    /// The publish when a tag under `skip` exists: nothing new is pushed, and every other tag
    /// is pointed at the image that tag has (`from(<repository>@<digest>)` published as the
    /// tag), so that the tags of the publish end on one image. The digest each push answers
    /// must be that image's.
    async fn point_at_existing(
        &self,
        request: &PublishRequest,
        check: &TagCheck,
        kept: Digest,
    ) -> Result<PublishReport, PublishError> {
        let refs = request.image_refs();
        let mut done: BTreeMap<usize, PublishedTag> = BTreeMap::new();
        let mut to_point = Vec::new();
        for (i, tag) in request.tags().iter().enumerate() {
            match check.found.get(&i) {
                Some(Checked::Present(digest)) if *digest == kept => {
                    tracing::info!(tag = %tag, digest = %digest, "tag exists; left as it is");
                    done.insert(
                        i,
                        PublishedTag {
                            tag: tag.clone(),
                            reference: PublishedRef {
                                image: refs[i].clone(),
                                digest: digest.clone(),
                            },
                            outcome: TagOutcome::AlreadyPresent,
                        },
                    );
                }
                _ => to_point.push(i),
            }
        }
        if to_point.is_empty() {
            return report(request, done, Vec::new(), None);
        }
        let existing = format!("{}/{}@{kept}", request.host(), request.repository());
        if !request.platform_variants().is_empty() {
            return Err(PublishError::InvalidRequest(format!(
                "{} exists as {existing} (policy skip), so the other tags ({}) would have to point at that image, but a multi-platform image cannot be re-tagged through the engine (it pulls one platform); publish a new version, or give the other tags the skip policy too",
                refs[0],
                to_point
                    .iter()
                    .map(|&i| request.tags()[i].as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let prepared = self.prepare(request, check.auth.clone(), false).await?;
        // The credential goes before `from`: a private registry asks for it on the pull.
        let base = match &prepared.auth {
            Some(auth) => auth.apply(&self.client.dagger().container()),
            None => self.client.dagger().container(),
        };
        let image = base.from(existing.as_str());
        let chain = Chain::of(&image.selection)
            .await
            .map_err(PublishError::Engine)?;
        let queries = Queries::new(refs, prepared.auth.as_ref(), &[])?;
        let outcomes = push::push(&self.client, &queries, &chain, request, to_point).await?;
        report(request, done, outcomes, Some(kept))
    }

    /// The one request before the others, when anything needs it: the password's Secret ID
    /// (for a `dagger_sdk::Secret`; an ID is used as it is; `known` when an earlier request
    /// resolved it) and, with `variants`, the platform variants' IDs.
    async fn prepare(
        &self,
        request: &PublishRequest,
        known: Option<RegistryAuth>,
        variants: bool,
    ) -> Result<Prepared, PublishError> {
        let mut prepared = Prepared {
            auth: known.or_else(|| request.auth().cloned()),
            variant_ids: Vec::new(),
        };
        let mut fields = Vec::new();
        if let Some(Credential::Password {
            password: PasswordSecret::Secret(secret),
            ..
        }) = prepared.auth.as_ref().map(RegistryAuth::credential)
        {
            let chain = Chain::of(&secret.selection)
                .await
                .map_err(PublishError::Engine)?;
            fields.push(id_of(&chain, "secret"));
        }
        let variants_from = fields.len();
        let wanted = if variants {
            request.platform_variants()
        } else {
            &[]
        };
        // Each variant's ID: the one it was loaded from (a smoke-checked image), or asked for.
        let mut variant_ids: Vec<Option<String>> = Vec::new();
        for (i, variant) in wanted.iter().enumerate() {
            let chain = Chain::of(&variant.selection)
                .await
                .map_err(PublishError::Engine)?;
            match chain.loaded_id() {
                Some(id) => variant_ids.push(Some(id.to_string())),
                None => {
                    fields.push(id_of(&chain, &format!("variant{i}")));
                    variant_ids.push(None);
                }
            }
        }
        if fields.is_empty() {
            prepared.variant_ids = variant_ids.into_iter().flatten().collect();
            return Ok(prepared);
        }
        let data = self
            .client
            .query(&gql::query(&fields))
            .await
            .map_err(|e| lookup::request_failed(e, request, None, RegistryAction::Push))?;
        let id_at = |field: &gql::Field| -> Result<String, PublishError> {
            field
                .answer(&data)
                .and_then(serde_json::Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| {
                    PublishError::Engine(QueryError::MissingData {
                        what: format!("{} in the answer", field.key()),
                    })
                })
        };
        if variants_from == 1 {
            let id = dagger_sdk::Id(id_at(&fields[0])?);
            prepared.auth = prepared.auth.map(|auth| auth.with_password_id(id));
        }
        let mut asked = fields[variants_from..].iter();
        for known in variant_ids {
            let id = match known {
                Some(id) => id,
                None => match asked.next() {
                    Some(field) => id_at(field)?,
                    None => {
                        return Err(PublishError::Engine(QueryError::MissingData {
                            what: "a platform variant's ID in the answer".into(),
                        }))
                    }
                },
            };
            prepared.variant_ids.push(id);
        }
        Ok(prepared)
    }
}

/// The policies, for messages: `fail, overwrite`.
fn policy_list(policies: &[ExistingTagPolicy]) -> String {
    policies
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

impl TagCheck {
    /// The digest of the image an existing tag under `skip` keeps, which every tag of the
    /// publish must then end on; an error when two such tags are on different images (no
    /// publish could put the tags on one image without moving a tag that must not move).
    fn kept_image(&self) -> Result<Option<Digest>, PublishError> {
        let mut kept: Option<(usize, &Digest)> = None;
        for (i, digest) in self.existing() {
            if self.policies[i] != ExistingTagPolicy::Skip {
                continue;
            }
            match kept {
                None => kept = Some((i, digest)),
                Some((first, d)) if d != digest => {
                    return Err(PublishError::TagsOnDifferentImages {
                        first: format!("{}@{d}", self.refs[first]),
                        second: format!("{}@{digest}", self.refs[i]),
                    })
                }
                Some(_) => {}
            }
        }
        Ok(kept.map(|(_, d)| d.clone()))
    }
}

/// The report of a publish, or the error naming exactly what is and is not in the registry.
/// With `pointed_at`, the pushes pointed tags at that existing image, and each must answer
/// its digest.
fn report(
    request: &PublishRequest,
    mut done: BTreeMap<usize, PublishedTag>,
    outcomes: push::Outcomes,
    pointed_at: Option<Digest>,
) -> Result<PublishReport, PublishError> {
    let mut failed = Vec::new();
    let mut ordered = outcomes;
    ordered.sort_by_key(|(i, _)| *i);
    for (i, result) in ordered {
        match result {
            Ok(reference) if pointed_at.as_ref().is_some_and(|d| *d != reference.digest) => {
                failed.push(FailedTag {
                    tag: request.tags()[i].to_string(),
                    error: Box::new(PublishError::RetagChangedDigest {
                        reference: reference.to_string(),
                        expected: pointed_at
                            .as_ref()
                            .map(ToString::to_string)
                            .unwrap_or_default(),
                    }),
                });
            }
            Ok(reference) => {
                done.insert(
                    i,
                    PublishedTag {
                        tag: request.tags()[i].clone(),
                        reference,
                        outcome: if pointed_at.is_some() {
                            TagOutcome::PointedAtExisting
                        } else {
                            TagOutcome::Pushed
                        },
                    },
                );
            }
            Err(error) => failed.push(FailedTag {
                tag: request.tags()[i].to_string(),
                error: Box::new(error),
            }),
        }
    }
    if failed.is_empty() {
        let report = PublishReport {
            tags: done.into_values().collect(),
        };
        for t in &report.tags {
            tracing::info!(reference = %t.reference, outcome = ?t.outcome, "published");
        }
        return Ok(report);
    }
    let published: Vec<PublishedTag> = done.into_values().collect();
    let one_kind = failed
        .iter()
        .all(|f| std::mem::discriminant(&*f.error) == std::mem::discriminant(&*failed[0].error));
    let names_a_tag = matches!(
        *failed[0].error,
        PublishError::TagExists { .. }
            | PublishError::PermissionDenied { .. }
            | PublishError::RegistryRefused { .. }
            | PublishError::DigestUnknown { .. }
            | PublishError::AnswerLost { .. }
            | PublishError::RetagChangedDigest { .. }
    );
    if published.is_empty() && (failed.len() == 1 || (one_kind && !names_a_tag)) {
        // Nothing is in the registry and every tag failed for one reason that is not about
        // a tag (same container, registry and credentials): that reason, once.
        return Err(*failed.swap_remove(0).error);
    }
    Err(PublishError::Partial { published, failed })
}

#[cfg(test)]
mod tests {
    use super::*;
    use dagger_engine::registry::{repository, Tag};

    fn digest(c: char) -> Digest {
        Digest::parse(&format!("sha256:{}", c.to_string().repeat(64))).unwrap()
    }

    /// A tag pointed at an existing image whose push answers another digest is not on that
    /// image: the publish fails naming it, though it was pushed.
    #[test]
    fn a_retag_answering_another_digest_fails_naming_the_tag() {
        let request = PublishRequest::new(
            "r.example",
            repository("team", "app").unwrap(),
            [Tag::parse("latest").unwrap()],
        )
        .unwrap();
        let image = request.image_refs()[0].clone();
        let outcomes = vec![(
            0,
            Ok(PublishedRef {
                image,
                digest: digest('b'),
            }),
        )];
        let err = report(&request, BTreeMap::new(), outcomes, Some(digest('a'))).unwrap_err();
        match &err {
            PublishError::RetagChangedDigest {
                reference,
                expected,
            } => {
                assert!(reference.ends_with(&digest('b').to_string()), "{reference}");
                assert_eq!(expected, &digest('a').to_string());
            }
            other => panic!("{other:?}"),
        }
        assert!(err.to_string().contains("not on one image"), "{err}");
    }
}
