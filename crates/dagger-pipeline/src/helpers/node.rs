use dagger_sdk::{Container, ContainerWithDirectoryOpts, Directory};

use super::{cache_volume_name, strings};
use crate::BuildContext;

/// Cache volume kind of the npm cache ([`cache_volume_name`] adds the toolchain image).
pub const NPM_CACHE: &str = "npm";
/// The files `npm ci` needs: the default [`NodeBuild::install_inputs`].
pub const NPM_MANIFESTS: [&str; 2] = ["package.json", "package-lock.json"];

const SRC_DIR: &str = "/src";
const NPM_CACHE_DIR: &str = "/root/.npm";

/// A Node build in the pipeline's Node image: the npm cache on a volume named for that image,
/// `npm ci` on the manifests alone, then the whole package at `/src` and `npm run build` (both
/// commands replaceable); the result is a directory of the build container.
///
/// It always runs on the engine's platform, whatever [`BuildContext::platform`] says: its output
/// (a web UI) is the same for every platform, so a multi-platform image builds it once.
///
/// ```
/// # fn example(ctx: &dagger_pipeline::BuildContext, ui: dagger_sdk::Directory) {
/// use dagger_pipeline::helpers::NodeBuild;
/// let assets: dagger_sdk::Directory =
///     NodeBuild::new("node:22-alpine3.22", ui).output_dir("dist").output(ctx);
/// # }
/// ```
#[derive(Clone)]
pub struct NodeBuild {
    image: String,
    source: Directory,
    install: Vec<String>,
    build: Vec<String>,
    env: Vec<(String, String)>,
    output_dir: String,
    install_inputs: Vec<String>,
}

impl NodeBuild {
    /// A build of the Node package in `source` (the directory holding `package.json`) in the
    /// Node image `image`. Defaults: `npm ci` on [`NPM_MANIFESTS`], `npm run build`, output
    /// `build`.
    pub fn new(image: impl Into<String>, source: Directory) -> Self {
        Self {
            image: image.into(),
            source,
            install: strings(["npm", "ci"]),
            build: strings(["npm", "run", "build"]),
            env: Vec::new(),
            output_dir: "build".into(),
            install_inputs: strings(NPM_MANIFESTS),
        }
    }

    /// The build image.
    pub fn image(&self) -> &str {
        &self.image
    }

    /// The files and folders of the package the install command gets (default
    /// [`NPM_MANIFESTS`]; add what its `postinstall` script runs, e.g. `bin`); the rest of the
    /// package arrives after the install, so that changing it reuses the install.
    pub fn install_inputs<I, S>(mut self, paths: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.install_inputs = strings(paths);
        self
    }

    /// The npm cache volume's key, named for the image.
    pub fn cache_volume(&self) -> String {
        cache_volume_name(NPM_CACHE, &self.image)
    }

    /// The dependency install command (default `npm ci`).
    pub fn install_command<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.install = strings(args);
        self
    }

    /// The build command (default `npm run build`).
    pub fn build_command<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.build = strings(args);
        self
    }

    /// An environment variable for install and build.
    pub fn env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    /// Where the build writes its output, relative to the package (default `build`).
    pub fn output_dir(mut self, dir: impl Into<String>) -> Self {
        self.output_dir = dir.into();
        self
    }

    /// The build container after both commands ran.
    pub fn container(&self, ctx: &BuildContext) -> Container {
        let mut c = ctx.dag.container().from(&self.image).with_mounted_cache(
            NPM_CACHE_DIR,
            ctx.input(&ctx.dag.cache_volume(self.cache_volume())),
        );
        // One input for both copies: the manifests first, the whole package after the install.
        let source = ctx.input(&self.source);
        for (name, value) in &self.env {
            c = c.with_env_variable(name, value);
        }
        c = c.with_workdir(SRC_DIR);
        if !self.install.is_empty() {
            c = c.with_directory_opts(
                SRC_DIR,
                source.clone(),
                ContainerWithDirectoryOpts {
                    include: Some(self.install_inputs.iter().map(String::as_str).collect()),
                    exclude: None,
                    expand: None,
                    gitignore: None,
                    owner: None,
                    permissions: None,
                },
            );
            c = ctx.exec(&c, &step_name(&self.install), self.install.clone());
        }
        c = c.with_directory(SRC_DIR, source);
        if !self.build.is_empty() {
            c = ctx.exec(&c, &step_name(&self.build), self.build.clone());
        }
        c
    }

    /// The build's output directory.
    pub fn output(&self, ctx: &BuildContext) -> Directory {
        let dir = self
            .output_dir
            .trim_start_matches("./")
            .trim_start_matches('/');
        self.container(ctx).directory(format!("{SRC_DIR}/{dir}"))
    }
}

/// A step name from a command: its first three words (`npm run build`, `npm ci`).
fn step_name(args: &[String]) -> String {
    args.iter().take(3).cloned().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_names_are_the_leading_words() {
        assert_eq!(step_name(&strings(["npm", "ci"])), "npm ci");
        assert_eq!(
            step_name(&strings(["npm", "run", "build", "--", "--outDir=x"])),
            "npm run build"
        );
    }
}
