use dagger_sdk::Container;

use crate::pipeline::{BuildContext, Pipeline};

/// The default `org.opencontainers.image.vendor`.
pub const DEFAULT_VENDOR: &str = "blumeops";

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
    /// `org.opencontainers.image.source`: where the source the image is built from lives.
    pub source: String,
    /// `org.opencontainers.image.vendor`.
    pub vendor: String,
}

impl OciLabels {
    /// The labels of `pipeline`: its name, description and version, the forge mirror it is built
    /// from, and vendor [`DEFAULT_VENDOR`].
    pub fn for_pipeline(pipeline: &dyn Pipeline, ctx: &BuildContext) -> Self {
        Self {
            title: pipeline.name().into(),
            description: pipeline.description().into(),
            version: pipeline.version().into(),
            source: ctx.forge.repository_url(pipeline.upstream_repo()),
            vendor: DEFAULT_VENDOR.into(),
        }
    }

    /// The label names and values, in a fixed order.
    pub fn pairs(&self) -> [(&'static str, &str); 5] {
        [
            ("org.opencontainers.image.title", &self.title),
            ("org.opencontainers.image.description", &self.description),
            ("org.opencontainers.image.version", &self.version),
            ("org.opencontainers.image.source", &self.source),
            ("org.opencontainers.image.vendor", &self.vendor),
        ]
    }

    /// `container` with the labels set.
    pub fn apply(&self, container: Container) -> Container {
        self.pairs()
            .into_iter()
            .fold(container, |c, (name, value)| c.with_label(name, value))
    }
}
