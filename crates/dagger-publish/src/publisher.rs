//! Publishing one built container under several tags in one engine request.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use dagger_sdk::Container;
use secrecy::SecretString;
use tracing::Instrument;

use super::auth::{PasswordSecret, RegistryAuth};
use super::chain::Chain;
use super::error::{classify, from_check, FailedTag, PublishError, PushFailure, TagExistsEvidence};
use super::lookup::{RegistryApiLookup, TagLookup};
use super::retry::RetryPolicy;
use dagger_engine::registry::{Digest, ImageRef, PublishedRef, RegistryHost, RepositoryName, Tag};
use dagger_engine::{gql, EngineClient, GraphQLErrorEntry, QueryError};
use oci_registry_api::{RegistryApiError, RegistryCredentials};

/// What to do when a tag is already in the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExistingTagPolicy {
    /// Stop before pushing anything: "tag exists; bump the version". The default, for
    /// registries whose tags are immutable.
    #[default]
    Fail,
    /// Leave the existing tag alone and report its digest, so that a re-run of the same CI job
    /// succeeds instead of failing on a create-only account.
    Skip,
    /// Push anyway, without checking (the account must be allowed to update tags).
    Overwrite,
}

impl ExistingTagPolicy {
    /// Every policy, in the order they are documented (their names are their `Display`).
    pub const ALL: [Self; 3] = [Self::Fail, Self::Skip, Self::Overwrite];
}

impl FromStr for ExistingTagPolicy {
    type Err = PublishError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "fail" => Ok(Self::Fail),
            "skip" => Ok(Self::Skip),
            "overwrite" => Ok(Self::Overwrite),
            other => Err(PublishError::InvalidRequest(format!(
                "existing-tag policy must be one of fail, skip, overwrite; got {other:?}"
            ))),
        }
    }
}

impl fmt::Display for ExistingTagPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Fail => "fail",
            Self::Skip => "skip",
            Self::Overwrite => "overwrite",
        })
    }
}

/// Where and how to publish: registry, repository, tags, credentials, policy, platforms, retries.
///
/// ```
/// use dagger_publish::{ExistingTagPolicy, PublishRequest, RegistryAuth};
/// use dagger_engine::registry::{repository, Tag};
///
/// let request = PublishRequest::new(
///     "registry.example.org",
///     repository("team", "app").unwrap(),
///     [Tag::parse("v0.61.1-c86b5d7").unwrap(), Tag::parse("v0.61.1").unwrap()],
/// )
/// .unwrap()
/// .with_auth(RegistryAuth::new("registry.example.org", "ci-bot").unwrap())
/// .unwrap()
/// .with_policy(ExistingTagPolicy::Skip);
/// let refs: Vec<String> = request.image_refs().iter().map(|r| r.to_string()).collect();
/// assert_eq!(refs[0], "registry.example.org/team/app:v0.61.1-c86b5d7");
/// ```
#[derive(Clone)]
pub struct PublishRequest {
    host: RegistryHost,
    repository: RepositoryName,
    tags: Vec<Tag>,
    auth: Option<RegistryAuth>,
    policy: ExistingTagPolicy,
    platform_variants: Vec<Container>,
    retry: RetryPolicy,
}

impl fmt::Debug for PublishRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublishRequest")
            .field("host", &self.host.as_str())
            .field("repository", &self.repository.as_str())
            .field(
                "tags",
                &self.tags.iter().map(Tag::as_str).collect::<Vec<_>>(),
            )
            .field("auth", &self.auth)
            .field("policy", &self.policy)
            .field("platform_variants", &self.platform_variants.len())
            .field("retry", &self.retry)
            .finish()
    }
}

impl PublishRequest {
    /// A request to publish `tags` of `repository` on the registry named by `registry` (its
    /// address is normalised with the engine's rules). At least one tag; no tag twice.
    pub fn new(
        registry: &str,
        repository: RepositoryName,
        tags: impl IntoIterator<Item = Tag>,
    ) -> Result<Self, PublishError> {
        let host = RegistryHost::parse(registry)?;
        let tags: Vec<Tag> = tags.into_iter().collect();
        if tags.is_empty() {
            return Err(PublishError::InvalidRequest(
                "at least one tag is needed".into(),
            ));
        }
        for (i, tag) in tags.iter().enumerate() {
            if tags[..i].contains(tag) {
                return Err(PublishError::InvalidRequest(format!(
                    "tag {tag} is given twice; each tag is published once"
                )));
            }
        }
        Ok(Self {
            host,
            repository,
            tags,
            auth: None,
            policy: ExistingTagPolicy::default(),
            platform_variants: Vec::new(),
            retry: RetryPolicy::default(),
        })
    }

    /// Uses `auth` for the push. Its host must be the registry's host (the engine keys
    /// credentials by host, so credentials for another host would silently not apply).
    pub fn with_auth(mut self, auth: RegistryAuth) -> Result<Self, PublishError> {
        if auth.host() != &self.host {
            return Err(PublishError::InvalidRequest(format!(
                "the credentials are for registry {} but the push goes to {}; credentials apply per host",
                auth.host(),
                self.host
            )));
        }
        self.auth = Some(auth);
        Ok(self)
    }

    /// Sets the existing-tag policy.
    pub fn with_policy(mut self, policy: ExistingTagPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Publishes a multi-platform image: the container plus these variants (one per platform).
    pub fn with_platform_variants(mut self, variants: Vec<Container>) -> Self {
        self.platform_variants = variants;
        self
    }

    /// Sets the retry policy for transient registry failures.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The registry host.
    pub fn host(&self) -> &RegistryHost {
        &self.host
    }

    /// The repository.
    pub fn repository(&self) -> &RepositoryName {
        &self.repository
    }

    /// The tags, in the order given.
    pub fn tags(&self) -> &[Tag] {
        &self.tags
    }

    /// The credentials, if any.
    pub fn auth(&self) -> Option<&RegistryAuth> {
        self.auth.as_ref()
    }

    /// The existing-tag policy.
    pub fn policy(&self) -> ExistingTagPolicy {
        self.policy
    }

    /// The full references, one per tag.
    pub fn image_refs(&self) -> Vec<ImageRef> {
        self.tags
            .iter()
            .map(|t| ImageRef::new(self.host.clone(), self.repository.clone(), t.clone()))
            .collect()
    }
}

/// What happened to one tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagOutcome {
    /// Pushed by this publish.
    Pushed,
    /// Already there and left alone (policy [`ExistingTagPolicy::Skip`]).
    AlreadyPresent,
}

/// One tag in the registry, with its digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedTag {
    /// The tag.
    pub tag: Tag,
    /// `host/repository:tag@sha256:...`.
    pub reference: PublishedRef,
    /// Pushed now, or found already there.
    pub outcome: TagOutcome,
}

/// The result of a successful publish: every tag with its digest, in the order requested.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishReport {
    /// One entry per requested tag.
    pub tags: Vec<PublishedTag>,
}

impl PublishReport {
    /// The first requested tag's reference (the one a CI job prints).
    pub fn primary(&self) -> &PublishedRef {
        &self.tags[0].reference
    }
}

/// Publishes containers through an engine. Cheap to clone.
///
/// Engine round trips for one call, whatever the number of tags: one request for all the
/// pushes; one more before it when the existing-tag check runs or platform variants are given
/// (it fetches the container's ID, the variants' IDs and, for the check, the password); one more
/// only when the password is a `dagger_sdk::Secret` object rather than an ID and no such request
/// runs; retries add one per retry.
#[derive(Clone)]
pub struct Publisher {
    client: EngineClient,
    lookup: Arc<dyn TagLookup>,
}

impl fmt::Debug for Publisher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Publisher").finish_non_exhaustive()
    }
}

/// How a tag stands after the existing-tag check.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Checked {
    Absent,
    Present(Digest),
    Unknown,
}

impl Publisher {
    /// A publisher on `client`, checking existing tags through the registry's HTTP API.
    pub fn new(client: EngineClient) -> Self {
        Self {
            client,
            lookup: Arc::new(RegistryApiLookup),
        }
    }

    /// Replaces how existing tags are looked up (the mock engine provides one for tests).
    pub fn with_tag_lookup(mut self, lookup: Arc<dyn TagLookup>) -> Self {
        self.lookup = lookup;
        self
    }

    /// Publishes `container` as every tag of `request`.
    ///
    /// The container is built once by the engine (all tags publish the same call chain) and the
    /// pushes go out in one request. Transient failures are retried per [`RetryPolicy`]; when
    /// some tags end up published and others not, the error is [`PublishError::Partial`], naming
    /// each.
    pub async fn publish(
        &self,
        container: &Container,
        request: &PublishRequest,
    ) -> Result<PublishReport, PublishError> {
        let tags: Vec<&str> = request.tags.iter().map(Tag::as_str).collect();
        let span = tracing::info_span!(
            "publish",
            registry = %request.host,
            repository = %request.repository,
            tags = %tags.join(","),
            policy = %request.policy,
            authenticated = request.auth.as_ref().is_some_and(RegistryAuth::has_password),
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
        let check = request.policy != ExistingTagPolicy::Overwrite;
        let password = request.auth.as_ref().and_then(RegistryAuth::password);
        let prepared = self.prepare(&chain, request, check, password).await?;

        let mut checked: HashMap<Tag, Checked> = HashMap::new();
        if check {
            checked = self
                .check_tags(request, prepared.plaintext.as_ref())
                .await?;
        }

        let mut done: BTreeMap<usize, PublishedTag> = BTreeMap::new();
        let mut to_push = Vec::new();
        for (i, tag) in request.tags.iter().enumerate() {
            match (checked.get(tag), request.policy) {
                (Some(Checked::Present(digest)), ExistingTagPolicy::Fail) => {
                    return Err(PublishError::TagExists {
                        reference: request.image_refs()[i].to_string(),
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
                                image: request.image_refs()[i].clone(),
                                digest: digest.clone(),
                            },
                            outcome: TagOutcome::AlreadyPresent,
                        },
                    );
                }
                _ => to_push.push(i),
            }
        }

        let target = match &prepared.container_id {
            Some(id) => PushTarget::Node(id.clone()),
            None => PushTarget::Chain(chain),
        };
        let outcome = self
            .push_with_retries(request, target, &prepared, &checked, to_push)
            .await?;
        let mut failed = Vec::new();
        for (i, result) in outcome {
            match result {
                Ok(reference) => {
                    done.insert(
                        i,
                        PublishedTag {
                            tag: request.tags[i].clone(),
                            reference,
                            outcome: TagOutcome::Pushed,
                        },
                    );
                }
                Err(error) => failed.push(FailedTag {
                    tag: request.tags[i].to_string(),
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
        let one_kind = failed.iter().all(|f| {
            std::mem::discriminant(&*f.error) == std::mem::discriminant(&*failed[0].error)
        });
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

    /// The one request before the pushes, when anything needs it: the container's and the
    /// variants' IDs, the secret's ID, and for the check the password's plaintext.
    async fn prepare(
        &self,
        chain: &Chain,
        request: &PublishRequest,
        check: bool,
        password: Option<&PasswordSecret>,
    ) -> Result<Prepared, PublishError> {
        let mut fields = Vec::new();
        let need_node = check || !request.platform_variants.is_empty();
        if need_node {
            fields.push(chain.render("container", "id"));
        }
        for (i, variant) in request.platform_variants.iter().enumerate() {
            let vchain = Chain::of(&variant.selection)
                .await
                .map_err(PublishError::Engine)?;
            fields.push(vchain.render(&format!("variant{i}"), "id"));
        }
        let mut secret_id = None;
        match password {
            Some(PasswordSecret::Id(id)) => {
                secret_id = Some(id.0.clone());
                if check {
                    fields.push(format!(
                        "password:node(id:{}){{... on Secret{{plaintext}}}}",
                        gql::string(&id.0)
                    ));
                }
            }
            Some(PasswordSecret::Secret(secret)) => {
                let schain = Chain::of(&secret.selection)
                    .await
                    .map_err(PublishError::Engine)?;
                fields.push(schain.render("secret", "id"));
                if check {
                    fields.push(schain.render("password", "plaintext"));
                }
            }
            None => {}
        }
        let mut prepared = Prepared {
            secret_id,
            ..Prepared::default()
        };
        if fields.is_empty() {
            return Ok(prepared);
        }
        let data = self
            .client
            .query(&format!("query{{{}}}", fields.join(" ")))
            .await
            .map_err(|e| self.engine_or_build_error(e))?;
        let string_at = |key: &str| -> Result<String, PublishError> {
            // A spliced chain answers nested objects down to its leaf:
            // {"container":{"from":{"withExec":{"id":"..."}}}}.
            data.get(key).and_then(leaf_string).ok_or_else(|| {
                PublishError::Engine(QueryError::MissingData {
                    what: format!("{key} in the answer"),
                })
            })
        };
        if need_node {
            prepared.container_id = Some(string_at("container")?);
        }
        for i in 0..request.platform_variants.len() {
            prepared
                .variant_ids
                .push(string_at(&format!("variant{i}"))?);
        }
        if matches!(password, Some(PasswordSecret::Secret(_))) {
            prepared.secret_id = Some(string_at("secret")?);
        }
        if check && password.is_some() {
            prepared.plaintext = Some(SecretString::from(string_at("password")?));
        }
        Ok(prepared)
    }

    async fn check_tags(
        &self,
        request: &PublishRequest,
        plaintext: Option<&SecretString>,
    ) -> Result<HashMap<Tag, Checked>, PublishError> {
        let credentials = match (&request.auth, plaintext) {
            (Some(auth), Some(password)) => Some(RegistryCredentials {
                username: auth.username().to_string(),
                password: password.clone(),
            }),
            _ => None,
        };
        let lookups = request.tags.iter().map(|tag| {
            let credentials = credentials.as_ref();
            async move {
                let found = self.lookup_with_retries(request, credentials, tag).await;
                (tag.clone(), found)
            }
        });
        let mut checked = HashMap::new();
        for (tag, found) in futures::future::join_all(lookups).await {
            let state = match found {
                Ok(Some(digest)) => Checked::Present(digest),
                Ok(None) => Checked::Absent,
                Err(err) => {
                    if let Some(stop) = from_check(&err) {
                        return Err(stop);
                    }
                    tracing::warn!(
                        tag = %tag,
                        error = %err,
                        "could not check whether the tag exists; the push decides"
                    );
                    Checked::Unknown
                }
            };
            checked.insert(tag, state);
        }
        Ok(checked)
    }

    /// One tag's existing-tag check, retrying an overloaded registry (5xx, 429) per the
    /// request's [`RetryPolicy`], waiting at least what a 429's `Retry-After` asks (within
    /// `max_delay`). An unreachable registry is not retried here: the push decides.
    async fn lookup_with_retries(
        &self,
        request: &PublishRequest,
        credentials: Option<&RegistryCredentials>,
        tag: &Tag,
    ) -> Result<Option<Digest>, RegistryApiError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let found = self
                .lookup
                .manifest_digest(&request.host, credentials, &request.repository, tag)
                .await;
            let retry_after = match &found {
                Err(RegistryApiError::TooManyRequests { retry_after, .. }) => *retry_after,
                Err(RegistryApiError::Server { .. }) => None,
                _ => return found,
            };
            if attempt >= request.retry.max_attempts {
                return found;
            }
            let delay = request.retry.delay_before_retry(attempt, retry_after);
            if let Err(err) = &found {
                tracing::warn!(
                    tag = %tag,
                    attempt,
                    delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                    error = %err,
                    "registry overloaded during the existing-tag check; retrying"
                );
            }
            tokio::time::sleep(delay).await;
        }
    }

    async fn push_with_retries(
        &self,
        request: &PublishRequest,
        target: PushTarget,
        prepared: &Prepared,
        checked: &HashMap<Tag, Checked>,
        mut pending: Vec<usize>,
    ) -> Result<Vec<(usize, Result<PublishedRef, PublishError>)>, PublishError> {
        let mut results = Vec::new();
        let mut attempt: u32 = 0;
        while !pending.is_empty() {
            attempt += 1;
            let answer = self
                .client
                .execute(&self.push_query(request, &target, prepared, &pending))
                .await
                .map_err(PublishError::Engine)?;
            let data = answer.data.unwrap_or(serde_json::Value::Null);
            let mut transient = Vec::new();
            let mut unanswered = Vec::new();
            for &i in &pending {
                let alias = format!("tag{i}");
                let errors: Vec<&GraphQLErrorEntry> = answer
                    .errors
                    .iter()
                    .filter(|e| e.root_field() == Some(alias.as_str()))
                    .collect();
                let value = data.get(&alias).and_then(leaf_string);
                match (value, errors.first()) {
                    (Some(answered), _) => {
                        results.push((i, parse_published(&answered, request, i)));
                    }
                    (None, Some(err)) => {
                        let failure = classify(err);
                        if failure.is_transient() && attempt < request.retry.max_attempts {
                            tracing::warn!(
                                tag = %request.tags[i],
                                attempt,
                                max_attempts = request.retry.max_attempts,
                                error = %err.message,
                                "transient registry failure; retrying"
                            );
                            transient.push(i);
                        } else {
                            results.push((
                                i,
                                Err(self.push_error(request, i, failure, err, attempt, checked)),
                            ));
                        }
                    }
                    (None, None) => unanswered.push(i),
                }
            }
            if unanswered.len() == pending.len() && !answer.errors.is_empty() {
                // No alias answered and no error names one (an error without a path, such as
                // a closed session): the request failed as a whole. Pushing again would end in
                // "no answer" and hide the engine's own message.
                return Err(self.engine_or_build_error(QueryError::GraphQL(answer.errors)));
            }
            if !unanswered.is_empty() {
                if answer.errors.is_empty() {
                    return Err(PublishError::Engine(QueryError::MissingData {
                        what: "published reference for every tag".into(),
                    }));
                }
                // Another alias failed and, with no nullable field between it and the root, its
                // null erased every answer (GraphQL null propagation; only the chain form, used
                // without the check, gets here). No error names these tags, so the engine pushed
                // them: their digests are read back from the registry, never by pushing again
                // (a create-only account could not).
                let found = self.read_back(request, prepared, &unanswered).await;
                results.extend(unanswered.iter().copied().zip(found));
            }
            if !transient.is_empty() {
                let delay = request.retry.delay_before_retry(attempt, None);
                tokio::time::sleep(delay).await;
            }
            pending = transient;
        }
        Ok(results)
    }

    /// The digests of tags the engine pushed without answering for them, read from the
    /// registry (the password's plaintext is read for this, only on this failure path).
    async fn read_back(
        &self,
        request: &PublishRequest,
        prepared: &Prepared,
        tags: &[usize],
    ) -> Vec<Result<PublishedRef, PublishError>> {
        let refs = request.image_refs();
        let unknown = |i: usize, reason: String| PublishError::DigestUnknown {
            reference: refs[i].to_string(),
            reason,
        };
        let credentials =
            match (&request.auth, &prepared.secret_id) {
                (Some(auth), Some(secret_id)) => {
                    let query = format!(
                        "query{{password:node(id:{}){{... on Secret{{plaintext}}}}}}",
                        gql::string(secret_id)
                    );
                    match self.client.query(&query).await {
                        Ok(data) => data.get("password").and_then(leaf_string).map(|pw| {
                            RegistryCredentials {
                                username: auth.username().to_string(),
                                password: SecretString::from(pw),
                            }
                        }),
                        Err(e) => {
                            return tags
                                .iter()
                                .map(|&i| {
                                    Err(unknown(i, format!("the password could not be read: {e}")))
                                })
                                .collect()
                        }
                    }
                }
                _ => None,
            };
        let (refs, unknown) = (&refs, &unknown);
        let lookups = tags.iter().map(|&i| {
            let credentials = credentials.as_ref();
            async move {
                match self
                    .lookup
                    .manifest_digest(
                        &request.host,
                        credentials,
                        &request.repository,
                        &request.tags[i],
                    )
                    .await
                {
                    Ok(Some(digest)) => Ok(PublishedRef {
                        image: refs[i].clone(),
                        digest,
                    }),
                    Ok(None) => Err(unknown(i, "the registry does not list the tag".into())),
                    Err(e) => Err(unknown(i, e.to_string())),
                }
            }
        });
        futures::future::join_all(lookups).await
    }

    fn push_query(
        &self,
        request: &PublishRequest,
        target: &PushTarget,
        prepared: &Prepared,
        pending: &[usize],
    ) -> String {
        let refs = request.image_refs();
        let fields: Vec<String> = pending
            .iter()
            .map(|&i| {
                let mut publish = format!("publish(address:{}", gql::string(&refs[i].to_string()));
                if !prepared.variant_ids.is_empty() {
                    publish.push_str(&format!(
                        ",platformVariants:{}",
                        gql::string_list(&prepared.variant_ids)
                    ));
                }
                publish.push(')');
                let leaf = match (&request.auth, &prepared.secret_id) {
                    (Some(auth), Some(secret_id)) => format!(
                        "withRegistryAuth(address:{},username:{},secret:{}){{{publish}}}",
                        gql::string(auth.host().as_str()),
                        gql::string(auth.username()),
                        gql::string(secret_id),
                    ),
                    _ => publish,
                };
                let alias = format!("tag{i}");
                match target {
                    PushTarget::Chain(chain) => chain.render(&alias, &leaf),
                    PushTarget::Node(id) => format!(
                        "{alias}:node(id:{}){{... on Container{{{leaf}}}}}",
                        gql::string(id)
                    ),
                }
            })
            .collect();
        format!("query{{{}}}", fields.join(" "))
    }

    fn push_error(
        &self,
        request: &PublishRequest,
        i: usize,
        failure: PushFailure,
        err: &GraphQLErrorEntry,
        attempts: u32,
        checked: &HashMap<Tag, Checked>,
    ) -> PublishError {
        let host = request.host.to_string();
        let reference = request.image_refs()[i].to_string();
        let username = request
            .auth
            .as_ref()
            .filter(|a| a.has_password())
            .map(|a| a.username().to_string());
        let transient = failure.is_transient();
        match failure {
            PushFailure::Exec(exec) => PublishError::BuildFailed { exec, step: None },
            _ if transient => PublishError::RetriesExhausted {
                host,
                attempts,
                last: err.message.clone(),
            },
            PushFailure::Status { status: 401, .. } => {
                PublishError::CredentialsRejected { host, username }
            }
            PushFailure::Status { status: 403, codes }
                if checked.get(&request.tags[i]) == Some(&Checked::Absent) =>
            {
                PublishError::PermissionDenied {
                    host,
                    reference,
                    username,
                    codes,
                }
            }
            PushFailure::Status { status: 403, .. } => PublishError::TagExists {
                reference,
                evidence: TagExistsEvidence::RefusedAsExisting,
            },
            PushFailure::Status { status, codes } => PublishError::RegistryRefused {
                host,
                reference,
                status,
                codes,
                message: err.message.clone(),
            },
            PushFailure::Unreachable => PublishError::RegistryUnreachable {
                host,
                detail: err.message.clone(),
            },
            PushFailure::Dropped | PushFailure::Other => {
                PublishError::Engine(QueryError::GraphQL(vec![err.clone()]))
            }
        }
    }

    fn engine_or_build_error(&self, err: QueryError) -> PublishError {
        match err.exec_error() {
            Some(exec) => PublishError::BuildFailed { exec, step: None },
            None => PublishError::Engine(err),
        }
    }
}

#[derive(Default)]
struct Prepared {
    container_id: Option<String>,
    variant_ids: Vec<String>,
    secret_id: Option<String>,
    plaintext: Option<SecretString>,
}

enum PushTarget {
    /// The container's chain spliced into each alias (no ID round trip).
    Chain(Chain),
    /// The container by ID through the nullable `node(id:)`, isolating each alias's failure.
    Node(String),
}

/// The string at the end of a chain's answer: each level of a spliced chain is an object with
/// exactly one field, down to the leaf.
fn leaf_string(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Object(map) if map.len() == 1 => {
            map.values().next().and_then(leaf_string)
        }
        _ => None,
    }
}

fn parse_published(
    answered: &str,
    request: &PublishRequest,
    i: usize,
) -> Result<PublishedRef, PublishError> {
    let digest = answered.rsplit_once('@').map(|(_, d)| d).ok_or_else(|| {
        PublishError::Engine(QueryError::MissingData {
            what: format!("digest in the published reference {answered:?}"),
        })
    })?;
    Ok(PublishedRef {
        image: request.image_refs()[i].clone(),
        digest: Digest::parse(digest)?,
    })
}
