//! The platform an image is built for ([`TargetPlatform`]), and what a Go cross-compilation
//! needs to know of it.

use std::fmt;

/// A platform of a (multi-platform) image: `os/arch` or `os/arch/variant`, each part lowercase
/// letters, digits or `_` (`linux/amd64`, `linux/arm64`, `linux/arm/v7`), as the OCI image
/// index's `platform` and the engine's `Platform` scalar write it.
///
/// ```
/// use dagger_pipeline::TargetPlatform;
/// let arm = TargetPlatform::parse("linux/arm/v7").unwrap();
/// assert_eq!((arm.os(), arm.arch(), arm.variant()), ("linux", "arm", Some("v7")));
/// assert_eq!(arm.go_env(), [("GOOS", "linux".to_string()), ("GOARCH", "arm".into()), ("GOARM", "7".into())]);
/// assert!(TargetPlatform::parse("Linux/amd64").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TargetPlatform(String);

/// A platform that does not follow the `os/arch[/variant]` grammar.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "platform {input:?} must be os/arch or os/arch/variant in lowercase (linux/amd64, \
     linux/arm/v7)"
)]
pub struct PlatformError {
    /// The platform as given.
    pub input: String,
}

impl TargetPlatform {
    /// Parses `os/arch` or `os/arch/variant`.
    pub fn parse(input: &str) -> Result<Self, PlatformError> {
        let parts: Vec<&str> = input.split('/').collect();
        let part_ok = |p: &&str| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        };
        if (2..=3).contains(&parts.len()) && parts.iter().all(part_ok) {
            Ok(Self(input.to_string()))
        } else {
            Err(PlatformError {
                input: input.to_string(),
            })
        }
    }

    /// The platform as written (`linux/arm64`).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The operating system (`linux`).
    pub fn os(&self) -> &str {
        self.0.split('/').next().unwrap_or_default()
    }

    /// The architecture (`arm64`).
    pub fn arch(&self) -> &str {
        self.0.split('/').nth(1).unwrap_or_default()
    }

    /// The variant (`v7` of `linux/arm/v7`), if any.
    pub fn variant(&self) -> Option<&str> {
        self.0.split('/').nth(2)
    }

    /// The platform as the engine's `Platform` scalar.
    pub fn to_sdk(&self) -> dagger_sdk::Platform {
        dagger_sdk::Platform(self.0.clone())
    }

    /// The environment of a Go cross-compilation for this platform: `GOOS`, `GOARCH`, and
    /// `GOARM` (`arm` `v5`/`v6`/`v7`) or `GOAMD64` (`amd64` `v1` to `v4`) for a variant Go
    /// distinguishes; any other variant leaves Go's default for the architecture.
    pub fn go_env(&self) -> Vec<(&'static str, String)> {
        let mut env = vec![
            ("GOOS", self.os().to_string()),
            ("GOARCH", self.arch().to_string()),
        ];
        match (self.arch(), self.variant()) {
            ("arm", Some(v @ ("v5" | "v6" | "v7"))) => env.push(("GOARM", v[1..].to_string())),
            ("amd64", Some(v @ ("v1" | "v2" | "v3" | "v4"))) => {
                env.push(("GOAMD64", v.to_string()))
            }
            _ => {}
        }
        env
    }
}

impl fmt::Display for TargetPlatform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for TargetPlatform {
    type Err = PlatformError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grammar() {
        for ok in [
            "linux/amd64",
            "linux/arm64",
            "linux/arm/v7",
            "windows/amd64",
        ] {
            assert_eq!(TargetPlatform::parse(ok).unwrap().as_str(), ok);
        }
        for bad in [
            "",
            "linux",
            "Linux/amd64",
            "linux//amd64",
            "linux/amd64/v8/x",
            "linux/amd64 ",
        ] {
            let err = TargetPlatform::parse(bad).unwrap_err();
            assert!(err.to_string().contains("os/arch"), "{bad}");
        }
    }

    #[test]
    fn go_environment() {
        let env = |p: &str| TargetPlatform::parse(p).unwrap().go_env();
        assert_eq!(
            env("linux/arm64"),
            [("GOOS", "linux".to_string()), ("GOARCH", "arm64".into())]
        );
        assert_eq!(env("linux/amd64/v3")[2], ("GOAMD64", "v3".into()));
        assert_eq!(env("linux/arm/v6")[2], ("GOARM", "6".into()));
        assert_eq!(env("linux/arm64/v8").len(), 2);
    }
}
