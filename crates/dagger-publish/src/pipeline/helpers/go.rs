use dagger_sdk::{Container, Directory, File};

use super::strings;
use crate::pipeline::BuildContext;

/// The Go build image.
pub const GO_IMAGE: &str = "golang:alpine";
/// Cache volume key of the Go module cache (shared by every Go pipeline).
pub const GO_MOD_CACHE: &str = "go-mod";
/// Cache volume key of the Go build cache (shared by every Go pipeline).
pub const GO_BUILD_CACHE: &str = "go-build";

const SRC_DIR: &str = "/src";
const OUT_DIR: &str = "/out";
const GOMODCACHE: &str = "/go/pkg/mod";
const GOCACHE: &str = "/root/.cache/go-build";

/// A Go build in `golang:alpine`: the source at `/src`, module and build caches on volumes,
/// `go mod download` then `go build` into `/out/<output>`.
///
/// ```
/// # fn example(ctx: &dagger_publish::pipeline::BuildContext, src: dagger_sdk::Directory) {
/// use dagger_publish::pipeline::helpers::GoBuild;
/// let go = GoBuild::new(src, "server")
///     .tags(["netgo"])
///     .ldflags("-w -s -X main.version=1.0.0")
///     .cgo(false);
/// assert_eq!(go.command()[..2], ["go", "build"]);
/// let binary: dagger_sdk::File = go.binary(ctx);
/// # }
/// ```
#[derive(Clone)]
pub struct GoBuild {
    source: Directory,
    output: String,
    image: String,
    package: String,
    tags: Vec<String>,
    ldflags: Option<String>,
    cgo: bool,
    apk_packages: Vec<String>,
    build_mode: Option<String>,
    env: Vec<(String, String)>,
    directories: Vec<(String, Directory)>,
}

impl GoBuild {
    /// A build of the module in `source` producing the binary `output` (a file name). Defaults:
    /// image [`GO_IMAGE`], package `.`, no tags, no ldflags, CGO off, no extra packages.
    pub fn new(source: Directory, output: impl Into<String>) -> Self {
        Self {
            source,
            output: output.into(),
            image: GO_IMAGE.into(),
            package: ".".into(),
            tags: Vec::new(),
            ldflags: None,
            cgo: false,
            apk_packages: Vec::new(),
            build_mode: None,
            env: Vec::new(),
            directories: Vec::new(),
        }
    }

    /// Another build image (e.g. a pinned `golang:1.24-alpine`).
    pub fn image(mut self, image: impl Into<String>) -> Self {
        self.image = image.into();
        self
    }

    /// The package to build, relative to the module root (default `.`).
    pub fn package(mut self, package: impl Into<String>) -> Self {
        self.package = package.into();
        self
    }

    /// Build tags (`-tags a,b`).
    pub fn tags<I, S>(mut self, tags: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.tags.extend(strings(tags));
        self
    }

    /// Linker flags (`-ldflags`), one string as `go build` takes it.
    pub fn ldflags(mut self, flags: impl Into<String>) -> Self {
        self.ldflags = Some(flags.into());
        self
    }

    /// CGO on or off (`CGO_ENABLED`). On adds `build-base` (gcc, musl-dev) to the packages.
    pub fn cgo(mut self, enabled: bool) -> Self {
        self.cgo = enabled;
        self
    }

    /// Extra Alpine packages for the build (e.g. C libraries a CGO build links against).
    pub fn apk_packages<I, S>(mut self, packages: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.apk_packages.extend(strings(packages));
        self
    }

    /// The build mode (`-buildmode=<mode>`, e.g. `pie`).
    pub fn build_mode(mut self, mode: impl Into<String>) -> Self {
        self.build_mode = Some(mode.into());
        self
    }

    /// An extra environment variable for the build.
    pub fn env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    /// Places `directory` at `path` (relative to the module root) before building, e.g. a web
    /// UI the binary embeds.
    pub fn with_directory(mut self, path: impl Into<String>, directory: Directory) -> Self {
        self.directories.push((path.into(), directory));
        self
    }

    /// Where the binary is written in the build container.
    pub fn output_path(&self) -> String {
        format!("{OUT_DIR}/{}", self.output)
    }

    /// The Alpine packages installed before building.
    pub fn packages(&self) -> Vec<String> {
        let mut packages = Vec::new();
        if self.cgo {
            packages.push("build-base".to_string());
        }
        packages.extend(self.apk_packages.iter().cloned());
        packages
    }

    /// The `go build` command line.
    pub fn command(&self) -> Vec<String> {
        let mut cmd = strings(["go", "build"]);
        if !self.tags.is_empty() {
            cmd.push("-tags".into());
            cmd.push(self.tags.join(","));
        }
        if let Some(flags) = &self.ldflags {
            cmd.push("-ldflags".into());
            cmd.push(flags.clone());
        }
        if let Some(mode) = &self.build_mode {
            cmd.push(format!("-buildmode={mode}"));
        }
        cmd.push("-o".into());
        cmd.push(self.output_path());
        cmd.push(self.package.clone());
        cmd
    }

    /// The build container after `go build` ran.
    pub fn container(&self, ctx: &BuildContext) -> Container {
        let mut c = ctx.dag.container().from(&self.image);
        let packages = self.packages();
        if !packages.is_empty() {
            let mut apk = strings(["apk", "add", "--no-cache"]);
            apk.extend(packages);
            c = ctx.exec(&c, "apk add (go build dependencies)", apk);
        }
        c = c
            .with_mounted_cache(GOMODCACHE, ctx.dag.cache_volume(GO_MOD_CACHE))
            .with_mounted_cache(GOCACHE, ctx.dag.cache_volume(GO_BUILD_CACHE))
            .with_env_variable("GOMODCACHE", GOMODCACHE)
            .with_env_variable("GOCACHE", GOCACHE)
            .with_env_variable("CGO_ENABLED", if self.cgo { "1" } else { "0" });
        for (name, value) in &self.env {
            c = c.with_env_variable(name, value);
        }
        c = c.with_directory(SRC_DIR, self.source.clone());
        for (path, directory) in &self.directories {
            let target = format!("{SRC_DIR}/{}", path.trim_start_matches('/'));
            c = c.with_directory(target, directory.clone());
        }
        c = c.with_workdir(SRC_DIR);
        c = ctx.exec(&c, "go mod download", strings(["go", "mod", "download"]));
        ctx.exec(&c, "go build", self.command())
    }

    /// The built binary.
    pub fn binary(&self, ctx: &BuildContext) -> File {
        self.container(ctx).file(self.output_path())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> Directory {
        super::super::offline_query().directory()
    }

    #[test]
    fn command_carries_tags_ldflags_and_mode() {
        let go = GoBuild::new(dir(), "app")
            .tags(["netgo", "sqlite_fts5"])
            .ldflags("-w -s -X a.b=v1")
            .build_mode("pie");
        assert_eq!(
            go.command(),
            [
                "go",
                "build",
                "-tags",
                "netgo,sqlite_fts5",
                "-ldflags",
                "-w -s -X a.b=v1",
                "-buildmode=pie",
                "-o",
                "/out/app",
                "."
            ]
        );
    }

    #[test]
    fn minimal_command_and_packages() {
        let go = GoBuild::new(dir(), "x").package("./cmd/x");
        assert_eq!(go.command(), ["go", "build", "-o", "/out/x", "./cmd/x"]);
        assert!(go.packages().is_empty());
        let go = go.cgo(true).apk_packages(["zlib-dev"]);
        assert_eq!(go.packages(), ["build-base", "zlib-dev"]);
    }
}
