use dagger_sdk::Container;

use crate::pipeline::{BuildContext, Pipeline};

/// The OCI annotations an image carries as labels (OCI image spec `annotations.md`, "Pre-Defined
/// Annotation Keys"): title, description, version, source, vendor.
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
    /// `org.opencontainers.image.vendor`, when set ([`OciLabels::with_vendor`]).
    pub vendor: Option<String>,
}

impl OciLabels {
    /// The labels of `pipeline`: its name, description and version, and the forge mirror it is
    /// built from when the context has a forge. No vendor until [`OciLabels::with_vendor`].
    pub fn for_pipeline(pipeline: &dyn Pipeline, ctx: &BuildContext) -> Self {
        Self {
            title: pipeline.name().into(),
            description: pipeline.description().into(),
            version: pipeline.version().into(),
            source: ctx
                .forge
                .as_ref()
                .map(|forge| forge.repository_url(pipeline.upstream_repo())),
            vendor: None,
        }
    }

    /// Sets `org.opencontainers.image.source` (e.g. the project's repository URL).
    pub fn with_source(mut self, source: impl Into<String>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// Sets `org.opencontainers.image.vendor`.
    pub fn with_vendor(mut self, vendor: impl Into<String>) -> Self {
        self.vendor = Some(vendor.into());
        self
    }

    /// The label names and values, in a fixed order; the source and vendor only when set.
    pub fn pairs(&self) -> Vec<(&'static str, &str)> {
        let mut pairs = vec![
            ("org.opencontainers.image.title", self.title.as_str()),
            ("org.opencontainers.image.description", &self.description),
            ("org.opencontainers.image.version", &self.version),
        ];
        if let Some(source) = &self.source {
            pairs.push(("org.opencontainers.image.source", source));
        }
        if let Some(vendor) = &self.vendor {
            pairs.push(("org.opencontainers.image.vendor", vendor));
        }
        pairs
    }

    /// `container` with the labels set.
    pub fn apply(&self, container: Container) -> Container {
        self.pairs()
            .into_iter()
            .fold(container, |c, (name, value)| c.with_label(name, value))
    }
}
