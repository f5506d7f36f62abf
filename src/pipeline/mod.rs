//! Native container pipelines, their helpers, and the container catalog.
//!
//! A container pipeline is plain Rust whose every step shows its own error: when Navidrome
//! v0.61.0 added the `sqlite_fts5` build tag, a Dockerfile build said only "exit code: 1"; here the
//! `go build` step reports its command, exit code and `undefined: buildtags.SQLITE_FTS5`.
//!
//! - [`Pipeline`]: a name, a pinned upstream version, and a lazy build from a [`BuildContext`]
//!   to a `dagger_sdk::Container`.
//! - [`helpers`]: [`git_tag_source`](helpers::git_tag_source) (forge mirror, see
//!   [`ForgeConfig`]), [`GoBuild`](helpers::GoBuild), [`NodeBuild`](helpers::NodeBuild),
//!   [`AlpineRuntime`](helpers::AlpineRuntime), [`OciLabels`](helpers::OciLabels).
//! - [`StepLog`] / [`StepError`]: every helper records its commands; an engine exec error is
//!   explained as pipeline, step, command, exit code and the last lines of stderr.
//! - [`Catalog`]: hybrid dispatch, a native pipeline when one is registered, otherwise the legacy
//!   `containers/<name>/Dockerfile`; [`Catalog::container_version`]; unknown names listed.
//! - [`container_list`]: the version tags of each container in the registry, listed by a
//!   registry client inside the engine.
//! - [`nix`]: Nix-built `docker-archive` images published through the same path.
//!
//! # Adding a pipeline
//!
//! One new file in `src/pipeline/containers/` and one line in
//! [`containers::standard`]. The file:
//!
//! ```
//! use blumeops::pipeline::helpers::{git_tag_source, AlpineRuntime, GoBuild, RuntimeUser};
//! use blumeops::pipeline::{BuildContext, Pipeline, SmokeCheck};
//! use blumeops::release::without_v_prefix;
//! use dagger_sdk::Container;
//!
//! /// Gitea's `tea` CLI (src/pipeline/containers/tea.rs).
//! pub struct Tea;
//!
//! const VERSION: &str = "v0.9.2";
//! // The builder and the runtime, written once, on one Alpine release.
//! const GO_IMAGE: &str = "golang:1.25-alpine3.22";
//! const RUNTIME_IMAGE: &str = "alpine:3.22";
//!
//! impl Pipeline for Tea {
//!     fn name(&self) -> &str { "tea" }
//!     fn version(&self) -> &str { VERSION }
//!     fn description(&self) -> &str { "Command line tool for Gitea" }
//!
//!     fn build(&self, ctx: &BuildContext) -> Container {
//!         let src = git_tag_source(ctx, self.upstream_repo(), VERSION);
//!         // CGO off: cross-compiled on the engine's platform for ctx.platform.
//!         let binary = GoBuild::new(GO_IMAGE, src, "tea")
//!             .ldflags(format!("-s -w -X main.Version={VERSION}"))
//!             .binary(ctx);
//!         AlpineRuntime::new(RUNTIME_IMAGE, RuntimeUser::existing(65534, 65534))
//!             .packages(["ca-certificates"])
//!             .container(ctx)
//!             // A stage input: its ID is looked up with the others of its level, once.
//!             .with_file("/usr/bin/tea", ctx.input(&binary))
//!             .with_entrypoint(vec!["/usr/bin/tea"])
//!     }
//!
//!     fn smoke_check(&self) -> Option<SmokeCheck> {
//!         Some(SmokeCheck::new(["/usr/bin/tea", "--version"], without_v_prefix(VERSION)))
//!     }
//! }
//!
//! // The line in `containers::standard()`: `Box::new(Tea),`. Outside this crate, register it
//! // on a catalog instead:
//! let catalog = blumeops::pipeline::Catalog::standard().with(Tea).unwrap();
//! assert_eq!(catalog.native_names(), ["navidrome", "miniflux", "tea"]);
//! ```
//!
//! The catalog adds the OCI labels and annotations ([`Catalog::labels`]); `publish` checks
//! `--version` against [`Pipeline::version`] and runs the smoke check before any push.
//!
//! # Errors of a build
//!
//! Builds are lazy; a failure shows up when the container is synced or published. Hand it to
//! [`Catalog::classify_failure`] (or [`BuiltContainer::explain`]) to get the failed step:
//!
//! ```text
//! pipeline "navidrome", step "go build" failed with exit code 1
//!   command: go build -tags netgo,sqlite_fts5 -ldflags '-w -s -X ...' -o /out/navidrome .
//!   last line of stderr:
//!     db/db.go:12:5: undefined: buildtags.SQLITE_FTS5
//! ```

mod catalog;
pub mod containers;
pub mod dockerfile;
mod inventory;
mod list;
pub mod nix;
mod provenance;
#[cfg(feature = "cli")]
pub mod recording;
pub mod tasks;
mod version_check;
pub mod versions;

pub use catalog::{
    validate_container_name, BuildOptions, BuiltContainer, Catalog, CatalogError, ContainerKind,
    PinnedVersion, Provenance, CONTAINERS_DIR, VERSION_ARG,
};
// The generic toolkit every pipeline here is written with.
pub use dagger_pipeline::{
    helpers, steps, BuildContext, ForgeConfig, ForgeConfigError, InputId, Pipeline, PlatformError,
    SmokeCheck, StageInputError, StageInputs, Step, StepError, StepLog, TargetPlatform,
};
pub use inventory::{
    changed_containers, container_inventory, matrix_json, touched_container_names, BuildTypes,
    ChangedContainer, InventoryError, DOCKERFILE, NIX_FILE,
};
pub use list::{
    container_list, ListError, AUTH_DIR, AUTH_FILE, CACHE_BUSTER_VARIABLE, PASSWORD_FILE,
    REGISTRY_CLIENT_IMAGE,
};
pub use provenance::{
    container_listing, listing, tag_commit, ContainerListing, HistoryError, ListedContainer,
    ListingError, MainHistory, TagOrigin, RECENT_TAGS, RECENT_TAGS_ONE,
};
pub use version_check::{
    container_version_check, CheckScope, ContainerCheck, VersionCheckError, VersionCheckFailed,
    VersionReport, VersionRules, VersionSource,
};
