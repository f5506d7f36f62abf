//! Nix tasks: `build-nix`, `nix-version`, `flake-lock`, `flake-update`, all in [`NIX_IMAGE`].

use dagger_sdk::{Container, Directory, File, Query};
use serde_json::Value;

use super::{now_stamp, relative_path, Steps, TaskError, RESOLVED_AT_VARIABLE, WORKSPACE};
use crate::pipeline::{validate_container_name, CONTAINERS_DIR};

/// The Nix image, pinned by tag as the Python module pinned it.
pub const NIX_IMAGE: &str = "nixos/nix:2.34.4";

/// The flags every `nix` command gets: flakes and the new CLI, whatever the image's config.
pub const NIX_FEATURES: [&str; 2] = ["--extra-experimental-features", "nix-command flakes"];

/// Where `build-nix` leaves the image archive.
pub const RESULT_PATH: &str = "/result";

/// The cache policy of [`build_nix`].
pub const BUILD_NIX_CACHE: super::CachePolicy = super::CachePolicy::Default;
/// The cache policy of [`nix_version`].
pub const NIX_VERSION_CACHE: super::CachePolicy = super::CachePolicy::Never;
/// The cache policy of [`flake_lock`].
pub const FLAKE_LOCK_CACHE: super::CachePolicy = super::CachePolicy::Default;
/// The cache policy of [`flake_update`].
pub const FLAKE_UPDATE_CACHE: super::CachePolicy = super::CachePolicy::Never;

fn nix(args: &[&str]) -> Vec<String> {
    let mut argv = vec!["nix".to_string()];
    argv.extend(NIX_FEATURES.iter().map(|s| s.to_string()));
    argv.extend(args.iter().map(|s| s.to_string()));
    argv
}

fn nix_container(dag: &Query) -> Container {
    dag.container().from(NIX_IMAGE)
}

/// Builds `containers/<container_name>/default.nix` into a `docker-archive` and returns it
/// (`/result`).
///
/// Steps, in [`NIX_IMAGE`] with `src` at `/workspace`: `nix flake metadata nixpkgs --json`
/// (the store path of the `nixpkgs` flake, read from its `path`), then `nix-build
/// containers/<name>/default.nix -o /result` with `NIX_PATH=nixpkgs=<path>`.
///
/// Cache policy: [`Default`](super::CachePolicy::Default), as in the Python module: a build is
/// a function of the source, and rebuilding unchanged sources on every call would cost minutes.
/// The `nixpkgs` it builds against is the flake registry's at the first call; a source change
/// (or a cache prune) builds against a newer one.
pub async fn build_nix(
    dag: &Query,
    src: &Directory,
    container_name: &str,
) -> Result<File, TaskError> {
    validate_container_name(container_name).map_err(|e| TaskError::InvalidArgument {
        argument: "container-name",
        value: container_name.to_string(),
        rule: e.to_string(),
    })?;
    let steps = Steps::new("build-nix");
    let base = nix_container(dag)
        .with_directory(WORKSPACE, src.clone())
        .with_workdir(WORKSPACE);
    let metadata_step = "nix flake metadata nixpkgs";
    let metadata = steps.exec(
        &base,
        metadata_step,
        &nix(&["flake", "metadata", "nixpkgs", "--json"]),
    );
    let out = metadata.stdout().await.map_err(|e| steps.explain(&e))?;
    let store_path = flake_store_path(&out).map_err(|d| steps.output(metadata_step, d))?;
    let nix_file = format!("{CONTAINERS_DIR}/{container_name}/default.nix");
    let built = steps.exec(
        &base.with_env_variable("NIX_PATH", format!("nixpkgs={store_path}")),
        "nix-build",
        &["nix-build", nix_file.as_str(), "-o", RESULT_PATH],
    );
    steps.evaluated(built.file(RESULT_PATH)).await
}

/// The `path` of `nix flake metadata --json`: a Nix store path.
fn flake_store_path(json: &str) -> Result<String, String> {
    let value: Value =
        serde_json::from_str(json).map_err(|e| format!("its output is not JSON ({e})"))?;
    match value.get("path").and_then(Value::as_str) {
        Some(path) if path.starts_with("/nix/store/") && !path.contains(char::is_whitespace) => {
            Ok(path.to_string())
        }
        Some(path) => Err(format!("its \"path\" {path:?} is not a Nix store path")),
        None => Err("its JSON has no \"path\" string".to_string()),
    }
}

/// The version of `package` in the latest `nixpkgs`:
/// `nix eval --raw nixpkgs#<package>.version`.
///
/// Cache policy: [`Never`](super::CachePolicy::Never): `nixpkgs` is resolved to its latest
/// revision at each call, so yesterday's answer may be stale; the step also carries
/// [`RESOLVED_AT_VARIABLE`] so the engine's exec cache does not answer it either.
pub async fn nix_version(dag: &Query, package: &str) -> Result<String, TaskError> {
    let valid = !package.is_empty()
        && !package.starts_with(['.', '-'])
        && package
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+'));
    if !valid {
        return Err(TaskError::InvalidArgument {
            argument: "package",
            value: package.to_string(),
            rule: "a nixpkgs attribute path: letters, digits, `.`, `_`, `-`, `+`, not starting \
                   with `.` or `-`"
                .to_string(),
        });
    }
    let steps = Steps::new("nix-version");
    let attribute = format!("nixpkgs#{package}.version");
    let eval = steps.exec(
        &nix_container(dag).with_env_variable(RESOLVED_AT_VARIABLE, now_stamp()),
        "nix eval",
        &nix(&["eval", "--raw", attribute.as_str()]),
    );
    let version = eval.stdout().await.map_err(|e| steps.explain(&e))?;
    let version = version.trim();
    if version.is_empty() || version.contains(char::is_whitespace) {
        return Err(steps.output("nix eval", format!("{version:?} is not a version")));
    }
    Ok(version.to_string())
}

/// The flake's container: `src` at `/workspace`, working in `<flake_path>`.
fn flake_container(dag: &Query, src: &Directory, flake_path: &str) -> Container {
    nix_container(dag)
        .with_directory(WORKSPACE, src.clone())
        .with_workdir(format!("{WORKSPACE}/{flake_path}"))
}

/// Locks the flake at `flake_path` (`nix flake lock --accept-flake-config`) and returns its
/// `flake.lock`. Inputs already locked keep their revisions.
///
/// Cache policy: [`Default`](super::CachePolicy::Default): locking adds only missing inputs,
/// and the source (with any existing `flake.lock`) is part of the cache key.
pub async fn flake_lock(dag: &Query, src: &Directory, flake_path: &str) -> Result<File, TaskError> {
    let flake_path = relative_path("flake-path", flake_path)?;
    let steps = Steps::new("flake-lock");
    let locked = steps.exec(
        &flake_container(dag, src, &flake_path),
        "nix flake lock",
        &nix(&["flake", "lock", "--accept-flake-config"]),
    );
    steps.evaluated(locked.file("flake.lock")).await
}

/// Updates every root input of the flake at `flake_path` except those named in `skip_inputs`
/// (comma-separated; names that are not inputs are ignored, as the Python module did) and
/// returns the new `flake.lock`.
///
/// Steps: `nix flake metadata --json` (the root inputs: `locks.nodes[locks.root].inputs`),
/// then `nix flake update <inputs> --accept-flake-config`. When `skip_inputs` leaves no input
/// the task fails rather than run `nix flake update` without names (which updates all).
///
/// Cache policy: [`Never`](super::CachePolicy::Never): it resolves each input's latest
/// revision; both steps carry [`RESOLVED_AT_VARIABLE`] so the engine runs them afresh.
pub async fn flake_update(
    dag: &Query,
    src: &Directory,
    flake_path: &str,
    skip_inputs: &str,
) -> Result<File, TaskError> {
    let flake_path = relative_path("flake-path", flake_path)?;
    let skip: Vec<&str> = skip_inputs
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let steps = Steps::new("flake-update");
    let base =
        flake_container(dag, src, &flake_path).with_env_variable(RESOLVED_AT_VARIABLE, now_stamp());
    let metadata_step = "nix flake metadata";
    let metadata = steps.exec(&base, metadata_step, &nix(&["flake", "metadata", "--json"]));
    let out = metadata.stdout().await.map_err(|e| steps.explain(&e))?;
    let inputs = root_inputs(&out).map_err(|d| steps.output(metadata_step, d))?;
    let update: Vec<&str> = inputs
        .iter()
        .map(String::as_str)
        .filter(|i| !skip.contains(i))
        .collect();
    if update.is_empty() {
        return Err(TaskError::InvalidArgument {
            argument: "skip-inputs",
            value: skip_inputs.to_string(),
            rule: format!(
                "it skips every root input of the flake ({}), leaving nothing to update",
                inputs.join(", ")
            ),
        });
    }
    let mut args = vec!["flake", "update"];
    args.extend(update);
    args.push("--accept-flake-config");
    let updated = steps.exec(&base, "nix flake update", &nix(&args));
    steps.evaluated(updated.file("flake.lock")).await
}

/// The root inputs of `nix flake metadata --json`, sorted.
fn root_inputs(json: &str) -> Result<Vec<String>, String> {
    let value: Value =
        serde_json::from_str(json).map_err(|e| format!("its output is not JSON ({e})"))?;
    let locks = value
        .get("locks")
        .ok_or("its JSON has no \"locks\" (is the flake locked?)")?;
    let root = locks.get("root").and_then(Value::as_str).unwrap_or("root");
    let inputs = locks
        .get("nodes")
        .and_then(|n| n.get(root))
        .and_then(|n| n.get("inputs"))
        .and_then(Value::as_object)
        .ok_or_else(|| format!("its JSON has no object locks.nodes.{root}.inputs"))?;
    Ok(inputs.keys().cloned().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_path_is_read_from_the_metadata() {
        let json = r#"{"path":"/nix/store/abc-source","url":"github:NixOS/nixpkgs"}"#;
        assert_eq!(flake_store_path(json).unwrap(), "/nix/store/abc-source");
        assert!(flake_store_path(r#"{"path":"/tmp/x"}"#).is_err());
        assert!(flake_store_path("{}").is_err());
        assert!(flake_store_path("not json").is_err());
    }

    #[test]
    fn root_inputs_follow_the_locks_root() {
        let json =
            r#"{"locks":{"root":"r","nodes":{"r":{"inputs":{"nixpkgs":"n","home":"h"}},"n":{}}}}"#;
        assert_eq!(root_inputs(json).unwrap(), ["home", "nixpkgs"]);
        assert!(root_inputs(r#"{"locks":{"nodes":{}}}"#).is_err());
        assert!(root_inputs("{}").is_err());
    }
}
