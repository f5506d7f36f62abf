//! The registry model behind `publish` and `from`, and the session's registry credentials.
//!
//! Rules followed (cited where they apply):
//! - upstream dagger `core/schema/container.go` (withRegistryAuth / withoutRegistryAuth) and
//!   `auth/registry.go`: credentials belong to the session, keyed by the address's host.
//! - containerd `remotes/errors/errors.go` (`ErrUnexpectedStatus.Error`): a registry status is
//!   reported as `unexpected status from <METHOD> request to <URL>: <code> <reason>`, followed by
//!   `: <body>` when the registry sent one; `remotes/docker/pusher.go` issues the requests
//!   (`HEAD`/`PUT` of manifests, `POST`/`PUT` of blob uploads).
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
}

/// A transient fault injected into the next pushes.
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
    pub accounts: HashMap<String, (String, AccountRights)>,
    /// Tags and their digests, by repository.
    pub repositories: HashMap<String, BTreeMap<String, String>>,
    pub fail_next: VecDeque<PushFailure>,
    pub unreachable: bool,
    /// A real registry receiving the pushes.
    pub backend: Option<oci_registry_api::RegistryApi>,
}

impl Default for RegistryState {
    fn default() -> Self {
        Self {
            allow_anonymous_push: true,
            accounts: HashMap::new(),
            repositories: HashMap::new(),
            fail_next: VecDeque::new(),
            unreachable: false,
            backend: None,
        }
    }
}

/// A handle on the model of one registry host; every method changes the engine's shared state.
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
        self.with(|r| {
            r.repositories
                .entry(repository.to_string())
                .or_default()
                .insert(tag.to_string(), digest.clone())
        });
        digest
    }

    /// The next `count` pushes fail with `failure`, then pushes work again.
    pub fn fail_next_pushes(&self, count: usize, failure: PushFailure) -> &Self {
        self.with(|r| r.fail_next.extend(std::iter::repeat_n(failure, count)));
        self
    }

    /// Makes the real pushes to this host go to `api`'s registry (with the session's credentials
    /// for the host, which the engine holds); the registry, not the model, then decides.
    /// Injected faults and `unreachable` still apply first.
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

/// `withRegistryAuth`: stores the credential in the session (replacing one for the same host).
pub(crate) fn store_auth(ctx: &Ctx, args: &Args) -> Result<(), FieldError> {
    let host = auth_host(args.str("address")?)?;
    let secret_id = args.str("secret")?.to_string();
    let secret_name = match ctx.eval_id(&secret_id)? {
        State::Secret(s) => s.name,
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

/// `from(address)`: a malformed address is an error; a ref the model knows resolves to its
/// digest; any other ref is taken for a public image whose digest is derived from its name.
/// Answers what `imageRef` gives right after `from`: the normalised name with `@digest`
/// (upstream `core/container.go`, From: `reference.ParseNormalizedNamed` + `TagNameOnly`, then
/// the resolved digest).
pub(crate) fn resolve_from(ctx: &Ctx, address: &str) -> Result<String, FieldError> {
    let a = parse_address(address)?;
    let tag = a.tag.clone().unwrap_or_else(|| "latest".into());
    let name = format!("{}/{}:{tag}", a.host, a.repository);
    if let Some(digest) = &a.digest {
        return Ok(format!("{name}@{digest}"));
    }
    let mut state = ctx.state();
    let known = match state.registries.get_mut(&a.host) {
        Some(reg) if reg.unreachable => {
            return Err(FieldError::new(format!(
                "failed to resolve source metadata for {name}: {}",
                unreachable_message(
                    "Head",
                    &a.host,
                    &format!("{}/manifests/{tag}", a.repository)
                )
            )))
        }
        Some(reg) => reg
            .repositories
            .get(&a.repository)
            .and_then(|tags| tags.get(&tag))
            .cloned(),
        None => None,
    };
    let digest = known.unwrap_or_else(|| {
        format!(
            "sha256:{}",
            hex::encode(<sha2::Sha256 as sha2::Digest>::digest(name.as_bytes()))
        )
    });
    Ok(format!("{name}@{digest}"))
}

/// The session credential for a host (upstream `auth/registry.go`, `Credentials`: Docker
/// Hub's other names are folded into `docker.io` before the lookup).
fn credential_host(host: &str) -> &str {
    match host {
        "index.docker.io" | "registry-1.docker.io" => "docker.io",
        other => other,
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
fn unreachable_message(method: &str, host: &str, path: &str) -> String {
    let hostname = host.split(':').next().unwrap_or(host);
    format!(
        "failed to do request: {method} \"{}\": dial tcp: lookup {hostname}: no such host",
        registry_url(host, path)
    )
}

/// containerd's `ErrUnexpectedStatus` (`remotes/errors/errors.go`):
/// `unexpected status from <METHOD> request to <URL>: <code> <reason>`. containerd keeps the
/// registry's body in the error value (and logs it); the crate's contract (ARCHITECTURE.md,
/// "Push failures as the engine words them") lets it follow as `: <body>`, which the mock does
/// when the registry would send an error envelope.
fn status_message(method: &str, url: &str, status: u16, body: Option<&str>) -> String {
    let reason = reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    let mut msg = format!("unexpected status from {method} request to {url}: {status} {reason}")
        .trim_end()
        .to_string();
    if let Some(body) = body {
        msg.push_str(": ");
        msg.push_str(body);
    }
    msg
}

/// A push failure worded as buildkit's exporter reports it (`failed to push <ref>: <cause>`).
fn push_error(target: &str, cause: String) -> FieldError {
    FieldError::new(format!("failed to push {target}: {cause}"))
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
    fn target(&self) -> String {
        format!("{}/{}:{}", self.host, self.repository, self.tag)
    }

    fn upload_url(&self) -> String {
        registry_url(&self.host, &format!("{}/blobs/uploads/", self.repository))
    }

    fn manifest_url(&self) -> String {
        registry_url(
            &self.host,
            &format!("{}/manifests/{}", self.repository, self.tag),
        )
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
    let credential = ctx.state().auth.get(credential_host(&target.host)).cloned();
    let password = match &credential {
        Some(c) => match ctx.eval_id(&c.secret_id)? {
            State::Secret(s) => Some(s.plaintext(ctx)?),
            other => {
                return Err(FieldError::new(format!(
                    "registry credential for {} names a {}, not a Secret",
                    target.host,
                    other.kind()
                )))
            }
        },
        None => None,
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
            let path = format!("{}/blobs/{}", plan.repository, plan.digest);
            return Err(push_error(
                &plan.target(),
                unreachable_message("Head", &plan.host, &path),
            ));
        }
        if let Some(failure) = reg.fail_next.pop_front() {
            return Err(push_error(&plan.target(), transient(&plan, failure)));
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
        let unauthorized = r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":null}]}"#;
        let refuse = || {
            push_error(
                &plan.target(),
                status_message("POST", &plan.upload_url(), 401, Some(unauthorized)),
            )
        };
        let rights = match (&plan.credential, &plan.password) {
            (Some(c), Some(pw)) => match reg.accounts.get(&c.username) {
                Some((expected, rights)) if expected == pw => Some(*rights),
                _ => return Err(refuse()),
            },
            _ if reg.allow_anonymous_push => None,
            _ => return Err(refuse()),
        };
        let exists = reg
            .repositories
            .get(&plan.repository)
            .is_some_and(|tags| tags.contains_key(&plan.tag));
        // zot: overwriting a tag needs `update`, even with identical content.
        if exists && rights == Some(AccountRights::CreateOnly) {
            return Err(push_error(
                &plan.target(),
                status_message(
                    "PUT",
                    &plan.manifest_url(),
                    403,
                    Some(
                        r#"{"errors":[{"code":"DENIED","message":"requested access to the resource is denied","detail":null}]}"#,
                    ),
                ),
            ));
        }
    }
    let digest = plan.digest.clone();
    Ok(Out::Value(Value::from(plan.record(ctx, address, &digest))))
}

/// The wording of an injected transient failure.
fn transient(plan: &PushPlan, failure: PushFailure) -> String {
    match failure {
        PushFailure::Status(code) => {
            let body = match code {
                429 => Some(r#"{"errors":[{"code":"TOOMANYREQUESTS","message":"too many requests","detail":null}]}"#),
                _ => None,
            };
            status_message("POST", &plan.upload_url(), code, body)
        }
        // Go's wording for a reset connection (containerd's request through net/http).
        PushFailure::ConnectionReset => format!(
            "failed to do request: Put \"{}\": read tcp 127.0.0.1:41234->{}: read: connection reset by peer",
            plan.manifest_url(),
            plan.host
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
    let repository = RepositoryName::parse(&plan.repository)
        .map_err(|e| push_error(&plan.target(), e.to_string()))?;
    let tag = Tag::parse(&plan.tag).map_err(|e| push_error(&plan.target(), e.to_string()))?;
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
        Err(e) => {
            let cause = match &e {
                RegistryApiError::Unauthorized { .. } => {
                    status_message("POST", &plan.upload_url(), 401, None)
                }
                RegistryApiError::Denied { codes, .. } => status_message(
                    "PUT",
                    &plan.manifest_url(),
                    403,
                    Some(&envelope(codes)),
                ),
                RegistryApiError::TooManyRequests { .. } => status_message(
                    "POST",
                    &plan.upload_url(),
                    429,
                    Some(&envelope(&["TOOMANYREQUESTS".to_string()])),
                ),
                RegistryApiError::Server { status, codes, .. } => status_message(
                    "POST",
                    &plan.upload_url(),
                    *status,
                    (!codes.is_empty()).then(|| envelope(codes)).as_deref(),
                ),
                RegistryApiError::Unreachable { detail, .. } => format!(
                    "failed to do request: Head \"{}\": dial tcp {}: connect: connection refused ({detail})",
                    registry_url(&plan.host, &format!("{}/blobs/{}", plan.repository, plan.digest)),
                    plan.host
                ),
                RegistryApiError::Protocol { detail, .. } => detail.clone(),
            };
            Err(push_error(&plan.target(), cause))
        }
    }
}

/// A distribution-spec error envelope with these codes.
fn envelope(codes: &[String]) -> String {
    let errors: Vec<Value> = codes
        .iter()
        .map(|c| serde_json::json!({"code": c, "message": c.to_lowercase().replace('_', " ")}))
        .collect();
    serde_json::json!({ "errors": errors }).to_string()
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
