//! Registry addresses reduced to the host the engine keys credentials by — the only copy of
//! that rule in the crate.
//!
//! The real engine's rule is `parseAuthAddress` in dagger/dagger `auth/registry.go`, called by
//! `RegistryAuthProvider.AddCredential` from `Container.withRegistryAuth`
//! (`core/schema/container.go`). It works on the text, in this order:
//! 1. `http://` then `https://` prefixes are trimmed, then one trailing `/`;
//! 2. everything from the first `@` (a digest) is dropped;
//! 3. with more than one `:`, everything from the last `:` (a tag) is dropped;
//! 4. with a `:` left, what follows the last `:` is dropped when it contains a `.` (a tag like
//!    `3.19`); otherwise it stays (it is taken for a port);
//! 5. the domain is the text before the first `/`; then, first match wins:
//!    a domain containing `localhost` is kept as is; an address with neither `.` nor `:` means
//!    `docker.io`; an address containing `docker.io` means `docker.io`; a domain containing `.`
//!    is kept; anything else is an error ("expected address format: [registrydomain.extension]").
//!
//! On the lookup side (`RegistryAuthProvider.Credentials`), `registry-1.docker.io` and
//! `index.docker.io` are folded into `docker.io` before comparing.
//!
//! Consequences this module keeps, because the engine has them:
//! - a host with a port but no dot (`myhost:5000`) is an error, although distribution's
//!   `splitDockerDomain` (docker/distribution `reference/normalize.go`) would call it a domain;
//! - a dot-free tag after a Docker Hub path (`alpine:latest`, `bitnami/redis:7`) is read as a
//!   port of a dot-free domain, and is an error;
//! - any address that merely contains `docker.io` (outside a `localhost` domain) means Docker Hub;
//! - IPv6 literals (`[::1]:5000`) are torn apart by the `:` rules and end as an error.
//!
//! The engine itself accepts some text that no registry reference can be (an empty address
//! becomes `docker.io`; `registry.com:latest` is stored under that string; spaces and uppercase
//! paths pass through). Such an address can never match a push, so here it is an error instead:
//! the host must be DNS labels with an optional port 1-65535, and whatever follows the host must
//! be a valid repository path, tag and digest (the grammar in [`crate::registry::reference`]).
//! Doubt: this validation is stricter than `parseAuthAddress`; it only rejects addresses that
//! could never name a pushable reference.

use std::net::Ipv4Addr;
use std::str::FromStr;

use super::reference::{Digest, ReferenceError, RepositoryName, Tag};

/// Docker Hub's canonical host, the key the engine uses for it.
pub const DOCKER_HUB: &str = "docker.io";

/// Docker Hub's other names, folded into [`DOCKER_HUB`] (dagger `auth/registry.go`,
/// `Credentials`).
const DOCKER_HUB_ALIASES: [&str; 2] = ["index.docker.io", "registry-1.docker.io"];

/// A registry address the engine cannot take. Every message names the rule and shows the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// Nothing left once the scheme and trailing `/` are removed.
    #[error("registry address {input:?} is empty; expected a host such as `registry.example.com` or `localhost:5000`")]
    Empty {
        /// The address as given.
        input: String,
    },
    /// Whitespace or a control character.
    #[error("registry address {input:?} contains {found:?}; whitespace and control characters are not allowed in a registry address")]
    InvalidCharacter {
        /// The address as given.
        input: String,
        /// The first offending character.
        found: char,
    },
    /// An `@` not followed by a sha256/sha512 digest, such as `user:password@host`. The input is
    /// not shown, as it may hold a password.
    #[error("registry address has an '@' not followed by a sha256/sha512 digest; if it carries credentials (`user:password@host`), pass the username and the secret separately (input not shown, it may hold a password)")]
    Credentials,
    /// The engine's `parseAuthAddress` finds no registry host.
    #[error("registry address {input:?}: {domain:?} is not a registry host; the engine needs a domain with a '.', `localhost`, or a Docker Hub name (dagger auth/registry.go: expected address format [registrydomain.extension])")]
    NotARegistryDomain {
        /// The address as given.
        input: String,
        /// The domain the engine would have looked at.
        domain: String,
    },
    /// An IPv6 literal, which the engine's `:`-based parsing cannot take.
    #[error("registry address {input:?}: IPv6 literals are not supported by the engine's address parser (dagger auth/registry.go splits on ':'); use a host name")]
    Ipv6 {
        /// The address as given.
        input: String,
    },
    /// The host is not DNS labels (`[A-Za-z0-9]`, inner `-`) separated by `.`.
    #[error("registry address {input:?}: host {host:?} must be DNS labels of [A-Za-z0-9-] (not starting or ending with '-') separated by '.'")]
    InvalidHost {
        /// The address as given.
        input: String,
        /// The host part.
        host: String,
    },
    /// The port is not a number from 1 to 65535.
    #[error("registry address {input:?}: port {port:?} must be a number from 1 to 65535")]
    InvalidPort {
        /// The address as given.
        input: String,
        /// The port text.
        port: String,
    },
    /// A registry to publish to is a host (and port) only, but the address names more: a path,
    /// a tag or a digest, which [`RegistryHost::parse_host_only`] refuses rather than drop.
    #[error("registry address {input:?} names {extra:?} after the host {host:?}; a registry to publish to is a host with an optional port (`ghcr.io`, `localhost:5000`): give a path as the repository's namespace, and tags as tags")]
    NotJustAHost {
        /// The address as given.
        input: String,
        /// The host the engine would take from it.
        host: String,
        /// What follows the host (`/myorg`, `/myorg/app:v9`, `@sha256:...`).
        extra: String,
    },
    /// The path, tag or digest after the host breaks the OCI grammar.
    #[error("registry address {input:?}: {source}")]
    Reference {
        /// The address as given.
        input: String,
        /// The grammar rule broken.
        #[source]
        source: Box<ReferenceError>,
    },
}

/// A registry host as the engine keys credentials: `registry.example.com`, `localhost:5000`,
/// `127.0.0.1:5000`, or `docker.io`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RegistryHost(String);
crate::string_newtype!(RegistryHost);

impl RegistryHost {
    /// Reduces a registry address (a host, a URL, or a full image reference) to its host,
    /// exactly as the engine's `withRegistryAuth` does (see the module docs).
    ///
    /// ```
    /// use dagger_engine::registry::RegistryHost;
    /// let host = |s| RegistryHost::parse(s).map(|h| h.to_string());
    /// assert_eq!(host("https://registry.example.org/blumeops/x:v1").unwrap(), "registry.example.org");
    /// assert_eq!(host("localhost:5000/x:1.0").unwrap(), "localhost:5000");
    /// assert_eq!(host("bitnami/redis").unwrap(), "docker.io");
    /// assert_eq!(host("index.docker.io").unwrap(), "docker.io");
    /// assert!(host("myhost:5000").is_err());
    /// ```
    pub fn parse(address: &str) -> Result<RegistryHost, AddressError> {
        let input = address;
        if let Some(found) = input.chars().find(|c| c.is_whitespace() || c.is_control()) {
            return Err(AddressError::InvalidCharacter {
                input: input.to_owned(),
                found,
            });
        }
        // Step 1: scheme and one trailing slash.
        let a = input.strip_prefix("http://").unwrap_or(input);
        let a = a.strip_prefix("https://").unwrap_or(a);
        let a = a.strip_suffix('/').unwrap_or(a);

        // Step 2: the digest.
        let (name, digest) = match a.split_once('@') {
            Some((name, digest)) => (name, Some(digest)),
            None => (a, None),
        };
        if let Some(digest) = digest {
            // Only `name@sha256:...` / `name@sha512:...` is a digest here. Anything else after
            // an '@' may be `user:password@host`: never echo it, it may hold a password.
            let known_algorithm = digest.starts_with("sha256:") || digest.starts_with("sha512:");
            if !known_algorithm {
                return Err(AddressError::Credentials);
            }
            Digest::parse(digest).map_err(|e| reference_error(input, e))?;
        }
        if name.is_empty() {
            return Err(AddressError::Empty {
                input: input.to_owned(),
            });
        }
        if name.starts_with('[') {
            return Err(AddressError::Ipv6 {
                input: input.to_owned(),
            });
        }

        // Steps 3 and 4: the tag, told from a port by the engine's heuristics.
        let mut stripped = name;
        if stripped.matches(':').count() > 1 {
            if let Some(i) = stripped.rfind(':') {
                stripped = &stripped[..i];
            }
        }
        if let Some(i) = stripped.rfind(':') {
            if stripped[i..].contains('.') {
                stripped = &stripped[..i];
            }
        }

        // Step 5: the domain, and the engine's decision.
        let domain = stripped.split('/').next().unwrap_or(stripped);
        let host = if domain.contains("localhost") {
            domain
        } else if !stripped.contains(['.', ':']) || stripped.contains(DOCKER_HUB) {
            DOCKER_HUB
        } else if domain.contains('.') {
            domain
        } else {
            return Err(AddressError::NotARegistryDomain {
                input: input.to_owned(),
                domain: domain.to_owned(),
            });
        };

        // Validation of what the engine passes through unchecked (see the module docs).
        validate_rest(input, name)?;
        let host = if host == DOCKER_HUB {
            RegistryHost(DOCKER_HUB.to_owned())
        } else {
            validate_host_port(input, host, false)?;
            fold_docker_hub(host)
        };
        Ok(host)
    }

    /// A registry to publish to: [`RegistryHost::parse`]'s rule, and nothing after the host
    /// (a scheme and one trailing `/` are fine). The engine would drop a path (`ghcr.io/myorg`)
    /// and push to the host's root; a caller that meant `myorg` as the namespace would publish
    /// somewhere else, so the path is refused instead.
    ///
    /// ```
    /// use dagger_engine::registry::RegistryHost;
    /// assert_eq!(RegistryHost::parse_host_only("https://ghcr.io/").unwrap().as_str(), "ghcr.io");
    /// assert_eq!(RegistryHost::parse_host_only("localhost:5000").unwrap().as_str(), "localhost:5000");
    /// let err = RegistryHost::parse_host_only("ghcr.io/myorg").unwrap_err();
    /// assert!(err.to_string().contains("namespace"), "{err}");
    /// ```
    pub fn parse_host_only(address: &str) -> Result<RegistryHost, AddressError> {
        let host = RegistryHost::parse(address)?;
        let a = address.strip_prefix("http://").unwrap_or(address);
        let a = a.strip_prefix("https://").unwrap_or(a);
        let a = a.strip_suffix('/').unwrap_or(a);
        // The host as written ends at the first `/` or `@`; a `:` after it is a port (parse
        // has validated it) unless a path or digest follows.
        let end = a.find(['/', '@']).unwrap_or(a.len());
        if end < a.len() {
            return Err(AddressError::NotJustAHost {
                input: address.to_owned(),
                host: host.0,
                extra: a[end..].to_owned(),
            });
        }
        Ok(host)
    }

    /// A registry host taken from the first component of an image reference (distribution's
    /// domain grammar: DNS labels or a bracketed IPv6 literal, optional port), with Docker Hub's
    /// aliases folded into `docker.io`. Unlike [`RegistryHost::parse`], a dot-free host with a
    /// port (`myhost:5000`) is fine here: that is what `splitDockerDomain` does for a pushed ref.
    pub fn from_domain(domain: &str) -> Result<RegistryHost, AddressError> {
        if let Some(found) = domain.chars().find(|c| c.is_whitespace() || c.is_control()) {
            return Err(AddressError::InvalidCharacter {
                input: domain.to_owned(),
                found,
            });
        }
        if domain.is_empty() {
            return Err(AddressError::Empty {
                input: domain.to_owned(),
            });
        }
        validate_host_port(domain, domain, true)?;
        Ok(fold_docker_hub(domain))
    }

    /// Whether this is Docker Hub (`docker.io`; its aliases are folded in when parsing).
    pub fn is_docker_hub(&self) -> bool {
        self.0 == DOCKER_HUB
    }

    /// Whether the host is a loopback address: `localhost`, `127.0.0.0/8` or `[::1]`, with or
    /// without a port. Docker treats these as insecure registries (plain HTTP allowed).
    pub fn is_loopback(&self) -> bool {
        let (host, _) = split_port(&self.0);
        host.eq_ignore_ascii_case("localhost")
            || host == "[::1]"
            || host.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
    }

    /// The host without its port.
    pub fn hostname(&self) -> &str {
        split_port(&self.0).0
    }

    /// The port, when one is given.
    pub fn port(&self) -> Option<u16> {
        split_port(&self.0).1.and_then(|p| p.parse().ok())
    }
}

fn reference_error(input: &str, source: ReferenceError) -> AddressError {
    AddressError::Reference {
        input: input.to_owned(),
        source: Box::new(source),
    }
}

/// The host as the library keys it: lower case (host names are case-insensitive, and one
/// spelling for every request keeps the engine's credential, keyed by the string it is given,
/// and the push on the same key), with Docker Hub's aliases folded in.
fn fold_docker_hub(host: &str) -> RegistryHost {
    let host = host.to_ascii_lowercase();
    if DOCKER_HUB_ALIASES.contains(&host.as_str()) {
        RegistryHost(DOCKER_HUB.to_owned())
    } else {
        RegistryHost(host)
    }
}

/// Splits `host[:port]` (with `[v6]` hosts) into the host and the port text.
fn split_port(s: &str) -> (&str, Option<&str>) {
    if s.starts_with('[') {
        return match s.find(']') {
            Some(end) => match s[end + 1..].strip_prefix(':') {
                Some(port) => (&s[..=end], Some(port)),
                None => (s, None),
            },
            None => (s, None),
        };
    }
    match s.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (s, None),
    }
}

/// Checks `host[:port]`: DNS labels (or, when `allow_ipv6`, a bracketed IPv6 literal) and a port
/// from 1 to 65535.
fn validate_host_port(input: &str, host_port: &str, allow_ipv6: bool) -> Result<(), AddressError> {
    let (host, port) = split_port(host_port);
    let host_ok = if host.starts_with('[') {
        if !allow_ipv6 {
            return Err(AddressError::Ipv6 {
                input: input.to_owned(),
            });
        }
        host.strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .is_some_and(|h| h.parse::<std::net::Ipv6Addr>().is_ok())
    } else {
        !host.is_empty() && host.split('.').all(is_dns_label)
    };
    if !host_ok {
        return Err(AddressError::InvalidHost {
            input: input.to_owned(),
            host: host.to_owned(),
        });
    }
    if let Some(port) = port {
        let valid = !port.is_empty()
            && port.len() <= 5
            && port.bytes().all(|c| c.is_ascii_digit())
            && port.parse::<u32>().is_ok_and(|p| (1..=65535).contains(&p));
        if !valid {
            return Err(AddressError::InvalidPort {
                input: input.to_owned(),
                port: port.to_owned(),
            });
        }
    }
    Ok(())
}

/// distribution's `domainComponent`: `[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]`.
fn is_dns_label(label: &str) -> bool {
    let b = label.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
}

/// Checks what follows the host in an address (digest already checked): the repository path and
/// tag must follow the OCI grammar. `name` has no scheme and no digest.
fn validate_rest(input: &str, name: &str) -> Result<(), AddressError> {
    let err = |e| reference_error(input, e);
    match name.split_once('/') {
        Some((first, rest)) => {
            // distribution's splitDockerDomain: a first component with '.' or ':' or equal to
            // `localhost` is the host; otherwise the whole name is a Docker Hub path.
            let path = if first.contains(['.', ':']) || first == "localhost" {
                validate_host_port(input, first, false)?;
                rest
            } else {
                name
            };
            let (repo, tag) = match path.rsplit_once(':') {
                Some((repo, tag)) => (repo, Some(tag)),
                None => (path, None),
            };
            RepositoryName::parse(repo).map_err(err)?;
            if let Some(tag) = tag {
                Tag::parse(tag).map_err(err)?;
            }
        }
        None => {
            // A single component: `host`, `host:port`, `host:port:tag`, `host:tag` (the engine
            // drops a dotted tag) or a Docker Hub `name[:tag]`.
            let parts: Vec<&str> = name.split(':').collect();
            match parts.as_slice() {
                [h] => validate_single(input, h)?,
                [h, last] if last.contains('.') || !h.contains('.') => {
                    // The engine takes `last` for a tag (dotted), or it is `name:tag` of a
                    // dot-free name, which the engine has already rejected unless it is
                    // `localhost`.
                    validate_single(input, h)?;
                    if !h.contains("localhost") || last.contains('.') {
                        Tag::parse(last).map_err(err)?;
                    } else {
                        validate_host_port(input, name, false)?;
                    }
                }
                [_, _] => validate_host_port(input, name, false)?,
                [h, port, tag] => {
                    validate_host_port(input, &format!("{h}:{port}"), false)?;
                    Tag::parse(tag).map_err(err)?;
                }
                _ => {
                    return Err(err(ReferenceError::ImageRef {
                        input: input.to_owned(),
                        rule: "at most `host:port:tag` in a single component",
                    }))
                }
            }
        }
    }
    Ok(())
}

/// A lone first component: a host when it has a dot or is `localhost`-like, else a Docker Hub
/// repository name.
fn validate_single(input: &str, h: &str) -> Result<(), AddressError> {
    if h.contains('.') || h.contains("localhost") {
        validate_host_port(input, h, false)
    } else {
        RepositoryName::parse(h)
            .map(drop)
            .map_err(|e| reference_error(input, e))
    }
}

impl FromStr for RegistryHost {
    type Err = AddressError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Input -> host, or the error variant's name.
    #[test]
    fn engine_normalisation_table() {
        let h64 = "a".repeat(64);
        let dig = format!("@sha256:{h64}");
        let ok: Vec<(String, &str)> = vec![
            // Plain hosts, with and without port.
            ("registry.example.org".into(), "registry.example.org"),
            (
                "registry.example.org:443".into(),
                "registry.example.org:443",
            ),
            ("127.0.0.1:5000".into(), "127.0.0.1:5000"),
            ("ghcr.io".into(), "ghcr.io"),
            // Lower case: `--registry Registry.Example.com` and `registry.example.com` are
            // one registry, in a plan and in a session alike.
            ("Registry.Example.COM".into(), "registry.example.com"),
            // Scheme removed, trailing slash removed.
            (
                "https://registry.example.org".into(),
                "registry.example.org",
            ),
            (
                "http://registry.example.org/".into(),
                "registry.example.org",
            ),
            ("https://127.0.0.1:5000/".into(), "127.0.0.1:5000"),
            // Path, tag and digest removed; port kept.
            (
                "registry.example.org/team/app".into(),
                "registry.example.org",
            ),
            (
                "registry.example.org/team/app:v0.61.1-c86b5d7".into(),
                "registry.example.org",
            ),
            (
                "registry.example.org/team/app:latest".into(),
                "registry.example.org",
            ),
            (
                format!("registry.example.org/team/app:v1{dig}"),
                "registry.example.org",
            ),
            (
                format!("registry.example.org:5000/a/b{dig}"),
                "registry.example.org:5000",
            ),
            ("127.0.0.1:5000/a:latest".into(), "127.0.0.1:5000"),
            ("127.0.0.1:5000/a:1.0".into(), "127.0.0.1:5000"),
            ("registry.com:5000:1.4".into(), "registry.com:5000"),
            ("registry.com:1.4".into(), "registry.com"),
            // localhost kept as is.
            ("localhost".into(), "localhost"),
            ("localhost:5000".into(), "localhost:5000"),
            ("localhost:5000/image:1.0".into(), "localhost:5000"),
            ("localhost:5000/image:latest".into(), "localhost:5000"),
            ("http://localhost:5000".into(), "localhost:5000"),
            ("localhost/docker.io".into(), "localhost"),
            // Docker Hub: no dot and no port in the first component, and its aliases.
            ("alpine".into(), "docker.io"),
            ("alpine:3.19".into(), "docker.io"),
            (format!("alpine{dig}"), "docker.io"),
            ("bitnami/redis".into(), "docker.io"),
            ("bitnami/redis:7.0".into(), "docker.io"),
            ("docker.io".into(), "docker.io"),
            ("docker.io/library/alpine:latest".into(), "docker.io"),
            ("index.docker.io".into(), "docker.io"),
            ("https://index.docker.io/v1/".into(), "docker.io"),
            ("registry-1.docker.io".into(), "docker.io"),
            ("registry-1.docker.io:443".into(), "docker.io"),
            // Engine quirk: anything containing docker.io means Docker Hub.
            ("ghcr.io/mirror/docker.io".into(), "docker.io"),
        ];
        for (input, want) in &ok {
            match RegistryHost::parse(input) {
                Ok(h) => assert_eq!(h.as_str(), *want, "{input:?}"),
                Err(e) => panic!("{input:?} should give {want:?}, got error: {e}"),
            }
        }

        let err: Vec<(&str, &str)> = vec![
            ("", "Empty"),
            ("https://", "Empty"),
            ("/", "Empty"),
            (" registry.com", "InvalidCharacter"),
            ("registry .com", "InvalidCharacter"),
            ("registry.com\n", "InvalidCharacter"),
            // The engine's rule: a domain needs a dot (or localhost).
            ("myhost:5000", "NotARegistryDomain"),
            ("myhost:5000/a/b", "NotARegistryDomain"),
            ("alpine:latest", "NotARegistryDomain"),
            ("bitnami/redis:7", "NotARegistryDomain"),
            ("[::1]:5000", "Ipv6"),
            ("[::1]:5000/a:t", "Ipv6"),
            ("registry.com:latest", "InvalidPort"),
            ("registry.com:0", "InvalidPort"),
            ("registry.com:65536", "InvalidPort"),
            ("registry.com:99999/a", "InvalidPort"),
            ("localhost:abc", "InvalidPort"),
            ("-registry.com", "InvalidHost"),
            ("registry..com", "InvalidHost"),
            ("registry_x.com", "InvalidHost"),
            ("registry.com/Blumeops/x", "Reference"),
            ("registry.com/blumeops//x", "Reference"),
            ("Alpine", "Reference"),
            ("bitnami/Redis", "Reference"),
            ("registry.com/a:b:c:d", "Reference"),
            ("registry.com/a:-bad", "Reference"),
            ("registry.com/a@sha256:abc", "Reference"),
            ("registry.com/a@md5", "Credentials"),
            ("user:hunter2@registry.com:5000", "Credentials"),
            ("user@registry.com", "Credentials"),
            ("user:hunter2@registry.com", "Credentials"),
            ("https://user:hunter2@registry.com/", "Credentials"),
        ];
        for (input, want) in err {
            match RegistryHost::parse(input) {
                Ok(h) => panic!("{input:?} should fail with {want}, got {h}"),
                Err(e) => {
                    let dbg = format!("{e:?}");
                    assert!(dbg.starts_with(want), "{input:?}: want {want}, got {dbg}");
                    let msg = e.to_string();
                    assert!(
                        !msg.contains("hunter2") && !dbg.contains("hunter2"),
                        "{msg}"
                    );
                    if want != "Credentials" {
                        assert!(
                            msg.contains(&format!("{input:?}")),
                            "message must show input: {msg}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn a_publish_target_is_a_host_and_port_only() {
        for ok in [
            "ghcr.io",
            "https://ghcr.io/",
            "localhost:5000",
            "registry.example.org:443",
            "docker.io",
        ] {
            assert!(RegistryHost::parse_host_only(ok).is_ok(), "{ok}");
        }
        for (bad, extra) in [
            ("ghcr.io/myorg", "/myorg"),
            ("ghcr.io/myorg/app:v9", "/myorg/app:v9"),
            ("https://registry.example.org/team", "/team"),
            ("localhost:5000/x", "/x"),
        ] {
            match RegistryHost::parse_host_only(bad) {
                Err(AddressError::NotJustAHost { extra: e, .. }) => assert_eq!(e, extra, "{bad}"),
                other => panic!("{bad}: {other:?}"),
            }
        }
        // The engine's own refusals come first, unchanged.
        assert!(matches!(
            RegistryHost::parse_host_only("myhost:5000"),
            Err(AddressError::NotARegistryDomain { .. })
        ));
    }

    #[test]
    fn messages_name_the_rule() {
        let msg = RegistryHost::parse("myhost:5000").unwrap_err().to_string();
        assert!(msg.contains("registrydomain.extension"), "{msg}");
        let msg = RegistryHost::parse("registry.com:0")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("1 to 65535"), "{msg}");
        let msg = RegistryHost::parse("registry.com/A")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("[a-z0-9]+"), "{msg}");
    }

    #[test]
    fn loopback_and_hub() {
        for (input, loopback) in [
            ("localhost", true),
            ("localhost:5000", true),
            ("127.0.0.1", true),
            ("127.0.0.1:5000", true),
            ("127.1.2.3:80", true),
            ("128.0.0.1:5000", false),
            ("registry.example.org", false),
            ("docker.io", false),
        ] {
            let Ok(h) = RegistryHost::parse(input) else {
                panic!("{input:?} should parse");
            };
            assert_eq!(h.is_loopback(), loopback, "{input:?}");
        }
        for input in ["[::1]", "[::1]:5000", "localhost:1"] {
            assert!(
                RegistryHost::from_domain(input).unwrap().is_loopback(),
                "{input}"
            );
        }
        assert!(!RegistryHost::from_domain("[::2]:5000")
            .unwrap()
            .is_loopback());
        assert!(RegistryHost::parse("bitnami/redis")
            .unwrap()
            .is_docker_hub());
        assert!(!RegistryHost::parse("ghcr.io").unwrap().is_docker_hub());
        let h = RegistryHost::parse("127.0.0.1:5000").unwrap();
        assert_eq!((h.hostname(), h.port()), ("127.0.0.1", Some(5000)));
        assert_eq!(RegistryHost::parse("ghcr.io").unwrap().port(), None);
    }

    #[test]
    fn from_domain_follows_distribution() {
        assert_eq!(
            RegistryHost::from_domain("myhost:5000").unwrap().as_str(),
            "myhost:5000"
        );
        assert_eq!(
            RegistryHost::from_domain("index.docker.io")
                .unwrap()
                .as_str(),
            "docker.io"
        );
        assert!(RegistryHost::from_domain("").is_err());
        assert!(RegistryHost::from_domain("a b").is_err());
        assert!(RegistryHost::from_domain("[zz]:1").is_err());
        assert!(RegistryHost::from_domain("host:0").is_err());
    }

    #[test]
    fn serde_as_string() {
        let h = RegistryHost::parse("https://ghcr.io/x").unwrap();
        assert_eq!(serde_json::to_string(&h).unwrap(), "\"ghcr.io\"");
        let back: RegistryHost = serde_json::from_str("\"ghcr.io\"").unwrap();
        assert_eq!(back, h);
        assert!(serde_json::from_str::<RegistryHost>("\"myhost:5000\"").is_err());
    }

    proptest! {
        #[test]
        fn never_panics_and_is_idempotent(s in "\\PC{0,60}|[a-zA-Z0-9./:@_-]{0,60}") {
            if let Ok(h) = RegistryHost::parse(&s) {
                // A parsed host parses to itself, and its Display round-trips.
                prop_assert_eq!(RegistryHost::parse(h.as_str()).unwrap(), h.clone());
                prop_assert_eq!(h.to_string().parse::<RegistryHost>().unwrap(), h);
            }
            let _ = RegistryHost::from_domain(&s);
        }

        #[test]
        fn hosts_with_paths_reduce_to_the_host(
            host in "[a-z]([a-z0-9-]{0,6}[a-z0-9])?\\.(com|me|dev)(:[1-9][0-9]{0,3})?",
            repo in "[a-z0-9]{1,6}(/[a-z0-9]{1,6}){0,2}",
            tag in "[A-Za-z0-9_][A-Za-z0-9._-]{0,10}",
        ) {
            let h = RegistryHost::parse(&format!("https://{host}/{repo}:{tag}")).unwrap();
            prop_assert_eq!(h.as_str(), host.as_str());
        }
    }
}
