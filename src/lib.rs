//! # blumeops
//!
//! Build container images with [Dagger](https://dagger.io) in plain Rust and publish them to an OCI
//! registry with registry auth, from CI.
//!
//! The parts, each in its own module:
//! - [`engine`]: the connection to a Dagger engine (a small transport trait, typed errors).
//! - [`registry`]: registry addresses (normalised exactly as the engine does), OCI references and
//!   tags, and direct registry API calls (tag lookups, tag lists).
//! - [`publish`]: the `with_registry_auth` builder and publishing several tags at once, with
//!   immutable-tag safety, retries and errors a person can act on.
//! - [`pipeline`]: native container pipelines, their helpers, the container catalog with its
//!   legacy Dockerfile fallback.
//! - [`runtime`]: a Rust Dagger module runtime (registration and dispatch), so `dagger call` works.
//! - [`module`]: this project's Dagger module (`publish`, `build`, `container-version`, ...).
//! - [`testing`] (feature `testing`): a mock Dagger engine that behaves like the real one.

pub mod engine;
pub mod module;
pub mod pipeline;
pub mod publish;
pub mod registry;
pub mod runtime;
#[cfg(feature = "testing")]
pub mod testing;

/// The README's Rust examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
