//! Native container pipelines, their helpers, and the container catalog.
