//! The registry model behind `publish` and `from`, and the session's registry credentials.
//!
//! Rules followed (cited where they apply):
//! - upstream dagger `core/schema/container.go` (withRegistryAuth / withoutRegistryAuth) and
//!   `auth/registry.go`: credentials belong to the session, keyed by the address's host;
//!   `withRegistryAuth` reads the secret's plaintext at once; pulls (`from`) and pushes
//!   (`publish`) both use the credential (`engine/server/session.go`, `Auth`).
//! - upstream `core/schema/container.go` (`from`, `fromSessionScopeInput`): a tag is resolved to
//!   a digest once per session; a failed resolution is not kept. Failures read
//!   `failed to resolve image "<name>" (platform: "<platform>"): <cause>`, and a tag the
//!   registry lacks has the cause `<name>: not found` (containerd v2.2.3
//!   `core/remotes/docker/resolver.go`).
//! - containerd v2.2.3 `core/remotes/errors/errors.go` (`ErrUnexpectedStatus.Error`): a
//!   registry status reads `unexpected status from <METHOD> request to <URL>: <code> <reason>`,
//!   without the body; when the body is a registry error envelope, a second line follows with
//!   the errors (`core/remotes/docker/errcode.go`, `unexpectedResponseErr` joins them:
//!   `denied`, or `denied: <message>` when the message is not the code's own); a `HEAD` answer
//!   has no body. Push errors reach the client without any prefix naming the image
//!   (upstream `engine/server/resolver/resolver.go`, `PushImage`, returns containerd's errors
//!   as they are); a manifest refused is wrapped as the engine wraps it:
//!   `push content <digest> (<size> bytes): failed commit on ref "manifest-<digest>": ...`.
//! - zot's access control (zot's docs, "Authentication and authorization": the `read`, `create`,
//!   `update` and `delete` actions): `create` without `update` cannot overwrite a tag.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

use serde_json::Value;

use super::describe::ContainerDescription;
use super::ids::Obj;
use super::schema::container::{eval_container, ContainerState};
use super::schema::{Args, Ctx, FieldError, Out, State};
use super::state::{SessionCredential, Shared};
use super::{AuthUse, PublishRecord};

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
    pub backend: Option<oci_registry_api::RegistryApi>,
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
    pub fn backed_by(&self, api: oci_registry_api::RegistryApi) -> &Self {
        self.with(|r| r.backend = Some(api));
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

/// The host an address's credentials belong to: the engine's rule, kept in one place by
/// [`dagger_engine::registry::RegistryHost::parse`] (upstream `auth/registry.go`, `parseAuthAddress`).
pub(crate) fn auth_host(address: &str) -> Result<String, FieldError> {
    dagger_engine::registry::RegistryHost::parse(address)
        .map(|h| h.as_str().to_string())
        .map_err(|e| FieldError::new(e.to_string()))
}

/// An image address split as containerd's docker reference does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ImageAddress {
    pub host: String,
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

/// Splits an image address for a pull or a push, as containerd's resolver sees it
/// (docker/distribution `reference/normalize.go`, `ParseNormalizedNamed` and
/// `splitDockerDomain`): the first component is a domain when it has a `.` or `:` or is
/// `localhost`, otherwise the domain is `docker.io` and a one-component name gets `library/`;
/// `index.docker.io` / `registry-1.docker.io` fold into `docker.io` (dagger `auth/registry.go`).
/// The repository, tag and digest grammar is [`dagger_engine::registry::reference`]'s.
pub(crate) fn parse_address(address: &str) -> Result<ImageAddress, FieldError> {
    use dagger_engine::registry::{Digest, RepositoryName, Tag};
    let invalid = |why: String| {
        FieldError::new(format!(
            "failed to parse image address {address:?}: invalid reference format: {why}"
        ))
    };
    if address.is_empty() || address.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid("empty, or contains whitespace".into()));
    }
    let (rest, digest) = match address.split_once('@') {
        Some((r, d)) => (
            r,
            Some(
                Digest::parse(d)
                    .map_err(|e| invalid(e.to_string()))?
                    .to_string(),
            ),
        ),
        None => (address, None),
    };
    let (name, tag) = match rest.rfind(':') {
        Some(i) if !rest[i + 1..].contains('/') => (
            &rest[..i],
            Some(
                Tag::parse(&rest[i + 1..])
                    .map_err(|e| invalid(e.to_string()))?
                    .to_string(),
            ),
        ),
        _ => (rest, None),
    };
    let (first, remainder) = match name.split_once('/') {
        Some((f, r)) => (f, Some(r)),
        None => (name, None),
    };
    let (mut host, repository) = match remainder {
        Some(r) if first.contains('.') || first.contains(':') || first == "localhost" => {
            (first.to_string(), r.to_string())
        }
        Some(_) => ("docker.io".to_string(), name.to_string()),
        None => ("docker.io".to_string(), format!("library/{name}")),
    };
    if host == "index.docker.io" || host == "registry-1.docker.io" {
        host = "docker.io".into();
    }
    if host.chars().any(|c| c.is_ascii_uppercase()) {
        return Err(invalid(format!("the domain {host:?} must be lowercase")));
    }
    let repository = RepositoryName::parse(&repository)
        .map_err(|e| invalid(e.to_string()))?
        .to_string();
    Ok(ImageAddress {
        host,
        repository,
        tag,
        digest,
    })
}

/// `withRegistryAuth`: reads the secret's plaintext (a secret that cannot be read fails here,
/// as upstream `Plaintext` runs at once), then stores the credential in the session
/// (replacing one for the same host).
pub(crate) fn store_auth(ctx: &Ctx, args: &Args) -> Result<(), FieldError> {
    let host = auth_host(args.str("address")?)?;
    let secret_id = args.str("secret")?.to_string();
    let secret_name = match ctx.eval_id(&secret_id)? {
        State::Secret(s) => {
            s.plaintext(ctx)?;
            s.name
        }
        other => {
            return Err(FieldError::new(format!(
                "withRegistryAuth: secret must be a Secret, got a {}",
                other.kind()
            )))
        }
    };
    ctx.state().auth.insert(
        host,
        SessionCredential {
            username: args.str("username")?.to_string(),
            secret_id,
            secret_name,
        },
    );
    Ok(())
}

/// `withoutRegistryAuth`: forgets the session's credential for the address's host.
pub(crate) fn remove_auth(ctx: &Ctx, args: &Args) -> Result<(), FieldError> {
    let host = auth_host(args.str("address")?)?;
    ctx.state().auth.remove(&host);
    Ok(())
}

/// The session credential for a host (upstream `auth/registry.go`, `Credentials`: Docker
/// Hub's other names are folded into `docker.io` before the lookup).
fn credential_host(host: &str) -> &str {
    match host {
        "index.docker.io" | "registry-1.docker.io" => "docker.io",
        other => other,
    }
}

/// The session's credential for `host` with its password, read from the engine's secrets.
fn session_credential(
    ctx: &Ctx,
    host: &str,
) -> Result<Option<(SessionCredential, String)>, FieldError> {
    let credential = ctx.state().auth.get(credential_host(host)).cloned();
    let Some(credential) = credential else {
        return Ok(None);
    };
    match ctx.eval_id(&credential.secret_id)? {
        State::Secret(s) => {
            let password = s.plaintext(ctx)?;
            Ok(Some((credential, password)))
        }
        other => Err(FieldError::new(format!(
            "registry credential for {host} names a {}, not a Secret",
            other.kind()
        ))),
    }
}

/// The registry's URL for a path under `/v2/` (Docker Hub is served by `registry-1.docker.io`,
/// containerd `remotes/docker/registry.go`; loopback registries are plain HTTP).
fn registry_url(host: &str, path: &str) -> String {
    let (scheme, server) = match host {
        "docker.io" => ("https", "registry-1.docker.io"),
        h if h.starts_with("localhost") || h.starts_with("127.") => ("http", h),
        h => ("https", h),
    };
    format!("{scheme}://{server}/v2/{path}")
}

/// Go's `net/http` wording for a DNS failure, as containerd's resolver reports it.
fn unreachable_message(method: &str, url: &str, host: &str) -> String {
    let hostname = host.split(':').next().unwrap_or(host);
    format!("failed to do request: {method} \"{url}\": dial tcp: lookup {hostname}: no such host")
}

/// containerd's `ErrUnexpectedStatus` text, followed by the registry errors' line when the
/// registry sent an error body (`codes`, each with its standard message; never for `HEAD`).
fn status_message(method: &str, url: &str, status: u16, codes: &[&str]) -> String {
    let reason = reqwest::StatusCode::from_u16(status)
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
fn registry_errors_line(codes: &[&str]) -> String {
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
fn body_codes(bodies: bool, code: &'static str) -> Vec<&'static str> {
    if bodies {
        vec![code]
    } else {
        Vec::new()
    }
}

/// A tag's resolution for `from`.
struct Resolution {
    /// `host/repository:tag`, as the engine names it.
    name: String,
    host: String,
    repository: String,
    tag: String,
}

impl Resolution {
    fn manifest_url(&self) -> String {
        registry_url(
            &self.host,
            &format!("{}/manifests/{}", self.repository, self.tag),
        )
    }
}

/// The engine's wording of a failed `from`.
fn resolve_error(name: &str, platform: &str, cause: String) -> FieldError {
    FieldError::new(format!(
        "failed to resolve image {} (platform: {}): {cause}",
        super::schema::go_quote(name),
        super::schema::go_quote(platform)
    ))
}

/// The digest of a public image (Docker Hub's official ones): derived from its name.
fn public_digest(name: &str) -> String {
    format!(
        "sha256:{}",
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(name.as_bytes()))
    )
}

/// What a `from` of `address` answers with `imageRef` right after it: the normalised name with
/// the digest (upstream `core/container.go`, From: `reference.ParseNormalizedNamed` +
/// `TagNameOnly`, then the resolved digest). A tag is resolved once per session: a second
/// resolution answers the first one's digest even when the registry changed since.
///
/// A host backed by a real registry is asked by [`resolve_from_backend`], which the field
/// resolver awaits before this runs; here its answer is read from the session.
pub(crate) fn resolve_from(ctx: &Ctx, address: &str, platform: &str) -> Result<String, FieldError> {
    let a = parse_address(address)?;
    let tag = a.tag.clone().unwrap_or_else(|| "latest".into());
    let name = format!("{}/{}:{tag}", a.host, a.repository);
    if let Some(digest) = &a.digest {
        return Ok(format!("{name}@{digest}"));
    }
    if let Some(digest) = ctx.state().resolved.get(&name).cloned() {
        return Ok(format!("{name}@{digest}"));
    }
    let r = Resolution {
        name: name.clone(),
        host: a.host.clone(),
        repository: a.repository.clone(),
        tag,
    };
    let digest = resolve_in_model(ctx, &r, platform)?;
    ctx.state().resolved.insert(name.clone(), digest.clone());
    Ok(format!("{name}@{digest}"))
}

/// Whether the session has already resolved the tag of `address`, or needs no resolution.
pub(crate) fn needs_backend(
    ctx: &Ctx,
    address: &str,
) -> Result<Option<oci_registry_api::RegistryApi>, FieldError> {
    let a = parse_address(address)?;
    if a.digest.is_some() {
        return Ok(None);
    }
    let tag = a.tag.clone().unwrap_or_else(|| "latest".into());
    let name = format!("{}/{}:{tag}", a.host, a.repository);
    let state = ctx.state();
    if state.resolved.contains_key(&name) {
        return Ok(None);
    }
    Ok(state
        .registries
        .get(&a.host)
        .filter(|r| !r.unreachable && r.fail_next_resolves.is_empty())
        .and_then(|r| r.backend.clone()))
}

/// Resolves a tag of a host backed by a real registry (a `HEAD` of the manifest with the
/// session's credentials), keeping the answer in the session.
pub(crate) async fn resolve_from_backend(
    ctx: Ctx,
    api: oci_registry_api::RegistryApi,
    address: String,
    platform: String,
) -> Result<(), FieldError> {
    use dagger_engine::registry::{RepositoryName, Tag};
    use oci_registry_api::{RegistryApi, RegistryApiError, RegistryCredentials};
    let a = parse_address(&address)?;
    let r = Resolution {
        name: format!(
            "{}/{}:{}",
            a.host,
            a.repository,
            a.tag.as_deref().unwrap_or("latest")
        ),
        tag: a.tag.clone().unwrap_or_else(|| "latest".into()),
        host: a.host.clone(),
        repository: a.repository.clone(),
    };
    let credentials = session_credential(&ctx, &r.host)?
        .map(|(c, password)| RegistryCredentials::new(c.username, password));
    let client =
        RegistryApi::new(api.host().clone(), credentials).with_plain_http(api.plain_http());
    let fail = |cause: String| resolve_error(&r.name, &platform, cause);
    let repository = RepositoryName::parse(&r.repository).map_err(|e| fail(e.to_string()))?;
    let tag = Tag::parse(&r.tag).map_err(|e| fail(e.to_string()))?;
    let url = r.manifest_url();
    match client.manifest_digest(&repository, &tag).await {
        Ok(Some(digest)) => {
            ctx.state()
                .resolved
                .insert(r.name.clone(), digest.to_string());
            Ok(())
        }
        Ok(None) => Err(fail(format!("{}: not found", r.name))),
        Err(e) => Err(fail(match e {
            RegistryApiError::Unauthorized { .. } => status_message("HEAD", &url, 401, &[]),
            RegistryApiError::Denied { .. } => status_message("HEAD", &url, 403, &[]),
            RegistryApiError::TooManyRequests { .. } => status_message("HEAD", &url, 429, &[]),
            RegistryApiError::Server { status, .. } => status_message("HEAD", &url, status, &[]),
            RegistryApiError::Unreachable { detail, .. } => format!(
                "failed to do request: Head \"{url}\": dial tcp {}: connect: connection refused ({detail})",
                r.host
            ),
            RegistryApiError::Protocol { detail, .. } => detail,
        })),
    }
}

/// A tag's digest in the registry model, as containerd's resolver would find it: a `HEAD` of
/// the manifest with the session's credentials for the host.
fn resolve_in_model(ctx: &Ctx, r: &Resolution, platform: &str) -> Result<String, FieldError> {
    let fail = |cause: String| resolve_error(&r.name, platform, cause);
    let modelled = {
        let mut state = ctx.state();
        match state.registries.get_mut(&r.host) {
            None => None,
            Some(reg) => {
                if reg.unreachable {
                    return Err(fail(unreachable_message(
                        "Head",
                        &r.manifest_url(),
                        &r.host,
                    )));
                }
                if let Some(failure) = reg.fail_next_resolves.pop_front() {
                    return Err(fail(transient(
                        "HEAD",
                        "Head",
                        &r.manifest_url(),
                        failure,
                        false,
                    )));
                }
                if reg.backend.is_some() {
                    return Err(fail(format!(
                        "the mock engine resolves tags of {} (a real registry) when `from` is \
                         selected; this ID was not resolved in this session",
                        r.host
                    )));
                }
                let tags = reg.repositories.get(&r.repository);
                Some((
                    reg.accounts.clone(),
                    reg.allow_anonymous_pull,
                    tags.and_then(|tags| tags.get(&r.tag)).cloned(),
                    tags.is_some_and(|tags| !tags.is_empty()),
                ))
            }
        }
    };
    let official = r.host == "docker.io" && r.repository.starts_with("library/");
    let Some((accounts, anonymous_pull, found, declared)) = modelled else {
        return if official {
            Ok(public_digest(&r.name))
        } else {
            Err(fail(format!("{}: not found", r.name)))
        };
    };
    let allowed = match session_credential(ctx, &r.host)? {
        Some((c, password)) => accounts
            .get(&c.username)
            .is_some_and(|(expected, _)| *expected == password),
        None => anonymous_pull,
    };
    if !allowed {
        return Err(fail(status_message("HEAD", &r.manifest_url(), 401, &[])));
    }
    match found {
        Some(digest) => Ok(digest),
        None if official && !declared => Ok(public_digest(&r.name)),
        None => Err(fail(format!("{}: not found", r.name))),
    }
}

/// Where one publish goes, with what.
struct PushPlan {
    /// The normalised reference without digest, as the engine answers it.
    name: String,
    host: String,
    repository: String,
    tag: String,
    digest: String,
    credential: Option<SessionCredential>,
    password: Option<String>,
    container: ContainerState,
    variants: Vec<ContainerDescription>,
}

impl PushPlan {
    fn upload_url(&self) -> String {
        registry_url(&self.host, &format!("{}/blobs/uploads/", self.repository))
    }

    /// The first blob the pusher asks about (the image's config).
    fn blob_url(&self) -> String {
        let config = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(
            format!("config of {}", self.digest).as_bytes(),
        ));
        registry_url(
            &self.host,
            &format!("{}/blobs/sha256:{config}", self.repository),
        )
    }

    fn manifest_url(&self) -> String {
        registry_url(
            &self.host,
            &format!("{}/manifests/{}", self.repository, self.tag),
        )
    }

    /// The engine's wrapping of a refused manifest upload.
    fn manifest_refused(&self, cause: String) -> FieldError {
        let size = 400 + self.container.steps.len() * 64 + self.variants.len() * 300;
        FieldError::new(format!(
            "push content {} ({size} bytes): failed commit on ref \"manifest-{}\": {cause}",
            self.digest, self.digest
        ))
    }

    /// What `publish` answers: the normalised name with the digest (upstream
    /// `core/container.go` Publish: `reference.WithDigest(ParseNormalizedNamed(ref), digest)`,
    /// so `alpine:1` answers `docker.io/library/alpine:1@sha256:...`).
    fn reference(&self, digest: &str) -> String {
        format!("{}@{digest}", self.name)
    }

    fn record(&self, ctx: &Ctx, address: String, digest: &str) -> String {
        let reference = self.reference(digest);
        let record = PublishRecord {
            address,
            reference: reference.clone(),
            host: self.host.clone(),
            auth: self.credential.as_ref().map(|c| AuthUse {
                host: credential_host(&self.host).to_string(),
                username: c.username.clone(),
                secret_name: c.secret_name.clone(),
            }),
            container: self.container.description(),
            platform_variants: self.variants.len(),
            variants: self.variants.clone(),
        };
        let mut state = ctx.state();
        state
            .registry(&self.host)
            .repositories
            .entry(self.repository.clone())
            .or_default()
            .insert(self.tag.clone(), digest.to_string());
        state.published.push(record);
        reference
    }
}

/// `publish(address, platformVariants, ...)`: evaluates the container (its failures come
/// first, as the engine builds before it pushes), then pushes to the registry model, or to a
/// real registry when the model is [`RegistryModel::backed_by`] one.
pub(crate) fn publish(ctx: &Ctx, parent: &Obj, args: &Args) -> Result<Out, FieldError> {
    let address = args.str("address")?.to_string();
    let target = parse_address(&address)?;
    if target.digest.is_some() {
        return Err(FieldError::new(format!(
            "failed to push {address}: a reference with a digest cannot be pushed to; give a tag"
        )));
    }
    let container = eval_container(ctx, parent)?;
    let mut variants: Vec<ContainerState> = Vec::new();
    for id in super::schema::id_values(args.get("platformVariants")) {
        variants.push(eval_container(ctx, &Obj::decode(id)?)?);
    }
    let digest = container.build_digest(&variants);
    let (credential, password) = match session_credential(ctx, &target.host)? {
        Some((c, pw)) => (Some(c), Some(pw)),
        None => (None, None),
    };
    let plan = PushPlan {
        name: format!(
            "{}/{}{}",
            target.host,
            target.repository,
            target
                .tag
                .as_ref()
                .map(|t| format!(":{t}"))
                .unwrap_or_default()
        ),
        tag: target.tag.clone().unwrap_or_else(|| "latest".into()),
        host: target.host,
        repository: target.repository,
        digest,
        credential,
        password,
        container,
        variants: variants.iter().map(ContainerState::description).collect(),
    };

    let backend = {
        let mut state = ctx.state();
        let reg = state.registry(&plan.host);
        if reg.unreachable {
            return Err(FieldError::new(unreachable_message(
                "Head",
                &plan.blob_url(),
                &plan.host,
            )));
        }
        if let Some(failure) = reg.fail_next.pop_front() {
            return Err(FieldError::new(match failure {
                PushFailure::ConnectionReset => transient(
                    "PUT",
                    "Put",
                    &plan.manifest_url(),
                    failure,
                    reg.error_bodies,
                ),
                PushFailure::Status(_) => transient(
                    "POST",
                    "Post",
                    &plan.upload_url(),
                    failure,
                    reg.error_bodies,
                ),
            }));
        }
        reg.backend.clone()
    };
    if let Some(api) = backend {
        return Ok(Out::Later(Box::pin(push_for_real(
            Ctx {
                shared: ctx.shared.clone(),
            },
            api,
            plan,
            address,
        ))));
    }

    {
        let mut state = ctx.state();
        let reg = state.registry(&plan.host);
        let bodies = reg.error_bodies;
        let rights = match (&plan.credential, &plan.password) {
            (Some(c), Some(pw)) => match reg.accounts.get(&c.username) {
                Some((expected, rights)) if expected == pw => Some(*rights),
                // Wrong user or key: the first request, a HEAD of a blob, is refused.
                _ => {
                    return Err(FieldError::new(status_message(
                        "HEAD",
                        &plan.blob_url(),
                        401,
                        &[],
                    )))
                }
            },
            _ if reg.allow_anonymous_push => None,
            // Anonymous: refused at the first request the registry guards.
            _ if !reg.allow_anonymous_pull => {
                return Err(FieldError::new(status_message(
                    "HEAD",
                    &plan.blob_url(),
                    401,
                    &[],
                )))
            }
            _ => {
                return Err(FieldError::new(status_message(
                    "POST",
                    &plan.upload_url(),
                    401,
                    &body_codes(bodies, "UNAUTHORIZED"),
                )))
            }
        };
        if rights == Some(AccountRights::ReadOnly) {
            return Err(FieldError::new(status_message(
                "POST",
                &plan.upload_url(),
                403,
                &body_codes(bodies, "DENIED"),
            )));
        }
        let exists = reg
            .repositories
            .get(&plan.repository)
            .is_some_and(|tags| tags.contains_key(&plan.tag));
        // zot: overwriting a tag needs `update`, even with identical content.
        if exists && rights == Some(AccountRights::CreateOnly) {
            return Err(plan.manifest_refused(status_message(
                "PUT",
                &plan.manifest_url(),
                403,
                &body_codes(bodies, "DENIED"),
            )));
        }
    }
    let digest = plan.digest.clone();
    Ok(Out::Value(Value::from(plan.record(ctx, address, &digest))))
}

/// The wording of an injected transient failure of a request (`method` as containerd prints
/// it in a status, `go_method` as Go's `net/http` prints it in a transport error).
fn transient(
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
    }
}

/// A push to a real registry: a small deterministic OCI image (config = the build description,
/// one layer = the build steps), with the session's credentials for the host.
async fn push_for_real(
    ctx: Ctx,
    api: oci_registry_api::RegistryApi,
    plan: PushPlan,
    address: String,
) -> Result<Out, FieldError> {
    use dagger_engine::registry::{RepositoryName, Tag};
    use oci_registry_api::{RegistryApi, RegistryApiError, RegistryCredentials};
    let repository =
        RepositoryName::parse(&plan.repository).map_err(|e| FieldError::new(e.to_string()))?;
    let tag = Tag::parse(&plan.tag).map_err(|e| FieldError::new(e.to_string()))?;
    let credentials = match (&plan.credential, &plan.password) {
        (Some(c), Some(pw)) => Some(RegistryCredentials::new(c.username.clone(), pw.clone())),
        _ => None,
    };
    let client =
        RegistryApi::new(api.host().clone(), credentials).with_plain_http(api.plain_http());
    let description = plan.container.description();
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64",
        "os": "linux",
        "config": {},
        "rootfs": {"type": "layers", "diff_ids": []},
        "history": [{"created_by": description.to_string(), "comment": plan.digest}],
    }))
    .unwrap_or_default();
    let layer = description.to_string().into_bytes();
    match client
        .push_image(&repository, &tag, config, vec![layer])
        .await
    {
        Ok(digest) => Ok(Out::Value(Value::from(plan.record(
            &ctx,
            address,
            digest.as_str(),
        )))),
        Err(e) => Err(match &e {
            RegistryApiError::Unauthorized { .. } => {
                FieldError::new(status_message("HEAD", &plan.blob_url(), 401, &[]))
            }
            RegistryApiError::Denied { codes, .. } => {
                let codes: Vec<&str> = codes.iter().map(String::as_str).collect();
                plan.manifest_refused(status_message("PUT", &plan.manifest_url(), 403, &codes))
            }
            RegistryApiError::TooManyRequests { .. } => FieldError::new(status_message(
                "POST",
                &plan.upload_url(),
                429,
                &["TOOMANYREQUESTS"],
            )),
            RegistryApiError::Server { status, codes, .. } => {
                let codes: Vec<&str> = codes.iter().map(String::as_str).collect();
                FieldError::new(status_message("POST", &plan.upload_url(), *status, &codes))
            }
            RegistryApiError::Unreachable { detail, .. } => FieldError::new(format!(
                "failed to do request: Head \"{}\": dial tcp {}: connect: connection refused ({detail})",
                plan.blob_url(),
                plan.host
            )),
            RegistryApiError::Protocol { detail, .. } => FieldError::new(detail.clone()),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_split_like_docker_references() {
        let a = parse_address("alpine").unwrap();
        assert_eq!(
            (a.host.as_str(), a.repository.as_str()),
            ("docker.io", "library/alpine")
        );
        let a = parse_address("registry.example.org/blumeops/x:v1-abc").unwrap();
        assert_eq!(a.host, "registry.example.org");
        assert_eq!(a.tag.as_deref(), Some("v1-abc"));
        assert_eq!(
            parse_address("localhost:5000/a").unwrap().host,
            "localhost:5000"
        );
        assert_eq!(
            parse_address("index.docker.io/library/x").unwrap().host,
            "docker.io"
        );
        assert!(parse_address("Bad Name").is_err());
        assert!(parse_address("host.io/UPPER:tag").is_err());
    }
}
