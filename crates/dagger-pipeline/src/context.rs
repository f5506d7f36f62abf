//! The [`Pipeline`] trait, what a build gets ([`BuildContext`]), and where upstream sources come
//! from ([`ForgeConfig`], only for builds that clone them).

use std::sync::{Arc, Mutex};

use dagger_sdk::{Container, Directory, Query, QueryContainerOpts};

use super::built::BuiltImage;
use super::inputs::{EngineObject, InputId, StageInputs};
use super::platform::TargetPlatform;
use super::smoke::SmokeCheck;
use super::steps::StepLog;

/// A native container pipeline: a name, a pinned upstream version, and a build from a source
/// directory to a container. See the [module docs](super) for a complete example.
pub trait Pipeline: Send + Sync {
    /// The container's name: one lowercase OCI path component, e.g. `app`.
    fn name(&self) -> &str;

    /// The pinned upstream version, spelled as upstream tags its release (`v0.61.1`, `2.2.19`).
    fn version(&self) -> &str;

    /// One line saying what the container is (becomes `org.opencontainers.image.description`).
    fn description(&self) -> &str;

    /// The repository name of the upstream source on the forge mirror; the container's name by
    /// default.
    fn upstream_repo(&self) -> &str {
        self.name()
    }

    /// Describes the build for [`BuildContext::platform`] (the engine's platform when `None`).
    /// Lazy: nothing runs until the container is synced or published. Every command goes
    /// through [`BuildContext::exec`] (the helpers do) so a failure names its step.
    ///
    /// A multi-platform image calls this once per platform; a stage that does not depend on
    /// the platform (a web UI built with Node) gives the same call chain each time, which the
    /// engine builds once.
    fn build(&self, ctx: &BuildContext) -> Container;

    /// The command run in the final image before it is published, and the text its output must
    /// hold (see [`SmokeCheck`]); `None` publishes unchecked.
    fn smoke_check(&self) -> Option<SmokeCheck> {
        None
    }
}

/// Everything a [`Pipeline::build`] needs: the engine, the source directory, where upstream
/// sources are cloned from (only for [`git_tag_source`](super::helpers::git_tag_source)), the
/// platform to build for, and the step log its commands are recorded in.
///
/// A build from a local directory needs no forge:
///
/// ```
/// # fn example(dag: dagger_sdk::Query, pipeline: &dyn dagger_pipeline::Pipeline) {
/// use dagger_pipeline::BuildContext;
/// let ctx = BuildContext::new(dag.clone(), dag.host().directory("."), "app");
/// let image = ctx.build(pipeline).expect("a local build needs no forge");
/// # }
/// ```
#[derive(Clone)]
pub struct BuildContext {
    /// The platform the image is built for; `None`: the engine's own (Dagger's default).
    pub platform: Option<TargetPlatform>,
    /// The engine's API root.
    pub dag: Query,
    /// The source directory the build starts from.
    pub src: Directory,
    /// Where upstream sources are cloned from, when the build clones any.
    pub forge: Option<ForgeConfig>,
    /// The build's commands, for [`StepLog::explain`].
    pub steps: StepLog,
    /// What the pipeline asked for that this context cannot give (see [`BuildContext::build`]).
    problems: Arc<Mutex<Vec<BuildContextError>>>,
    /// The objects handed from stage to stage, their IDs looked up in batches.
    inputs: StageInputs,
}

/// A build asked for something its [`BuildContext`] does not have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildContextError {
    /// [`git_tag_source`](super::helpers::git_tag_source) needs a forge to clone from.
    #[error("pipeline {pipeline:?} clones {repo} at {tag} from the forge, but its build context has none: give one with BuildContext::with_forge")]
    NoForge {
        /// The pipeline.
        pipeline: String,
        /// The upstream repository asked for.
        repo: String,
        /// The tag asked for.
        tag: String,
    },
}

impl BuildContext {
    /// A context for building the pipeline (container) named `pipeline` from `src`, with an
    /// empty step log and no forge.
    pub fn new(dag: Query, src: Directory, pipeline: &str) -> Self {
        Self {
            platform: None,
            inputs: StageInputs::new(dag.graphql_client.clone()),
            dag,
            src,
            forge: None,
            steps: StepLog::new(pipeline),
            problems: Arc::default(),
        }
    }

    /// The same context building for `platform` (the step log and the stage inputs stay
    /// shared, so a stage that does not depend on the platform is looked up once).
    pub fn for_platform(mut self, platform: Option<TargetPlatform>) -> Self {
        self.platform = platform;
        self
    }

    /// An empty container of the target platform: `container(platform:)`, or `container` for
    /// the engine's own. Its commands run under the engine's emulation when the platform is not
    /// the engine's.
    pub fn target_container(&self) -> Container {
        match &self.platform {
            Some(platform) => self.dag.container_opts(QueryContainerOpts {
                platform: Some(platform.to_sdk()),
            }),
            None => self.dag.container(),
        }
    }

    /// The same context, cloning upstream sources from `forge`.
    pub fn with_forge(mut self, forge: ForgeConfig) -> Self {
        self.forge = Some(forge);
        self
    }

    /// `object` as a stage input: pass the handle wherever `dagger-sdk` takes the object
    /// (`with_mounted_cache`, `with_directory`, `with_file`, ...). `dagger-sdk` looks up each
    /// object argument's ID with a request of its own, one after another, every time a chain
    /// holding it is written out; a handle's ID is looked up once, in one request with every
    /// other input of this context (and its clones) that is ready: one request per level of
    /// stages (see [`StageInputs`]). Register every object a stage passes on, and only those
    /// the build uses.
    ///
    /// ```
    /// # fn example(ctx: &dagger_pipeline::BuildContext, src: dagger_sdk::Directory) {
    /// // Two stages: the cache and the source are looked up together, then the binary.
    /// let cache = ctx.dag.cache_volume("cargo-registry");
    /// let binary = ctx
    ///     .dag
    ///     .container()
    ///     .from("rust:1.90-alpine3.22")
    ///     .with_mounted_cache("/usr/local/cargo/registry", ctx.input(&cache))
    ///     .with_directory("/src", ctx.input(&src))
    ///     .with_workdir("/src")
    ///     .with_exec(vec!["cargo", "build", "--release"])
    ///     .file("/src/target/release/app");
    /// let image = ctx
    ///     .target_container()
    ///     .from("alpine:3.22")
    ///     .with_file("/usr/bin/app", ctx.input(&binary));
    /// # }
    /// ```
    pub fn input(&self, object: &impl EngineObject) -> InputId {
        self.inputs.register(object)
    }

    /// The stage inputs of this build: the cause of a failed lookup
    /// ([`StageInputs::failure`]).
    pub fn inputs(&self) -> &StageInputs {
        &self.inputs
    }

    /// The pipeline being built.
    pub fn pipeline(&self) -> &str {
        self.steps.pipeline()
    }

    /// Adds `withExec(args)` to `container`, recording it in the step log as `step`.
    pub fn exec(&self, container: &Container, step: &str, args: Vec<String>) -> Container {
        self.steps.record(step, &args);
        container.with_exec(args)
    }

    /// Describes `pipeline`'s build (lazy: nothing runs) and pairs it with the step log, so a
    /// failing step comes back named ([`BuiltImage`]). Fails when the build asked for what this
    /// context does not have (a forge).
    pub fn build(&self, pipeline: &dyn Pipeline) -> Result<BuiltImage, BuildContextError> {
        let container = pipeline.build(self);
        if let Some(problem) = self.lock_problems().first() {
            return Err(problem.clone());
        }
        Ok(BuiltImage::new(container, self.steps.clone()).with_inputs(self.inputs.clone()))
    }

    /// Records what the build asked for and this context cannot give.
    pub(crate) fn record_problem(&self, problem: BuildContextError) {
        self.lock_problems().push(problem);
    }

    fn lock_problems(&self) -> std::sync::MutexGuard<'_, Vec<BuildContextError>> {
        // Each operation is one push or read: a poisoned lock holds a consistent list.
        self.problems.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl std::fmt::Debug for BuildContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BuildContext")
            .field("pipeline", &self.pipeline())
            .field("platform", &self.platform)
            .field("forge", &self.forge)
            .finish_non_exhaustive()
    }
}

/// Where upstream repositories are mirrored: `<base>/<name>.git`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForgeConfig {
    base_url: String,
}

/// A forge base URL that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("forge base URL {url:?} is invalid: {rule}")]
pub struct ForgeConfigError {
    /// The URL as given.
    pub url: String,
    /// The rule broken.
    pub rule: &'static str,
}

impl ForgeConfig {
    /// A forge whose mirrors live under `base_url` (a trailing `/` is ignored).
    ///
    /// ```
    /// use dagger_pipeline::ForgeConfig;
    /// let forge = ForgeConfig::new("http://127.0.0.1:3000/mirrors/").unwrap();
    /// assert_eq!(forge.repository_url("app"), "http://127.0.0.1:3000/mirrors/app.git");
    /// assert!(ForgeConfig::new("forge.example/mirrors").is_err());
    /// ```
    pub fn new(base_url: &str) -> Result<Self, ForgeConfigError> {
        let fail = |rule| ForgeConfigError {
            url: base_url.into(),
            rule,
        };
        const SCHEMES: [&str; 5] = ["https://", "http://", "ssh://", "git://", "file://"];
        let Some((scheme, rest)) = SCHEMES
            .iter()
            .find_map(|s| base_url.strip_prefix(s).map(|rest| (*s, rest)))
        else {
            return Err(fail(
                "it must start with https://, http://, ssh://, git:// or file://",
            ));
        };
        let rest = rest.trim_end_matches('/');
        if rest.is_empty() {
            return Err(fail(
                "it must name a host (or, for file://, a path) after the scheme",
            ));
        }
        let trimmed = format!("{scheme}{rest}");
        if trimmed.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(fail("it must not contain spaces or control characters"));
        }
        if trimmed.contains(['?', '#']) {
            return Err(fail(
                "it must not have a query (?) or fragment (#): <base>/<name>.git is appended",
            ));
        }
        Ok(Self { base_url: trimmed })
    }

    /// The base URL, without a trailing `/`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The clone URL of the mirror of `repo`.
    pub fn repository_url(&self, repo: &str) -> String {
        format!("{}/{repo}.git", self.base_url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forge_urls_are_checked() {
        assert!(ForgeConfig::new("https://git.example/m").is_ok());
        assert!(ForgeConfig::new("file:///srv/mirrors").is_ok());
        for (bad, rule) in [
            ("", "must start with"),
            ("git.example/m", "must start with"),
            ("https://", "must name a host"),
            ("https://git.example/a b", "spaces"),
            ("https://git.example/m?x=1", "query"),
        ] {
            let err = ForgeConfig::new(bad).unwrap_err();
            assert!(err.to_string().contains(rule), "{bad}: {err}");
        }
    }
}
