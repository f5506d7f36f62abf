//! The module's functions, on arguments that arrived parsed: one build and one publish, with
//! errors mapped to messages a person can act on.

use std::fmt::Display;

use dagger_sdk::{Container, Directory, File, Id, Secret};

use super::{Blumeops, Published};
use crate::pipeline::nix::{archive_version, nix_tags, VERSION_LABEL};
use crate::pipeline::{
    container_listing, validate_container_name, BuildOptions, BuiltContainer, CatalogError,
    ListError, ListingError, MainHistory, Provenance, TargetPlatform, CONTAINERS_DIR,
};
use crate::release::{check_version, release_tag, CommitSha, Created, Version};
use dagger_engine::registry::{repository, AddressError, RepositoryName, Tag};
use dagger_module_runtime::{cli_flag, CallContext, FunctionError, IdOf};
use dagger_publish::{
    AuthError, ExistingTagPolicy, PublishError, PublishRequest, Publisher, RegistryAuth,
};

/// A bad argument value: the flag, then the rule it broke.
fn invalid(arg: &str, err: impl Display) -> FunctionError {
    FunctionError::InvalidArgument(format!("{}: {err}", cli_flag(arg)))
}

fn failed(err: impl Display) -> FunctionError {
    FunctionError::Failed(err.to_string())
}

/// A catalog error: a bad or unknown name is the caller's to fix (exit code 2), the rest is a
/// failure (exit code 1).
fn catalog_error(err: CatalogError) -> FunctionError {
    match err {
        CatalogError::InvalidName { .. } | CatalogError::UnknownContainer { .. } => {
            FunctionError::InvalidArgument(err.to_string())
        }
        // Build steps, smoke checks, Dockerfile ARGs, the engine: failures (exit code 1).
        other => failed(other),
    }
}

fn container_name(name: String) -> Result<String, FunctionError> {
    validate_container_name(&name).map_err(catalog_error)?;
    Ok(name)
}

/// A platform of a multi-platform image: `os/arch` or `os/arch/variant`, each part lowercase
/// letters, digits or `_` (`linux/amd64`, `linux/arm/v7`); the rule is
/// [`TargetPlatform::parse`]'s.
pub fn parse_platform(input: &str) -> Result<String, String> {
    TargetPlatform::parse(input)
        .map(|p| p.to_string())
        .map_err(|e| e.to_string())
}

/// `--platforms`: none twice (one image per platform).
fn platforms(given: Option<Vec<TargetPlatform>>) -> Result<Vec<TargetPlatform>, FunctionError> {
    let mut platforms: Vec<TargetPlatform> = Vec::new();
    for platform in given.unwrap_or_default() {
        if platforms.contains(&platform) {
            return Err(invalid(
                "platforms",
                format!("platform {platform} is given twice; each platform is built once"),
            ));
        }
        platforms.push(platform);
    }
    Ok(platforms)
}

/// What a publishing function releases: the version, the commit, the tags and what to do
/// when one exists.
pub(super) struct Release {
    version: Version,
    sha: CommitSha,
    extra_tags: Vec<Tag>,
    policy: ExistingTagPolicy,
}

impl Release {
    pub(super) fn new(
        version: Version,
        sha: CommitSha,
        extra_tags: Option<Vec<Tag>>,
        policy: ExistingTagPolicy,
    ) -> Self {
        Self {
            version,
            sha,
            extra_tags: extra_tags.unwrap_or_default(),
            policy,
        }
    }

    /// `<version>-<sha7>` followed by the extra tags.
    fn tags(&self) -> Vec<Tag> {
        let mut tags = vec![release_tag(&self.version, &self.sha)];
        tags.extend(self.extra_tags.iter().cloned());
        tags
    }
}

/// Where to publish or list: the registry, the user, the password (by ID) and the namespace.
pub(super) struct Registry {
    registry: String,
    username: String,
    password: Option<IdOf<Secret>>,
    namespace: String,
}

impl Registry {
    pub(super) fn new(
        registry: String,
        username: String,
        password: Option<IdOf<Secret>>,
        namespace: String,
    ) -> Self {
        Self {
            registry,
            username,
            password,
            namespace,
        }
    }

    /// The credentials. The password is passed on by ID: the engine applies it; nothing is
    /// read here.
    fn auth(&self) -> Result<RegistryAuth, FunctionError> {
        if self.username.trim().is_empty() {
            return Err(invalid(
                "registry_username",
                "the user name must not be empty",
            ));
        }
        Ok(RegistryAuth::new(&self.registry, &self.username)
            .map_err(auth_error)?
            .with_optional_password(self.password.clone().map(IdOf::into_id)))
    }
}

/// Where to publish: the registry address, the repository and the credentials.
struct Target {
    registry: String,
    repository: RepositoryName,
    auth: RegistryAuth,
}

/// Credentials that cannot be built, named by the flag that broke its rule.
fn auth_error(err: AuthError) -> FunctionError {
    match err {
        AuthError::Username { .. } => invalid("registry_username", err),
        AuthError::Address(_) => invalid("registry", err),
    }
}

fn target(registry: &Registry, name: &str) -> Result<Target, FunctionError> {
    let auth = registry.auth()?;
    let repository = repository(&registry.namespace, name).map_err(|e| invalid("namespace", e))?;
    Ok(Target {
        registry: registry.registry.clone(),
        repository,
        auth,
    })
}

fn request(
    target: Target,
    tags: Vec<Tag>,
    policy: ExistingTagPolicy,
) -> Result<PublishRequest, FunctionError> {
    PublishRequest::new(&target.registry, target.repository, tags)
        .and_then(|r| r.with_auth(target.auth))
        .map(|r| r.with_policy(policy))
        .map_err(|e| match e {
            // A path after the host: the namespace has a flag of its own.
            PublishError::Address(AddressError::NotJustAHost { .. }) => {
                invalid("registry", format!("{e} (here: --namespace)"))
            }
            PublishError::Address(_) => invalid("registry", e),
            other => FunctionError::InvalidArgument(other.to_string()),
        })
}

/// A publish failure explained: a failed command by its build step, an engine failure of a
/// build by the catalog (unknown container, ...), the rest as the publisher words it.
async fn publish_failure(
    module: &Blumeops,
    src: Option<&Directory>,
    built: Option<&BuiltContainer>,
    err: PublishError,
) -> FunctionError {
    match (&err, built, src) {
        (PublishError::BuildFailed { exec, .. }, Some(built), _) => {
            failed(built.steps.explain(exec))
        }
        (PublishError::Engine(q), Some(built), Some(src)) => {
            match module.catalog.classify_failure(src, built, q).await {
                // Not a build step nor an unknown container: the publish's own wording
                // ("the Dagger engine failed during publish: ...") says more than "the build".
                CatalogError::Engine { .. } => failed(err),
                known => catalog_error(known),
            }
        }
        _ => failed(err),
    }
}

/// `publish`: check `--version` against the version the container pins, build through the
/// catalog (one image per platform, with provenance labels), run the smoke check, publish every
/// tag in one request; everything it did comes back.
#[allow(clippy::too_many_arguments)]
pub(super) async fn publish(
    module: &Blumeops,
    ctx: &CallContext,
    src: Directory,
    name: String,
    release: Release,
    registry: Registry,
    platforms_given: Option<Vec<TargetPlatform>>,
    created: Created,
) -> Result<Published, FunctionError> {
    let name = container_name(name)?;
    let target = target(&registry, &name)?;
    let platforms = platforms(platforms_given)?;
    let request = request(target, release.tags(), release.policy)?;
    let Release { version, sha, .. } = release;

    let dag = ctx.query();
    let options = BuildOptions {
        platforms,
        provenance: Some(Provenance {
            version: version.to_string(),
            revision: sha.to_string(),
            created,
        }),
    };
    // A native pipeline's version is in the code: the guard costs nothing, so a refused version
    // sends nothing. A Dockerfile's is read from the source, beside the existing-tag check.
    let native = module.catalog.native(&name).is_some();
    if native {
        guard_version(module, &src, &name, &version).await?;
    }
    // Everything that must succeed before the push (the guard's read, the build's description,
    // the smoke check) runs beside the existing-tag check: two requests in flight together,
    // one round trip's wait. Their errors come first: they say the image is wrong.
    let ready = async {
        if !native {
            guard_version(module, &src, &name, &version).await?;
        }
        let built = module
            .catalog
            .build_with(&dag, &src, &name, &options)
            .map_err(catalog_error)?;
        // The smoke check; the images come back unchanged, loaded by ID.
        module
            .catalog
            .smoke_check(ctx.client(), &src, built)
            .await
            .map_err(catalog_error)
    };
    let publisher = Publisher::new(ctx.client().clone());
    let (built, check) = tokio::join!(ready, publisher.check(&request));
    let built = built?;
    let request = request.with_platform_variants(built.variants.clone());
    let pushed = async {
        publisher
            .publish_checked(&built.container, &request, check?)
            .await
    }
    .await;
    match pushed {
        Ok(report) => Ok(Published {
            report,
            image: built.container,
            variants: built.variants,
        }),
        Err(err) => Err(publish_failure(module, Some(&src), Some(&built), err).await),
    }
}

/// The version guard: `--version` must be the version the container pins (its native
/// pipeline's, or its Dockerfile's `ARG CONTAINER_APP_VERSION`, one read).
async fn guard_version(
    module: &Blumeops,
    src: &Directory,
    name: &str,
    version: &Version,
) -> Result<(), FunctionError> {
    if let Some(pinned) = module
        .catalog
        .pinned_version(src, name)
        .await
        .map_err(catalog_error)?
    {
        check_version(name, version.as_str(), &pinned.version, &pinned.pinned_by)
            .map_err(|e| invalid("version", e))?;
    }
    Ok(())
}

/// `build`: the container, evaluated (`sync`) so that a failed step is reported here with its
/// command and stderr; its ID comes back in that same round trip.
pub(super) async fn build(
    module: &Blumeops,
    ctx: &CallContext,
    src: Directory,
    name: &str,
) -> Result<IdOf<Container>, FunctionError> {
    validate_container_name(name).map_err(catalog_error)?;
    let dag = ctx.query();
    let built = module
        .catalog
        .build(&dag, &src, name)
        .map_err(catalog_error)?;
    let sync = built.container.selection.select("sync");
    match sync
        .execute::<Id>(built.container.graphql_client.clone())
        .await
    {
        Ok(id) => Ok(IdOf::new(id)),
        Err(err) => Err(catalog_error(
            module
                .catalog
                .classify_sdk_failure(&src, &built, &err)
                .await,
        )),
    }
}

/// `container_version`: a native pipeline's version without any engine round trip, or the
/// Dockerfile's `ARG CONTAINER_APP_VERSION`.
pub(super) async fn container_version(
    module: &Blumeops,
    ctx: &CallContext,
    src: Option<Directory>,
    name: &str,
) -> Result<String, FunctionError> {
    validate_container_name(name).map_err(catalog_error)?;
    let src = match src {
        Some(src) => src,
        // Natives need no source; an empty directory stands in, unread.
        None if module.catalog.native(name).is_some() => ctx.query().directory(),
        None => {
            return Err(invalid(
                "src",
                format!(
                    "container {name:?} is not a native pipeline; its version is in \
                     {CONTAINERS_DIR}/{name}/Dockerfile, so pass the repository with --src"
                ),
            ))
        }
    };
    module
        .catalog
        .container_version(&src, name)
        .await
        .map_err(catalog_error)
}

/// `container_list`: one line per container, `name: tag tag ...` (or `name: (none)`).
pub(super) async fn container_list(
    module: &Blumeops,
    ctx: &CallContext,
    src: Option<Directory>,
    names: Vec<String>,
    registry: Registry,
    main_commits: Option<Vec<String>>,
) -> Result<String, FunctionError> {
    // The registry client inside the engine gets the password from a mounted secret.
    let auth = registry.auth()?;
    for name in &names {
        validate_container_name(name).map_err(catalog_error)?;
    }
    // Where each tag's commit is: the main branch's commits when given (the main job reads
    // them from the local clone), else unknown (the module's source has no .git).
    let history = match main_commits {
        Some(commits) => MainHistory::from_rev_list(&commits.join("\n"))
            .map_err(|e| invalid("main_commits", e))?,
        None => MainHistory::unknown(),
    };
    let src = src.unwrap_or_else(|| ctx.query().directory());
    let listing = container_listing(
        ctx.client(),
        &module.catalog,
        &src,
        &auth,
        &registry.namespace,
        &names,
        &history,
    )
    .await
    .map_err(|e| match e {
        ListingError::List(ListError::Name(e)) => catalog_error(e),
        ListingError::List(e @ ListError::Repository { .. }) => invalid("namespace", e),
        other => failed(other),
    })?;
    Ok(listing.to_string().trim_end().to_string())
}

/// `publish_nix`: the `docker-archive` imported into the engine and published under the `-nix`
/// tags, through the same publisher (auth, policy, errors) as `publish`.
pub(super) async fn publish_nix(
    module: &Blumeops,
    ctx: &CallContext,
    archive: IdOf<File>,
    name: String,
    release: Release,
    registry: Registry,
) -> Result<Published, FunctionError> {
    let name = container_name(name)?;
    let tags = nix_tags(&release.tags()).map_err(|e| invalid("version", e))?;
    let target = target(&registry, &name)?;
    let request = request(target, tags, release.policy)?;
    let version = release.version;
    let archive = archive.into_id();
    // The version guard, against the archive's own version label when it has one; its read
    // runs beside the existing-tag check (one round trip's wait), and its error comes first.
    let guard = async {
        let label = archive_version(ctx.client(), &archive).await.map_err(|e| {
            failed(format!(
                "reading the archive's {VERSION_LABEL} label failed: {e}"
            ))
        })?;
        if let Some(label) = label {
            check_version(
                &name,
                version.as_str(),
                &label,
                &format!("the archive's {VERSION_LABEL} label"),
            )
            .map_err(|e| invalid("version", e))?;
        }
        Ok::<(), FunctionError>(())
    };
    let publisher = Publisher::new(ctx.client().clone());
    let (guarded, check) = tokio::join!(guard, publisher.check(&request));
    guarded?;
    // `pipeline::nix::nix_image` with the archive's ID rather than a `File`, so that
    // `dagger-sdk` does not spend a round trip resolving the File's ID again.
    let image = ctx.query().container().import(archive);
    let pushed = async { publisher.publish_checked(&image, &request, check?).await }.await;
    match pushed {
        Ok(report) => Ok(Published {
            report,
            image,
            variants: Vec::new(),
        }),
        Err(err) => Err(publish_failure(module, None, None, err).await),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platforms() {
        for ok in ["linux/amd64", "linux/arm64", "linux/arm/v7"] {
            assert_eq!(parse_platform(ok).as_deref(), Ok(ok));
        }
        for bad in [
            "linux",
            "Linux/amd64",
            "linux//amd64",
            "linux/amd64/v8/x",
            "",
        ] {
            assert!(
                parse_platform(bad).unwrap_err().contains("os/arch"),
                "{bad}"
            );
        }
    }
}
