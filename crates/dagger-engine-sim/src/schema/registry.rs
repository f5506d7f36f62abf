//! The registry resolvers: `from`'s tag resolution, `publish`, and the session's registry
//! credentials (`withRegistryAuth`), on the registry model (`registry_model.rs`).
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

use std::sync::Arc;

use serde_json::Value;

use super::super::describe::ContainerDescription;
use super::super::ids::Obj;
use super::super::image_address::parse_address;
use super::super::registry_backend::{BackendCredentials, BackendError, RegistryBackend};
use super::super::registry_model::{
    body_codes, public_digest, registry_url, status_message, transient, unreachable_message,
    AccountRights, PushFailure,
};
use super::super::state::SessionCredential;
use super::super::{AuthUse, PublishRecord};
use super::container::{eval_container, ContainerState};
use super::{Args, Ctx, FieldError, Out, State};

/// The host an address's credentials belong to: the engine's rule, kept in one place by
/// [`dagger_engine::registry::RegistryHost::parse`] (upstream `auth/registry.go`, `parseAuthAddress`).
pub(crate) fn auth_host(address: &str) -> Result<String, FieldError> {
    dagger_engine::registry::RegistryHost::parse(address)
        .map(|h| h.as_str().to_string())
        .map_err(|e| FieldError::new(e.to_string()))
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

/// The session's credential for `host` with its password, read from the engine's secrets.
fn session_credential(
    ctx: &Ctx,
    host: &str,
) -> Result<Option<(SessionCredential, String)>, FieldError> {
    let credential = ctx.state().auth.get(host).cloned();
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
        super::go_quote(name),
        super::go_quote(platform)
    ))
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
) -> Result<Option<Arc<dyn RegistryBackend>>, FieldError> {
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
    backend: Arc<dyn RegistryBackend>,
    address: String,
    platform: String,
) -> Result<(), FieldError> {
    use dagger_engine::registry::{RepositoryName, Tag};
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
    let credentials = session_credential(&ctx, &r.host)?.map(|(c, password)| BackendCredentials {
        username: c.username,
        password: password.into(),
    });
    let fail = |cause: String| resolve_error(&r.name, &platform, cause);
    let repository = RepositoryName::parse(&r.repository).map_err(|e| fail(e.to_string()))?;
    let tag = Tag::parse(&r.tag).map_err(|e| fail(e.to_string()))?;
    let url = r.manifest_url();
    match backend.manifest_digest(credentials, &repository, &tag).await {
        Ok(Some(digest)) => {
            ctx.state()
                .resolved
                .insert(r.name.clone(), digest.to_string());
            Ok(())
        }
        Ok(None) => Err(fail(format!("{}: not found", r.name))),
        Err(e) => Err(fail(match e {
            BackendError::Unauthorized => status_message("HEAD", &url, 401, &[]),
            BackendError::Denied { .. } => status_message("HEAD", &url, 403, &[]),
            BackendError::TooManyRequests => status_message("HEAD", &url, 429, &[]),
            BackendError::Server { status, .. } => status_message("HEAD", &url, status, &[]),
            BackendError::Unreachable { detail } => format!(
                "failed to do request: Head \"{url}\": dial tcp {}: connect: connection refused ({detail})",
                r.host
            ),
            BackendError::Protocol { detail } => detail,
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
    // upstream engine/server/resolver/resolver.go (withRegistryHostAuthorizers) resolves
    // through containerd's docker.NewDockerAuthorizer (core/remotes/docker/authorizer.go),
    // which sends credentials only once the registry challenges a request (401 with
    // WWW-Authenticate). A registry that allows anonymous pulls never challenges the HEAD of a
    // manifest: the session's credential, right or wrong, is not sent and not checked.
    let allowed = anonymous_pull
        || match session_credential(ctx, &r.host)? {
            Some((c, password)) => accounts
                .get(&c.username)
                .is_some_and(|(expected, _)| *expected == password),
            None => false,
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
                host: self.host.clone(),
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
        // The pushed image's config and manifest annotations, for `from` of this digest.
        state.image_configs.insert(
            digest.to_string(),
            super::image_config::ImageConfig::of(&self.container),
        );
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
    for id in super::id_values(args.get("platformVariants")) {
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
                PushFailure::Status(_) | PushFailure::Timeout => transient(
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
    if let Some(backend) = backend {
        return Ok(Out::Later(Box::pin(push_for_real(
            Ctx {
                shared: ctx.shared.clone(),
            },
            backend,
            plan,
            address,
        ))));
    }

    {
        let mut state = ctx.state();
        let reg = state.registry(&plan.host);
        let bodies = reg.error_bodies;
        // A wrong or missing credential is refused at the first request the registry
        // challenges (containerd sends the credential only then,
        // core/remotes/docker/authorizer.go): the HEAD of a blob, or, where anonymous pulls are
        // allowed, the upload's POST.
        let refused = || {
            FieldError::new(if reg.allow_anonymous_pull {
                status_message(
                    "POST",
                    &plan.upload_url(),
                    401,
                    &body_codes(bodies, "UNAUTHORIZED"),
                )
            } else {
                status_message("HEAD", &plan.blob_url(), 401, &[])
            })
        };
        let rights = match (&plan.credential, &plan.password) {
            (Some(c), Some(pw)) => match reg.accounts.get(&c.username) {
                Some((expected, rights)) if expected == pw => Some(*rights),
                _ => return Err(refused()),
            },
            _ if reg.allow_anonymous_push => None,
            _ => return Err(refused()),
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

/// A push to a real registry: a small deterministic OCI image (config = the build description,
/// one layer = the build steps), with the session's credentials for the host.
async fn push_for_real(
    ctx: Ctx,
    backend: Arc<dyn RegistryBackend>,
    plan: PushPlan,
    address: String,
) -> Result<Out, FieldError> {
    use dagger_engine::registry::{RepositoryName, Tag};
    let repository =
        RepositoryName::parse(&plan.repository).map_err(|e| FieldError::new(e.to_string()))?;
    let tag = Tag::parse(&plan.tag).map_err(|e| FieldError::new(e.to_string()))?;
    let credentials = match (&plan.credential, &plan.password) {
        (Some(c), Some(pw)) => Some(BackendCredentials {
            username: c.username.clone(),
            password: pw.clone().into(),
        }),
        _ => None,
    };
    // An image pulled by digest from this repository and pushed unchanged: the manifest is
    // stored again under the tag (the assumption of `ContainerState::build_digest`).
    let retag = plan
        .variants
        .is_empty()
        .then(|| plan.container.retag_source())
        .flatten()
        .and_then(|address| parse_address(address).ok())
        .filter(|a| a.host == plan.host && a.repository == plan.repository)
        .and_then(|a| a.digest)
        .and_then(|d| dagger_engine::registry::Digest::parse(&d).ok());
    if let Some(digest) = retag {
        return match backend
            .tag_manifest(credentials, &repository, &digest, &tag)
            .await
        {
            Ok(digest) => Ok(Out::Value(Value::from(plan.record(
                &ctx,
                address,
                digest.as_str(),
            )))),
            Err(e) => Err(backend_failure(&plan, &e)),
        };
    }
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
    match backend
        .push_image(credentials, &repository, &tag, config, vec![layer])
        .await
    {
        Ok(digest) => Ok(Out::Value(Value::from(plan.record(
            &ctx,
            address,
            digest.as_str(),
        )))),
        Err(e) => Err(backend_failure(&plan, &e)),
    }
}

/// A real registry's refusal of a push, worded as the engine (containerd) words it.
fn backend_failure(plan: &PushPlan, e: &BackendError) -> FieldError {
    match e {
        BackendError::Unauthorized => {
            FieldError::new(status_message("HEAD", &plan.blob_url(), 401, &[]))
        }
        BackendError::Denied { codes } => {
            let codes: Vec<&str> = codes.iter().map(String::as_str).collect();
            plan.manifest_refused(status_message("PUT", &plan.manifest_url(), 403, &codes))
        }
        BackendError::TooManyRequests => FieldError::new(status_message(
            "POST",
            &plan.upload_url(),
            429,
            &["TOOMANYREQUESTS"],
        )),
        BackendError::Server { status, codes } => {
            let codes: Vec<&str> = codes.iter().map(String::as_str).collect();
            FieldError::new(status_message("POST", &plan.upload_url(), *status, &codes))
        }
        BackendError::Unreachable { detail } => FieldError::new(format!(
            "failed to do request: Head \"{}\": dial tcp {}: connect: connection refused ({detail})",
            plan.blob_url(),
            plan.host
        )),
        BackendError::Protocol { detail } => FieldError::new(detail.clone()),
    }
}

impl From<crate::image_address::InvalidImageAddress> for FieldError {
    fn from(e: crate::image_address::InvalidImageAddress) -> Self {
        FieldError::new(e.to_string())
    }
}
