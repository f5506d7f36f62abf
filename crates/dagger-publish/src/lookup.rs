//! Whether tags are in the registry, and with which digest, learnt through the engine: the
//! existing-tag check before a push, and the read-back after a push that failed part-way.
//!
//! # Through the engine, with the session's credential
//! A lookup is `container.withRegistryAuth(...).from(address: "<ref>").imageRef`: the engine
//! stores the credential in the session when `withRegistryAuth` is evaluated and uses it for
//! pulls as for pushes (upstream `engine/server/session.go`, `auth/registry.go`), so it is
//! chained before `from` in the same chain. `imageRef` answers the reference with the digest
//! the tag points at. The password stays in the engine: this process never reads its plaintext
//! and opens no connection to the registry; what the engine can reach, the check can.
//!
//! # Reading the engine's answers
//! - Only a message naming the reference as not found (`<ref>: not found`) means the tag is
//!   absent; an image without the engine's platform means it is present (the digest is in the
//!   message). Any other failure is the lookup's own (401, 403, 5xx, unreachable).
//! - The engine answers all or nothing (dagql): when one lookup fails, the answer carries only
//!   the errors, and the lookups that succeeded are not reported. So each error is tied to its
//!   tag by the reference its message names, never by its path (which holds field names, not
//!   aliases), and the tags no error names are asked again in a second request, which then
//!   succeeds. When every tag is absent, the common case, one request settles them all.
//! - The engine resolves a tag once per session (upstream `core/schema/container.go`,
//!   `fromSessionScopeInput`): a lookup after a push may answer the digest from before the
//!   push. The digests of pushed tags are therefore taken from `publish`'s own answer; a
//!   read-back only runs for tags whose answers a failure discarded, and a tag the check found
//!   absent was not resolved (a failed resolution is not kept), so its read-back is fresh. With
//!   [`super::ExistingTagPolicy::Overwrite`] no check runs; a tag that existed before and whose
//!   push failed without its message naming it (a blob refused) reads back with the digest it
//!   has, which may be the old one.
//!
//! The check is racy: another job may create the tag between the check and the push. On a
//! create-only registry that push is then refused with 403 on the manifest, reported as
//! [`super::PublishError::TagExists`] like a tag found by the check.

use std::collections::BTreeMap;

use dagger_engine::gql;
use dagger_engine::registry::{Digest, ImageRef};
use dagger_engine::{EngineClient, GraphQLErrorEntry, QueryError};

use super::error::PublishError;
use super::failure::{self, publish_error, Failure, Resolution, Subject};
use super::queries::Queries;
use super::request::PublishRequest;

/// What a lookup learnt about one tag.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Found {
    /// The registry does not have the tag.
    Absent,
    /// The tag points at this digest.
    Present(Digest),
    /// The lookup failed.
    Failed {
        failure: Failure,
        entry: GraphQLErrorEntry,
    },
}

/// Looks up tags `tags` (indices into the request's tags). An error no reference explains
/// (the credential's secret cannot be read, the session is gone) fails the whole lookup.
pub(crate) async fn look_up(
    client: &EngineClient,
    queries: &Queries<'_>,
    refs: &[ImageRef],
    tags: &[usize],
) -> Result<BTreeMap<usize, Found>, QueryError> {
    let mut found = BTreeMap::new();
    let mut pending = tags.to_vec();
    // Each round settles at least one tag: every error names one, or the round fails.
    while !pending.is_empty() {
        let fields: Vec<gql::Field> = pending.iter().map(|&i| queries.lookup(i)).collect();
        let answer = client.execute(&gql::query(&fields)).await?;
        if answer.errors.is_empty() {
            let data = answer.data.unwrap_or(serde_json::Value::Null);
            for (&i, field) in pending.iter().zip(&fields) {
                found.insert(i, Found::Present(digest_of(field.answer(&data), &refs[i])?));
            }
            break;
        }
        let mut unexplained = Vec::new();
        for entry in answer.errors {
            match pending
                .iter()
                .copied()
                .find(|&i| failure::names(&entry.message, &refs[i]))
            {
                Some(i) => {
                    let state = match failure::resolution(&entry, &refs[i]) {
                        Resolution::Absent => Found::Absent,
                        Resolution::Present(digest) => Found::Present(digest),
                        Resolution::Failed(failure) => Found::Failed { failure, entry },
                    };
                    found.insert(i, state);
                }
                None => unexplained.push(entry),
            }
        }
        if !unexplained.is_empty() {
            return Err(QueryError::GraphQL(unexplained));
        }
        // The tags no error named answered, but dagql dropped their answers: ask them again.
        pending.retain(|i| !found.contains_key(i));
    }
    Ok(found)
}

/// The digest in an `imageRef` answer (`<name>:<tag>@sha256:...`).
fn digest_of(
    value: Option<&serde_json::Value>,
    reference: &ImageRef,
) -> Result<Digest, QueryError> {
    let missing = || QueryError::MissingData {
        what: format!("image reference with a digest for {reference}"),
    };
    let text = value
        .and_then(serde_json::Value::as_str)
        .ok_or_else(missing)?;
    let (_, digest) = text.rsplit_once('@').ok_or_else(missing)?;
    Digest::parse(digest).map_err(|_| missing())
}

/// How a tag stands after the existing-tag check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Checked {
    /// Not in the registry.
    Absent,
    /// In the registry, pointing at this digest.
    Present(Digest),
}

/// The existing-tag check of every tag of `request`, retrying an overloaded registry (5xx,
/// 429, a dropped connection) per the request's retry policy.
///
/// It fails closed: the policies that run it (`fail`, `skip`) promise not to overwrite a tag,
/// and only an answer can keep that promise. Rejected credentials and a denied read stop the
/// publish with their own errors; a check that cannot answer (an unreachable registry, a
/// timeout, retries exhausted, an anonymous read refused, anything unexpected) stops it with
/// [`PublishError::CheckFailed`]. Pushing anyway would replace the tag on any registry that
/// allows overwrites.
pub(crate) async fn check(
    client: &EngineClient,
    queries: &Queries<'_>,
    request: &PublishRequest,
) -> Result<BTreeMap<usize, Checked>, PublishError> {
    let refs = request.image_refs();
    let username = request
        .auth()
        .filter(|a| a.has_password())
        .and_then(|a| a.username());
    let mut checked = BTreeMap::new();
    let mut pending: Vec<usize> = (0..refs.len()).collect();
    let mut attempt: u32 = 0;
    while !pending.is_empty() {
        attempt += 1;
        let found = look_up(client, queries, &refs, &pending)
            .await
            .map_err(|e| request_failed(e, request, username))?;
        let mut retry = Vec::new();
        for (i, state) in found {
            let state = match state {
                Found::Absent => Checked::Absent,
                Found::Present(digest) => Checked::Present(digest),
                Found::Failed { failure, entry } => {
                    let stops = match &failure {
                        Failure::Status { status: 401, .. } => username.is_some(),
                        Failure::Status { status: 403, .. } => true,
                        _ => false,
                    };
                    if stops {
                        let subject = Subject {
                            host: request.host(),
                            reference: refs[i].to_string(),
                            username,
                        };
                        return Err(publish_error(failure, &entry, &subject, attempt));
                    }
                    if failure.is_transient() && attempt < request.retry().max_attempts {
                        tracing::warn!(
                            tag = %refs[i].tag,
                            attempt,
                            error = %entry.message,
                            "registry overloaded during the existing-tag check; retrying"
                        );
                        retry.push(i);
                        continue;
                    }
                    return Err(PublishError::CheckFailed {
                        host: request.host().to_string(),
                        reference: refs[i].to_string(),
                        policy: request.policy(),
                        attempts: attempt,
                        transient: failure.is_transient(),
                        detail: entry.message,
                    });
                }
            };
            checked.insert(i, state);
        }
        if !retry.is_empty() {
            tokio::time::sleep(request.retry().delay_before_retry(attempt, None)).await;
        }
        pending = retry;
    }
    Ok(checked)
}

/// After a push request failed part-way, whether each of `tags` is in the registry and with
/// which digest (`Err` with the reason when the engine could not say). Nothing is pushed again.
pub(crate) async fn read_back(
    client: &EngineClient,
    queries: &Queries<'_>,
    refs: &[ImageRef],
    tags: &[usize],
) -> BTreeMap<usize, Result<Option<Digest>, String>> {
    match look_up(client, queries, refs, tags).await {
        Ok(found) => found
            .into_iter()
            .map(|(i, state)| {
                let state = match state {
                    Found::Absent => Ok(None),
                    Found::Present(digest) => Ok(Some(digest)),
                    Found::Failed { entry, .. } => Err(entry.message),
                };
                (i, state)
            })
            .collect(),
        Err(e) => tags.iter().map(|&i| (i, Err(e.to_string()))).collect(),
    }
}

/// A request of the publish that failed with errors naming no tag: the same failure for every
/// tag (a build step, the credential's secret, the session), read as a push failure would be.
pub(crate) fn request_failed(
    err: QueryError,
    request: &PublishRequest,
    username: Option<&str>,
) -> PublishError {
    let Some(entry) = err.graphql_errors().first().cloned() else {
        return PublishError::Engine(err);
    };
    let failure = Failure::of(&entry);
    match failure {
        Failure::Exec(exec) => PublishError::BuildFailed { exec, step: None },
        Failure::Status { .. } | Failure::Unreachable => {
            let subject = Subject {
                host: request.host(),
                reference: request.image_refs()[0].to_string(),
                username,
            };
            publish_error(failure, &entry, &subject, 1)
        }
        Failure::Dropped | Failure::Other => PublishError::Engine(err),
    }
}
