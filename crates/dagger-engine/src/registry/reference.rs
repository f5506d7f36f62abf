//! The OCI reference grammar, in one place: repository names, tags, digests and full image
//! references.
//!
//! Grammar sources:
//! - OCI distribution spec, "Pulling manifests" (`spec.md`): `<name>` components
//!   `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*` joined by `/`, `<reference>` tags
//!   `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`.
//! - OCI image spec, `descriptor.md` "Digests": `algorithm ":" encoded`, with `sha256` encoded as
//!   64 lowercase hex characters and `sha512` as 128.
//! - docker/distribution `reference/reference.go` (`NameTotalLengthMax = 255`) and
//!   `reference/normalize.go` (`splitDockerDomain`: the first component is a registry host when it
//!   contains `.` or `:` or is `localhost`).

use std::fmt;
use std::str::FromStr;

use super::address::{AddressError, RegistryHost};

/// The longest repository name (and the longest `host/name`) accepted, in characters.
///
/// The distribution spec says "many clients impose a limit of 255 characters on the length of
/// the concatenation of the registry hostname (and optional port), `/`, and `<name>`";
/// docker/distribution's `reference.NameTotalLengthMax` is that same 255, and containerd (which
/// the engine pushes with) uses that package. So a name alone is held to 255, and an
/// [`ImageRef`] checks `host/name` against 255 as well.
pub const NAME_TOTAL_LENGTH_MAX: usize = 255;

/// The longest tag: the spec's `{0,127}` after the first character.
pub const TAG_LENGTH_MAX: usize = 128;

const REPOSITORY_RULE: &str =
    "repository path components must match [a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)* joined by '/'";
const TAG_RULE: &str = "tag must match [A-Za-z0-9_][A-Za-z0-9._-]{0,127}";

/// A reference string that breaks the OCI grammar. Each message names the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    /// The repository name is empty, or has an empty path component (`a//b`, `/a`, `a/`).
    #[error("repository name {input:?} has an empty path component; {REPOSITORY_RULE}")]
    EmptyRepositoryComponent {
        /// The name as given.
        input: String,
    },
    /// A repository path component breaks the grammar (uppercase, bad separator, ...).
    #[error("repository name {input:?}: component {component:?} is invalid; {REPOSITORY_RULE}")]
    RepositoryComponent {
        /// The name as given.
        input: String,
        /// The offending component.
        component: String,
    },
    /// The repository name (or `host/name`) is longer than [`NAME_TOTAL_LENGTH_MAX`].
    #[error("repository name {input:?} is {len} characters; `host/name` must be at most {NAME_TOTAL_LENGTH_MAX} (OCI distribution spec, docker/distribution NameTotalLengthMax)")]
    NameTooLong {
        /// The name as given.
        input: String,
        /// Its length.
        len: usize,
    },
    /// The tag breaks `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`.
    #[error("invalid tag {input:?}: {TAG_RULE}")]
    Tag {
        /// The tag as given.
        input: String,
    },
    /// The digest breaks `algorithm ":" encoded` or its algorithm's encoding.
    #[error("invalid digest {input:?}: {rule}")]
    Digest {
        /// The digest as given.
        input: String,
        /// The rule broken.
        rule: &'static str,
    },
    /// An image reference is not `host/repository:tag`.
    #[error("invalid image reference {input:?}: {rule}")]
    ImageRef {
        /// The reference as given.
        input: String,
        /// The rule broken.
        rule: &'static str,
    },
    /// The registry host of an image reference is invalid.
    #[error("invalid image reference {input:?}: {source}")]
    Host {
        /// The reference as given.
        input: String,
        /// What is wrong with the host.
        #[source]
        source: AddressError,
    },
}

// ---------------------------------------------------------------------------------------------
// Repository names

/// A repository name (the spec's `<name>`) without its registry host, e.g. `team/app`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RepositoryName(String);
crate::string_newtype!(RepositoryName);

impl RepositoryName {
    /// Parses a repository name: path components `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*` joined by
    /// `/`, at most [`NAME_TOTAL_LENGTH_MAX`] characters.
    ///
    /// ```
    /// use dagger_engine::registry::RepositoryName;
    /// assert_eq!(RepositoryName::parse("team/app").unwrap().as_str(), "team/app");
    /// assert!(RepositoryName::parse("Blumeops/app").is_err());
    /// ```
    pub fn parse(input: &str) -> Result<RepositoryName, ReferenceError> {
        if input.len() > NAME_TOTAL_LENGTH_MAX {
            return Err(ReferenceError::NameTooLong {
                input: input.to_owned(),
                len: input.len(),
            });
        }
        for component in input.split('/') {
            if component.is_empty() {
                return Err(ReferenceError::EmptyRepositoryComponent {
                    input: input.to_owned(),
                });
            }
            if !is_path_component(component) {
                return Err(ReferenceError::RepositoryComponent {
                    input: input.to_owned(),
                    component: component.to_owned(),
                });
            }
        }
        Ok(RepositoryName(input.to_owned()))
    }
}

impl FromStr for RepositoryName {
    type Err = ReferenceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`: alphanumeric runs separated by `.`, `_`, `__` or one
/// or more `-`.
pub(crate) fn is_path_component(s: &str) -> bool {
    let alnum = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    let bytes = s.as_bytes();
    let mut i = 0;
    loop {
        // One alphanumeric run.
        let start = i;
        while i < bytes.len() && alnum(bytes[i]) {
            i += 1;
        }
        if i == start {
            return false;
        }
        if i == bytes.len() {
            return true;
        }
        // One separator.
        match bytes[i] {
            b'.' => i += 1,
            b'_' => {
                i += 1;
                if i < bytes.len() && bytes[i] == b'_' {
                    i += 1;
                }
            }
            b'-' => {
                while i < bytes.len() && bytes[i] == b'-' {
                    i += 1;
                }
            }
            _ => return false,
        }
    }
}

/// Joins a namespace and a name into a repository name, e.g. `team` + `app` ->
/// `team/app`. The namespace may itself have several components; the name is one.
///
/// ```
/// use dagger_engine::registry::repository;
/// assert_eq!(repository("team", "app").unwrap().as_str(), "team/app");
/// assert!(repository("team", "a/b").is_err());
/// ```
pub fn repository(namespace: &str, name: &str) -> Result<RepositoryName, ReferenceError> {
    if name.contains('/') {
        return Err(ReferenceError::RepositoryComponent {
            input: format!("{namespace}/{name}"),
            component: name.to_owned(),
        });
    }
    RepositoryName::parse(&format!("{namespace}/{name}"))
}

// ---------------------------------------------------------------------------------------------
// Tags

/// A tag: `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag(String);
crate::string_newtype!(Tag);

impl Tag {
    /// Parses a tag.
    ///
    /// ```
    /// use dagger_engine::registry::Tag;
    /// assert!(Tag::parse("v0.61.1-c86b5d7").is_ok());
    /// assert!(Tag::parse(".hidden").is_err());
    /// ```
    pub fn parse(input: &str) -> Result<Tag, ReferenceError> {
        if is_tag(input) {
            Ok(Tag(input.to_owned()))
        } else {
            Err(ReferenceError::Tag {
                input: input.to_owned(),
            })
        }
    }
}

impl FromStr for Tag {
    type Err = ReferenceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

fn is_tag(s: &str) -> bool {
    let bytes = s.as_bytes();
    let Some((&first, rest)) = bytes.split_first() else {
        return false;
    };
    bytes.len() <= TAG_LENGTH_MAX
        && (first.is_ascii_alphanumeric() || first == b'_')
        && rest
            .iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
}

// ---------------------------------------------------------------------------------------------
// Digests

/// A content digest, `algorithm ":" encoded`, e.g. `sha256:<64 lowercase hex>`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest(String);
crate::string_newtype!(Digest);

impl Digest {
    /// Parses a digest. `sha256` needs 64 and `sha512` 128 lowercase hex characters; other
    /// algorithms must follow the image spec's general grammar (`[a-z0-9]+([+._-][a-z0-9]+)*`
    /// `:` `[a-zA-Z0-9=_-]+`).
    ///
    /// ```
    /// use dagger_engine::registry::Digest;
    /// let hex = "a".repeat(64);
    /// assert!(Digest::parse(&format!("sha256:{hex}")).is_ok());
    /// assert!(Digest::parse("sha256:ABC").is_err());
    /// ```
    pub fn parse(input: &str) -> Result<Digest, ReferenceError> {
        let err = |rule| ReferenceError::Digest {
            input: input.to_owned(),
            rule,
        };
        let Some((algorithm, encoded)) = input.split_once(':') else {
            return Err(err("a digest must be `algorithm:encoded`"));
        };
        let lower_hex = |s: &str| s.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'));
        match algorithm {
            "sha256" if encoded.len() != 64 || !lower_hex(encoded) => Err(err(
                "sha256 digests are 64 lowercase hexadecimal characters",
            )),
            "sha512" if encoded.len() != 128 || !lower_hex(encoded) => Err(err(
                "sha512 digests are 128 lowercase hexadecimal characters",
            )),
            "sha256" | "sha512" => Ok(Digest(input.to_owned())),
            _ if !is_digest_algorithm(algorithm) => {
                Err(err("the algorithm must match [a-z0-9]+([+._-][a-z0-9]+)*"))
            }
            _ if encoded.is_empty()
                || !encoded
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'=' | b'_' | b'-')) =>
            {
                Err(err("the encoded part must match [a-zA-Z0-9=_-]+"))
            }
            _ => Ok(Digest(input.to_owned())),
        }
    }

    /// The sha256 digest of `bytes`.
    pub fn sha256_of(bytes: &[u8]) -> Digest {
        use sha2::Digest as _;
        Digest(format!(
            "sha256:{}",
            hex::encode(sha2::Sha256::digest(bytes))
        ))
    }

    /// The algorithm, e.g. `sha256`.
    pub fn algorithm(&self) -> &str {
        self.0.split_once(':').map_or("", |(a, _)| a)
    }

    /// The encoded part (the hex for sha256).
    pub fn encoded(&self) -> &str {
        self.0.split_once(':').map_or("", |(_, e)| e)
    }
}

impl FromStr for Digest {
    type Err = ReferenceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

fn is_digest_algorithm(s: &str) -> bool {
    !s.is_empty()
        && s.split(['+', '.', '_', '-']).all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
}

// ---------------------------------------------------------------------------------------------
// Image references

/// A full image reference with an explicit registry host and a tag: `host/repository:tag`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ImageRef {
    /// The registry host (Docker Hub aliases folded into `docker.io`).
    pub host: RegistryHost,
    /// The repository within the registry.
    pub repository: RepositoryName,
    /// The tag.
    pub tag: Tag,
}
crate::string_newtype!(@serde ImageRef);

impl ImageRef {
    /// Builds a reference from parts that are each valid. The fields are public, so the
    /// `host/name` length limit cannot be an invariant of the type: [`ImageRef::parse`] checks
    /// it, and [`ImageRef::check_length`] checks a reference built from parts.
    pub fn new(host: RegistryHost, repository: RepositoryName, tag: Tag) -> ImageRef {
        ImageRef {
            host,
            repository,
            tag,
        }
    }

    /// Checks `host/name` against [`NAME_TOTAL_LENGTH_MAX`] (the limit clients such as
    /// containerd apply; see that constant).
    pub fn check_length(&self) -> Result<(), ReferenceError> {
        let len = self.host.as_str().len() + 1 + self.repository.as_str().len();
        if len > NAME_TOTAL_LENGTH_MAX {
            return Err(ReferenceError::NameTooLong {
                input: self.name(),
                len,
            });
        }
        Ok(())
    }

    /// Parses `host/repository:tag`. The host must be explicit (a first component with a `.`
    /// or a `:port`, or `localhost`, as in distribution's `splitDockerDomain`), and a tag is
    /// required; a digest is not allowed here (see [`PublishedRef`]).
    ///
    /// ```
    /// use dagger_engine::registry::ImageRef;
    /// let r = ImageRef::parse("registry.example.org/team/app:v0.61.1-c86b5d7").unwrap();
    /// assert_eq!(r.host.as_str(), "registry.example.org");
    /// assert_eq!(r.repository.as_str(), "team/app");
    /// assert_eq!(r.to_string(), "registry.example.org/team/app:v0.61.1-c86b5d7");
    /// assert!(ImageRef::parse("alpine:3.20").is_err()); // no explicit host
    /// ```
    pub fn parse(input: &str) -> Result<ImageRef, ReferenceError> {
        let err = |rule| ReferenceError::ImageRef {
            input: input.to_owned(),
            rule,
        };
        if input.contains('@') {
            return Err(err(
                "an image reference here is `host/repository:tag`, without a digest",
            ));
        }
        let Some((domain, rest)) = input.split_once('/') else {
            return Err(err("an image reference must be `host/repository:tag`"));
        };
        if !(domain.contains(['.', ':']) || domain == "localhost") {
            return Err(err(
                "the registry host must be explicit: a first component with a '.' or a ':port', or `localhost`",
            ));
        }
        let host = RegistryHost::from_domain(domain).map_err(|source| ReferenceError::Host {
            input: input.to_owned(),
            source,
        })?;
        // The tag follows the last ':' of the path (a ':' cannot occur in a repository name).
        let Some((repo, tag)) = rest.rsplit_once(':') else {
            return Err(err(
                "an image reference needs a tag (`host/repository:tag`)",
            ));
        };
        let repository = RepositoryName::parse(repo)?;
        let tag = Tag::parse(tag)?;
        let image = ImageRef::new(host, repository, tag);
        image.check_length()?;
        Ok(image)
    }

    /// The reference without its tag: `host/repository`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.host, self.repository)
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}:{}", self.host, self.repository, self.tag)
    }
}

impl FromStr for ImageRef {
    type Err = ReferenceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// What the engine's `publish` answers: `host/repository:tag@sha256:<hex>`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PublishedRef {
    /// The reference that was pushed.
    pub image: ImageRef,
    /// The digest of the pushed manifest.
    pub digest: Digest,
}
crate::string_newtype!(@serde PublishedRef);

impl PublishedRef {
    /// Parses `host/repository:tag@digest`.
    ///
    /// ```
    /// use dagger_engine::registry::PublishedRef;
    /// let s = format!("127.0.0.1:5000/blumeops/x:v1-abcdef0@sha256:{}", "0".repeat(64));
    /// let p = PublishedRef::parse(&s).unwrap();
    /// assert_eq!(p.digest.algorithm(), "sha256");
    /// assert_eq!(p.to_string(), s);
    /// ```
    pub fn parse(input: &str) -> Result<PublishedRef, ReferenceError> {
        let Some((image, digest)) = input.split_once('@') else {
            return Err(ReferenceError::ImageRef {
                input: input.to_owned(),
                rule: "a published reference must be `host/repository:tag@digest`",
            });
        };
        Ok(PublishedRef {
            image: ImageRef::parse(image)?,
            digest: Digest::parse(digest)?,
        })
    }

    /// Pairs a pushed reference with its digest.
    pub fn new(image: ImageRef, digest: Digest) -> PublishedRef {
        PublishedRef { image, digest }
    }
}

impl fmt::Display for PublishedRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.image, self.digest)
    }
}

impl FromStr for PublishedRef {
    type Err = ReferenceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn repository_names() {
        let long_ok = "a".repeat(255);
        let too_long = "a".repeat(256);
        let cases: &[(&str, bool)] = &[
            ("a", true),
            ("team/app", true),
            ("library/alpine", true),
            ("a.b_c__d-e---f/g0", true),
            ("a/b/c/d", true),
            (&long_ok, true),
            ("", false),
            ("/a", false),
            ("a/", false),
            ("a//b", false),
            ("A", false),
            ("blumeops/App", false),
            ("a..b", false),
            ("a___b", false),
            ("a_-b", false),
            ("-a", false),
            ("a-", false),
            (".a", false),
            ("a b", false),
            ("a:b", false),
            ("é", false),
            (&too_long, false),
        ];
        for (input, ok) in cases {
            assert_eq!(RepositoryName::parse(input).is_ok(), *ok, "{input:?}");
        }
        let err = RepositoryName::parse("blumeops/App").unwrap_err();
        assert!(err.to_string().contains("\"App\""), "{err}");
        assert!(err.to_string().contains("[a-z0-9]+"), "{err}");
        assert!(matches!(
            RepositoryName::parse(&too_long),
            Err(ReferenceError::NameTooLong { len: 256, .. })
        ));
    }

    #[test]
    fn repository_composition() {
        assert_eq!(repository("team", "app").unwrap().as_str(), "team/app");
        assert_eq!(repository("a/b", "c").unwrap().as_str(), "a/b/c");
        assert!(repository("", "c").is_err());
        assert!(repository("blumeops", "").is_err());
        assert!(repository("blumeops", "x/y").is_err());
        assert!(repository("BlumeOps", "x").is_err());
    }

    #[test]
    fn tags() {
        let max = format!("a{}", "b".repeat(127));
        let over = format!("a{}", "b".repeat(128));
        let cases: &[(&str, bool)] = &[
            ("latest", true),
            ("v0.61.1-c86b5d7", true),
            ("_x", true),
            ("A.b-C_d", true),
            ("1", true),
            (&max, true),
            ("", false),
            (".x", false),
            ("-x", false),
            ("a/b", false),
            ("a:b", false),
            ("a b", false),
            ("a+b", false),
            (&over, false),
        ];
        for (input, ok) in cases {
            assert_eq!(Tag::parse(input).is_ok(), *ok, "{input:?}");
        }
        let msg = Tag::parse("a b").unwrap_err().to_string();
        assert!(
            msg.contains("tag must match [A-Za-z0-9_][A-Za-z0-9._-]{0,127}"),
            "{msg}"
        );
    }

    #[test]
    fn digests() {
        let h64 = "0123456789abcdef".repeat(4);
        let h128 = h64.repeat(2);
        let cases: Vec<(String, bool)> = vec![
            (format!("sha256:{h64}"), true),
            (format!("sha512:{h128}"), true),
            (
                format!(
                    "multihash+base58:{}",
                    "QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8"
                ),
                true,
            ),
            ("sha256:".to_owned(), false),
            (format!("sha256:{}", h64.to_uppercase()), false),
            (format!("sha256:{}", &h64[1..]), false),
            (format!("sha512:{h64}"), false),
            (h64.clone(), false),
            (format!("SHA256:{h64}"), false),
            ("foo:".to_owned(), false),
            (":abc".to_owned(), false),
            ("a+:x".to_owned(), false),
            ("x:a b".to_owned(), false),
        ];
        for (input, ok) in &cases {
            assert_eq!(Digest::parse(input).is_ok(), *ok, "{input:?}");
        }
        let d = Digest::sha256_of(b"");
        assert_eq!(
            d.as_str(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(d.algorithm(), "sha256");
        assert_eq!(d.encoded().len(), 64);
    }

    #[test]
    fn image_refs() {
        let ok: &[(&str, &str, &str, &str)] = &[
            (
                "registry.example.org/team/app:v1",
                "registry.example.org",
                "team/app",
                "v1",
            ),
            ("127.0.0.1:5000/a:latest", "127.0.0.1:5000", "a", "latest"),
            ("localhost/a/b:t", "localhost", "a/b", "t"),
            ("localhost:5000/a:t", "localhost:5000", "a", "t"),
            ("myhost:5000/a:t", "myhost:5000", "a", "t"),
            (
                "docker.io/library/alpine:3.20",
                "docker.io",
                "library/alpine",
                "3.20",
            ),
            (
                "index.docker.io/library/alpine:3.20",
                "docker.io",
                "library/alpine",
                "3.20",
            ),
            ("[::1]:5000/a:t", "[::1]:5000", "a", "t"),
        ];
        for (input, host, repo, tag) in ok {
            let r = ImageRef::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(
                (r.host.as_str(), r.repository.as_str(), r.tag.as_str()),
                (*host, *repo, *tag)
            );
        }
        for bad in [
            "",
            "alpine:3.20",
            "library/alpine:3.20",
            "ghcr.io/a",
            "ghcr.io/a:",
            "ghcr.io/A:t",
            "ghcr.io/a:t@sha256:00",
            "ghcr.io:99999/a:t",
            "ghcr..io/a:t",
            "ghcr.io/a:b:c",
            "http://ghcr.io/a:t",
        ] {
            assert!(ImageRef::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        let host = RegistryHost::parse("registry.example.com").unwrap();
        let repo = RepositoryName::parse(&"a".repeat(240)).unwrap();
        let long = ImageRef::new(host, repo, Tag::parse("t").unwrap());
        assert!(matches!(
            long.check_length(),
            Err(ReferenceError::NameTooLong { len: 261, .. })
        ));
        assert!(ImageRef::parse(&long.to_string()).is_err());
    }

    #[test]
    fn published_refs() {
        let hex = "ab".repeat(32);
        let s = format!("registry.example.org/blumeops/x:v1-abcdef0@sha256:{hex}");
        let p = PublishedRef::parse(&s).unwrap();
        assert_eq!(p.image.tag.as_str(), "v1-abcdef0");
        assert_eq!(p.digest.encoded(), hex);
        assert_eq!(p.to_string(), s);
        assert!(PublishedRef::parse("registry.example.org/blumeops/x:v1").is_err());
        assert!(PublishedRef::parse("registry.example.org/blumeops/x:v1@sha256:zz").is_err());
        assert_eq!(
            serde_json::to_value(&p).unwrap(),
            serde_json::Value::String(s.clone())
        );
        let back: PublishedRef = serde_json::from_value(serde_json::Value::String(s)).unwrap();
        assert_eq!(back, p);
    }

    #[test]
    fn serialize_as_strings() {
        let t = Tag::parse("v1").unwrap();
        assert_eq!(serde_json::to_string(&t).unwrap(), "\"v1\"");
        let r = ImageRef::parse("ghcr.io/a/b:v1").unwrap();
        assert_eq!(serde_json::to_string(&r).unwrap(), "\"ghcr.io/a/b:v1\"");
        assert!(serde_json::from_str::<Tag>("\"a b\"").is_err());
    }

    fn ref_strategy() -> impl Strategy<Value = String> {
        let host = prop_oneof![
            "[a-z]([a-z0-9-]{0,8}[a-z0-9])?\\.[a-z]{2,5}(:[1-9][0-9]{0,3})?",
            "localhost(:[1-9][0-9]{0,3})?",
            "127\\.0\\.0\\.1:[1-9][0-9]{0,3}",
        ];
        let repo = "[a-z0-9]{1,5}((\\.|_|__|-+)[a-z0-9]{1,5}){0,2}(/[a-z0-9]{1,5}((\\.|_|__|-+)[a-z0-9]{1,3}){0,2}){0,3}";
        let tag = "[A-Za-z0-9_][A-Za-z0-9._-]{0,20}";
        (host, repo, tag).prop_map(|(h, r, t)| format!("{h}/{r}:{t}"))
    }

    proptest! {
        #[test]
        fn accepted_refs_round_trip(s in ref_strategy()) {
            let r = ImageRef::parse(&s).unwrap();
            prop_assert_eq!(ImageRef::parse(&r.to_string()).unwrap(), r.clone());
            prop_assert_eq!(r.to_string(), s);
        }

        #[test]
        fn parsers_never_panic_and_round_trip(s in "\\PC{0,80}|[a-zA-Z0-9./:@_+-]{0,80}") {
            if let Ok(r) = ImageRef::parse(&s) {
                prop_assert_eq!(ImageRef::parse(&r.to_string()).unwrap(), r);
            }
            if let Ok(p) = PublishedRef::parse(&s) {
                prop_assert_eq!(PublishedRef::parse(&p.to_string()).unwrap(), p);
            }
            if let Ok(n) = RepositoryName::parse(&s) {
                prop_assert_eq!(n.to_string(), s.clone());
            }
            if let Ok(t) = Tag::parse(&s) {
                prop_assert_eq!(t.to_string(), s.clone());
            }
            if let Ok(d) = Digest::parse(&s) {
                prop_assert_eq!(d.to_string(), s.clone());
            }
        }
    }
}
