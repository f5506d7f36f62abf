//! Navidrome, the music server (<https://github.com/navidrome/navidrome>).
//!
//! Mirrors upstream's multi-stage Dockerfile as separate steps, so a failure names its stage:
//! the web UI (`ui/`, Node, built once on the engine's platform), then the Go server with the UI
//! embedded from `ui/build` (CGO against taglib: built in a builder of the target platform),
//! then an Alpine runtime. Upstream v0.61.0 added the `sqlite_fts5` build tag; a build without
//! it fails with `undefined: buildtags.SQLITE_FTS5`, which the `go build` step now shows as is.

use dagger_sdk::{Container, Directory, File};

use crate::pipeline::helpers::{git_tag_source, AlpineRuntime, GoBuild, NodeBuild, RuntimeUser};
use crate::pipeline::{BuildContext, Pipeline, SmokeCheck};
use crate::release::without_v_prefix;

/// The pinned upstream release (also the git tag cloned).
pub const VERSION: &str = "v0.61.1";

/// The Go builder. On the runtime's Alpine release: the server links against the builder's
/// taglib and musl, which the runtime image must have in the same versions.
pub const GO_IMAGE: &str = "golang:1.25-alpine3.22";
/// The Node builder of the web UI, on the same Alpine release.
pub const NODE_IMAGE: &str = "node:22-alpine3.22";
/// The runtime image.
pub const RUNTIME_IMAGE: &str = "alpine:3.22";

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
        // The one fetch of the source: the UI stage and the server stage both read this tree.
        let source = git_tag_source(ctx, self.upstream_repo(), VERSION);
        let ui = Self::ui(source.directory("ui")).output(ctx);
        let binary = Self::server(source, ui).binary(ctx);
        self.image(ctx, binary)
    }

    /// `navidrome --version` prints `0.61.1 (source_archive)`: the version without its `v`.
    fn smoke_check(&self) -> Option<SmokeCheck> {
        Some(SmokeCheck::new(
            [BINARY, "--version"],
            without_v_prefix(VERSION),
        ))
    }
}

impl Navidrome {
    /// Stage 1: the web UI, built with Node from the source's `ui/` folder. `npm ci` runs the
    /// package's `postinstall` script (`bin/update-workbox.sh`), so `bin` comes with the
    /// manifests, as upstream's Dockerfile copies it.
    pub fn ui(ui_source: Directory) -> NodeBuild {
        NodeBuild::new(NODE_IMAGE, ui_source).install_inputs([
            "package.json",
            "package-lock.json",
            "bin",
        ])
    }

    /// Stage 2: the server, built with Go (CGO, taglib) with the UI build embedded from
    /// `ui/build`. The tree has no `.git`, so the commit is `source_archive`, as for upstream's
    /// source archives: without one, Navidrome reports its version as `dev`.
    pub fn server(source: Directory, ui_build: Directory) -> GoBuild {
        GoBuild::new(GO_IMAGE, source, "navidrome")
            .tags(["netgo", "sqlite_fts5"])
            .cgo(true)
            .apk_packages(["taglib-dev", "zlib-dev"])
            .ldflags(format!(
                "-w -s -X github.com/navidrome/navidrome/consts.gitSha=source_archive \
                 -X github.com/navidrome/navidrome/consts.gitTag={VERSION}"
            ))
            .with_directory("ui/build", ui_build)
    }

    /// Stage 3: the runtime image around the server `binary` (labels are the catalog's).
    pub fn image(&self, ctx: &BuildContext, binary: File) -> Container {
        AlpineRuntime::new(RUNTIME_IMAGE, RuntimeUser::create("navidrome", 1000, 1000))
            .packages(["ca-certificates", "tzdata", "taglib", "ffmpeg"])
            .container(ctx)
            .with_file(BINARY, ctx.input(&binary))
            .with_exposed_port(4533)
            .with_default_args(vec![BINARY])
    }
}
