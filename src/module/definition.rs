//! The module's constants and the descriptions `dagger functions` and `dagger call --help`
//! show; the functions and their arguments are in `super` (`#[functions]`).

use crate::defaults;

/// The module's name (`dagger.json`).
pub const MODULE_NAME: &str = "blumeops";

/// The registry published to when `--registry` is not given.
pub const DEFAULT_REGISTRY: &str = defaults::REGISTRY;

/// The repository namespace when `--namespace` is not given.
pub const DEFAULT_NAMESPACE: &str = defaults::NAMESPACE;

/// The existing-tag policy when `--existing-tag-policy` is not given.
pub const DEFAULT_POLICY: &str = "fail";

/// The creation time when `--created` is not given: the Unix epoch, never the wall clock (the
/// main job passes `SOURCE_DATE_EPOCH` when it is set).
pub const DEFAULT_CREATED: &str = "1970-01-01T00:00:00Z";

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

/// The description of a `src` the caller may leave out (the module's own source).
pub(super) const CONTEXT_SRC: &str = "This repository's source (default: the module's own source)";

/// The engine-facing descriptions (plain text: they hold `<placeholders>` that rustdoc would
/// read as HTML).
pub(super) mod doc {
    pub(in crate::module) const PUBLISH: &str =
        "Build a container and publish it as <registry>/<namespace>/<name>:<version>-<sha7>; \
         returns the published reference with its digest";
    pub(in crate::module) const BUILD: &str =
        "Build a container (native pipeline, or containers/<name>/Dockerfile)";
    pub(in crate::module) const PUBLISH_NIX: &str =
        "Publish a Nix-built image (the docker-archive in result) as <version>-<sha7>-nix; \
         returns the published reference with its digest";
    pub(in crate::module) const SRC: &str =
        "This repository's source (the folder holding containers/)";
    pub(in crate::module) const CONTAINER_NAME: &str =
        "The container: a native pipeline or a folder under containers/ with a Dockerfile";
    pub(in crate::module) const CONTAINER_NAMES: &str =
        "The containers to list (default: every known container)";
    pub(in crate::module) const VERSION: &str =
        "The version, as tagged (v0.61.1); the tag is <version>-<sha7>. It must be the version \
         the container pins (a leading v before a digit is ignored: v2.2.19 = 2.2.19)";
    pub(in crate::module) const COMMIT_SHA: &str =
        "The commit SHA of this repository (7 to 40 hex digits)";
    pub(in crate::module) const REGISTRY: &str =
        "The registry host (an image address on it works too)";
    pub(in crate::module) const REGISTRY_USERNAME: &str =
        "The registry user name, used with --registry-password";
    pub(in crate::module) const REGISTRY_PASSWORD: &str =
        "The registry password or API key (e.g. env:ZOT_CI_API_KEY); anonymous without it";
    pub(in crate::module) const NAMESPACE: &str =
        "The repository namespace: images go to <registry>/<namespace>/<container-name>";
    pub(in crate::module) const EXTRA_TAGS: &str =
        "Further tags to publish the same image under (e.g. latest)";
    pub(in crate::module) const POLICY: &str =
        "When a tag already exists: fail, skip (keep it, report its digest) or overwrite";
    pub(in crate::module) const PLATFORMS: &str =
        "Platforms to build, published as one multi-platform image (linux/amd64,linux/arm64); \
         default: the engine's platform";
    pub(in crate::module) const CREATED: &str =
        "The image's creation time (org.opencontainers.image.created), RFC 3339; e.g. the \
         commit time, never the wall clock";
    pub(in crate::module) const ARCHIVE: &str = "The docker-archive tarball (nix build's result)";
    pub(in crate::module) const BUILD_NIX: &str =
        "Build a Nix container (containers/<name>/default.nix, nixpkgs from the flake \
         registry); returns its docker-archive";
    pub(in crate::module) const NIX_VERSION: &str =
        "The version of a nixpkgs package (nix eval nixpkgs#<package>.version)";
    pub(in crate::module) const PACKAGE: &str = "The nixpkgs attribute (authentik)";
    pub(in crate::module) const BUILD_DOCS: &str =
        "Build the documentation site with Quartz v4.5.2; returns docs-<version>.tar.gz";
    pub(in crate::module) const DOCS_VERSION: &str =
        "The documentation's version, in the archive's name";
    pub(in crate::module) const FLAKE_LOCK: &str =
        "Lock a flake (nix flake lock); returns its flake.lock";
    pub(in crate::module) const FLAKE_UPDATE: &str =
        "Update a flake's inputs but the skipped ones; returns its flake.lock";
    pub(in crate::module) const FLAKE_PATH: &str = "The flake's directory in the source";
    pub(in crate::module) const SKIP_INPUTS: &str = "Inputs not to update, comma-separated";
    pub(in crate::module) const VALIDATE_WORKFLOWS: &str =
        "Validate the Forgejo workflows (forgejo-runner validate); returns its output";
    pub(in crate::module) const RUNNER_VERSION: &str = "The forgejo-runner image's version";
    pub(in crate::module) const EXPORT_YOLOV9: &str =
        "Export YOLOv9 to ONNX on linux/amd64; returns yolov9-<size>-<input>.onnx";
    pub(in crate::module) const MODEL_SIZE: &str = "The model size: s, c or e";
    pub(in crate::module) const INPUT_SIZE: &str =
        "The input image size in pixels, a multiple of 32";
    pub(in crate::module) const VERSION_CHECK: &str =
        "Check that each container's versions agree (Dockerfile ARG, default.nix or nixpkgs, \
         service-versions.yaml); returns the table, or fails with it";
    pub(in crate::module) const CHANGED: &str =
        "The paths changed against the base branch (git diff --name-only main...HEAD); the \
         check covers the containers they touch, or all when service-versions.yaml changed";
    pub(in crate::module) const ALL_FILES: &str = "Check every container";
    pub(in crate::module) const MAIN_COMMITS: &str =
        "The main branch's commits (git rev-list main); a tag whose commit is among them is \
         marked [main], another [branch]; without them, [unknown]";
    pub(in crate::module) const CHANGED_CONTAINERS: &str =
        "The containers the changed paths touch and how each is built, as a JSON array of \
         {name, build}";
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::definition;
    use super::*;
    use dagger_module_runtime::{CachePolicy, RegistrationPlan, TypeRef};

    #[test]
    fn the_definition_is_valid_and_registers_in_few_levels() {
        let def = definition();
        assert_eq!(def.validate(), Ok(()));
        assert_eq!(def.name, MODULE_NAME);
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
                "publish_nix",
                "build_nix",
                "nix_version",
                "build_docs",
                "flake_lock",
                "flake_update",
                "validate_workflows",
                "export_yolov9",
                "container_version_check",
                "changed_containers",
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
        // publish, build, container-version, container-list and the seven of issue 23 that
        // take the source (build-nix, build-docs, flake-lock, flake-update,
        // validate-workflows, container-version-check, changed-containers).
        assert_eq!(seen, 11);
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

    #[test]
    fn publishing_functions_are_found_by_their_result_type() {
        use super::super::Blumeops;
        for f in ["publish", "publish_nix"] {
            assert!(Blumeops::publishes(f), "{f}");
        }
        for f in ["build", "container_version", "container_list", "nope"] {
            assert!(!Blumeops::publishes(f), "{f}");
        }
    }
}
