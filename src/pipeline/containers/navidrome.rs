//! Navidrome, the music server (<https://github.com/navidrome/navidrome>).
//!
//! Mirrors upstream's multi-stage Dockerfile as separate steps, so a failure names its stage:
//! the web UI (`ui/`, Node), then the Go server with the UI embedded from `ui/build`, then an
//! Alpine runtime. Upstream v0.61.0 added the `sqlite_fts5` build tag; a build without it fails
//! with `undefined: buildtags.SQLITE_FTS5`, which the `go build` step now shows as is.

use dagger_sdk::{Container, Directory, File};

use crate::pipeline::helpers::{
    git_tag_source, AlpineRuntime, GoBuild, NodeBuild, OciLabels, RuntimeUser,
};
use crate::pipeline::{BuildContext, Pipeline};

/// The pinned upstream release (also the git tag cloned).
pub const VERSION: &str = "v0.61.1";

/// Where the binary lives in the image.
const BINARY: &str = "/usr/bin/navidrome";

/// The Navidrome pipeline.
#[derive(Debug, Clone, Copy, Default)]
pub struct Navidrome;

impl Pipeline for Navidrome {
    fn name(&self) -> &str {
        "navidrome"
    }

    fn version(&self) -> &str {
        VERSION
    }

    fn description(&self) -> &str {
        "Navidrome music server and streamer"
    }

    fn build(&self, ctx: &BuildContext) -> Container {
        let src = git_tag_source(ctx, self.upstream_repo(), VERSION);
        let ui = Self::ui(src.directory("ui")).output(ctx);
        let binary = Self::server(src, ui).binary(ctx);
        self.image(ctx, binary)
    }
}

impl Navidrome {
    /// Stage 1: the web UI, built with Node from the source's `ui/` folder.
    pub fn ui(ui_source: Directory) -> NodeBuild {
        NodeBuild::new(ui_source)
    }

    /// Stage 2: the server, built with Go (CGO, taglib) with the UI build embedded from
    /// `ui/build`.
    pub fn server(source: Directory, ui_build: Directory) -> GoBuild {
        GoBuild::new(source, "navidrome")
            .tags(["netgo", "sqlite_fts5"])
            .cgo(true)
            .apk_packages(["taglib-dev", "zlib-dev"])
            .ldflags(format!(
                "-w -s -X github.com/navidrome/navidrome/consts.gitTag={VERSION}"
            ))
            .with_directory("ui/build", ui_build)
    }

    /// Stage 3: the runtime image around the server `binary`.
    pub fn image(&self, ctx: &BuildContext, binary: File) -> Container {
        let image = AlpineRuntime::new(RuntimeUser::create("navidrome", 1000, 1000))
            .packages(["ca-certificates", "tzdata", "taglib", "ffmpeg"])
            .container(ctx)
            .with_file(BINARY, binary)
            .with_exposed_port(4533)
            .with_default_args(vec![BINARY]);
        OciLabels::for_pipeline(self, ctx)
            .with_vendor(crate::defaults::VENDOR)
            .apply(image)
    }
}
