//! The native pipelines, one file each. [`standard`] lists them: adding a pipeline is one new
//! file here and one line there (see the [pipeline module docs](super) for an example).

pub mod miniflux;
pub mod navidrome;

pub use miniflux::Miniflux;
pub use navidrome::Navidrome;

use super::Pipeline;

/// Every native pipeline of this project, one line each.
pub fn standard() -> Vec<Box<dyn Pipeline>> {
    vec![Box::new(Navidrome), Box::new(Miniflux)]
}

/// The Alpine release an image is based on: `3.22` of `alpine:3.22` or
/// `golang:1.25-alpine3.22`; `None` for an image that does not say.
pub fn alpine_release(image: &str) -> Option<&str> {
    let tag = image.rsplit_once(':')?.1;
    match image.rsplit_once(':')?.0.rsplit('/').next() {
        Some("alpine") => Some(tag),
        _ => tag.rsplit_once("alpine").map(|(_, release)| release),
    }
    .filter(|release| !release.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alpine_releases() {
        assert_eq!(alpine_release("alpine:3.22"), Some("3.22"));
        assert_eq!(alpine_release("golang:1.25-alpine3.22"), Some("3.22"));
        assert_eq!(alpine_release("node:22-alpine3.21"), Some("3.21"));
        assert_eq!(alpine_release("golang:alpine"), None);
        assert_eq!(alpine_release("node:lts-alpine"), None);
        assert_eq!(alpine_release("debian:12"), None);
    }

    /// Each pipeline's builders are pinned to its runtime's Alpine release: a CGO binary links
    /// against the builder's libraries, which the runtime must have in the same versions.
    #[test]
    fn builders_are_pinned_to_the_runtime_alpine_release() {
        let pipelines: [(&str, &str, &[&str]); 2] = [
            (
                "navidrome",
                navidrome::RUNTIME_IMAGE,
                &[navidrome::GO_IMAGE, navidrome::NODE_IMAGE],
            ),
            ("miniflux", miniflux::RUNTIME_IMAGE, &[miniflux::GO_IMAGE]),
        ];
        for (name, runtime, builders) in pipelines {
            let release = alpine_release(runtime).expect("the runtime names its release");
            for builder in builders {
                assert_eq!(alpine_release(builder), Some(release), "{name}: {builder}");
            }
        }
    }

    #[test]
    fn every_standard_pipeline_has_a_smoke_check_naming_its_version() {
        for pipeline in standard() {
            let check = pipeline
                .smoke_check()
                .unwrap_or_else(|| panic!("{} has no smoke check", pipeline.name()));
            assert_eq!(
                check.expect(),
                crate::release::without_v_prefix(pipeline.version()),
                "{}",
                pipeline.name()
            );
        }
    }
}
