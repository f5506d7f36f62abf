//! What a declared command needs to find in its container (`CommandEffect::requires`): a
//! glob pattern that must match a path the command can see (its files, mounts included,
//! directories and links), else the command fails as declared and writes nothing. A declared
//! write under a read-only mount fails the same way.

use super::effects::CommandEffect;
use super::schema::container::ContainerState;
use super::schema::directory::{glob, join};

/// One requirement: the pattern, and how the command fails without it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Requirement {
    pub pattern: String,
    pub exit_code: i32,
    pub stderr: String,
}

impl CommandEffect {
    /// The command needs a path matching `pattern` (a glob: `*` within a name, `**` across
    /// directories; relative to the working directory) in the container when it runs,
    /// mounted directories included; without one it exits with `exit_code` after printing
    /// `stderr`, and writes nothing.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use dagger_engine_sim::{CommandEffect, MockEngine};
    ///
    /// let engine = MockEngine::new();
    /// engine.on_exec(CommandEffect::containing("pip install").requires(
    ///     "/wheels/*.whl",
    ///     1,
    ///     "ERROR: Invalid requirement: '/wheels/*.whl'",
    /// ));
    /// let dag = engine.query();
    /// let install = |wheels| {
    ///     dag.container()
    ///         .from("python:3.12-slim")
    ///         .with_mounted_directory("/wheels", wheels)
    ///         .with_exec(vec!["sh", "-c", "pip install /wheels/*.whl"])
    /// };
    /// let with_wheel = dag.directory().with_new_file("app-1.0-py3-none-any.whl", "wheel");
    /// install(with_wheel).stdout().await.unwrap();
    /// let err = install(dag.directory()).stdout().await.unwrap_err().to_string();
    /// assert!(err.contains("exit code: 1"), "{err}");
    /// # });
    /// ```
    pub fn requires(
        mut self,
        pattern: impl Into<String>,
        exit_code: i32,
        stderr: impl Into<String>,
    ) -> Self {
        self.requires.push(Requirement {
            pattern: pattern.into(),
            exit_code,
            stderr: stderr.into(),
        });
        self
    }
}

/// A command writing under a read-only mount (`withMountedDirectory(readOnly: true)`, a
/// secret) fails there as the kernel refuses it (`EROFS`), and writes nothing.
fn read_only_writes(effect: CommandEffect, c: &ContainerState) -> CommandEffect {
    let refused = effect.writes.iter().find_map(|(path, _)| {
        let path = join(&c.workdir, path);
        c.mounted
            .iter()
            .any(|(at, m)| m.read_only && (path == *at || path.starts_with(&format!("{at}/"))))
            .then_some(path)
    });
    match refused {
        None => effect,
        Some(path) => {
            let mut failed = CommandEffect::new(effect.matcher.clone());
            failed.exit_code = 1;
            failed.stderr = format!("{path}: Read-only file system");
            failed
        }
    }
}

/// Every path a command in `c` can see, absolute.
fn visible(c: &ContainerState) -> Vec<String> {
    let mut paths: Vec<String> = c.fs.keys().cloned().collect();
    paths.extend(c.mounted.keys().cloned());
    paths.extend(c.dirs.iter().cloned());
    paths.extend(c.links.keys().cloned());
    // The directories that hold them.
    let mut parents = Vec::new();
    for p in &paths {
        let mut cur = p.as_str();
        while let Some((parent, _)) = cur.rsplit_once('/') {
            if parent.is_empty() {
                break;
            }
            parents.push(parent.to_string());
            cur = parent;
        }
    }
    paths.extend(parents);
    paths.sort();
    paths.dedup();
    paths
}

/// The effect as it plays out in `c`: unchanged when every requirement is met, else the first
/// unmet requirement's failure (no output, no writes).
pub(crate) fn checked(effect: Option<CommandEffect>, c: &ContainerState) -> Option<CommandEffect> {
    let effect = read_only_writes(effect?, c);
    if effect.requires.is_empty() {
        return Some(effect);
    }
    let paths = visible(c);
    let unmet = effect.requires.iter().find(|r| {
        let pattern = join(&c.workdir, &r.pattern);
        !paths.iter().any(|p| glob(&pattern, p))
    });
    match unmet {
        None => Some(effect),
        Some(r) => {
            let mut failed = CommandEffect::new(effect.matcher.clone());
            failed.exit_code = r.exit_code;
            failed.stderr = r.stderr.clone();
            Some(failed)
        }
    }
}
