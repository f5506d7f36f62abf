//! Nix-built images: a `docker-archive` tarball (what `nix build` of a `dockerTools` image
//! leaves in `result`) imported into the engine, then published through
//! [`dagger_publish::Publisher`] like any container: same registry auth, same existing-tag
//! policy, same errors. This replaces a separate `skopeo copy --dest-creds` step.
//!
//! Nix images carry the `-nix` tag suffix ([`nix_tag`]) so they never collide with the
//! Dockerfile or native build of the same container.
//!
//! ```
//! # async fn example(
//! #     client: dagger_engine::EngineClient,
//! #     archive: dagger_sdk::File,
//! # ) -> Result<(), Box<dyn std::error::Error>> {
//! use blumeops::pipeline::nix::{nix_image, nix_tag};
//! use dagger_publish::{PublishRequest, Publisher};
//! use dagger_engine::registry::repository;
//! use blumeops::release::{release_tag, CommitSha, VPrefix, Version};
//!
//! let version = Version::parse("1.2.3", VPrefix::Add)?;
//! let tag = nix_tag(&release_tag(&version, &CommitSha::parse("c86b5d7")?))?;
//! assert_eq!(tag.as_str(), "v1.2.3-c86b5d7-nix");
//! let request = PublishRequest::new("registry.ops.eblu.me", repository("blumeops", "miniflux")?, [tag])?;
//! let image = nix_image(&client.dagger(), archive);
//! Publisher::new(client).publish(&image, &request).await?;
//! # Ok(()) }
//! ```

use dagger_sdk::{Container, File, Query};

use dagger_engine::gql::{self, Field};
use dagger_engine::registry::{ReferenceError, Tag};
use dagger_engine::{EngineClient, QueryError};

/// The suffix of Nix image tags.
pub const NIX_SUFFIX: &str = "-nix";

/// The image label that says which version an archive holds.
pub const VERSION_LABEL: &str = "org.opencontainers.image.version";

/// The [`VERSION_LABEL`] of the image in the archive file `archive` (by ID), or `None` when its
/// configuration has no such label: one engine round trip, reading the image's configuration
/// (`container.import(source).label(name)`), before anything is pushed.
pub async fn archive_version(
    client: &EngineClient,
    archive: &dagger_sdk::Id,
) -> Result<Option<String>, QueryError> {
    let label = Field::new("container").select(
        Field::new("import")
            .arg("source", &archive.0)
            .select(Field::new("label").arg("name", VERSION_LABEL)),
    );
    let data = client
        .query(&gql::query(std::slice::from_ref(&label)))
        .await?;
    match label.answer(&data).unwrap_or(&serde_json::Value::Null) {
        serde_json::Value::String(version) if !version.is_empty() => Ok(Some(version.clone())),
        serde_json::Value::Null | serde_json::Value::String(_) => Ok(None),
        other => Err(QueryError::MissingData {
            what: format!("a string or null as the archive's {VERSION_LABEL} label, got {other}"),
        }),
    }
}

/// The image in the `docker-archive` (or OCI archive) tarball `archive`: `container.import`.
/// Lazy: the tarball is read when the image is published.
pub fn nix_image(dag: &Query, archive: File) -> Container {
    dag.container().import(archive)
}

/// `tag` with the `-nix` suffix (a tag that already ends with it is returned as is). Fails when
/// the result would break the tag grammar (longer than 128 characters).
///
/// ```
/// use blumeops::pipeline::nix::nix_tag;
/// use dagger_engine::registry::Tag;
/// assert_eq!(nix_tag(&Tag::parse("v1.2.3-c86b5d7").unwrap()).unwrap().as_str(), "v1.2.3-c86b5d7-nix");
/// ```
pub fn nix_tag(tag: &Tag) -> Result<Tag, ReferenceError> {
    if tag.as_str().ends_with(NIX_SUFFIX) {
        return Ok(tag.clone());
    }
    Tag::parse(&format!("{tag}{NIX_SUFFIX}"))
}

/// [`nix_tag`] of each tag.
pub fn nix_tags<'a>(tags: impl IntoIterator<Item = &'a Tag>) -> Result<Vec<Tag>, ReferenceError> {
    tags.into_iter().map(nix_tag).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffix_is_added_once() {
        let tag = Tag::parse("v0.61.1-c86b5d7").unwrap();
        let nix = nix_tag(&tag).unwrap();
        assert_eq!(nix.as_str(), "v0.61.1-c86b5d7-nix");
        assert_eq!(nix_tag(&nix).unwrap(), nix);
    }

    #[test]
    fn a_tag_too_long_for_the_suffix_is_an_error() {
        let longest = Tag::parse(&"a".repeat(128)).unwrap();
        let err = nix_tag(&longest).unwrap_err();
        assert!(matches!(err, ReferenceError::Tag { .. }));
        let fits = Tag::parse(&"a".repeat(124)).unwrap();
        assert_eq!(nix_tag(&fits).unwrap().as_str().len(), 128);
    }

    #[test]
    fn every_tag_gets_the_suffix() {
        let tags = [Tag::parse("v1").unwrap(), Tag::parse("v1-abc1234").unwrap()];
        let nix: Vec<String> = nix_tags(&tags)
            .unwrap()
            .into_iter()
            .map(|t| t.to_string())
            .collect();
        assert_eq!(nix, ["v1-nix", "v1-abc1234-nix"]);
    }
}
