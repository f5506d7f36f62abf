//! The module's functions: arguments checked first, then one build and one publish, with errors
//! mapped to messages a person can act on.

use std::fmt::Display;
use std::str::FromStr;

use dagger_sdk::{Directory, Id};

use super::{Blumeops, Published};
use crate::pipeline::nix::{archive_version, nix_tags, VERSION_LABEL};
use crate::pipeline::{
    container_list as list_tags, validate_container_name, BuildOptions, BuiltContainer,
    CatalogError, ListError, Provenance, TargetPlatform, CONTAINERS_DIR,
};
use crate::release::{check_version, release_tag, CommitSha, Created, VPrefix, Version};
use dagger_engine::registry::{repository, AddressError, RepositoryName, Tag};
use dagger_module_runtime::{cli_flag, Args, CallContext, FunctionError, FunctionResult};
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

fn container_name(args: &Args) -> Result<String, FunctionError> {
    let name = args.string("container_name")?;
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

/// `--platforms`: each one parsed, none twice (one image per platform).
fn platforms(args: &Args) -> Result<Vec<TargetPlatform>, FunctionError> {
    let mut platforms: Vec<TargetPlatform> = Vec::new();
    for raw in args.string_list("platforms")? {
        let platform = TargetPlatform::parse(&raw).map_err(|e| invalid("platforms", e))?;
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

/// `--version` and `--commit-sha`, each checked.
fn release(args: &Args) -> Result<(Version, CommitSha), FunctionError> {
    let version = Version::parse(&args.string("version")?, VPrefix::Keep)
        .map_err(|e| invalid("version", e))?;
    let sha =
        CommitSha::parse(&args.string("commit_sha")?).map_err(|e| invalid("commit_sha", e))?;
    Ok((version, sha))
}

/// `<version>-<sha7>` followed by the extra tags, each checked against the tag grammar.
fn release_tags(args: &Args) -> Result<Vec<Tag>, FunctionError> {
    let (version, sha) = release(args)?;
    let mut tags = vec![release_tag(&version, &sha)];
    for extra in args.string_list("extra_tags")? {
        tags.push(Tag::parse(&extra).map_err(|e| invalid("extra_tags", e))?);
    }
    Ok(tags)
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

fn username(args: &Args) -> Result<String, FunctionError> {
    let username = args.string("registry_username")?;
    if username.trim().is_empty() {
        return Err(invalid(
            "registry_username",
            "the user name must not be empty",
        ));
    }
    Ok(username)
}

fn target(args: &Args, name: &str) -> Result<Target, FunctionError> {
    let registry = args.string("registry")?;
    let auth = RegistryAuth::new(&registry, &username(args)?)
        .map_err(auth_error)?
        // Passed on by ID: the engine applies it; nothing is read here.
        .with_optional_password(args.optional_id("registry_password")?);
    let namespace = args.string("namespace")?;
    let repository = repository(&namespace, name).map_err(|e| invalid("namespace", e))?;
    Ok(Target {
        registry,
        repository,
        auth,
    })
}

fn policy(args: &Args) -> Result<ExistingTagPolicy, FunctionError> {
    ExistingTagPolicy::from_str(&args.string("existing_tag_policy")?)
        .map_err(|e| invalid("existing_tag_policy", e))
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
/// tag in one request, return the first tag's reference with its digest.
pub(super) async fn publish(
    module: &Blumeops,
    ctx: &CallContext,
    args: &Args,
) -> Result<FunctionResult, FunctionError> {
    let published = publish_outcome(module, ctx, args).await?;
    Ok(FunctionResult::string(
        published.report.primary().to_string(),
    ))
}

/// `publish`, with everything it did: the report of every tag and the images published.
pub(super) async fn publish_outcome(
    module: &Blumeops,
    ctx: &CallContext,
    args: &Args,
) -> Result<Published, FunctionError> {
    let name = container_name(args)?;
    let (version, sha) = release(args)?;
    let tags = release_tags(args)?;
    let target = target(args, &name)?;
    let policy = policy(args)?;
    let platforms = platforms(args)?;
    let created = Created::parse(&args.string("created")?).map_err(|e| invalid("created", e))?;
    let request = request(target, tags, policy)?;

    let dag = ctx.query();
    let src: Directory = args.object(&dag, "src")?;
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
    args: &Args,
) -> Result<FunctionResult, FunctionError> {
    let name = container_name(args)?;
    let dag = ctx.query();
    let src: Directory = args.object(&dag, "src")?;
    let built = module
        .catalog
        .build(&dag, &src, &name)
        .map_err(catalog_error)?;
    let sync = built.container.selection.select("sync");
    match sync
        .execute::<Id>(built.container.graphql_client.clone())
        .await
    {
        Ok(id) => Ok(FunctionResult::Object(id)),
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
    args: &Args,
) -> Result<FunctionResult, FunctionError> {
    let name = container_name(args)?;
    let dag = ctx.query();
    let src: Option<Directory> = args.optional_object(&dag, "src")?;
    let src = match src {
        Some(src) => src,
        // Natives need no source; an empty directory stands in, unread.
        None if module.catalog.native(&name).is_some() => dag.directory(),
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
        .container_version(&src, &name)
        .await
        .map(FunctionResult::string)
        .map_err(catalog_error)
}

/// `container_list`: one line per container, `name: tag tag ...` (or `name: (none)`).
pub(super) async fn container_list(
    module: &Blumeops,
    ctx: &CallContext,
    args: &Args,
) -> Result<FunctionResult, FunctionError> {
    let registry = args.string("registry")?;
    // Passed on by ID: the registry client inside the engine gets it as a secret variable;
    // nothing is read here.
    let auth = RegistryAuth::new(&registry, &username(args)?)
        .map_err(auth_error)?
        .with_optional_password(args.optional_id("registry_password")?);
    let namespace = args.string("namespace")?;
    let mut names = args.string_list("container_names")?;
    for name in &names {
        validate_container_name(name).map_err(catalog_error)?;
    }
    let dag = ctx.query();
    if names.is_empty() {
        names = match args.optional_object::<Directory>(&dag, "src")? {
            Some(src) => module.catalog.known_containers(&src).await,
            None => module.catalog.native_names(),
        };
    }
    let listed = list_tags(ctx.client(), &auth, &namespace, &names)
        .await
        .map_err(|e| match e {
            ListError::Name(e) => catalog_error(e),
            ListError::Repository { .. } => invalid("namespace", e),
            other => failed(other),
        })?;
    let lines: Vec<String> = listed
        .into_iter()
        .map(|(name, tags)| {
            if tags.is_empty() {
                format!("{name}: (none)")
            } else {
                format!("{name}: {}", tags.join(" "))
            }
        })
        .collect();
    Ok(FunctionResult::string(lines.join("\n")))
}

/// `publish_nix`: the `docker-archive` imported into the engine and published under the `-nix`
/// tags, through the same publisher (auth, policy, errors) as `publish`.
pub(super) async fn publish_nix(
    module: &Blumeops,
    ctx: &CallContext,
    args: &Args,
) -> Result<FunctionResult, FunctionError> {
    let published = publish_nix_outcome(module, ctx, args).await?;
    Ok(FunctionResult::string(
        published.report.primary().to_string(),
    ))
}

/// `publish_nix`, with everything it did (see [`publish_outcome`]).
pub(super) async fn publish_nix_outcome(
    module: &Blumeops,
    ctx: &CallContext,
    args: &Args,
) -> Result<Published, FunctionError> {
    let name = container_name(args)?;
    let (version, _) = release(args)?;
    let tags = nix_tags(&release_tags(args)?).map_err(|e| invalid("version", e))?;
    let target = target(args, &name)?;
    let request = request(target, tags, policy(args)?)?;
    let archive = args.id("archive")?;
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
