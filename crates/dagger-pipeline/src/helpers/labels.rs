use dagger_sdk::Container;

use crate::{BuildContext, Pipeline};

/// The OCI annotations an image carries (OCI image spec `annotations.md`, "Pre-Defined
/// Annotation Keys"): title, description, version, source, and for provenance the revision it
/// was built from and its creation time; a vendor when set. [`OciLabels::apply`] writes them
/// both as image labels and as manifest annotations.
///
/// ```
/// use dagger_pipeline::helpers::OciLabels;
/// let labels = OciLabels::new("app", "An app", "1.2.3")
///     .with_source("https://git.example/app.git")
///     .with_revision("c86b5d7")
///     .with_created("1970-01-01T00:00:00Z");
/// let names: Vec<&str> = labels.pairs().into_iter().map(|(name, _)| name).collect();
/// assert_eq!(names, [
///     "org.opencontainers.image.title",
///     "org.opencontainers.image.description",
///     "org.opencontainers.image.version",
///     "org.opencontainers.image.source",
///     "org.opencontainers.image.revision",
///     "org.opencontainers.image.created",
/// ]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OciLabels {
    /// `org.opencontainers.image.title`.
    pub title: String,
    /// `org.opencontainers.image.description`.
    pub description: String,
    /// `org.opencontainers.image.version`.
    pub version: String,
    /// `org.opencontainers.image.source`: where the source the image is built from lives,
    /// when known (the forge mirror, or [`OciLabels::with_source`]).
    pub source: Option<String>,
    /// `org.opencontainers.image.revision`: the source revision (a commit sha) the image was
    /// built from, when set ([`OciLabels::with_revision`]).
    pub revision: Option<String>,
    /// `org.opencontainers.image.created`: the creation time in RFC 3339, when set
    /// ([`OciLabels::with_created`]); pass a fixed time (the commit's), never the wall clock,
    /// so that an unchanged build stays cached and reproducible.
    pub created: Option<String>,
    /// `org.opencontainers.image.vendor`, when set ([`OciLabels::with_vendor`]).
    pub vendor: Option<String>,
}

impl OciLabels {
    /// Labels with a title, a description and a version; no source, revision, creation time or
    /// vendor until set.
    pub fn new(
        title: impl Into<String>,
        description: impl Into<String>,
        version: impl Into<String>,
    ) -> Self {
        Self {
            title: title.into(),
            description: description.into(),
            version: version.into(),
            source: None,
            revision: None,
            created: None,
            vendor: None,
        }
    }

    /// The labels of `pipeline`: its name, description and version, and the forge mirror it is
    /// built from when the context has a forge.
    pub fn for_pipeline(pipeline: &dyn Pipeline, ctx: &BuildContext) -> Self {
        let labels = Self::new(pipeline.name(), pipeline.description(), pipeline.version());
        match &ctx.forge {
            Some(forge) => labels.with_source(forge.repository_url(pipeline.upstream_repo())),
            None => labels,
        }
    }

    /// Sets `org.opencontainers.image.source` (e.g. the project's repository URL).
    pub fn with_source(mut self, source: impl Into<String>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// Sets `org.opencontainers.image.revision`.
    pub fn with_revision(mut self, revision: impl Into<String>) -> Self {
        self.revision = Some(revision.into());
        self
    }

    /// Sets `org.opencontainers.image.created` (RFC 3339).
    pub fn with_created(mut self, created: impl Into<String>) -> Self {
        self.created = Some(created.into());
        self
    }

    /// Sets `org.opencontainers.image.vendor`.
    pub fn with_vendor(mut self, vendor: impl Into<String>) -> Self {
        self.vendor = Some(vendor.into());
        self
    }

    /// The names and values, in a fixed order; source, revision, creation time and vendor only
    /// when set.
    pub fn pairs(&self) -> Vec<(&'static str, &str)> {
        let mut pairs = vec![
            ("org.opencontainers.image.title", self.title.as_str()),
            ("org.opencontainers.image.description", &self.description),
            ("org.opencontainers.image.version", &self.version),
        ];
        let optional = [
            ("org.opencontainers.image.source", &self.source),
            ("org.opencontainers.image.revision", &self.revision),
            ("org.opencontainers.image.created", &self.created),
            ("org.opencontainers.image.vendor", &self.vendor),
        ];
        for (name, value) in optional {
            if let Some(value) = value {
                pairs.push((name, value.as_str()));
            }
        }
        pairs
    }

    /// `container` with each pair set as an image label (`withLabel`, the image config) and as
    /// a manifest annotation (`withAnnotation`), where registries and `crane`/`oras` show them
    /// without pulling the config.
    pub fn apply(&self, container: Container) -> Container {
        let pairs = self.pairs();
        let labelled = pairs
            .iter()
            .fold(container, |c, (name, value)| c.with_label(*name, *value));
        pairs.iter().fold(labelled, |c, (name, value)| {
            c.with_annotation(*name, *value)
        })
    }
}
