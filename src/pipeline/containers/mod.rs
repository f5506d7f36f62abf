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
