//! The module's functions and arguments, as `dagger functions` and `dagger call --help` show them.

use serde_json::json;

use crate::defaults;
use dagger_module_runtime::{ArgDef, CachePolicy, FunctionDef, ModuleDef, ObjectDef, TypeRef};
use dagger_publish::ExistingTagPolicy;

/// The module's name (`dagger.json`).
pub const MODULE_NAME: &str = "blumeops";

/// The registry published to when `--registry` is not given.
pub const DEFAULT_REGISTRY: &str = defaults::REGISTRY;

/// The repository namespace when `--namespace` is not given.
pub const DEFAULT_NAMESPACE: &str = defaults::NAMESPACE;

/// The existing-tag policy when `--existing-tag-policy` is not given.
pub const DEFAULT_POLICY: &str = "fail";

/// What every `src` argument leaves out when the engine loads it (`ignore` of the argument:
/// `dagger call --src=.` uploads the folder minus these, and `.gitignore` is not read), so that
/// build outputs, caches, git's store and Node modules never travel: `dagger.json`'s `include`
/// excludes the same, and the main job loads `--src` with the same list.
pub const SRC_IGNORE: &[&str] = &[
    "**/target",
    "fuzz/corpus",
    "fuzz/artifacts",
    "sdk/.venv",
    "sdk/.pytest_cache",
    "**/__pycache__",
    "**/node_modules",
    ".git",
];

/// This repository's source, as a `src` argument: a Directory with [`SRC_IGNORE`].
fn src(arg: ArgDef) -> ArgDef {
    arg.ignore(SRC_IGNORE.iter().copied())
}

/// The creation time when `--created` is not given: the Unix epoch, never the wall clock (the
/// main job passes `SOURCE_DATE_EPOCH` when it is set).
pub const DEFAULT_CREATED: &str = "1970-01-01T00:00:00Z";

fn container_name() -> ArgDef {
    ArgDef::required(
        "container_name",
        TypeRef::String,
        "The container: a native pipeline or a folder under containers/ with a Dockerfile",
    )
}

/// `registry` and `registry_username` are non-null strings with a default, as the Python
/// module this one replaces registered them (`registry: str = "..."`), so clients generated from
/// the module's schema see the same types.
fn registry_args() -> Vec<ArgDef> {
    vec![
        ArgDef::with_default(
            "registry",
            TypeRef::String,
            json!(DEFAULT_REGISTRY),
            "The registry host (an image address on it works too)",
        ),
        ArgDef::with_default(
            "registry_username",
            TypeRef::String,
            json!(defaults::REGISTRY_USERNAME),
            "The registry user name, used with --registry-password",
        ),
        ArgDef::optional(
            "registry_password",
            TypeRef::object("Secret"),
            "The registry password or API key (e.g. env:ZOT_CI_API_KEY); anonymous without it",
        ),
        ArgDef::with_default(
            "namespace",
            TypeRef::String,
            json!(DEFAULT_NAMESPACE),
            "The repository namespace: images go to <registry>/<namespace>/<container-name>",
        ),
    ]
}

fn release_args() -> Vec<ArgDef> {
    vec![
        ArgDef::required(
            "version",
            TypeRef::String,
            "The version, as tagged (v0.61.1); the tag is <version>-<sha7>. It must be the version \
             the container pins (a leading v before a digit is ignored: v2.2.19 = 2.2.19)",
        ),
        ArgDef::required(
            "commit_sha",
            TypeRef::String,
            "The commit SHA of this repository (7 to 40 hex digits)",
        ),
    ]
}

fn tag_args() -> Vec<ArgDef> {
    vec![
        ArgDef::optional(
            "extra_tags",
            TypeRef::list(TypeRef::String),
            "Further tags to publish the same image under (e.g. latest)",
        ),
        ArgDef::with_default(
            "existing_tag_policy",
            TypeRef::String,
            json!(DEFAULT_POLICY),
            "When a tag already exists: fail, skip (keep it, report its digest) or overwrite",
        )
        .allowing(ExistingTagPolicy::ALL.iter().map(ToString::to_string)),
    ]
}

fn with_args(mut f: FunctionDef, args: Vec<ArgDef>) -> FunctionDef {
    f.args.extend(args);
    f
}

/// The module's definition.
pub fn definition() -> ModuleDef {
    let publish = FunctionDef::new(
        "publish",
        TypeRef::String,
        "Build a container and publish it as <registry>/<namespace>/<name>:<version>-<sha7>; \
         returns the published reference with its digest",
    )
    // A push must happen each time it is asked for: the engine must not answer a stored
    // reference (the tag may have been deleted or moved since).
    .cache_policy(CachePolicy::Never)
    .arg(src(ArgDef::required(
        "src",
        TypeRef::object("Directory"),
        "This repository's source (the folder holding containers/)",
    )))
    .arg(container_name());
    let publish = with_args(publish, release_args());
    let publish = with_args(publish, registry_args());
    let publish = with_args(publish, tag_args())
        .arg(ArgDef::optional(
            "platforms",
            TypeRef::list(TypeRef::String),
            "Platforms to build, published as one multi-platform image (linux/amd64,linux/arm64); \
             default: the engine's platform",
        ))
        .arg(ArgDef::with_default(
            "created",
            TypeRef::String,
            json!(DEFAULT_CREATED),
            "The image's creation time (org.opencontainers.image.created), RFC 3339; e.g. the \
             commit time, never the wall clock",
        ));

    let build = FunctionDef::new(
        "build",
        TypeRef::object("Container"),
        "Build a container (native pipeline, or containers/<name>/Dockerfile)",
    )
    .arg(src(ArgDef::required(
        "src",
        TypeRef::object("Directory"),
        "This repository's source (the folder holding containers/)",
    )))
    .arg(container_name());

    let version = FunctionDef::new(
        "container_version",
        TypeRef::String,
        "The upstream version a container pins (a pipeline's version, or the Dockerfile's ARG \
         CONTAINER_APP_VERSION)",
    )
    .arg(src(ArgDef::contextual(
        "src",
        TypeRef::object("Directory"),
        "/",
        "This repository's source (default: the module's own source)",
    )))
    .arg(container_name());

    let list = FunctionDef::new(
        "container_list",
        TypeRef::String,
        "The version tags of each container in the registry, one line per container",
    )
    // The registry's tags change outside the engine: list afresh each time.
    .cache_policy(CachePolicy::Never)
    .arg(src(ArgDef::contextual(
        "src",
        TypeRef::object("Directory"),
        "/",
        "This repository's source (default: the module's own source)",
    )))
    .arg(ArgDef::optional(
        "container_names",
        TypeRef::list(TypeRef::String),
        "The containers to list (default: every known container)",
    ));
    let list = with_args(list, registry_args());

    let nix = FunctionDef::new(
        "publish_nix",
        TypeRef::String,
        "Publish a Nix-built image (the docker-archive in result) as <version>-<sha7>-nix; \
         returns the published reference with its digest",
    )
    .cache_policy(CachePolicy::Never)
    .arg(ArgDef::required(
        "archive",
        TypeRef::object("File"),
        "The docker-archive tarball (nix build's result)",
    ))
    .arg(container_name());
    let nix = with_args(nix, release_args());
    let nix = with_args(nix, registry_args());
    let nix = with_args(nix, tag_args());

    // Written out rather than through `ModuleDef::new`, which cannot fail for this constant
    // name; `validate` (run at registration and in the tests) checks the object's name.
    let description = "Build container images (native Rust pipelines or Dockerfiles) and publish \
                       them to an OCI registry with registry auth";
    ModuleDef {
        name: MODULE_NAME.into(),
        description: description.into(),
        object: ObjectDef {
            name: "Blumeops".into(),
            description: description.into(),
            functions: vec![publish, build, version, list, nix],
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dagger_module_runtime::RegistrationPlan;

    #[test]
    fn the_definition_is_valid_and_registers_in_few_levels() {
        let def = definition();
        assert_eq!(def.validate(), Ok(()));
        assert_eq!(def.object.name, "Blumeops");
        let names: Vec<&str> = def
            .object
            .functions
            .iter()
            .map(|f| f.name.as_str())
            .collect();
        assert_eq!(
            names,
            [
                "publish",
                "build",
                "container_version",
                "container_list",
                "publish_nix"
            ]
        );
        // leaf types, lists, functions, object, module: + read and return = 7 round trips.
        assert_eq!(RegistrationPlan::new(&def).unwrap().level_count(), 5);
    }

    #[test]
    fn publish_keeps_the_old_modules_flags() {
        let def = definition();
        let publish = def.object.find_function("publish").unwrap();
        let flags: Vec<String> = publish
            .args
            .iter()
            .map(|a| dagger_module_runtime::cli_flag(&a.name))
            .collect();
        for flag in [
            "--src",
            "--container-name",
            "--version",
            "--commit-sha",
            "--registry",
            "--registry-username",
            "--registry-password",
            "--platforms",
            "--created",
        ] {
            assert!(flags.iter().any(|f| f == flag), "{flag} missing: {flags:?}");
        }
    }

    #[test]
    fn pushes_and_listings_are_never_cached_and_builds_keep_the_default() {
        let def = definition();
        let policy = |name: &str| def.object.find_function(name).unwrap().cache_policy.clone();
        for f in ["publish", "publish_nix", "container_list"] {
            assert_eq!(policy(f), Some(CachePolicy::Never), "{f}");
        }
        for f in ["build", "container_version"] {
            assert_eq!(policy(f), None, "{f}");
        }
    }

    #[test]
    fn every_src_leaves_out_build_outputs_as_dagger_json_does() {
        let def = definition();
        let mut seen = 0;
        for f in &def.object.functions {
            if let Some(src) = f.find_arg("src") {
                assert_eq!(src.ignore, SRC_IGNORE, "{}", f.name);
                seen += 1;
            }
        }
        assert_eq!(seen, 4);
        let text = include_str!("../../dagger.json");
        let cfg: serde_json::Value = serde_json::from_str(text).unwrap();
        let include: Vec<String> = cfg["include"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap().to_string())
            .collect();
        let expected: Vec<String> = SRC_IGNORE.iter().map(|p| format!("!{p}")).collect();
        assert_eq!(include, expected);
    }

    #[test]
    fn registry_and_user_are_non_null_strings_with_defaults_as_the_seed_had() {
        let def = definition();
        for f in ["publish", "publish_nix", "container_list"] {
            let f = def.object.find_function(f).unwrap();
            for (name, default) in [
                ("registry", DEFAULT_REGISTRY),
                ("registry_username", defaults::REGISTRY_USERNAME),
            ] {
                let a = f.find_arg(name).unwrap();
                assert_eq!(a.type_ref, TypeRef::String);
                assert!(!a.optional, "{name} is non-null");
                assert_eq!(a.default, Some(json!(default)));
            }
        }
    }
}
