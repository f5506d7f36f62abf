use dagger_sdk::{Container, ContainerWithDirectoryOpts, Directory, File};

use super::{cache_volume_name, strings};
use crate::BuildContext;

/// Cache volume kind of the Go module cache ([`cache_volume_name`] adds the toolchain image).
pub const GO_MOD_CACHE: &str = "go-mod";
/// Cache volume kind of the Go build cache ([`cache_volume_name`] adds the toolchain image).
pub const GO_BUILD_CACHE: &str = "go-build";
/// The files `go mod download` needs: the default [`GoBuild::download_inputs`].
pub const GO_MANIFESTS: [&str; 2] = ["go.mod", "go.sum"];

const SRC_DIR: &str = "/src";
const OUT_DIR: &str = "/out";
const GOMODCACHE: &str = "/go/pkg/mod";
const GOCACHE: &str = "/root/.cache/go-build";

/// A Go build in the pipeline's Go image: module and build caches on volumes named for that
/// image, `go mod download` on the manifests alone, then the whole source at `/src` and
/// `go build` into `/out/<output>`.
///
/// For a target platform ([`BuildContext::platform`]): a build with CGO off cross-compiles on
/// the engine's platform (`GOOS`/`GOARCH`, see [`TargetPlatform::go_env`](crate::TargetPlatform::go_env));
/// a CGO build runs in a builder container of the target platform, under the engine's emulation
/// when that is not the engine's own, since its C toolchain and libraries must be the target's.
///
/// ```
/// # fn example(ctx: &dagger_pipeline::BuildContext, src: dagger_sdk::Directory) {
/// use dagger_pipeline::helpers::GoBuild;
/// let go = GoBuild::new("golang:1.25-alpine3.22", src, "server")
///     .tags(["netgo"])
///     .ldflags("-w -s -X main.version=1.0.0")
///     .cgo(false);
/// assert_eq!(go.command()[..2], ["go", "build"]);
/// let binary: dagger_sdk::File = go.binary(ctx);
/// # }
/// ```
#[derive(Clone)]
pub struct GoBuild {
    image: String,
    source: Directory,
    output: String,
    package: String,
    tags: Vec<String>,
    ldflags: Option<String>,
    cgo: bool,
    apk_packages: Vec<String>,
    build_mode: Option<String>,
    env: Vec<(String, String)>,
    directories: Vec<(String, Directory)>,
    download_inputs: Vec<String>,
}

impl GoBuild {
    /// A build of the module in `source` producing the binary `output` (a file name), in the Go
    /// image `image` (an Alpine-based one: packages are added with `apk`). Defaults: package
    /// `.`, no tags, no ldflags, CGO off, no extra packages, downloads from [`GO_MANIFESTS`].
    pub fn new(image: impl Into<String>, source: Directory, output: impl Into<String>) -> Self {
        Self {
            image: image.into(),
            source,
            output: output.into(),
            package: ".".into(),
            tags: Vec::new(),
            ldflags: None,
            cgo: false,
            apk_packages: Vec::new(),
            build_mode: None,
            env: Vec::new(),
            directories: Vec::new(),
            download_inputs: strings(GO_MANIFESTS),
        }
    }

    /// The build image.
    pub fn image(&self) -> &str {
        &self.image
    }

    /// The files of the source `go mod download` gets (default [`GO_MANIFESTS`]); the rest of
    /// the source arrives after the download, so that changing it reuses the download.
    pub fn download_inputs<I, S>(mut self, paths: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.download_inputs = strings(paths);
        self
    }

    /// The cache volumes' keys: (module cache, build cache), both named for the image.
    pub fn cache_volumes(&self) -> (String, String) {
        (
            cache_volume_name(GO_MOD_CACHE, &self.image),
            cache_volume_name(GO_BUILD_CACHE, &self.image),
        )
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
        // CGO needs the target's C toolchain: a builder of the target platform. Pure Go
        // cross-compiles on the engine's platform.
        let builder = if self.cgo {
            ctx.target_container()
        } else {
            ctx.dag.container()
        };
        let mut c = builder.from(&self.image);
        let packages = self.packages();
        if !packages.is_empty() {
            let mut apk = strings(["apk", "add", "--no-cache"]);
            apk.extend(packages);
            c = ctx.exec(&c, "apk add (go build dependencies)", apk);
        }
        let (mod_cache, build_cache) = self.cache_volumes();
        c = c
            .with_mounted_cache(GOMODCACHE, ctx.input(&ctx.dag.cache_volume(mod_cache)))
            .with_mounted_cache(GOCACHE, ctx.input(&ctx.dag.cache_volume(build_cache)))
            .with_env_variable("GOMODCACHE", GOMODCACHE)
            .with_env_variable("GOCACHE", GOCACHE)
            .with_env_variable("CGO_ENABLED", if self.cgo { "1" } else { "0" });
        if let (false, Some(platform)) = (self.cgo, &ctx.platform) {
            for (name, value) in platform.go_env() {
                c = c.with_env_variable(name, value);
            }
        }
        for (name, value) in &self.env {
            c = c.with_env_variable(name, value);
        }
        // One input for both copies: the manifests first, the whole tree after the download.
        let source = ctx.input(&self.source);
        c = c.with_workdir(SRC_DIR).with_directory_opts(
            SRC_DIR,
            source.clone(),
            ContainerWithDirectoryOpts {
                include: Some(self.download_inputs.iter().map(String::as_str).collect()),
                exclude: None,
                expand: None,
                gitignore: None,
                owner: None,
                permissions: None,
            },
        );
        c = ctx.exec(&c, "go mod download", strings(["go", "mod", "download"]));
        c = c.with_directory(SRC_DIR, source);
        for (path, directory) in &self.directories {
            let target = format!("{SRC_DIR}/{}", path.trim_start_matches('/'));
            c = c.with_directory(target, ctx.input(directory));
        }
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
        let go = GoBuild::new("golang:1.25-alpine3.22", dir(), "app")
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
        let go = GoBuild::new("golang:1.25-alpine3.22", dir(), "x").package("./cmd/x");
        assert_eq!(go.command(), ["go", "build", "-o", "/out/x", "./cmd/x"]);
        assert!(go.packages().is_empty());
        let go = go.cgo(true).apk_packages(["zlib-dev"]);
        assert_eq!(go.packages(), ["build-base", "zlib-dev"]);
        assert_eq!(
            go.cache_volumes(),
            (
                "go-mod-golang-1.25-alpine3.22".to_string(),
                "go-build-golang-1.25-alpine3.22".to_string()
            )
        );
    }
}
