//! blumeops's release tags: `{version}-{sha7}`, e.g. `navidrome:v0.61.1-c86b5d7`.
//!
//! The scheme is this deployment's choice, not a registry rule; the OCI grammar it must fit
//! ([`Tag`]) lives in `dagger_engine::registry`.

use std::fmt;
use std::str::FromStr;

use dagger_engine::registry::{Tag, TAG_LENGTH_MAX};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Length of [`CommitSha::short`].
pub const SHORT_SHA_LEN: usize = 7;

/// The longest [`Version`]: leaves room for `-` and a 7-character sha in a [`release_tag`]
/// within the tag grammar's 128 characters.
pub const VERSION_LENGTH_MAX: usize = TAG_LENGTH_MAX - 1 - SHORT_SHA_LEN;

/// A version or commit sha that cannot make a release tag. Each message names the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReleaseTagError {
    /// A version is empty, too long or not tag-safe.
    #[error("invalid version {input:?}: {rule}")]
    Version {
        /// The version as given.
        input: String,
        /// The rule broken.
        rule: &'static str,
    },
    /// A commit sha is not 7 to 40 hex characters.
    #[error("invalid commit sha {input:?}: a commit sha must be 7 to 40 hexadecimal characters")]
    CommitSha {
        /// The sha as given.
        input: String,
    },
}

/// Whether [`Version::parse`] adds a `v` to a bare version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VPrefix {
    /// `0.61.1` becomes `v0.61.1` (a version starting with a digit gets a `v`).
    Add,
    /// The version is kept as given.
    Keep,
}

/// A version as it appears in a tag, e.g. `v0.61.1`: non-empty, tag characters only
/// (`[A-Za-z0-9_][A-Za-z0-9._-]*`), at most [`VERSION_LENGTH_MAX`] characters so that
/// [`release_tag`] always makes a valid tag.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Version(String);

impl Version {
    /// Parses a version, adding a `v` to a bare `0.61.1` when `prefix` is [`VPrefix::Add`].
    ///
    /// ```
    /// use blumeops::release::{VPrefix, Version};
    /// assert_eq!(Version::parse("0.61.1", VPrefix::Add).unwrap().as_str(), "v0.61.1");
    /// assert_eq!(Version::parse("0.61.1", VPrefix::Keep).unwrap().as_str(), "0.61.1");
    /// assert!(Version::parse("1.0 beta", VPrefix::Keep).is_err());
    /// ```
    pub fn parse(input: &str, prefix: VPrefix) -> Result<Version, ReleaseTagError> {
        let err = |rule| ReleaseTagError::Version {
            input: input.to_owned(),
            rule,
        };
        if input.is_empty() {
            return Err(err("a version must not be empty"));
        }
        let value = match prefix {
            VPrefix::Add if input.as_bytes()[0].is_ascii_digit() => format!("v{input}"),
            _ => input.to_owned(),
        };
        // Length first: the tag grammar also bounds the length, so a long but tag-safe version
        // would otherwise be told its characters are wrong.
        if value.len() > VERSION_LENGTH_MAX {
            return Err(err(
                "a version must be at most 120 characters, so that `{version}-{sha7}` fits in a 128-character tag",
            ));
        }
        if Tag::parse(&value).is_err() {
            return Err(err(
                "a version must be tag-safe: [A-Za-z0-9_] then [A-Za-z0-9._-] (no spaces, '/', ':', '+', ...)",
            ));
        }
        Ok(Version(value))
    }

    /// The version as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Version {
    type Err = ReleaseTagError;
    /// Parses with [`VPrefix::Keep`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s, VPrefix::Keep)
    }
}

/// A git commit sha: 7 to 40 hex characters, stored in lowercase.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CommitSha(String);

impl CommitSha {
    /// Parses a sha (any case in, lowercase out).
    ///
    /// ```
    /// use blumeops::release::CommitSha;
    /// let sha = CommitSha::parse("C86B5D7A1").unwrap();
    /// assert_eq!(sha.as_str(), "c86b5d7a1");
    /// assert_eq!(sha.short(), "c86b5d7");
    /// ```
    pub fn parse(input: &str) -> Result<CommitSha, ReleaseTagError> {
        if (SHORT_SHA_LEN..=40).contains(&input.len())
            && input.bytes().all(|c| c.is_ascii_hexdigit())
        {
            Ok(CommitSha(input.to_ascii_lowercase()))
        } else {
            Err(ReleaseTagError::CommitSha {
                input: input.to_owned(),
            })
        }
    }

    /// The sha as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first 7 characters.
    pub fn short(&self) -> &str {
        // The sha is ASCII and at least 7 long (checked in `parse`).
        &self.0[..SHORT_SHA_LEN]
    }
}

impl FromStr for CommitSha {
    type Err = ReleaseTagError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

macro_rules! display_and_serde_as_string {
    ($ty:ident) => {
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let s = String::deserialize(deserializer)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}
display_and_serde_as_string!(Version);
display_and_serde_as_string!(CommitSha);

/// The release tag: `{version}-{sha7}`, e.g. `v0.61.1-c86b5d7`.
///
/// ```
/// use blumeops::release::{release_tag, CommitSha, VPrefix, Version};
/// let v = Version::parse("0.61.1", VPrefix::Add).unwrap();
/// let sha = CommitSha::parse("c86b5d7a9e").unwrap();
/// assert_eq!(release_tag(&v, &sha).as_str(), "v0.61.1-c86b5d7");
/// ```
pub fn release_tag(version: &Version, sha: &CommitSha) -> Tag {
    // A version is tag-safe and at most VERSION_LENGTH_MAX long, and a short sha is 7 hex
    // characters, so the result always matches the tag grammar (proptest below).
    Tag::parse(&format!("{}-{}", version.as_str(), sha.short()))
        .expect("a tag-safe version of at most 120 characters and 7 hex characters make a tag")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn versions_and_shas() {
        let cases: &[(&str, VPrefix, Option<&str>)] = &[
            ("0.61.1", VPrefix::Add, Some("v0.61.1")),
            ("0.61.1", VPrefix::Keep, Some("0.61.1")),
            ("v0.61.1", VPrefix::Add, Some("v0.61.1")),
            ("nightly", VPrefix::Add, Some("nightly")),
            ("1.2.3-rc.1", VPrefix::Add, Some("v1.2.3-rc.1")),
            ("", VPrefix::Add, None),
            ("1.0 beta", VPrefix::Add, None),
            ("a/b", VPrefix::Keep, None),
            ("1.0+build", VPrefix::Keep, None),
            ("-1", VPrefix::Keep, None),
            (".1", VPrefix::Add, None),
        ];
        for (input, prefix, want) in cases {
            let got = Version::parse(input, *prefix).ok();
            assert_eq!(
                got.as_ref().map(Version::as_str),
                *want,
                "{input:?} {prefix:?}"
            );
        }
        assert!(Version::parse(&"1".repeat(VERSION_LENGTH_MAX), VPrefix::Keep).is_ok());
        assert!(Version::parse(&"1".repeat(VERSION_LENGTH_MAX), VPrefix::Add).is_err());

        for (input, ok) in [
            ("c86b5d7", true),
            ("C86B5D7", true),
            (&*"f".repeat(40), true),
            ("c86b5d", false),
            (&*"f".repeat(41), false),
            ("c86b5dz", false),
            ("", false),
        ] {
            assert_eq!(CommitSha::parse(input).is_ok(), ok, "{input:?}");
        }
        let sha = CommitSha::parse("C86B5D7ABC").unwrap();
        assert_eq!(sha.as_str(), "c86b5d7abc");
        assert_eq!(sha.short(), "c86b5d7");
        let v = Version::parse(&"1".repeat(VERSION_LENGTH_MAX), VPrefix::Keep).unwrap();
        assert_eq!(release_tag(&v, &sha).as_str().len(), TAG_LENGTH_MAX);
        assert!(Tag::parse(release_tag(&v, &sha).as_str()).is_ok());
    }

    proptest! {
        #[test]
        fn parsing_is_idempotent_and_tags_are_valid(s in "\\PC{0,140}", sha in "[0-9a-fA-F]{7,40}") {
            if let Ok(v) = Version::parse(&s, VPrefix::Add) {
                prop_assert_eq!(Version::parse(v.as_str(), VPrefix::Add).unwrap(), v.clone());
                let c = CommitSha::parse(&sha).unwrap();
                prop_assert_eq!(CommitSha::parse(c.as_str()).unwrap(), c.clone());
                prop_assert!(Tag::parse(release_tag(&v, &c).as_str()).is_ok());
            }
        }
    }
}
