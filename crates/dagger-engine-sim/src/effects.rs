//! Declared command effects: what a command writes and prints on the mock engine, and which
//! files a base image brings.
//!
//! The mock runs no command. A build whose later stage reads what a command wrote (`go build -o
//! /out/app`, then `file("/out/app")`) therefore needs the test to say what that command writes,
//! one line per command:
//!
//! ```
//! use dagger_engine_sim::{CommandEffect, ImageFiles, MockEngine};
//!
//! let engine = MockEngine::new();
//! engine.on_exec(CommandEffect::containing("go build").writes_file("/out/app", "\x7fELF app"));
//! engine.on_exec(CommandEffect::argv(["go", "version"]).prints("go version go1.24.4 linux/amd64\n"));
//! engine.on_exec(CommandEffect::matching(|argv| argv[0] == "npm").writes_directory("dist", &[("index.html", "<html>")]));
//! engine.on_exec(CommandEffect::containing("go vet").fails(1, "main.go:3:1: unreachable code"));
//! engine.on_from(ImageFiles::address("alpine:3.22").with_file("/etc/alpine-release", "3.22.0\n"));
//! ```
//!
//! An effect can depend on what the container holds when the command runs
//! ([`CommandEffect::requires`]): `pip install /wheels/*.whl` fails when no wheel is there,
//! mounted or copied, so a test can show a pipeline failing for a missing input.
//!
//! The first declaration that matches a command wins; [`crate::MockEngine::override_exec`]
//! puts a declaration ahead of those made before it (a fixture's defaults), so a test can
//! make one command behave differently without rebuilding the fixture. A command no
//! declaration matches succeeds
//! with empty output and writes nothing (`echo` prints its arguments). Reading a path nothing
//! put there fails with the engine's own words (`lstat /out/app: no such file or directory`)
//! followed by the commands that ran in that container and how to declare the output.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use super::image_address::parse_address;
use super::paths::join;

/// A test's own rule on a command's arguments.
pub type ArgvPredicate = Arc<dyn Fn(&[String]) -> bool + Send + Sync>;

/// A test's own rule on an image address.
pub type AddressPredicate = Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// Which commands a [`CommandEffect`] applies to.
#[derive(Clone)]
pub enum CommandMatch {
    /// Exactly this argument vector, as given to `withExec`.
    Argv(Vec<String>),
    /// Commands whose command line (the arguments joined by spaces) contains this text.
    Contains(String),
    /// Commands whose command line contains every one of these texts.
    ContainsAll(Vec<String>),
    /// Commands whose argument vector satisfies the predicate.
    Predicate(ArgvPredicate),
}

impl CommandMatch {
    /// Whether the command `argv` matches.
    pub fn matches(&self, argv: &[String]) -> bool {
        match self {
            CommandMatch::Argv(expected) => expected.as_slice() == argv,
            CommandMatch::Contains(text) => argv.join(" ").contains(text.as_str()),
            CommandMatch::ContainsAll(texts) => {
                let line = argv.join(" ");
                texts.iter().all(|t| line.contains(t.as_str()))
            }
            CommandMatch::Predicate(rule) => rule(argv),
        }
    }
}

impl fmt::Debug for CommandMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommandMatch::Argv(argv) => f.debug_tuple("Argv").field(argv).finish(),
            CommandMatch::Contains(text) => f.debug_tuple("Contains").field(text).finish(),
            CommandMatch::ContainsAll(texts) => f.debug_tuple("ContainsAll").field(texts).finish(),
            CommandMatch::Predicate(_) => f.write_str("Predicate(..)"),
        }
    }
}

/// Something a command writes or an image brings: a file, or a directory of files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Written {
    /// A file with these contents.
    File(String),
    /// A directory holding these files (relative path, contents).
    Directory(BTreeMap<String, String>),
}

/// Paths and what is at them; relative paths are resolved against `base`.
fn place(
    fs: &mut BTreeMap<String, String>,
    base: &str,
    writes: &[(String, Written)],
) -> Vec<String> {
    let mut placed = Vec::new();
    for (path, written) in writes {
        let path = join(base, path);
        match written {
            Written::File(contents) => {
                fs.insert(path.clone(), contents.clone());
            }
            Written::Directory(files) => {
                for (name, contents) in files {
                    fs.insert(join(&path, name), contents.clone());
                }
            }
        }
        placed.push(path);
    }
    placed
}

fn directory(files: &[(&str, &str)]) -> Written {
    Written::Directory(
        files
            .iter()
            .map(|(p, c)| (join("", p), c.to_string()))
            .collect(),
    )
}

/// What matching commands do on the mock engine: the files and directories they write, what they
/// print on stdout and stderr, and their exit code (0 unless set).
///
/// A command that exits non-zero fails its `withExec` with the engine's exec error (message and
/// `EXEC_ERROR` extensions), unless `withExec(expect:)` accepts the code; what it writes is kept
/// only when the exec is accepted. Relative paths are resolved against the container's working
/// directory at the time the command runs.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use dagger_engine_sim::{CommandEffect, MockEngine};
///
/// let engine = MockEngine::new();
/// engine.on_exec(CommandEffect::argv(["make", "dist"]).writes_file("dist/app.txt", "built").prints("ok\n"));
/// let built = engine
///     .query()
///     .container()
///     .from("alpine:3.22")
///     .with_workdir("/src")
///     .with_exec(vec!["make", "dist"]);
/// assert_eq!(built.stdout().await.unwrap(), "ok\n");
/// assert_eq!(built.file("/src/dist/app.txt").contents().await.unwrap(), "built");
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct CommandEffect {
    pub(crate) matcher: CommandMatch,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
    pub(crate) exit_code: i32,
    pub(crate) writes: Vec<(String, Written)>,
    /// What the command needs to find in the container (see [`CommandEffect::requires`]).
    pub(crate) requires: Vec<super::needs::Requirement>,
}

impl CommandEffect {
    /// An effect for the commands `matcher` selects: by default they succeed, print nothing
    /// and write nothing.
    pub fn new(matcher: CommandMatch) -> Self {
        Self {
            matcher,
            stdout: String::new(),
            stderr: String::new(),
            exit_code: 0,
            writes: Vec::new(),
            requires: Vec::new(),
        }
    }

    /// For the command with exactly these arguments.
    pub fn argv<I, S>(argv: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self::new(CommandMatch::Argv(
            argv.into_iter().map(Into::into).collect(),
        ))
    }

    /// For the commands whose command line (arguments joined by spaces) contains `text`.
    pub fn containing(text: impl Into<String>) -> Self {
        Self::new(CommandMatch::Contains(text.into()))
    }

    /// For the commands whose argument vector satisfies `rule`.
    pub fn matching(rule: impl Fn(&[String]) -> bool + Send + Sync + 'static) -> Self {
        Self::new(CommandMatch::Predicate(Arc::new(rule)))
    }

    /// The command writes the file `path` with `contents`.
    pub fn writes_file(mut self, path: impl Into<String>, contents: impl Into<String>) -> Self {
        self.writes
            .push((path.into(), Written::File(contents.into())));
        self
    }

    /// The command writes the directory `path` holding `files` (paths relative to `path`).
    pub fn writes_directory(mut self, path: impl Into<String>, files: &[(&str, &str)]) -> Self {
        self.writes.push((path.into(), directory(files)));
        self
    }

    /// The command prints `stdout` on its standard output.
    pub fn prints(mut self, stdout: impl Into<String>) -> Self {
        self.stdout = stdout.into();
        self
    }

    /// The command prints `stderr` on its standard error.
    pub fn prints_stderr(mut self, stderr: impl Into<String>) -> Self {
        self.stderr = stderr.into();
        self
    }

    /// The command exits with `code`.
    pub fn exits(mut self, code: i32) -> Self {
        self.exit_code = code;
        self
    }

    /// The command fails: it exits with `code` (which must not be 0 to fail) after printing
    /// `stderr`.
    pub fn fails(self, code: i32, stderr: impl Into<String>) -> Self {
        self.exits(code).prints_stderr(stderr)
    }

    /// Which commands this effect applies to.
    pub fn matcher(&self) -> &CommandMatch {
        &self.matcher
    }

    /// Writes what the command writes into `fs`, relative paths against `workdir`; returns the
    /// absolute paths written.
    pub(crate) fn apply_writes(
        &self,
        fs: &mut BTreeMap<String, String>,
        workdir: &str,
    ) -> Vec<String> {
        place(fs, workdir, &self.writes)
    }
}

/// Which images an [`ImageFiles`] declaration applies to.
#[derive(Clone)]
pub enum ImageMatch {
    /// The address as given to `from`, or its normalised form (`alpine:3.22` and
    /// `docker.io/library/alpine:3.22` name the same image).
    Address(String),
    /// Addresses containing this text.
    Contains(String),
    /// Addresses satisfying the predicate (given the address as written in `from`).
    Predicate(AddressPredicate),
}

impl ImageMatch {
    /// Whether `from(address)` matches.
    pub fn matches(&self, address: &str) -> bool {
        match self {
            ImageMatch::Address(expected) => {
                expected == address
                    || normalised_address(expected)
                        .is_some_and(|e| Some(e) == normalised_address(address))
            }
            ImageMatch::Contains(text) => address.contains(text.as_str()),
            ImageMatch::Predicate(rule) => rule(address),
        }
    }
}

/// An image address as the engine reads it (`alpine:3.22` is `docker.io/library/alpine:3.22`),
/// when it parses.
fn normalised_address(address: &str) -> Option<String> {
    let a = parse_address(address).ok()?;
    let mut out = format!("{}/{}", a.host, a.repository);
    if let Some(tag) = &a.tag {
        out.push(':');
        out.push_str(tag);
    }
    if let Some(digest) = &a.digest {
        out.push('@');
        out.push_str(digest);
    }
    Some(out)
}

impl fmt::Debug for ImageMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImageMatch::Address(a) => f.debug_tuple("Address").field(a).finish(),
            ImageMatch::Contains(t) => f.debug_tuple("Contains").field(t).finish(),
            ImageMatch::Predicate(_) => f.write_str("Predicate(..)"),
        }
    }
}

/// The files a base image brings, for the images a [`ImageMatch`] selects: after
/// `from(address)` they are in the container's filesystem. Relative paths are taken from `/`.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use dagger_engine_sim::{ImageFiles, MockEngine};
///
/// let engine = MockEngine::new();
/// engine.on_from(ImageFiles::address("alpine:3.22").with_file("/etc/alpine-release", "3.22.0\n"));
/// let release = engine
///     .query()
///     .container()
///     .from("docker.io/library/alpine:3.22")
///     .file("/etc/alpine-release")
///     .contents()
///     .await
///     .unwrap();
/// assert_eq!(release, "3.22.0\n");
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct ImageFiles {
    pub(crate) matcher: ImageMatch,
    pub(crate) files: Vec<(String, Written)>,
}

impl ImageFiles {
    /// Files of the images `matcher` selects (none yet).
    pub fn new(matcher: ImageMatch) -> Self {
        Self {
            matcher,
            files: Vec::new(),
        }
    }

    /// Files of the image `address` (as written in `from`, or normalised).
    pub fn address(address: impl Into<String>) -> Self {
        Self::new(ImageMatch::Address(address.into()))
    }

    /// Files of every image whose address contains `text`.
    pub fn containing(text: impl Into<String>) -> Self {
        Self::new(ImageMatch::Contains(text.into()))
    }

    /// Files of every image whose address satisfies `rule`.
    pub fn matching(rule: impl Fn(&str) -> bool + Send + Sync + 'static) -> Self {
        Self::new(ImageMatch::Predicate(Arc::new(rule)))
    }

    /// The image holds the file `path` with `contents`.
    pub fn with_file(mut self, path: impl Into<String>, contents: impl Into<String>) -> Self {
        self.files
            .push((path.into(), Written::File(contents.into())));
        self
    }

    /// The image holds the directory `path` with `files` (paths relative to `path`).
    pub fn with_directory(mut self, path: impl Into<String>, files: &[(&str, &str)]) -> Self {
        self.files.push((path.into(), directory(files)));
        self
    }

    /// Which images this declaration applies to.
    pub fn matcher(&self) -> &ImageMatch {
        &self.matcher
    }

    /// Puts the image's files into `fs`.
    pub(crate) fn apply(&self, fs: &mut BTreeMap<String, String>) {
        place(fs, "/", &self.files);
    }
}

/// A command that fails: any `withExec` whose command line (arguments joined by spaces)
/// contains every string of `args_contains`. The shorthand of
/// `CommandEffect::new(CommandMatch::ContainsAll(args_contains)).exits(exit_code)...` (see
/// [`super::MockEngine::fail_exec`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecFailure {
    /// Strings the command line must contain.
    pub args_contains: Vec<String>,
    /// The exit code reported.
    pub exit_code: i32,
    /// What the command printed on standard output.
    pub stdout: String,
    /// What the command printed on standard error.
    pub stderr: String,
}

impl From<ExecFailure> for CommandEffect {
    fn from(rule: ExecFailure) -> Self {
        CommandEffect::new(CommandMatch::ContainsAll(rule.args_contains))
            .exits(rule.exit_code)
            .prints(rule.stdout)
            .prints_stderr(rule.stderr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn command_matches_by_argv_substring_all_or_predicate() {
        let go = argv(&["go", "build", "-o", "/out/app", "."]);
        assert!(CommandMatch::Argv(go.clone()).matches(&go));
        assert!(!CommandMatch::Argv(argv(&["go", "build"])).matches(&go));
        assert!(CommandMatch::Contains("build -o /out".into()).matches(&go));
        assert!(!CommandMatch::Contains("npm".into()).matches(&go));
        assert!(CommandMatch::ContainsAll(argv(&["go", "/out/app"])).matches(&go));
        assert!(!CommandMatch::ContainsAll(argv(&["go", "npm"])).matches(&go));
        let rule = CommandEffect::matching(|a| a.len() == 5);
        assert!(rule.matcher().matches(&go));
        assert_eq!(format!("{:?}", rule.matcher()), "Predicate(..)");
    }

    #[test]
    fn writes_resolve_relative_paths_against_the_workdir() {
        let effect = CommandEffect::containing("x")
            .writes_file("bin/app", "a")
            .writes_file("/abs", "b")
            .writes_directory("dist", &[("index.html", "c"), ("js/app.js", "d")]);
        let mut fs = BTreeMap::new();
        let placed = effect.apply_writes(&mut fs, "/src");
        assert_eq!(placed, ["/src/bin/app", "/abs", "/src/dist"]);
        assert_eq!(
            fs.keys().collect::<Vec<_>>(),
            [
                "/abs",
                "/src/bin/app",
                "/src/dist/index.html",
                "/src/dist/js/app.js"
            ]
        );
    }

    #[test]
    fn images_match_as_written_or_normalised() {
        let m = ImageMatch::Address("alpine:3.22".into());
        assert!(m.matches("alpine:3.22"));
        assert!(m.matches("docker.io/library/alpine:3.22"));
        assert!(m.matches("index.docker.io/library/alpine:3.22"));
        let m = ImageMatch::Address("docker.io/library/alpine:3.22".into());
        assert!(m.matches("alpine:3.22"));
        assert!(!m.matches("alpine:3.21"));
        assert!(!m.matches("alpine"));
        assert!(ImageMatch::Contains("golang".into()).matches("golang:1.24-alpine"));
        assert!(
            ImageMatch::Predicate(Arc::new(|a: &str| a.ends_with("-alpine")))
                .matches("golang:1.24-alpine")
        );
    }

    #[test]
    fn an_exec_failure_is_a_command_effect() {
        let effect: CommandEffect = ExecFailure {
            args_contains: argv(&["go", "build"]),
            exit_code: 2,
            stdout: "o".into(),
            stderr: "e".into(),
        }
        .into();
        assert!(effect.matcher().matches(&argv(&["go", "build", "."])));
        assert_eq!(
            (
                effect.exit_code,
                effect.stdout.as_str(),
                effect.stderr.as_str()
            ),
            (2, "o", "e")
        );
    }
}
