//! `container-version-check`: every container declares one version, the same everywhere.
//!
//! For each container in scope (its folder under `containers/`, or a native pipeline):
//! 1. a Dockerfile declares `ARG CONTAINER_APP_VERSION=<v>`;
//! 2. a `default.nix` yields a version: `version = "<v>";` in the file, else, for a package
//!    taken unmodified from nixpkgs ([`VersionRules::nixpkgs_packages`]), `nix-version`;
//! 3. at least one build exists (Dockerfile, `default.nix`, native pipeline);
//! 4. the service-versions file has an entry for its service with a non-null
//!    `current-version`;
//! 5. all the versions found agree, a leading `v` before a digit ignored
//!    ([`same_release`](crate::release::same_release)).
//!
//! The deployment's data (the service-name map, the nixpkgs map, the skip list) is in
//! [`crate::defaults::version_rules`]; this module holds only the rules.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use dagger_sdk::{Directory, Query};
use serde::Serialize;
use yaml_rust2::{Yaml, YamlLoader};

use super::catalog::{Catalog, CONTAINERS_DIR, VERSION_ARG};
use super::dockerfile::arg_default;
use super::inventory::{
    container_inventory, touched_container_names, BuildTypes, InventoryError, DOCKERFILE, NIX_FILE,
};
use super::tasks::nix::nix_version;
use crate::release::same_release;
use dagger_engine::{query_error_from_sdk, QueryError};

/// The deployment's data the rules use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VersionRules {
    /// The service-versions file, relative to the source's root.
    pub service_versions_file: String,
    /// Container -> service name, where they differ.
    pub service_names: BTreeMap<String, String>,
    /// Container -> nixpkgs attribute, for packages taken unmodified from nixpkgs.
    pub nixpkgs_packages: BTreeMap<String, String>,
    /// Containers not checked (utility images).
    pub skip: BTreeSet<String>,
}

/// Which containers to check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckScope {
    /// Every container.
    All,
    /// The containers these changed paths touch; every container when the service-versions
    /// file is among them (any entry may have changed).
    Changed(Vec<String>),
}

/// Where a version was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum VersionSource {
    /// A native pipeline's pinned version.
    Native,
    /// The Dockerfile's `ARG CONTAINER_APP_VERSION`.
    Dockerfile,
    /// `version = "...";` in `default.nix`.
    Nix,
    /// `nix-version` of the nixpkgs package.
    Nixpkgs,
    /// The service-versions file's `current-version`.
    ServiceVersions,
}

impl fmt::Display for VersionSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            VersionSource::Native => "native",
            VersionSource::Dockerfile => "dockerfile",
            VersionSource::Nix => "nix",
            VersionSource::Nixpkgs => "nixpkgs",
            VersionSource::ServiceVersions => "service-versions",
        })
    }
}

/// One container's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContainerCheck {
    /// The container.
    pub name: String,
    /// How it is built.
    pub build: BuildTypes,
    /// The versions found, by source.
    pub versions: BTreeMap<VersionSource, String>,
    /// The rules it broke, one message each.
    pub errors: Vec<String>,
}

impl ContainerCheck {
    /// Whether every rule holds.
    pub fn ok(&self) -> bool {
        self.errors.is_empty()
    }
}

/// The result of a check: a table (`Display`) or JSON ([`VersionReport::to_json`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionReport {
    /// The containers checked, sorted by name.
    pub containers: Vec<ContainerCheck>,
}

impl VersionReport {
    /// Whether every container passed.
    pub fn ok(&self) -> bool {
        self.containers.iter().all(ContainerCheck::ok)
    }

    /// `{"ok": bool, "containers": [{name, build, versions: {source: version}, status, errors}]}`.
    pub fn to_json(&self) -> serde_json::Value {
        let containers: Vec<serde_json::Value> = self
            .containers
            .iter()
            .map(|c| {
                serde_json::json!({
                    "name": c.name,
                    "build": c.build,
                    "versions": c.versions,
                    "status": status(c),
                    "errors": c.errors,
                })
            })
            .collect();
        serde_json::json!({ "ok": self.ok(), "containers": containers })
    }
}

/// A check where some rule failed: its `Display` is the whole report (the table, then each
/// error), what `dagger call` shows as the function's error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct VersionCheckFailed(pub VersionReport);

impl VersionReport {
    /// The report when every rule holds, else [`VersionCheckFailed`] holding it.
    pub fn into_result(self) -> Result<VersionReport, VersionCheckFailed> {
        if self.ok() {
            Ok(self)
        } else {
            Err(VersionCheckFailed(self))
        }
    }
}

fn status(check: &ContainerCheck) -> &'static str {
    if check.ok() {
        "ok"
    } else {
        "FAIL"
    }
}

/// The table (container, build, versions by source, status), then each error as
/// `<container>: <message>`.
impl fmt::Display for VersionReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rows: Vec<[String; 4]> = self
            .containers
            .iter()
            .map(|c| {
                let versions: Vec<String> =
                    c.versions.iter().map(|(s, v)| format!("{s}={v}")).collect();
                let versions = if versions.is_empty() {
                    "-".to_string()
                } else {
                    versions.join(" ")
                };
                [
                    c.name.clone(),
                    c.build.to_string(),
                    versions,
                    status(c).to_string(),
                ]
            })
            .collect();
        let header = ["CONTAINER", "BUILD", "VERSIONS", "STATUS"].map(String::from);
        let mut widths = header.clone().map(|h| h.chars().count());
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        for row in std::iter::once(&header).chain(&rows) {
            let line: Vec<String> = row
                .iter()
                .zip(widths)
                .map(|(cell, w)| format!("{cell:<w$}"))
                .collect();
            writeln!(f, "{}", line.join("  ").trim_end())?;
        }
        if self.containers.is_empty() {
            writeln!(f, "(no container in scope)")?;
        }
        let errors: Vec<String> = self
            .containers
            .iter()
            .flat_map(|c| c.errors.iter().map(move |e| format!("{}: {e}", c.name)))
            .collect();
        if !errors.is_empty() {
            writeln!(f)?;
            for e in errors {
                writeln!(f, "{e}")?;
            }
        }
        Ok(())
    }
}

/// Why the check could not run at all (a broken rule is a [`ContainerCheck`] error instead).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum VersionCheckError {
    /// The containers could not be listed.
    #[error(transparent)]
    Inventory(#[from] InventoryError),
    /// The service-versions file is missing or is not `services: [{name, current-version}]`.
    #[error("{file}: {detail}")]
    ServiceVersions {
        /// The file.
        file: String,
        /// What is wrong.
        detail: String,
    },
    /// The engine failed to read a file of the source.
    #[error("reading {path} from the source failed: {source}")]
    Read {
        /// The file.
        path: String,
        /// The engine's error.
        #[source]
        source: QueryError,
    },
}

/// Runs the check on the containers of `scope` in `src`. Versions of nixpkgs packages are
/// looked up with [`nix_version`] on `dag` (never from the cache).
pub async fn container_version_check(
    dag: &Query,
    catalog: &Catalog,
    src: &Directory,
    rules: &VersionRules,
    scope: &CheckScope,
) -> Result<VersionReport, VersionCheckError> {
    let inventory = container_inventory(catalog, src).await?;
    let in_scope: Vec<(&String, &BuildTypes)> = match scope_names(scope, rules) {
        None => inventory.iter().collect(),
        Some(names) => inventory
            .iter()
            .filter(|(n, _)| names.contains(*n))
            .collect(),
    };
    let in_scope: Vec<(String, BuildTypes)> = in_scope
        .into_iter()
        .filter(|(name, _)| !rules.skip.contains(*name))
        .map(|(n, b)| (n.clone(), *b))
        .collect();
    if in_scope.is_empty() {
        return Ok(VersionReport {
            containers: Vec::new(),
        });
    }
    let services = read_service_versions(src, &rules.service_versions_file).await?;
    let checks = in_scope
        .into_iter()
        .map(|(name, build)| check_container(dag, catalog, src, rules, &services, name, build));
    let containers = futures::future::try_join_all(checks).await?;
    Ok(VersionReport { containers })
}

/// The names `scope` limits the check to; `None`: all.
fn scope_names(scope: &CheckScope, rules: &VersionRules) -> Option<BTreeSet<String>> {
    match scope {
        CheckScope::All => None,
        CheckScope::Changed(paths) => {
            let file = rules.service_versions_file.trim_start_matches("./");
            if paths
                .iter()
                .any(|p| p.trim().trim_start_matches("./") == file)
            {
                None
            } else {
                Some(touched_container_names(paths.iter().map(String::as_str)))
            }
        }
    }
}

/// A service's `current-version`: `None` when null.
type Services = BTreeMap<String, Option<String>>;

async fn read_service_versions(src: &Directory, file: &str) -> Result<Services, VersionCheckError> {
    let invalid = |detail: String| VersionCheckError::ServiceVersions {
        file: file.to_string(),
        detail,
    };
    let text = match src.file(file).contents().await {
        Ok(text) => text,
        Err(e) => {
            let err = query_error_from_sdk(&e);
            return Err(if err.to_string().contains("no such file or directory") {
                invalid("not found in the source: rule 4 needs it".to_string())
            } else {
                VersionCheckError::Read {
                    path: file.to_string(),
                    source: err,
                }
            });
        }
    };
    parse_service_versions(&text).map_err(invalid)
}

/// Parses `services: [{name, current-version}]`.
fn parse_service_versions(text: &str) -> Result<Services, String> {
    let docs = YamlLoader::load_from_str(text).map_err(|e| format!("not YAML: {e}"))?;
    let doc = docs.first().ok_or("the file is empty")?;
    let services = doc["services"]
        .as_vec()
        .ok_or("expected a `services:` list at the top level")?;
    let mut out = Services::new();
    for (i, entry) in services.iter().enumerate() {
        let name = entry["name"]
            .as_str()
            .ok_or_else(|| format!("services[{i}] has no `name` string"))?;
        let version = match &entry["current-version"] {
            Yaml::Null | Yaml::BadValue => None,
            Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
            Yaml::Integer(n) => Some(n.to_string()),
            other => {
                return Err(format!(
                "services[{i}] ({name}): `current-version` must be a string or null, got {other:?}"
            ))
            }
        };
        if out.insert(name.to_string(), version).is_some() {
            return Err(format!("service {name:?} is listed twice"));
        }
    }
    Ok(out)
}

/// `<v>` of the first `version = "<v>";` line of a Nix expression.
fn nix_version_line(text: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let rest = line.trim().strip_prefix("version")?.trim_start();
        let rest = rest.strip_prefix('=')?.trim_start().strip_prefix('"')?;
        let (value, tail) = rest.split_once('"')?;
        (tail.trim_start().starts_with(';') && !value.is_empty() && !value.contains("${"))
            .then(|| value.to_string())
    })
}

async fn read(src: &Directory, path: &str) -> Result<String, VersionCheckError> {
    src.file(path)
        .contents()
        .await
        .map_err(|e| VersionCheckError::Read {
            path: path.to_string(),
            source: query_error_from_sdk(&e),
        })
}

async fn check_container(
    dag: &Query,
    catalog: &Catalog,
    src: &Directory,
    rules: &VersionRules,
    services: &Services,
    name: String,
    build: BuildTypes,
) -> Result<ContainerCheck, VersionCheckError> {
    let mut versions = BTreeMap::new();
    let mut errors = Vec::new();
    // Rule 3.
    if build.is_empty() {
        errors.push(format!(
            "no build: neither {CONTAINERS_DIR}/{name}/{DOCKERFILE}, {CONTAINERS_DIR}/{name}/{NIX_FILE} nor a native pipeline (rule 3)"
        ));
    }
    if let Some(pipeline) = catalog.native(&name) {
        versions.insert(VersionSource::Native, pipeline.version().to_string());
    }
    // Rule 1.
    if build.dockerfile {
        let path = format!("{CONTAINERS_DIR}/{name}/{DOCKERFILE}");
        match arg_default(&read(src, &path).await?, VERSION_ARG) {
            Ok(v) => {
                versions.insert(VersionSource::Dockerfile, v);
            }
            Err(e) => errors.push(format!("{path}: {e} (rule 1)")),
        }
    }
    // Rule 2.
    if build.nix {
        let path = format!("{CONTAINERS_DIR}/{name}/{NIX_FILE}");
        match nix_version_line(&read(src, &path).await?) {
            Some(v) => {
                versions.insert(VersionSource::Nix, v);
            }
            None => match rules.nixpkgs_packages.get(&name) {
                Some(package) => match nix_version(dag, package).await {
                    Ok(v) => {
                        versions.insert(VersionSource::Nixpkgs, v);
                    }
                    Err(e) => errors.push(format!(
                        "nix-version of nixpkgs package {package:?} failed (rule 2): {e}"
                    )),
                },
                None => errors.push(format!(
                    "{path} has no `version = \"<v>\";` and {name} is not a nixpkgs package of the deployment's map (rule 2)"
                )),
            },
        }
    }
    // Rule 4.
    let service = rules.service_names.get(&name).unwrap_or(&name);
    let shown = if service == &name {
        format!("service {service:?}")
    } else {
        format!("service {service:?} (container {name:?})")
    };
    match services.get(service) {
        Some(Some(v)) => {
            versions.insert(VersionSource::ServiceVersions, v.clone());
        }
        Some(None) => errors.push(format!(
            "{}: {shown} has a null current-version (rule 4)",
            rules.service_versions_file
        )),
        None => errors.push(format!(
            "{}: no entry for {shown} (rule 4)",
            rules.service_versions_file
        )),
    }
    // Rule 5.
    let mut found = versions.values();
    if let Some(first) = found.next() {
        if found.any(|v| !same_release(first, v)) {
            let all: Vec<String> = versions.iter().map(|(s, v)| format!("{s}={v}")).collect();
            errors.push(format!(
                "versions disagree: {} (a leading v before a digit is ignored) (rule 5)",
                all.join(", ")
            ));
        }
    }
    Ok(ContainerCheck {
        name,
        build,
        versions,
        errors,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_versions_are_parsed_with_nulls_and_numbers() {
        let text = "services:\n  - name: docs\n    current-version: v1.4.0\n  - name: kiwix\n    current-version: null\n  - name: x\n    current-version: 1.10\n  - name: y\n";
        let s = parse_service_versions(text).unwrap();
        assert_eq!(s["docs"].as_deref(), Some("v1.4.0"));
        assert_eq!(s["kiwix"], None);
        assert_eq!(
            s["x"].as_deref(),
            Some("1.10"),
            "a YAML float keeps its text"
        );
        assert_eq!(s["y"], None);
        assert!(parse_service_versions("services: 3").is_err());
        assert!(parse_service_versions("- a").is_err());
        assert!(parse_service_versions("services:\n  - name: a\n  - name: a\n").is_err());
        assert!(parse_service_versions("services: [\n")
            .unwrap_err()
            .starts_with("not YAML"));
    }

    #[test]
    fn the_nix_version_line_is_read() {
        let nix = "{ pkgs }:\nlet\n  version = \"1.2.3\";\nin pkgs.dockerTools.buildImage { tag = version; }\n";
        assert_eq!(nix_version_line(nix).as_deref(), Some("1.2.3"));
        assert_eq!(nix_version_line("versionX = \"1\";"), None);
        assert_eq!(nix_version_line("version = \"${v}\";"), None);
        assert_eq!(nix_version_line("version = pkgs.x.version;"), None);
    }
}
