//! What to publish (the request) and what was published (the report).

use std::fmt;
use std::str::FromStr;

use dagger_sdk::Container;

use super::auth::RegistryAuth;
use super::error::PublishError;
use super::retry::RetryPolicy;
use dagger_engine::registry::{ImageRef, PublishedRef, RegistryHost, RepositoryName, Tag};

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
    /// address is normalised with the engine's rules, and must name a host and port only:
    /// [`RegistryHost::parse_host_only`]; a path such as `ghcr.io/myorg` is refused, not
    /// dropped). At least one tag; no tag twice.
    pub fn new(
        registry: &str,
        repository: RepositoryName,
        tags: impl IntoIterator<Item = Tag>,
    ) -> Result<Self, PublishError> {
        let host = RegistryHost::parse_host_only(registry)?;
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

    /// The other platforms' containers of a multi-platform image.
    pub fn platform_variants(&self) -> &[Container] {
        &self.platform_variants
    }

    /// The retry policy.
    pub fn retry(&self) -> &RetryPolicy {
        &self.retry
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
