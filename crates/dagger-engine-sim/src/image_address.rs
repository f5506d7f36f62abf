//! Image addresses as containerd's resolver splits them, for `from`, `publish`, declared image
//! effects and registry clients.

use std::fmt;

/// An image address split as containerd's docker reference does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ImageAddress {
    pub host: String,
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

/// An image address that does not parse, with the engine's wording (`failed to parse image
/// address ...: invalid reference format: <the rule>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InvalidImageAddress(String);

impl fmt::Display for InvalidImageAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InvalidImageAddress {}

/// Splits an image address for a pull or a push, as containerd's resolver sees it
/// (docker/distribution `reference/normalize.go`, `ParseNormalizedNamed` and
/// `splitDockerDomain`): the first component is a domain when it has a `.` or `:` or is
/// `localhost`, otherwise the domain is `docker.io` and a one-component name gets `library/`;
/// Docker Hub's other names fold into `docker.io` by [`RegistryHost::from_domain`], the one
/// place that rule lives.
/// The repository, tag and digest grammar is [`dagger_engine::registry::reference`]'s.
pub(crate) fn parse_address(address: &str) -> Result<ImageAddress, InvalidImageAddress> {
    use dagger_engine::registry::{Digest, RegistryHost, RepositoryName, Tag};
    let invalid = |why: String| {
        InvalidImageAddress(format!(
            "failed to parse image address {address:?}: invalid reference format: {why}"
        ))
    };
    if address.is_empty() || address.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid("empty, or contains whitespace".into()));
    }
    let (rest, digest) = match address.split_once('@') {
        Some((r, d)) => (
            r,
            Some(
                Digest::parse(d)
                    .map_err(|e| invalid(e.to_string()))?
                    .to_string(),
            ),
        ),
        None => (address, None),
    };
    let (name, tag) = match rest.rfind(':') {
        Some(i) if !rest[i + 1..].contains('/') => (
            &rest[..i],
            Some(
                Tag::parse(&rest[i + 1..])
                    .map_err(|e| invalid(e.to_string()))?
                    .to_string(),
            ),
        ),
        _ => (rest, None),
    };
    let (first, remainder) = match name.split_once('/') {
        Some((f, r)) => (f, Some(r)),
        None => (name, None),
    };
    let (host, repository) = match remainder {
        Some(r) if first.contains('.') || first.contains(':') || first == "localhost" => {
            (first.to_string(), r.to_string())
        }
        Some(_) => ("docker.io".to_string(), name.to_string()),
        None => ("docker.io".to_string(), format!("library/{name}")),
    };
    // distribution's reference grammar allows upper case in the domain (`domainNameComponent`
    // is `[a-zA-Z0-9]...`, github.com/distribution/reference `regexp.go`); only the path must be
    // lower case (`ParseNormalizedNamed`, `normalize.go`). Host names are case-insensitive, so
    // the model keys registries by the lower-case host (`RegistryHost::from_domain`).
    let host = RegistryHost::from_domain(&host)
        .map_err(|e| invalid(e.to_string()))?
        .as_str()
        .to_string();
    let repository = RepositoryName::parse(&repository)
        .map_err(|e| invalid(e.to_string()))?
        .to_string();
    Ok(ImageAddress {
        host,
        repository,
        tag,
        digest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_split_like_docker_references() {
        let a = parse_address("alpine").unwrap();
        assert_eq!(
            (a.host.as_str(), a.repository.as_str()),
            ("docker.io", "library/alpine")
        );
        let a = parse_address("registry.example.org/blumeops/x:v1-abc").unwrap();
        assert_eq!(a.host, "registry.example.org");
        assert_eq!(a.tag.as_deref(), Some("v1-abc"));
        assert_eq!(
            parse_address("localhost:5000/a").unwrap().host,
            "localhost:5000"
        );
        assert_eq!(
            parse_address("index.docker.io/library/x").unwrap().host,
            "docker.io"
        );
        assert!(parse_address("Bad Name").is_err());
        assert!(parse_address("host.io/UPPER:tag").is_err());
    }
}
