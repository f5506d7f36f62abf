//! `container-list` as the Python task showed it: each container with its build type, its
//! repository, and its recent version tags, each marked `[main]`, `[branch]` or `[unknown]` by
//! whether the commit in the tag (`v1.2.3-c86b5d7`, `v1.2.3-c86b5d7-nix`) is on the main
//! branch.
//!
//! The module gets no `.git` in `src` (it is ignored, and stays so for builds), so the history
//! is given as [`MainHistory`]: the main job fills it from the local clone (`git rev-list
//! main`, [`MainHistory::from_rev_list`]); without one every tag is `[unknown]`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use dagger_sdk::Directory;
use serde::Serialize;

use super::catalog::Catalog;
use super::inventory::{container_inventory, BuildTypes, InventoryError};
use super::list::{container_list, ListError};
use super::nix::NIX_SUFFIX;
use crate::release::SHORT_SHA_LEN;
use dagger_engine::EngineClient;
use dagger_publish::RegistryAuth;

/// How many recent tags are shown per container when several are listed.
pub const RECENT_TAGS: usize = 4;

/// How many recent tags are shown when one container is named.
pub const RECENT_TAGS_ONE: usize = 10;

/// Where a tag's commit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TagOrigin {
    /// An ancestor of the main branch.
    Main,
    /// Not on the main branch (a branch build, or history rewritten since).
    Branch,
    /// No history was given, or the tag holds no commit.
    Unknown,
}

/// `[main]`, `[branch]`, `[unknown]`.
impl fmt::Display for TagOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TagOrigin::Main => "[main]",
            TagOrigin::Branch => "[branch]",
            TagOrigin::Unknown => "[unknown]",
        })
    }
}

/// A line of `git rev-list` that is not a commit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "line {line} of the main branch's history is not a commit id (7 to 40 hex digits): {text:?}"
)]
pub struct HistoryError {
    /// The line number (from 1).
    pub line: usize,
    /// The line, cut to 50 characters.
    pub text: String,
}

/// The commits of the main branch, or nothing known.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MainHistory {
    commits: Option<BTreeSet<String>>,
}

impl MainHistory {
    /// No history: every tag is [`TagOrigin::Unknown`].
    pub fn unknown() -> Self {
        Self::default()
    }

    /// The commits of `git rev-list main` (one id per line; blank lines ignored; ids lowercased).
    pub fn from_rev_list(output: &str) -> Result<Self, HistoryError> {
        let mut commits = BTreeSet::new();
        for (i, line) in output.lines().enumerate() {
            let id = line.trim();
            if id.is_empty() {
                continue;
            }
            if !(SHORT_SHA_LEN..=40).contains(&id.len())
                || !id.chars().all(|c| c.is_ascii_hexdigit())
            {
                return Err(HistoryError {
                    line: i + 1,
                    text: id.chars().take(50).collect(),
                });
            }
            commits.insert(id.to_ascii_lowercase());
        }
        Ok(Self {
            commits: Some(commits),
        })
    }

    /// Where the commit of `tag` is: [`TagOrigin::Main`] when a main commit starts with it.
    pub fn origin(&self, tag: &str) -> TagOrigin {
        let (Some(commits), Some(short)) = (&self.commits, tag_commit(tag)) else {
            return TagOrigin::Unknown;
        };
        // The set is sorted: the first id not below the prefix is the only candidate.
        match commits.range(short.to_string()..).next() {
            Some(id) if id.starts_with(short) => TagOrigin::Main,
            _ => TagOrigin::Branch,
        }
    }
}

/// The short commit of a release tag `{version}-{sha7}` (with or without the `-nix` suffix):
/// its last `-` part when that is 7 lowercase hex digits.
///
/// ```
/// use blumeops::pipeline::tag_commit;
/// assert_eq!(tag_commit("v1.2.3-c86b5d7"), Some("c86b5d7"));
/// assert_eq!(tag_commit("v1.2.3-c86b5d7-nix"), Some("c86b5d7"));
/// assert_eq!(tag_commit("v1.2.3"), None);
/// ```
pub fn tag_commit(tag: &str) -> Option<&str> {
    let tag = tag.strip_suffix(NIX_SUFFIX).unwrap_or(tag);
    let (_, last) = tag.rsplit_once('-')?;
    (last.len() == SHORT_SHA_LEN
        && last
            .chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)))
    .then_some(last)
}

/// One container of the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListedContainer {
    /// The container.
    pub name: String,
    /// How it is built.
    pub build: BuildTypes,
    /// `host/namespace/name`.
    pub repository: String,
    /// Its most recent version tags, oldest first, with their origin.
    pub tags: Vec<(String, TagOrigin)>,
}

/// The list, rendered as the task showed it (`Display`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContainerListing {
    /// The containers, in the order listed.
    pub containers: Vec<ListedContainer>,
}

/// One block per container: `name (build)  repository`, then each tag with its marker.
impl fmt::Display for ContainerListing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in &self.containers {
            writeln!(f, "{} ({})  {}", c.name, c.build, c.repository)?;
            if c.tags.is_empty() {
                writeln!(f, "  (no version tags)")?;
            }
            for (tag, origin) in &c.tags {
                writeln!(f, "  {tag} {origin}")?;
            }
        }
        Ok(())
    }
}

/// Builds the listing from [`container_list`]'s answer (tags sorted oldest first): the last
/// `recent` tags of each, marked by `history`, with each container's build type from
/// `inventory` (`none` for a name it does not hold).
pub fn listing(
    listed: Vec<(String, Vec<String>)>,
    inventory: &BTreeMap<String, BuildTypes>,
    repository_prefix: &str,
    history: &MainHistory,
    recent: usize,
) -> ContainerListing {
    let containers = listed
        .into_iter()
        .map(|(name, tags)| {
            let start = tags.len().saturating_sub(recent);
            ListedContainer {
                build: inventory.get(&name).copied().unwrap_or_default(),
                repository: format!("{repository_prefix}/{name}"),
                tags: tags[start..]
                    .iter()
                    .map(|t| (t.clone(), history.origin(t)))
                    .collect(),
                name,
            }
        })
        .collect();
    ContainerListing { containers }
}

/// Why the listing failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ListingError {
    /// The containers of the source could not be listed.
    #[error(transparent)]
    Inventory(#[from] InventoryError),
    /// The registry could not be listed.
    #[error(transparent)]
    List(#[from] ListError),
}

/// `container-list`: `names` (every container of `src` when empty) with their build type,
/// repository and recent tags ([`RECENT_TAGS`], or [`RECENT_TAGS_ONE`] when one name is
/// given), each marked by `history`. Never from the engine's cache (as [`container_list`]).
pub async fn container_listing(
    client: &EngineClient,
    catalog: &Catalog,
    src: &Directory,
    auth: &RegistryAuth,
    namespace: &str,
    names: &[String],
    history: &MainHistory,
) -> Result<ContainerListing, ListingError> {
    let inventory = container_inventory(catalog, src).await?;
    let names: Vec<String> = if names.is_empty() {
        inventory.keys().cloned().collect()
    } else {
        names.to_vec()
    };
    let recent = if names.len() == 1 {
        RECENT_TAGS_ONE
    } else {
        RECENT_TAGS
    };
    let listed = container_list(client, auth, namespace, &names).await?;
    let prefix = format!("{}/{namespace}", auth.host());
    Ok(listing(listed, &inventory, &prefix, history, recent))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_seven_hex_last_part_is_a_commit() {
        assert_eq!(tag_commit("v2.2.19-0000001"), Some("0000001"));
        assert_eq!(tag_commit("v1-C86B5D7"), None);
        assert_eq!(tag_commit("v1-c86b5d"), None);
        assert_eq!(tag_commit("v1-c86b5d7x"), None);
        assert_eq!(tag_commit("c86b5d7"), None);
    }

    #[test]
    fn rev_list_lines_must_be_commit_ids() {
        let h =
            MainHistory::from_rev_list("C86B5D7AA1\n\n0123456789abcdef0123456789abcdef01234567\n")
                .unwrap();
        assert_eq!(h.origin("v1-c86b5d7"), TagOrigin::Main);
        assert_eq!(h.origin("v1-0123456-nix"), TagOrigin::Main);
        assert_eq!(h.origin("v1-c86b5d8"), TagOrigin::Branch);
        let err = MainHistory::from_rev_list("abc1234\nfatal: not a git repository\n").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(MainHistory::from_rev_list("abc12").is_err());
    }
}
