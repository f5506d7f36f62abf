//! Which containers a repository holds and how each is built; which of them a change touches
//! (`changed-containers`, the detect step of CI).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use dagger_sdk::Directory;
use serde::Serialize;

use super::catalog::{validate_container_name, Catalog, CONTAINERS_DIR};
use dagger_engine::{query_error_from_sdk, QueryError};

/// The Dockerfile of a container folder.
pub const DOCKERFILE: &str = "Dockerfile";

/// The Nix expression of a container folder.
pub const NIX_FILE: &str = "default.nix";

/// How a container is built: by a native pipeline, its Dockerfile, its `default.nix`, or
/// several of them (a container may have a Dockerfile and a Nix build).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BuildTypes {
    /// A native pipeline of the catalog.
    pub native: bool,
    /// `containers/<name>/Dockerfile`.
    pub dockerfile: bool,
    /// `containers/<name>/default.nix`.
    pub nix: bool,
}

impl BuildTypes {
    /// No way to build it.
    pub fn is_empty(&self) -> bool {
        !(self.native || self.dockerfile || self.nix)
    }

    /// The names of the build types, in the order `native`, `dockerfile`, `nix`.
    pub fn names(&self) -> Vec<&'static str> {
        [
            (self.native, "native"),
            (self.dockerfile, "dockerfile"),
            (self.nix, "nix"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect()
    }
}

/// The build types joined with `+` (`dockerfile+nix`), or `none`.
impl fmt::Display for BuildTypes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("none");
        }
        f.write_str(&self.names().join("+"))
    }
}

impl Serialize for BuildTypes {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Why the containers could not be listed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InventoryError {
    /// The engine failed to list the source's `containers/` folder.
    #[error("listing {CONTAINERS_DIR}/ in the source failed: {0}")]
    Engine(QueryError),
}

/// Every container of the repository and how it is built: the folders under `containers/`
/// (valid container names only) and the catalog's native pipelines. One engine round trip.
pub async fn container_inventory(
    catalog: &Catalog,
    src: &Directory,
) -> Result<BTreeMap<String, BuildTypes>, InventoryError> {
    // Every entry one level inside each container folder; a source without `containers/`
    // matches nothing.
    let found = src
        .glob(format!("{CONTAINERS_DIR}/*/*"))
        .await
        .map_err(|e| InventoryError::Engine(query_error_from_sdk(&e)))?;
    let mut inventory: BTreeMap<String, BuildTypes> = BTreeMap::new();
    for path in found {
        let mut parts = path.split('/').skip(1);
        let (Some(name), Some(file)) = (parts.next(), parts.next()) else {
            continue;
        };
        if validate_container_name(name).is_err() {
            continue;
        }
        let entry = inventory.entry(name.to_string()).or_default();
        // A directory is listed with a trailing slash, so `Dockerfile/` is not a Dockerfile.
        let is_file = parts.next().is_none() && !path.ends_with('/');
        entry.dockerfile |= is_file && file == DOCKERFILE;
        entry.nix |= is_file && file == NIX_FILE;
    }
    for name in catalog.native_names() {
        inventory.entry(name).or_default().native = true;
    }
    Ok(inventory)
}

/// The container names under `containers/` that the changed paths touch (`containers/<name>/…`;
/// a leading `./` ignored). Paths elsewhere touch no container.
///
/// ```
/// use blumeops::pipeline::touched_container_names;
/// let changed = ["containers/homepage/Dockerfile", "./containers/tool/default.nix", "README.md"];
/// assert_eq!(touched_container_names(changed).into_iter().collect::<Vec<_>>(), ["homepage", "tool"]);
/// ```
pub fn touched_container_names<'a>(paths: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
    paths
        .into_iter()
        .filter_map(|path| {
            let path = path.trim().trim_start_matches("./");
            let rest = path.strip_prefix(CONTAINERS_DIR)?.strip_prefix('/')?;
            let (name, inside) = rest.split_once('/')?;
            (!inside.is_empty() && validate_container_name(name).is_ok()).then(|| name.to_string())
        })
        .collect()
}

/// A container a change touched, and how to build it: one entry of a CI matrix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangedContainer {
    /// The container.
    pub name: String,
    /// How it is built (`native`, `dockerfile`, `nix`, joined with `+`).
    pub build: BuildTypes,
}

/// `changed-containers`: the containers the changed paths touch that can be built, sorted by
/// name, with how each is built. A touched folder without any build (deleted, or holding only
/// documentation) is left out: the matrix has nothing to run for it.
///
/// The module gets no `.git` in `src`, so the caller gives the changed paths (the main job
/// runs `git diff --name-only <base>...HEAD`). Serialise the result with [`matrix_json`].
pub async fn changed_containers(
    catalog: &Catalog,
    src: &Directory,
    changed: &[String],
) -> Result<Vec<ChangedContainer>, InventoryError> {
    let touched = touched_container_names(changed.iter().map(String::as_str));
    if touched.is_empty() {
        return Ok(Vec::new());
    }
    let inventory = container_inventory(catalog, src).await?;
    Ok(touched
        .into_iter()
        .filter_map(|name| {
            let build = *inventory.get(&name)?;
            (!build.is_empty()).then_some(ChangedContainer { name, build })
        })
        .collect())
}

/// The JSON array `[{"name": ..., "build": ...}]` a CI matrix reads.
pub fn matrix_json(containers: &[ChangedContainer]) -> String {
    // Strings and a Display-serialised type: serialising cannot fail.
    serde_json::to_string(containers).unwrap_or_else(|_| "[]".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_types_join_with_plus() {
        let both = BuildTypes {
            dockerfile: true,
            nix: true,
            ..BuildTypes::default()
        };
        assert_eq!(both.to_string(), "dockerfile+nix");
        assert_eq!(BuildTypes::default().to_string(), "none");
        let native = BuildTypes {
            native: true,
            ..BuildTypes::default()
        };
        assert_eq!(serde_json::to_string(&native).unwrap(), "\"native\"");
    }

    #[test]
    fn only_paths_inside_a_container_folder_touch_it() {
        let names = touched_container_names([
            "containers/a/Dockerfile",
            "containers/b/sub/file",
            "containers/c",
            "containers/d/",
            "containers/Bad Name/x",
            "src/containers/e/x",
            "containerss/f/x",
        ]);
        assert_eq!(names.into_iter().collect::<Vec<_>>(), ["a", "b"]);
    }
}
