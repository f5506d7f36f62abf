use dagger_sdk::{Container, Directory};

use super::strings;
use crate::pipeline::BuildContext;

/// The Node build image.
pub const NODE_IMAGE: &str = "node:lts-alpine";
/// Cache volume key of the npm cache (shared by every Node pipeline).
pub const NPM_CACHE: &str = "npm";

const SRC_DIR: &str = "/src";
const NPM_CACHE_DIR: &str = "/root/.npm";

/// A Node build: the package at `/src`, the npm cache on a volume, then `npm ci` and
/// `npm run build` (both replaceable); the result is a directory of the build container.
///
/// ```
/// # fn example(ctx: &dagger_publish::pipeline::BuildContext, ui: dagger_sdk::Directory) {
/// use dagger_publish::pipeline::helpers::NodeBuild;
/// let assets: dagger_sdk::Directory = NodeBuild::new(ui).output_dir("dist").output(ctx);
/// # }
/// ```
#[derive(Clone)]
pub struct NodeBuild {
    source: Directory,
    image: String,
    install: Vec<String>,
    build: Vec<String>,
    env: Vec<(String, String)>,
    output_dir: String,
}

impl NodeBuild {
    /// A build of the Node package in `source` (the directory holding `package.json`).
    /// Defaults: image [`NODE_IMAGE`], `npm ci`, `npm run build`, output `build`.
    pub fn new(source: Directory) -> Self {
        Self {
            source,
            image: NODE_IMAGE.into(),
            install: strings(["npm", "ci"]),
            build: strings(["npm", "run", "build"]),
            env: Vec::new(),
            output_dir: "build".into(),
        }
    }

    /// Another build image.
    pub fn image(mut self, image: impl Into<String>) -> Self {
        self.image = image.into();
        self
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
        let mut c = ctx
            .dag
            .container()
            .from(&self.image)
            .with_mounted_cache(NPM_CACHE_DIR, ctx.dag.cache_volume(NPM_CACHE));
        for (name, value) in &self.env {
            c = c.with_env_variable(name, value);
        }
        c = c
            .with_directory(SRC_DIR, self.source.clone())
            .with_workdir(SRC_DIR);
        if !self.install.is_empty() {
            c = ctx.exec(&c, &step_name(&self.install), self.install.clone());
        }
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
