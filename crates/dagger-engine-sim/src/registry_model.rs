//! The registry model: the state of each simulated registry host (accounts, tags, injected
//! faults, a real registry behind it) and the wording containerd gives a registry's answers.
//! The resolvers that use it (`from`, `publish`, `withRegistryAuth`) are in `schema/registry.rs`.
//!
//! Rules followed (cited where they apply):
//! - containerd v2.2.3 `core/remotes/errors/errors.go` (`ErrUnexpectedStatus.Error`): a
//!   registry status reads `unexpected status from <METHOD> request to <URL>: <code> <reason>`,
//!   without the body; when the body is a registry error envelope, a second line follows with
//!   the errors (`core/remotes/docker/errcode.go`, `unexpectedResponseErr` joins them:
//!   `denied`, or `denied: <message>` when the message is not the code's own); a `HEAD` answer
//!   has no body.
//! - zot's access control (zot's docs, "Authentication and authorization": the `read`, `create`,
//!   `update` and `delete` actions): `create` without `update` cannot overwrite a tag.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

use crate::registry_backend::RegistryBackend;
use crate::state::Shared;

/// What an account may do in a repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountRights {
    /// Read, create, update (overwrite a tag) and delete.
    ReadWrite,
    /// zot's `read` + `create` without `update`: a new tag can be pushed, an existing one not.
    CreateOnly,
    /// zot's `read` alone: pulls work, every push is refused with 403.
    ReadOnly,
}

/// A transient fault injected into the next pushes (or resolutions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushFailure {
    /// The registry answers this HTTP status (500, 502, 503, 429, ...).
    Status(u16),
    /// The connection is reset mid-request.
    ConnectionReset,
    /// The registry does not answer in time: Go's `dial tcp <addr>: i/o timeout` (net/http's
    /// dialer deadline, as containerd's resolver reports it).
    Timeout,
}

/// The model of one registry host.
#[derive(Clone)]
pub(crate) struct RegistryState {
    pub allow_anonymous_push: bool,
    pub allow_anonymous_pull: bool,
    /// Whether refusals carry a distribution-spec error body (then containerd adds its line).
    pub error_bodies: bool,
    pub accounts: HashMap<String, (String, AccountRights)>,
    /// Tags and their digests, by repository.
    pub repositories: HashMap<String, BTreeMap<String, String>>,
    pub fail_next: VecDeque<PushFailure>,
    pub fail_next_resolves: VecDeque<PushFailure>,
    pub unreachable: bool,
    /// A real registry receiving the pushes and answering the resolutions.
    pub backend: Option<Arc<dyn RegistryBackend>>,
}

impl Default for RegistryState {
    fn default() -> Self {
        Self {
            allow_anonymous_push: true,
            allow_anonymous_pull: true,
            error_bodies: false,
            accounts: HashMap::new(),
            repositories: HashMap::new(),
            fail_next: VecDeque::new(),
            fail_next_resolves: VecDeque::new(),
            unreachable: false,
            backend: None,
        }
    }
}

/// A handle on the model of one registry host; every method changes the engine's shared state.
///
/// A registry holds the tags declared with [`RegistryModel::existing_tag`] and those pushed to
/// it; `from` of any other tag is not found, as the engine reports it. One exception, so that
/// pipelines can start from public base images: Docker Hub's official images
/// (`docker.io/library/...`, what `alpine` or `golang:alpine` name) all exist, with a digest
/// derived from their name, unless a test declared tags in that repository.
#[derive(Clone)]
pub struct RegistryModel {
    pub(crate) shared: Arc<Shared>,
    pub(crate) host: String,
}

impl std::fmt::Debug for RegistryModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryModel")
            .field("host", &self.host)
            .finish_non_exhaustive()
    }
}

impl RegistryModel {
    fn with<R>(&self, f: impl FnOnce(&mut RegistryState) -> R) -> R {
        let mut state = self.shared.lock();
        f(state.registry(&self.host))
    }

    /// The normalised host this model stands for.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Whether a push without credentials is accepted (default: true).
    pub fn allow_anonymous_push(&self, allow: bool) -> &Self {
        self.with(|r| r.allow_anonymous_push = allow);
        self
    }

    /// Whether a pull (`from`) without credentials is accepted (default: true).
    pub fn allow_anonymous_pull(&self, allow: bool) -> &Self {
        self.with(|r| r.allow_anonymous_pull = allow);
        self
    }

    /// Whether the registry's refusals carry an error body (default: false, as zot's 403 on a
    /// manifest in the engine's messages): with one, containerd adds a line naming the error
    /// codes (`denied`, `unauthorized`, `toomanyrequests`).
    pub fn error_bodies(&self, send: bool) -> &Self {
        self.with(|r| r.error_bodies = send);
        self
    }

    /// Adds (or replaces) an account.
    pub fn account(&self, username: &str, password: &str, rights: AccountRights) -> &Self {
        self.with(|r| {
            r.accounts
                .insert(username.to_string(), (password.to_string(), rights))
        });
        self
    }

    /// Declares that `repository:tag` exists; returns its digest (`sha256:<64 hex>`, derived
    /// from the host, repository and tag).
    pub fn existing_tag(&self, repository: &str, tag: &str) -> String {
        let digest = format!(
            "sha256:{}",
            hex::encode(<sha2::Sha256 as sha2::Digest>::digest(
                format!("{}/{repository}:{tag}", self.host).as_bytes()
            ))
        );
        self.existing_tag_with_digest(repository, tag, &digest);
        digest
    }

    /// Declares that `repository:tag` exists and points at `digest` (`sha256:<64 hex>`, for
    /// example the digest an earlier push answered).
    pub fn existing_tag_with_digest(&self, repository: &str, tag: &str, digest: &str) -> &Self {
        self.with(|r| {
            r.repositories
                .entry(repository.to_string())
                .or_default()
                .insert(tag.to_string(), digest.to_string())
        });
        self
    }

    /// The next `count` pushes fail with `failure`, then pushes work again.
    pub fn fail_next_pushes(&self, count: usize, failure: PushFailure) -> &Self {
        self.with(|r| r.fail_next.extend(std::iter::repeat_n(failure, count)));
        self
    }

    /// The next `count` resolutions of a tag (`from`) fail with `failure`.
    pub fn fail_next_resolves(&self, count: usize, failure: PushFailure) -> &Self {
        self.with(|r| {
            r.fail_next_resolves
                .extend(std::iter::repeat_n(failure, count))
        });
        self
    }

    /// Makes the real pushes and resolutions of this host go to `api`'s registry (with the
    /// session's credentials for the host, which the engine holds); the registry, not the
    /// model, then decides. Injected faults and `unreachable` still apply first.
    pub fn backed_by(&self, backend: impl RegistryBackend) -> &Self {
        let backend: Arc<dyn RegistryBackend> = Arc::new(backend);
        self.with(|r| r.backend = Some(backend));
        self
    }

    /// Makes the host unreachable (DNS failure) or reachable again.
    pub fn unreachable(&self, yes: bool) -> &Self {
        self.with(|r| r.unreachable = yes);
        self
    }

    /// The tags of a repository, sorted.
    pub fn tags(&self, repository: &str) -> Vec<String> {
        self.with(|r| {
            r.repositories
                .get(repository)
                .map(|t| t.keys().cloned().collect())
                .unwrap_or_default()
        })
    }

    /// The digest a tag points at in the model, if it exists.
    pub fn digest(&self, repository: &str, tag: &str) -> Option<String> {
        self.with(|r| {
            r.repositories
                .get(repository)
                .and_then(|t| t.get(tag))
                .cloned()
        })
    }
}

/// The registry's URL for a path under `/v2/` (Docker Hub is served by `registry-1.docker.io`,
/// containerd `remotes/docker/registry.go`; loopback registries are plain HTTP).
pub(crate) fn registry_url(host: &str, path: &str) -> String {
    let (scheme, server) = match host {
        "docker.io" => ("https", "registry-1.docker.io"),
        h if h.starts_with("localhost") || h.starts_with("127.") => ("http", h),
        h => ("https", h),
    };
    format!("{scheme}://{server}/v2/{path}")
}

/// Go's `net/http` wording for a DNS failure, as containerd's resolver reports it.
pub(crate) fn unreachable_message(method: &str, url: &str, host: &str) -> String {
    let hostname = host.split(':').next().unwrap_or(host);
    format!("failed to do request: {method} \"{url}\": dial tcp: lookup {hostname}: no such host")
}

/// containerd's `ErrUnexpectedStatus` text, followed by the registry errors' line when the
/// registry sent an error body (`codes`, each with its standard message; never for `HEAD`).
pub(crate) fn status_message(method: &str, url: &str, status: u16, codes: &[&str]) -> String {
    let reason = http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    let mut msg = format!("unexpected status from {method} request to {url}: {status} {reason}")
        .trim_end()
        .to_string();
    if method != "HEAD" && !codes.is_empty() {
        msg.push('\n');
        msg.push_str(&registry_errors_line(codes));
    }
    msg
}

/// containerd's `Errors.Error()` for an envelope whose errors carry their code's standard
/// message and no detail: each is the code lowercased with `_` as spaces (codes containerd does
/// not know read `unknown: <code>`); several are listed under `errors:`.
pub(crate) fn registry_errors_line(codes: &[&str]) -> String {
    const KNOWN: &[&str] = &[
        "UNKNOWN",
        "UNSUPPORTED",
        "UNAUTHORIZED",
        "DENIED",
        "UNAVAILABLE",
        "TOOMANYREQUESTS",
    ];
    let one = |code: &str| {
        if KNOWN.contains(&code) {
            code.to_lowercase().replace('_', " ")
        } else {
            format!("unknown: {}", code.to_lowercase().replace('_', " "))
        }
    };
    match codes {
        [single] => one(single),
        many => {
            let mut out = String::from("errors:\n");
            for code in many {
                out.push_str(&one(code));
                out.push('\n');
            }
            out
        }
    }
}

/// The error codes a refusal's body carries, when the registry sends bodies.
pub(crate) fn body_codes(bodies: bool, code: &'static str) -> Vec<&'static str> {
    if bodies {
        vec![code]
    } else {
        Vec::new()
    }
}

/// The digest of a public image (Docker Hub's official ones): derived from its name.
pub(crate) fn public_digest(name: &str) -> String {
    format!(
        "sha256:{}",
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(name.as_bytes()))
    )
}

/// The wording of an injected transient failure of a request (`method` as containerd prints
/// it in a status, `go_method` as Go's `net/http` prints it in a transport error).
pub(crate) fn transient(
    method: &str,
    go_method: &str,
    url: &str,
    failure: PushFailure,
    bodies: bool,
) -> String {
    match failure {
        PushFailure::Status(code) => {
            let codes = match code {
                429 => body_codes(bodies, "TOOMANYREQUESTS"),
                503 => body_codes(bodies, "UNAVAILABLE"),
                _ => Vec::new(),
            };
            status_message(method, url, code, &codes)
        }
        // Go's wording for a reset connection (containerd's request through net/http).
        PushFailure::ConnectionReset => format!(
            "failed to do request: {go_method} \"{url}\": read tcp 127.0.0.1:41234->{}: read: connection reset by peer",
            url.split('/').nth(2).unwrap_or_default()
        ),
        PushFailure::Timeout => format!(
            "failed to do request: {go_method} \"{url}\": dial tcp {}: i/o timeout",
            url.split('/').nth(2).unwrap_or_default()
        ),
    }
}
