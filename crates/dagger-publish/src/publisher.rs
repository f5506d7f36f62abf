//! Publishing one built container under several tags: the order of the steps and the report.

use std::collections::BTreeMap;
use std::fmt;

use dagger_sdk::Container;
use tracing::Instrument;

use super::auth::{PasswordSecret, RegistryAuth};
use super::chain::Chain;
use super::error::{FailedTag, PublishError, TagExistsEvidence};
use super::lookup::{self, Checked};
use super::push;
use super::queries::{id_of, Queries};
use super::request::{ExistingTagPolicy, PublishReport, PublishRequest, PublishedTag, TagOutcome};
use dagger_engine::registry::{PublishedRef, Tag};
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
/// (their IDs). A transient failure adds one per retry; a request that failed part-way, one or
/// two to learn which tags made it.
#[derive(Clone)]
pub struct Publisher {
    client: EngineClient,
}

impl fmt::Debug for Publisher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Publisher").finish_non_exhaustive()
    }
}

/// The IDs the queries need that only the engine can give.
#[derive(Default)]
struct Prepared {
    secret_id: Option<String>,
    variant_ids: Vec<String>,
}

impl Publisher {
    /// A publisher on `client`.
    pub fn new(client: EngineClient) -> Self {
        Self { client }
    }

    /// Publishes `container` as every tag of `request`.
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
        let tags: Vec<&str> = request.tags().iter().map(Tag::as_str).collect();
        let span = tracing::info_span!(
            "publish",
            registry = %request.host(),
            repository = %request.repository(),
            tags = %tags.join(","),
            policy = %request.policy(),
            authenticated = request.auth().is_some_and(RegistryAuth::has_password),
        );
        self.publish_inner(container, request)
            .instrument(span)
            .await
    }

    async fn publish_inner(
        &self,
        container: &Container,
        request: &PublishRequest,
    ) -> Result<PublishReport, PublishError> {
        let chain = Chain::of(&container.selection)
            .await
            .map_err(PublishError::Engine)?;
        let prepared = self.prepare(request).await?;
        let queries = Queries::new(
            request,
            prepared.secret_id.as_deref(),
            &prepared.variant_ids,
        );
        let checked = if request.policy() == ExistingTagPolicy::Overwrite {
            BTreeMap::new()
        } else {
            lookup::check(&self.client, &queries, request).await?
        };

        let refs = request.image_refs();
        let mut done: BTreeMap<usize, PublishedTag> = BTreeMap::new();
        let mut to_push = Vec::new();
        for (i, tag) in request.tags().iter().enumerate() {
            match (checked.get(&i), request.policy()) {
                (Some(Checked::Present(digest)), ExistingTagPolicy::Fail) => {
                    return Err(PublishError::TagExists {
                        reference: refs[i].to_string(),
                        evidence: TagExistsEvidence::Checked {
                            digest: digest.to_string(),
                        },
                    });
                }
                (Some(Checked::Present(digest)), _) => {
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
                _ => to_push.push(i),
            }
        }

        let outcomes = if to_push.is_empty() {
            Vec::new()
        } else {
            push::push(&self.client, &queries, &chain, request, to_push).await?
        };
        report(request, done, outcomes)
    }

    /// The one request before the others, when anything needs it: the password's Secret ID
    /// (for a `dagger_sdk::Secret`; an ID is used as it is) and the platform variants' IDs.
    async fn prepare(&self, request: &PublishRequest) -> Result<Prepared, PublishError> {
        let mut prepared = Prepared::default();
        let mut fields = Vec::new();
        match request.auth().and_then(RegistryAuth::password) {
            Some(PasswordSecret::Id(id)) => prepared.secret_id = Some(id.0.clone()),
            Some(PasswordSecret::Secret(secret)) => {
                let chain = Chain::of(&secret.selection)
                    .await
                    .map_err(PublishError::Engine)?;
                fields.push(id_of(&chain, "secret"));
            }
            None => {}
        }
        let variants_from = fields.len();
        for (i, variant) in request.platform_variants().iter().enumerate() {
            let chain = Chain::of(&variant.selection)
                .await
                .map_err(PublishError::Engine)?;
            fields.push(id_of(&chain, &format!("variant{i}")));
        }
        if fields.is_empty() {
            return Ok(prepared);
        }
        let data = self
            .client
            .query(&gql::query(&fields))
            .await
            .map_err(|e| lookup::request_failed(e, request, None))?;
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
            prepared.secret_id = Some(id_at(&fields[0])?);
        }
        for field in &fields[variants_from..] {
            prepared.variant_ids.push(id_at(field)?);
        }
        Ok(prepared)
    }
}

/// The report of a publish, or the error naming exactly what is and is not in the registry.
fn report(
    request: &PublishRequest,
    mut done: BTreeMap<usize, PublishedTag>,
    outcomes: push::Outcomes,
) -> Result<PublishReport, PublishError> {
    let mut failed = Vec::new();
    let mut ordered = outcomes;
    ordered.sort_by_key(|(i, _)| *i);
    for (i, result) in ordered {
        match result {
            Ok(reference) => {
                done.insert(
                    i,
                    PublishedTag {
                        tag: request.tags()[i].clone(),
                        reference,
                        outcome: TagOutcome::Pushed,
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
    );
    if published.is_empty() && (failed.len() == 1 || (one_kind && !names_a_tag)) {
        // Nothing is in the registry and every tag failed for one reason that is not about
        // a tag (same container, registry and credentials): that reason, once.
        return Err(*failed.swap_remove(0).error);
    }
    Err(PublishError::Partial { published, failed })
}
