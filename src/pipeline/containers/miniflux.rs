//! Miniflux, the feed reader (<https://github.com/miniflux/v2>).
//!
//! Built like upstream's `make miniflux` (`CGO_ENABLED=0 go build -buildmode=pie`, so it
//! cross-compiles on the engine's platform for any target) and run like upstream's Alpine
//! image: no user created, running as 65534 (`nobody`), listening on 8080.

use dagger_sdk::{Container, Directory, File};

use crate::pipeline::helpers::{git_tag_source, AlpineRuntime, GoBuild, RuntimeUser};
use crate::pipeline::{BuildContext, Pipeline, SmokeCheck};
use crate::release::without_v_prefix;

/// The pinned upstream release (also the git tag cloned: upstream tags have no `v`).
pub const VERSION: &str = "2.2.19";

/// The Go builder, on the runtime's Alpine release.
pub const GO_IMAGE: &str = "golang:1.25-alpine3.22";
/// The runtime image.
pub const RUNTIME_IMAGE: &str = "alpine:3.22";

const BINARY: &str = "/usr/bin/miniflux";

/// The Miniflux pipeline.
#[derive(Debug, Clone, Copy, Default)]
pub struct Miniflux;

impl Pipeline for Miniflux {
    fn name(&self) -> &str {
        "miniflux"
    }

    fn version(&self) -> &str {
        VERSION
    }

    fn description(&self) -> &str {
        "Miniflux minimalist feed reader"
    }

    fn build(&self, ctx: &BuildContext) -> Container {
        let src = git_tag_source(ctx, self.upstream_repo(), VERSION);
        let binary = Self::server(src).binary(ctx);
        self.image(ctx, binary)
    }

    /// `miniflux -version` prints the version (`2.2.19`).
    fn smoke_check(&self) -> Option<SmokeCheck> {
        Some(SmokeCheck::new(
            [BINARY, "-version"],
            without_v_prefix(VERSION),
        ))
    }
}

impl Miniflux {
    /// Stage 1: the server, a position-independent static Go binary.
    pub fn server(source: Directory) -> GoBuild {
        GoBuild::new(GO_IMAGE, source, "miniflux")
            .cgo(false)
            .build_mode("pie")
            .ldflags(format!(
                "-s -w -X miniflux.app/v2/internal/version.Version={VERSION}"
            ))
    }

    /// Stage 2: the runtime image around the server `binary` (labels are the catalog's).
    pub fn image(&self, ctx: &BuildContext, binary: File) -> Container {
        AlpineRuntime::new(RUNTIME_IMAGE, RuntimeUser::existing(65534, 65534))
            .packages(["ca-certificates", "tzdata"])
            .container(ctx)
            .with_file(BINARY, ctx.input(&binary))
            .with_env_variable("LISTEN_ADDR", "0.0.0.0:8080")
            .with_exposed_port(8080)
            .with_default_args(vec![BINARY])
    }
}
