//! Publish failures: the typed errors callers match on, each with a message that says what to
//! do next (how the engine's messages are read into them: `failure.rs`).

use std::fmt;
use std::sync::Arc;

use dagger_engine::registry::{AddressError, ReferenceError};
use dagger_engine::{ExecError, QueryError};

/// Why a publish failed. Every message names what to do next, and none carries a secret.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PublishError {
    /// The registry address is one the engine would refuse.
    #[error(transparent)]
    Address(#[from] AddressError),
    /// A repository name, tag, version or commit SHA breaks the OCI grammar.
    #[error(transparent)]
    Reference(#[from] ReferenceError),
    /// The registry user name breaks a rule ([`crate::Username`]).
    #[error("registry user name is not valid: {rule}")]
    InvalidUsername {
        /// The rule it broke.
        rule: &'static str,
    },
    /// The request itself is inconsistent (for example no tags at all).
    #[error("invalid publish request: {0}")]
    InvalidRequest(String),
    /// A tag that must not be overwritten already exists.
    #[error("{}", tag_exists_message(.reference, .evidence))]
    TagExists {
        /// `host/repository:tag`.
        reference: String,
        /// How the library knows.
        evidence: TagExistsEvidence,
    },
    /// The existing-tag check could not tell whether a tag exists (the registry unreachable,
    /// a timeout, retries exhausted, an anonymous read refused), so nothing was pushed: the
    /// policies that check (`fail`, `skip`) never overwrite a tag, and only an answer can keep
    /// that promise.
    #[error("{}", check_failed_message(.host, .reference, *.policy, *.attempts, .detail))]
    CheckFailed {
        /// The registry host.
        host: String,
        /// `host/repository:tag`, the tag whose check failed.
        reference: String,
        /// The policy that needed the answer.
        policy: crate::ExistingTagPolicy,
        /// Attempts made.
        attempts: u32,
        /// Whether the last failure was one a retry may cure (5xx, 429, a dropped connection).
        transient: bool,
        /// What the engine reported.
        detail: String,
    },
    /// Two existing tags under the `skip` policy point at different images: the tags of one
    /// publish always end on one image, and neither may move, so nothing is pushed.
    #[error("nothing was pushed: {first} and {second} both exist under the skip policy but point at different images, and the tags of one publish must end on one image; publish a new version, or move one of them knowingly with the overwrite policy")]
    TagsOnDifferentImages {
        /// One tag, with its digest (`host/repository:tag@sha256:...`).
        first: String,
        /// The other, with its digest.
        second: String,
    },
    /// A tag pointed at an existing image (a `skip` tag existed) was pushed, but the engine
    /// answered another digest: it wrote the image anew, so the tag is on a copy, not on the
    /// image the other tags are on.
    #[error("{reference} was pushed to point at the existing image {expected}, but the engine answered another digest (it wrote the image anew); the tags are not on one image: check the registry, and point this tag at {expected} with a registry tool")]
    RetagChangedDigest {
        /// `host/repository:tag@sha256:...` as the engine answered.
        reference: String,
        /// The digest the tag was meant to point at.
        expected: String,
    },
    /// The registry refused the credentials (HTTP 401).
    #[error("{}", credentials_message(.host, .username.as_deref()))]
    CredentialsRejected {
        /// The registry host.
        host: String,
        /// The user name sent, `None` for an anonymous push.
        username: Option<String>,
    },
    /// The registry denied a request of the push or of the existing-tag check (HTTP 403) other
    /// than storing the tag's manifest: the account lacks a permission.
    #[error("{}", denied_message(.host, .reference, .username.as_deref(), .codes, *.action))]
    PermissionDenied {
        /// The registry host.
        host: String,
        /// `host/repository:tag`.
        reference: String,
        /// The user name sent.
        username: Option<String>,
        /// The registry's error codes, when the engine passed them on.
        codes: Vec<String>,
        /// What was denied: the existing-tag check's read, or the push.
        action: RegistryAction,
    },
    /// The registry could not be reached at all.
    #[error("registry {host} could not be reached: {detail}")]
    RegistryUnreachable {
        /// The registry host.
        host: String,
        /// What the engine reported.
        detail: String,
    },
    /// Transient failures (5xx, 429, dropped connections) outlasted every retry.
    #[error("registry {host} kept failing after {attempts} attempts: {last}")]
    RetriesExhausted {
        /// The registry host.
        host: String,
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        last: String,
    },
    /// The registry answered with another client error (4xx), not retried.
    #[error("registry {host} refused the push of {reference} (HTTP {status}{}): {message}", codes_suffix(.codes))]
    RegistryRefused {
        /// The registry host.
        host: String,
        /// `host/repository:tag`.
        reference: String,
        /// The HTTP status.
        status: u16,
        /// The registry's error codes.
        codes: Vec<String>,
        /// The engine's message.
        message: String,
    },
    /// A command of the container's build failed. When the caller knows which step of its
    /// build ran the command (`dagger-pipeline`'s step log does), `step` says so and the
    /// message is its: `pipeline "app", step "go build" failed with exit code 1 ...`.
    #[error("{}", build_failed_message(.exec, .step.as_deref()))]
    BuildFailed {
        /// The failed command as the engine reported it.
        exec: ExecError,
        /// The failed step of the caller's build, described by the caller (for example
        /// `dagger_pipeline::StepError`), when known.
        step: Option<Arc<dyn std::error::Error + Send + Sync>>,
    },
    /// After a request that pushed several tags failed, whether this tag is in the registry
    /// could not be learnt through the engine (see `Partial`).
    #[error("whether {reference} is in the registry could not be learnt after the push failed ({reason}); check the registry for this tag")]
    DigestUnknown {
        /// `host/repository:tag`.
        reference: String,
        /// Why the digest is unknown.
        reason: String,
    },
    /// The connection to the engine broke before it answered the push, and the tag, read back
    /// through the engine, is not in the registry: nothing of this tag was pushed.
    #[error("the Dagger engine's answer to the push of {reference} was lost ({detail}); read back through the engine, the tag is not in the registry: publish again")]
    AnswerLost {
        /// `host/repository:tag`.
        reference: String,
        /// The transport failure.
        detail: String,
    },
    /// The IDs of the build's stage inputs could not be looked up (`dagger-pipeline`'s
    /// `BuildContext::input`), so the engine refused the chains using them; this is why.
    #[error("the build could not be described to the engine: {0}")]
    StageInputs(#[source] Arc<dyn std::error::Error + Send + Sync>),
    /// Another engine failure.
    #[error("the Dagger engine failed during publish: {0}")]
    Engine(#[source] QueryError),
    /// Several tags failed, each for its own reason, and some may have been published: exactly
    /// which, so nothing is left unknown. Reads "publish partly failed" only when at least one
    /// tag was published; otherwise "publish failed" with each tag's reason.
    #[error("{}", partial_message(.published, .failed))]
    Partial {
        /// The tags that are in the registry now, with their digests.
        published: Vec<super::PublishedTag>,
        /// The tags that are not, each with its reason.
        failed: Vec<FailedTag>,
    },
}

impl From<crate::AuthError> for PublishError {
    fn from(err: crate::AuthError) -> Self {
        match err {
            crate::AuthError::Address(e) => PublishError::Address(e),
            crate::AuthError::Username { rule } => PublishError::InvalidUsername { rule },
        }
    }
}

/// What a publish asked of the registry when it failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistryAction {
    /// Reading a tag: the existing-tag check, before anything is pushed.
    Read,
    /// Pushing the image.
    Push,
}

fn denied_message(
    host: &str,
    reference: &str,
    username: Option<&str>,
    codes: &[String],
    action: RegistryAction,
) -> String {
    let (user, codes) = (user_suffix(username), codes_suffix(codes));
    match action {
        RegistryAction::Read => format!(
            "registry {host} denied reading {reference}{user} (HTTP 403{codes}) during the existing-tag check; nothing was pushed: the account needs read permission on this repository"
        ),
        RegistryAction::Push => format!(
            "registry {host} denied pushing {reference}{user} (HTTP 403{codes}): the account may read but not create in this repository; check its permissions"
        ),
    }
}

/// How the library learnt that a tag exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagExistsEvidence {
    /// The existing-tag check found it, with this digest.
    Checked {
        /// The digest of the manifest the tag points at.
        digest: String,
    },
    /// The registry refused to store the tag's manifest (HTTP 403 on its `PUT`), which for a
    /// create-only account (zot's rule: pushing to an existing tag needs `update`) means the
    /// tag exists.
    RefusedAsExisting,
}

/// A tag that was not published, with the reason.
#[derive(Debug, Clone)]
pub struct FailedTag {
    /// The tag.
    pub tag: String,
    /// Why it was not published.
    pub error: Box<PublishError>,
}

impl PublishError {
    /// Whether retrying later could help (the registry was overloaded or dropped the line).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            PublishError::RetriesExhausted { .. }
                | PublishError::CheckFailed {
                    transient: true,
                    ..
                }
        )
    }
}

fn tag_exists_message(reference: &str, evidence: &TagExistsEvidence) -> String {
    match evidence {
        TagExistsEvidence::Checked { digest } => format!(
            "tag exists: {reference} is already in the registry (digest {digest}) and tags are not overwritten; bump the version, or use the skip policy to keep the existing image"
        ),
        TagExistsEvidence::RefusedAsExisting => format!(
            "tag exists: the registry refused to overwrite {reference} (HTTP 403 on its manifest: a create-only account may not update an existing tag); bump the version, or use the skip policy to keep the existing image"
        ),
    }
}

fn check_failed_message(
    host: &str,
    reference: &str,
    policy: crate::ExistingTagPolicy,
    attempts: u32,
    detail: &str,
) -> String {
    let tries = if attempts == 1 {
        "1 attempt".to_string()
    } else {
        format!("{attempts} attempts")
    };
    format!(
        "nothing was pushed: whether {reference} already exists could not be checked on registry {host} ({tries}; last error: {detail}); the {policy} policy never overwrites a tag, so it does not push without an answer; retry when the registry answers, or publish with the overwrite policy if replacing an existing tag is intended"
    )
}

fn credentials_message(host: &str, username: Option<&str>) -> String {
    match username {
        Some(user) => format!(
            "registry {host} rejected the credentials of user {user} (HTTP 401 UNAUTHORIZED): the password or API key is wrong or has expired; check the key (registry API keys can expire) and update the CI secret"
        ),
        None => format!(
            "registry {host} refused an anonymous push (HTTP 401 UNAUTHORIZED): pass a registry password (for example --registry-password=env:ZOT_CI_API_KEY)"
        ),
    }
}

fn user_suffix(username: Option<&str>) -> String {
    username.map(|u| format!(" as {u}")).unwrap_or_default()
}

fn codes_suffix(codes: &[String]) -> String {
    if codes.is_empty() {
        String::new()
    } else {
        format!(" {}", codes.join(","))
    }
}

fn build_failed_message(
    exec: &ExecError,
    step: Option<&(dyn std::error::Error + Send + Sync)>,
) -> String {
    if let Some(step) = step {
        return step.to_string();
    }
    let mut out = format!(
        "a build step failed: `{}` exited with code {}",
        exec.cmd.join(" "),
        exec.exit_code
    );
    let tail = tail_lines(&exec.stderr, 20);
    if !tail.is_empty() {
        out.push_str("\nlast lines of stderr:\n");
        out.push_str(&tail);
    }
    out
}

/// The last `n` non-empty lines of `text`.
pub(crate) fn tail_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let start = lines.len().saturating_sub(n);
    lines[start..].join("\n")
}

fn partial_message(published: &[super::PublishedTag], failed: &[FailedTag]) -> String {
    let mut out = if published.is_empty() {
        format!(
            "publish failed: none of the {} tags was published",
            failed.len()
        )
    } else {
        format!(
            "publish partly failed: {} tag(s) published, {} not",
            published.len(),
            failed.len()
        )
    };
    for p in published {
        out.push_str(&format!("\n  published: {}", p.reference));
    }
    for f in failed {
        out.push_str(&format!("\n  NOT published: {}: {}", f.tag, f.error));
    }
    out
}

impl fmt::Display for FailedTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.tag, self.error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partly_failed_only_when_a_tag_was_published() {
        let exists = |tag: &str| FailedTag {
            tag: tag.into(),
            error: Box::new(PublishError::TagExists {
                reference: format!("r/team/app:{tag}"),
                evidence: TagExistsEvidence::RefusedAsExisting,
            }),
        };
        let none = PublishError::Partial {
            published: vec![],
            failed: vec![exists("v1"), exists("latest")],
        }
        .to_string();
        assert!(
            none.starts_with(
                "publish failed: none of the 2 tags was published\n  NOT published: v1: tag exists"
            ),
            "{none}"
        );
        assert!(none.contains("NOT published: latest: tag exists"), "{none}");
        assert!(!none.contains("partly"), "{none}");
        let published = crate::PublishedTag {
            tag: dagger_engine::registry::Tag::parse("v1").unwrap(),
            reference: dagger_engine::registry::PublishedRef {
                image: dagger_engine::registry::ImageRef::parse("r.example/team/app:v1").unwrap(),
                digest: dagger_engine::registry::Digest::parse(&format!(
                    "sha256:{}",
                    "a".repeat(64)
                ))
                .unwrap(),
            },
            outcome: crate::TagOutcome::Pushed,
        };
        let some = PublishError::Partial {
            published: vec![published],
            failed: vec![exists("latest")],
        }
        .to_string();
        assert!(
            some.starts_with("publish partly failed: 1 tag(s) published, 1 not"),
            "{some}"
        );
    }

    #[test]
    fn a_build_failure_without_its_step_names_the_command() {
        let exec = ExecError {
            cmd: vec!["go".into(), "build".into(), ".".into()],
            exit_code: 1,
            stdout: String::new(),
            stderr: "main.go:3:1: syntax error\n".into(),
        };
        let bare = PublishError::BuildFailed { exec, step: None };
        assert!(bare
            .to_string()
            .starts_with("a build step failed: `go build .` exited with code 1"));
        assert!(bare.to_string().contains("main.go:3:1: syntax error"));
    }

    #[test]
    fn messages_name_the_next_step() {
        let e = PublishError::CredentialsRejected {
            host: "registry.example.org".into(),
            username: Some("ci-bot".into()),
        };
        let text = e.to_string();
        assert!(text.contains("registry.example.org") && text.contains("ci-bot"));
        assert!(text.contains("expired"));
        let e = PublishError::TagExists {
            reference: "r/team/app:v1-abc1234".into(),
            evidence: TagExistsEvidence::RefusedAsExisting,
        };
        assert!(e.to_string().contains("bump the version"));
        assert!(e.to_string().contains("app:v1-abc1234"));
    }
}
