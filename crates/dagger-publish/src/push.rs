//! The pushes of one publish: every pending tag in one request, transient failures retried,
//! and, when a request failed part-way, the tags that made it learnt through the engine.
//!
//! The engine answers all or nothing (dagql): when one `publish` of a request fails, the
//! answer has one error per failing field and no data, so the digests of the tags that were
//! pushed are not in it. The tags an error names (a manifest refused names its tag's URL) failed;
//! when there are as many errors as tags, every tag failed; otherwise the others are looked up
//! through the engine (`lookup::read_back`) to learn which are in the registry and with which
//! digest. Nothing is pushed again to find out (a create-only account could not), and only the
//! tags known not to be in the registry are retried.

use std::collections::BTreeMap;

use dagger_engine::gql;
use dagger_engine::registry::{Digest, PublishedRef};
use dagger_engine::{EngineClient, GraphQLErrorEntry, QueryError};

use super::chain::Chain;
use super::error::PublishError;
use super::failure::{publish_error, Failure, Subject};
use super::lookup;
use super::queries::Queries;
use super::request::PublishRequest;

/// What happened to each tag pushed: its reference with the digest, or why it is not in the
/// registry.
pub(crate) type Outcomes = Vec<(usize, Result<PublishedRef, PublishError>)>;

/// Pushes `container` as the tags `pending` (indices into the request's tags).
pub(crate) async fn push(
    client: &EngineClient,
    queries: &Queries<'_>,
    container: &Chain,
    request: &PublishRequest,
    mut pending: Vec<usize>,
) -> Result<Outcomes, PublishError> {
    let refs = request.image_refs();
    let username = request
        .auth()
        .filter(|a| a.has_password())
        .and_then(|a| a.username());
    let mut outcomes = Vec::new();
    let mut attempt: u32 = 0;
    while !pending.is_empty() {
        attempt += 1;
        let fields: Vec<gql::Field> = pending
            .iter()
            .map(|&i| queries.push(container, i))
            .collect();
        let answer = client
            .execute(&gql::query(&fields))
            .await
            .map_err(PublishError::Engine)?;
        if answer.errors.is_empty() {
            let data = answer.data.unwrap_or(serde_json::Value::Null);
            for (&i, field) in pending.iter().zip(&fields) {
                outcomes.push((i, published(field.answer(&data), request, i)));
            }
            break;
        }
        // Every alias builds the same container: a failed build step failed them all, and
        // nothing was pushed.
        if let Some(exec) = answer.errors.iter().find_map(GraphQLErrorEntry::exec_error) {
            return Err(PublishError::BuildFailed { exec, step: None });
        }
        let mut failed: BTreeMap<usize, GraphQLErrorEntry> = BTreeMap::new();
        let mut unnamed = Vec::new();
        for entry in &answer.errors {
            match pending.iter().copied().find(|&i| {
                !failed.contains_key(&i) && super::failure::names(&entry.message, &refs[i])
            }) {
                Some(i) => {
                    failed.insert(i, entry.clone());
                }
                None => unnamed.push(entry.clone()),
            }
        }
        let unknown: Vec<usize> = pending
            .iter()
            .copied()
            .filter(|i| !failed.contains_key(i))
            .collect();
        let every_tag_failed = answer.errors.len() >= pending.len();
        if every_tag_failed && !unnamed.is_empty() {
            // One error per failing field: each tag no error names has one of the others
            // (they are alike: the same repository, credentials and blobs).
            for (k, &i) in unknown.iter().enumerate() {
                failed.insert(i, unnamed[k % unnamed.len()].clone());
            }
        } else if !unknown.is_empty() {
            let found = lookup::read_back(client, queries, &refs, &unknown).await;
            for (k, &i) in unknown.iter().enumerate() {
                match found.get(&i) {
                    Some(Ok(Some(digest))) => outcomes.push((
                        i,
                        Ok(PublishedRef {
                            image: refs[i].clone(),
                            digest: digest.clone(),
                        }),
                    )),
                    Some(Ok(None)) => match unnamed.get(k % unnamed.len().max(1)) {
                        Some(entry) => {
                            failed.insert(i, entry.clone());
                        }
                        None => outcomes.push((
                            i,
                            Err(PublishError::Engine(QueryError::MissingData {
                                what: format!(
                                    "error for {}, which is not in the registry although no error named it",
                                    refs[i]
                                ),
                            })),
                        )),
                    },
                    Some(Err(reason)) => outcomes.push((
                        i,
                        Err(PublishError::DigestUnknown {
                            reference: refs[i].to_string(),
                            reason: reason.clone(),
                        }),
                    )),
                    None => outcomes.push((
                        i,
                        Err(PublishError::DigestUnknown {
                            reference: refs[i].to_string(),
                            reason: "the lookup gave no answer for it".into(),
                        }),
                    )),
                }
            }
        }
        let mut retry = Vec::new();
        for (i, entry) in failed {
            let failure = Failure::of(&entry);
            if failure.is_transient() && attempt < request.retry().max_attempts {
                tracing::warn!(
                    tag = %refs[i].tag,
                    attempt,
                    max_attempts = request.retry().max_attempts,
                    error = %entry.message,
                    "transient registry failure; retrying"
                );
                retry.push(i);
            } else {
                let subject = Subject {
                    host: request.host(),
                    reference: refs[i].to_string(),
                    username,
                };
                outcomes.push((i, Err(publish_error(failure, &entry, &subject, attempt))));
            }
        }
        if !retry.is_empty() {
            tokio::time::sleep(request.retry().delay_before_retry(attempt, None)).await;
        }
        pending = retry;
    }
    Ok(outcomes)
}

/// The reference `publish` answered for tag `i`, with its digest.
fn published(
    value: Option<&serde_json::Value>,
    request: &PublishRequest,
    i: usize,
) -> Result<PublishedRef, PublishError> {
    let missing = |what: String| PublishError::Engine(QueryError::MissingData { what });
    let answered = value
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| missing(format!("published reference for tag {}", request.tags()[i])))?;
    let digest = answered
        .rsplit_once('@')
        .map(|(_, d)| d)
        .ok_or_else(|| missing(format!("digest in the published reference {answered:?}")))?;
    Ok(PublishedRef {
        image: request.image_refs()[i].clone(),
        digest: Digest::parse(digest)?,
    })
}
