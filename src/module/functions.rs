//! The module's functions: arguments checked first, then one build and one publish, with errors
//! mapped to messages a person can act on.

use std::fmt::Display;
use std::str::FromStr;

use dagger_sdk::{Directory, DirectoryDockerBuildOpts, Id, Platform, Secret};

use super::Blumeops;
use crate::pipeline::nix::nix_tags;
use crate::pipeline::{
    container_list as list_tags, validate_container_name, BuiltContainer, CatalogError, ListError,
    CONTAINERS_DIR,
};
use crate::release::{release_tag, CommitSha, VPrefix, Version};
use dagger_engine::query_error_from_sdk;
use dagger_engine::registry::{repository, RegistryHost, RepositoryName, Tag};
use dagger_module_runtime::{cli_flag, Args, CallContext, FunctionError, FunctionResult};
use dagger_publish::{ExistingTagPolicy, PublishError, PublishRequest, Publisher, RegistryAuth};
use oci_registry_api::{RegistryApi, RegistryCredentials};

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
        other => failed(other),
    }
}

fn container_name(args: &Args) -> Result<String, FunctionError> {
    let name = args.string("container_name")?;
    validate_container_name(&name).map_err(catalog_error)?;
    Ok(name)
}

/// A platform of a multi-platform image: `os/arch` or `os/arch/variant`, each part lowercase
/// letters, digits or `_` (`linux/amd64`, `linux/arm/v7`).
pub fn parse_platform(input: &str) -> Result<String, String> {
    let parts: Vec<&str> = input.split('/').collect();
    let part_ok = |p: &&str| {
        !p.is_empty()
            && p.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    };
    if (2..=3).contains(&parts.len()) && parts.iter().all(part_ok) {
        Ok(input.to_string())
    } else {
        Err(format!(
            "platform {input:?} must be os/arch or os/arch/variant in lowercase (linux/amd64, \
             linux/arm/v7)"
        ))
    }
}

/// `<version>-<sha7>` followed by the extra tags, each checked against the tag grammar.
fn release_tags(args: &Args) -> Result<Vec<Tag>, FunctionError> {
    let version = Version::parse(&args.string("version")?, VPrefix::Keep)
        .map_err(|e| invalid("version", e))?;
    let sha =
        CommitSha::parse(&args.string("commit_sha")?).map_err(|e| invalid("commit_sha", e))?;
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
    let auth = RegistryAuth::new(&registry, username(args)?)
        .map_err(|e| invalid("registry", e))?
        // Passed on by ID: the engine applies it; nothing is read here.
        .with_optional_password(args.optional_id("registry_password")?.map(Into::into));
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
        .map_err(|e| FunctionError::InvalidArgument(e.to_string()))
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
        (PublishError::BuildFailed { exec }, Some(built), _) => failed(built.steps.explain(exec)),
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

/// `publish`: build through the catalog, publish every tag in one request, return the first
/// tag's reference with its digest.
pub(super) async fn publish(
    module: &Blumeops,
    ctx: &CallContext,
    args: &Args,
) -> Result<FunctionResult, FunctionError> {
    let name = container_name(args)?;
    let tags = release_tags(args)?;
    let target = target(args, &name)?;
    let policy = policy(args)?;
    let platforms = args
        .string_list("platforms")?
        .iter()
        .map(|p| parse_platform(p).map_err(|e| invalid("platforms", e)))
        .collect::<Result<Vec<_>, _>>()?;
    if !platforms.is_empty() && module.catalog.native(&name).is_some() {
        return Err(invalid(
            "platforms",
            format!(
                "container {name:?} is built by a native pipeline, which builds for the \
                 engine's platform only; leave --platforms out"
            ),
        ));
    }
    let mut request = request(target, tags, policy)?;

    let dag = ctx.query();
    let src: Directory = args.object(&dag, "src")?;
    let mut built = module
        .catalog
        .build(&dag, &src, &name)
        .map_err(catalog_error)?;
    if !platforms.is_empty() {
        // Dockerfile containers only (checked above): one build per platform, published
        // together as one multi-platform image.
        let context = src.directory(format!("{CONTAINERS_DIR}/{name}"));
        let mut builds: Vec<dagger_sdk::Container> = platforms
            .iter()
            .map(|platform| {
                context.docker_build_opts(DirectoryDockerBuildOpts {
                    build_args: None,
                    dockerfile: None,
                    no_init: None,
                    platform: Some(Platform(platform.clone())),
                    secrets: None,
                    ssh: None,
                    target: None,
                })
            })
            .collect();
        built.container = builds.remove(0);
        request = request.with_platform_variants(builds);
    }
    let publisher = Publisher::new(ctx.client().clone());
    match publisher.publish(&built.container, &request).await {
        Ok(report) => Ok(FunctionResult::string(report.primary().to_string())),
        Err(err) => Err(publish_failure(module, Some(&src), Some(&built), err).await),
    }
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
    let host = RegistryHost::parse(&registry).map_err(|e| invalid("registry", e))?;
    let username = username(args)?;
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
    let credentials = match args.optional_id("registry_password")? {
        None => None,
        Some(id) => {
            // The registry's tags list is asked directly, so the password is needed here; it
            // stays in memory only and goes to this registry host only.
            let plaintext = dag.r#ref::<Secret>(id).plaintext().await.map_err(|e| {
                failed(format!(
                    "reading --registry-password failed: {}",
                    query_error_from_sdk(&e)
                ))
            })?;
            Some(RegistryCredentials::new(username, plaintext))
        }
    };
    let api = RegistryApi::new(host, credentials);
    let listed = list_tags(&api, &namespace, &names)
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
    let name = container_name(args)?;
    let tags = nix_tags(&release_tags(args)?).map_err(|e| invalid("version", e))?;
    let target = target(args, &name)?;
    let request = request(target, tags, policy(args)?)?;
    // `pipeline::nix::nix_image` with the archive's ID rather than a `File`, so that
    // `dagger-sdk` does not spend a round trip resolving the File's ID again.
    let image = ctx.query().container().import(args.id("archive")?);
    let publisher = Publisher::new(ctx.client().clone());
    match publisher.publish(&image, &request).await {
        Ok(report) => Ok(FunctionResult::string(report.primary().to_string())),
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
