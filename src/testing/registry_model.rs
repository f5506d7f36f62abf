//! The registry model behind `publish` and `from`, and the session's registry credentials.
//!
//! Rules followed (cited where they apply):
//! - upstream dagger `core/schema/container.go` (withRegistryAuth / withoutRegistryAuth) and
//!   `auth/registry.go`: credentials belong to the session, keyed by the address's host.
//! - containerd `remotes/errors/errors.go` (`ErrUnexpectedStatus.Error`): a registry status is
//!   reported as `unexpected status from <METHOD> request to <URL>: <code> <reason>`, followed by
//!   `: <body>` when the registry sent one; `remotes/docker/pusher.go` issues the requests
//!   (`HEAD`/`PUT` of manifests, `POST`/`PUT` of blob uploads).
//! - zot's access control (DAGGER-NOTES.md): `create` without `update` cannot overwrite a tag.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

use serde_json::Value;

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
#[derive(Debug, Clone)]
pub(crate) struct RegistryState {
    pub allow_anonymous_push: bool,
    pub accounts: HashMap<String, (String, AccountRights)>,
    /// Tags and their digests, by repository.
    pub repositories: HashMap<String, BTreeMap<String, String>>,
    pub fail_next: VecDeque<PushFailure>,
    pub unreachable: bool,
}

impl Default for RegistryState {
    fn default() -> Self {
        Self {
            allow_anonymous_push: true,
            accounts: HashMap::new(),
            repositories: HashMap::new(),
            fail_next: VecDeque::new(),
            unreachable: false,
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
/// [`crate::registry::RegistryHost::parse`] (upstream `auth/registry.go`, `parseAuthAddress`).
pub(crate) fn auth_host(address: &str) -> Result<String, FieldError> {
    crate::registry::RegistryHost::parse(address)
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
/// The repository, tag and digest grammar is [`crate::registry::reference`]'s.
pub(crate) fn parse_address(address: &str) -> Result<ImageAddress, FieldError> {
    use crate::registry::{Digest, RepositoryName, Tag};
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
/// digest (`imageRef` answers `ref@digest`); other refs are public images and succeed.
pub(crate) fn resolve_from(ctx: &Ctx, address: &str) -> Result<Option<String>, FieldError> {
    let a = parse_address(address)?;
    let mut state = ctx.state();
    let Some(reg) = state.registries.get_mut(&a.host) else {
        return Ok(None);
    };
    if reg.unreachable {
        return Err(FieldError::new(unreachable_message(
            "HEAD",
            &a.host,
            &format!(
                "{}/manifests/{}",
                a.repository,
                a.tag.as_deref().unwrap_or("latest")
            ),
        )));
    }
    let tag = a.tag.clone().unwrap_or_else(|| "latest".into());
    Ok(reg
        .repositories
        .get(&a.repository)
        .and_then(|tags| tags.get(&tag))
        .map(|digest| format!("{}/{}:{tag}@{digest}", a.host, a.repository)))
}

fn unreachable_message(method: &str, host: &str, path: &str) -> String {
    let hostname = host.split(':').next().unwrap_or(host);
    format!(
        "failed to do request: {} \"https://{host}/v2/{path}\": dial tcp: lookup {hostname}: no such host",
        title_method(method)
    )
}

fn title_method(method: &str) -> String {
    let mut out = String::new();
    for (i, c) in method.chars().enumerate() {
        if i == 0 {
            out.push(c);
        } else {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// containerd's `ErrUnexpectedStatus` wording.
fn status_message(method: &str, host: &str, path: &str, status: u16, body: Option<&str>) -> String {
    let reason = match status {
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    };
    let mut msg = format!(
        "failed to push {host}/{}: unexpected status from {method} request to https://{host}/v2/{path}: {status} {reason}",
        path.split("/blobs/").next().unwrap_or(path).split("/manifests/").next().unwrap_or(path)
    )
    .trim_end()
    .to_string();
    if let Some(body) = body {
        msg.push_str(": ");
        msg.push_str(body);
    }
    msg
}

/// `publish(address, platformVariants, ...)`.
pub(crate) fn publish(ctx: &Ctx, parent: &Obj, args: &Args) -> Result<Out, FieldError> {
    let address = args.str("address")?.to_string();
    let target = parse_address(&address)?;
    if target.digest.is_some() {
        return Err(FieldError::new(format!(
            "cannot publish to {address:?}: a digest reference cannot be pushed to; give a tag"
        )));
    }
    let container = eval_container(ctx, parent)?;
    let mut variants: Vec<ContainerState> = Vec::new();
    for id in super::schema::id_values(args.get("platformVariants")) {
        variants.push(eval_container(ctx, &Obj::decode(id)?)?);
    }
    let digest = container.build_digest(&variants);
    let tag = target.tag.clone().unwrap_or_else(|| "latest".into());
    let repo = target.repository.clone();
    let host = target.host.clone();
    let blob_path = format!("{repo}/blobs/uploads/");
    let manifest_path = format!("{repo}/manifests/{tag}");

    let credential = ctx.state().auth.get(&host).cloned();
    let password = match &credential {
        Some(c) => match ctx.eval_id(&c.secret_id)? {
            State::Secret(s) => Some(s.plaintext(ctx)?),
            _ => None,
        },
        None => None,
    };

    let mut state = ctx.state();
    let reg = state.registry(&host);
    if reg.unreachable {
        return Err(FieldError::new(format!(
            "failed to push {host}/{repo}:{tag}: {}",
            unreachable_message("HEAD", &host, &format!("{repo}/blobs/{digest}"))
        )));
    }
    if let Some(failure) = reg.fail_next.pop_front() {
        return Err(FieldError::new(match failure {
            PushFailure::Status(code) => {
                let body = (code == 429).then_some(
                    r#"{"errors":[{"code":"TOOMANYREQUESTS","message":"too many requests"}]}"#,
                );
                status_message("POST", &host, &blob_path, code, body)
            }
            PushFailure::ConnectionReset => format!(
                "failed to push {host}/{repo}:{tag}: failed to do request: Put \"https://{host}/v2/{manifest_path}\": read tcp 10.0.0.2:41234->{host}: read: connection reset by peer"
            ),
        }));
    }
    let unauthorized =
        r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#;
    let rights = match (&credential, &password) {
        (Some(c), Some(pw)) => match reg.accounts.get(&c.username) {
            Some((expected, rights)) if expected == pw => Some(*rights),
            _ => {
                return Err(FieldError::new(status_message(
                    "POST",
                    &host,
                    &blob_path,
                    401,
                    Some(unauthorized),
                )))
            }
        },
        _ if reg.allow_anonymous_push => None,
        _ => {
            return Err(FieldError::new(status_message(
                "POST",
                &host,
                &blob_path,
                401,
                Some(unauthorized),
            )))
        }
    };
    let tags = reg.repositories.entry(repo.clone()).or_default();
    if tags.contains_key(&tag) && rights == Some(AccountRights::CreateOnly) {
        return Err(FieldError::new(status_message(
            "PUT",
            &host,
            &manifest_path,
            403,
            Some(
                r#"{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}"#,
            ),
        )));
    }
    tags.insert(tag.clone(), digest.clone());
    let reference = format!("{address}@{digest}");
    let record = PublishRecord {
        address: address.clone(),
        reference: reference.clone(),
        host: host.clone(),
        auth: credential.map(|c| AuthUse {
            host: host.clone(),
            username: c.username,
            secret_name: c.secret_name,
        }),
        container: container.description(),
        platform_variants: variants.len(),
    };
    state.published.push(record);
    Ok(Out::Value(Value::from(reference)))
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
        let a = parse_address("registry.ops.eblu.me/blumeops/x:v1-abc").unwrap();
        assert_eq!(a.host, "registry.ops.eblu.me");
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
