//! # blumeops
//!
//! blumeops's container builds, on the generic crates of this workspace:
//! - [`pipeline`]: the native pipelines (Navidrome, Miniflux), the container catalog with its
//!   legacy Dockerfile fallback, `container_version`, `container_list`, Nix archives;
//! - [`module`]: the `Blumeops` Dagger module (`publish`, `build`, `container-version`, ...),
//!   served by `dagger-module-runtime`;
//! - [`release`]: the release-tag scheme `{version}-{sha7}`;
//! - [`defaults`]: this deployment's registry, robot account and forge;
//! - [`logging`]: log lines on stderr, filtered by `RUST_LOG`, for both binaries;
//! - `cli` (feature `cli`, default): the main job, the `blumeops` binary.
//!
//! The generic parts are crates of their own: `dagger-engine` (the engine seam),
//! `dagger-publish` (registry auth, publishing, pipeline helpers), `dagger-module-runtime`
//! (a Rust Dagger module runtime), `dagger-engine-sim` (the engine simulator the main job's
//! plans record on) and `dagger-mock-engine` (the test kit on it).

#[cfg(feature = "cli")]
pub mod cli;
pub mod defaults;
pub mod logging;
// `src/module` is being rewritten on its own branch; its one `pub` item in a private module
// (`definition::SRC_IGNORE`) becomes `pub(crate)` there, then this allowance goes.
#[allow(unreachable_pub)]
pub mod module;
pub mod pipeline;
/// The release-tag scheme (`{version}-{sha7}`, the `v`-prefix rule, the version guard, the
/// creation time), from the library: `dagger_publish::release`.
pub use dagger_publish::release;

/// The README's Rust examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
