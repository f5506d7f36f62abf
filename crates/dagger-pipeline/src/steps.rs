//! The step log of a build and [`StepError`], the error a person reads in CI logs.
//!
//! Builds are lazy: a pipeline only describes a call chain, and the engine runs it later (on
//! `sync`, `publish`, ...). A failing command then comes back as an engine exec error
//! ([`ExecError`]: command, exit code, stdout, stderr; upstream `engine/buildkit/errors.go`,
//! `ExecError.Extensions`). To say *which step of which pipeline* failed, every helper records
//! its commands here as it adds them ([`StepLog::record`]), and [`StepLog::explain`] finds the
//! step whose command is the failed one.

use std::fmt;

/// How step errors and plans write a command (one rule, in `dagger-engine`).
pub use dagger_engine::command::display_command;
use std::sync::{Arc, Mutex, MutexGuard};

use dagger_engine::{query_error_from_sdk, ExecError, QueryError};

/// How many trailing lines of a failed command's output a [`StepError`] keeps.
pub const OUTPUT_TAIL_LINES: usize = 20;

/// Longest line (in characters) kept in a [`StepError`]; longer lines are cut and marked.
const MAX_LINE_CHARS: usize = 400;

/// One recorded step: a command a pipeline added to its build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The pipeline (container) the step belongs to.
    pub pipeline: String,
    /// A short name a person recognises, e.g. `go build` or `npm ci`.
    pub name: String,
    /// The command exactly as given to `withExec`.
    pub command: Vec<String>,
}

#[derive(Debug, Default)]
struct LogState {
    steps: Vec<Step>,
    fallback_step: Option<String>,
}

/// The commands of one build, in the order they were added. Cheap to clone (shared).
#[derive(Debug, Clone)]
pub struct StepLog {
    pipeline: String,
    state: Arc<Mutex<LogState>>,
}

impl StepLog {
    /// An empty log for the pipeline (container) named `pipeline`.
    pub fn new(pipeline: impl Into<String>) -> Self {
        Self {
            pipeline: pipeline.into(),
            state: Arc::default(),
        }
    }

    /// A log whose failures that match no recorded step are attributed to `step` (the legacy
    /// Dockerfile path: the engine runs the Dockerfile's commands, none of which are recorded).
    pub fn with_fallback_step(self, step: impl Into<String>) -> Self {
        self.lock().fallback_step = Some(step.into());
        self
    }

    /// The pipeline's name.
    pub fn pipeline(&self) -> &str {
        &self.pipeline
    }

    /// Records that the step `name` runs `command`.
    pub fn record(&self, name: impl Into<String>, command: &[String]) {
        let step = Step {
            pipeline: self.pipeline.clone(),
            name: name.into(),
            command: command.to_vec(),
        };
        self.lock().steps.push(step);
    }

    /// The recorded steps, in order.
    pub fn steps(&self) -> Vec<Step> {
        self.lock().steps.clone()
    }

    /// The recorded step whose command is `command`: an exact match first; otherwise a step
    /// whose command ends the failed one (an engine may run a command through a wrapper such as
    /// `sh -c`, keeping the original as the tail). With several matches the first wins: builds
    /// run their steps in order, and the first failing one stops the build.
    pub fn find(&self, command: &[String]) -> Option<Step> {
        let state = self.lock();
        let exact = state.steps.iter().find(|s| s.command == command);
        let tail = || {
            state
                .steps
                .iter()
                .find(|s| !s.command.is_empty() && command.ends_with(&s.command))
        };
        exact.or_else(tail).cloned()
    }

    /// Turns the engine's exec error into a [`StepError`] naming the pipeline and the step.
    pub fn explain(&self, exec: &ExecError) -> StepError {
        let step = match self.find(&exec.cmd) {
            Some(step) => Some(step.name),
            None => self.lock().fallback_step.clone(),
        };
        StepError {
            pipeline: self.pipeline.clone(),
            step,
            command: exec.cmd.clone(),
            exit_code: exec.exit_code,
            stderr_tail: tail_lines(&exec.stderr, OUTPUT_TAIL_LINES),
            stdout_tail: tail_lines(&exec.stdout, OUTPUT_TAIL_LINES),
        }
    }

    /// [`StepLog::explain`] for an engine error, when it carries an exec error.
    pub fn explain_query_error(&self, err: &QueryError) -> Option<StepError> {
        err.exec_error().map(|exec| self.explain(&exec))
    }

    /// [`StepLog::explain`] for a `dagger-sdk` error, when it carries an exec error.
    pub fn explain_sdk_error(&self, err: &dagger_sdk::errors::DaggerError) -> Option<StepError> {
        self.explain_query_error(&query_error_from_sdk(err))
    }

    fn lock(&self) -> MutexGuard<'_, LogState> {
        // A panic while holding this lock cannot leave the log half-written (each operation is
        // a single push or read), so a poisoned lock is still safe to use.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A build step that failed: the pipeline, the step, the command, its exit code and the end of
/// its output. Its `Display` is meant for a person reading CI logs:
///
/// ```text
/// pipeline "app", step "go build" failed with exit code 1
///   command: go build -tags netgo,sqlite_fts5 -ldflags '-w -s' -o /out/app .
///   last 2 lines of stderr:
///     # github.com/app/app/db
///     db/db.go:12:5: undefined: buildtags.SQLITE_FTS5
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct StepError {
    /// The pipeline (container) whose build failed.
    pub pipeline: String,
    /// The step's name; `None` when the failed command is not one the pipeline recorded.
    pub step: Option<String>,
    /// The failed command as the engine reports it.
    pub command: Vec<String>,
    /// Its exit code.
    pub exit_code: i32,
    /// The last lines of its standard error (at most [`OUTPUT_TAIL_LINES`]).
    pub stderr_tail: Vec<String>,
    /// The last lines of its standard output (at most [`OUTPUT_TAIL_LINES`]), shown when stderr is
    /// empty: some tools report their errors on stdout.
    pub stdout_tail: Vec<String>,
}

impl StepError {
    /// The failed step a publish error names ([`PublishError::BuildFailed`] with a step from
    /// a step log, as [`PublishBuilt::publish_built`](crate::PublishBuilt::publish_built)
    /// gives it), if any.
    ///
    /// [`PublishError::BuildFailed`]: dagger_publish::PublishError::BuildFailed
    pub fn of(err: &dagger_publish::PublishError) -> Option<&StepError> {
        match err {
            dagger_publish::PublishError::BuildFailed {
                step: Some(step), ..
            } => step.downcast_ref::<StepError>(),
            _ => None,
        }
    }
}

impl fmt::Display for StepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.step {
            Some(step) => write!(f, "pipeline {:?}, step {step:?}", self.pipeline)?,
            None => write!(f, "pipeline {:?}, an unrecorded step", self.pipeline)?,
        }
        writeln!(f, " failed with exit code {}", self.exit_code)?;
        write!(f, "  command: {}", display_command(&self.command))?;
        let (what, lines) = if !self.stderr_tail.is_empty() {
            ("stderr", &self.stderr_tail)
        } else if !self.stdout_tail.is_empty() {
            ("stdout (stderr was empty)", &self.stdout_tail)
        } else {
            return write!(f, "\n  (the command printed nothing)");
        };
        match lines.len() {
            1 => write!(f, "\n  last line of {what}:")?,
            n => write!(f, "\n  last {n} lines of {what}:")?,
        }
        for line in lines {
            write!(f, "\n    {line}")?;
        }
        Ok(())
    }
}

/// The last `n` non-empty-tailed lines of `text`, carriage returns removed, long lines cut.
pub(crate) fn tail_lines(text: &str, n: usize) -> Vec<String> {
    let lines: Vec<&str> = text
        .trim_end()
        .lines()
        .map(|l| l.rsplit('\r').next().unwrap_or(l))
        .collect();
    if lines.len() == 1 && lines[0].is_empty() {
        return Vec::new();
    }
    let start = lines.len().saturating_sub(n);
    lines[start..].iter().map(|l| cut_line(l)).collect()
}

fn cut_line(line: &str) -> String {
    match line.char_indices().nth(MAX_LINE_CHARS) {
        Some((cut, _)) => format!("{}… (line cut)", &line[..cut]),
        None => line.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    fn exec(cmd: &[&str], code: i32, stdout: &str, stderr: &str) -> ExecError {
        ExecError {
            cmd: args(cmd),
            exit_code: code,
            stdout: stdout.into(),
            stderr: stderr.into(),
        }
    }

    #[test]
    fn explain_names_the_matching_step() {
        let log = StepLog::new("app");
        log.record("npm ci", &args(&["npm", "ci"]));
        log.record("go build", &args(&["go", "build", "-o", "/out/x", "."]));
        let err = log.explain(&exec(
            &["go", "build", "-o", "/out/x", "."],
            1,
            "",
            "# pkg\nundefined: buildtags.SQLITE_FTS5\n",
        ));
        assert_eq!(err.pipeline, "app");
        assert_eq!(err.step.as_deref(), Some("go build"));
        assert_eq!(err.exit_code, 1);
        assert_eq!(
            err.stderr_tail,
            ["# pkg", "undefined: buildtags.SQLITE_FTS5"]
        );
        let text = err.to_string();
        assert!(text.starts_with("pipeline \"app\", step \"go build\" failed with exit code 1\n"));
        assert!(text.contains("  command: go build -o /out/x ."));
        assert!(text
            .contains("last 2 lines of stderr:\n    # pkg\n    undefined: buildtags.SQLITE_FTS5"));
    }

    #[test]
    fn a_wrapped_command_matches_by_its_tail() {
        let log = StepLog::new("x");
        log.record("install", &args(&["apk", "add", "git"]));
        let err = log.explain(&exec(&["/bin/sh", "-c", "apk", "add", "git"], 2, "", "e"));
        assert_eq!(err.step.as_deref(), Some("install"));
    }

    #[test]
    fn unmatched_command_uses_the_fallback_or_says_unrecorded() {
        let log = StepLog::new("legacy");
        let e = exec(&["/bin/sh", "-c", "make"], 2, "", "make: *** no rule");
        assert_eq!(log.explain(&e).step, None);
        assert!(log.explain(&e).to_string().contains("an unrecorded step"));
        let log = log.with_fallback_step("Dockerfile build");
        let err = log.explain(&e);
        assert_eq!(err.step.as_deref(), Some("Dockerfile build"));
        assert!(err.to_string().contains("command: /bin/sh -c make"));
    }

    #[test]
    fn stderr_is_cut_to_the_last_lines() {
        let stderr: String = (1..=50).map(|i| format!("line {i}\r\n")).collect();
        let err = StepLog::new("p").explain(&exec(&["false"], 1, "", &stderr));
        assert_eq!(err.stderr_tail.len(), OUTPUT_TAIL_LINES);
        assert_eq!(err.stderr_tail.first().map(String::as_str), Some("line 31"));
        assert_eq!(err.stderr_tail.last().map(String::as_str), Some("line 50"));
        assert!(err.to_string().contains("last 20 lines of stderr"));
    }

    #[test]
    fn empty_stderr_shows_stdout_or_says_nothing_printed() {
        let err = StepLog::new("p").explain(&exec(&["t"], 3, "FAIL: TestX\n", ""));
        assert!(err
            .to_string()
            .contains("last line of stdout (stderr was empty):\n    FAIL: TestX"));
        let err = StepLog::new("p").explain(&exec(&["t"], 3, "", "\n"));
        assert!(err.to_string().ends_with("(the command printed nothing)"));
    }

    #[test]
    fn progress_lines_keep_their_last_carriage_return_segment() {
        assert_eq!(tail_lines("10%\r50%\r100%\ndone", 5), ["100%", "done"]);
        assert!(tail_lines("", 5).is_empty());
    }

    #[test]
    fn long_lines_are_cut() {
        let line = "x".repeat(MAX_LINE_CHARS + 10);
        let tail = tail_lines(&line, 1);
        assert!(tail[0].ends_with("… (line cut)"));
        assert_eq!(
            tail[0].chars().filter(|c| *c == 'x').count(),
            MAX_LINE_CHARS
        );
    }

    #[test]
    fn commands_are_shell_quoted_for_display() {
        assert_eq!(
            display_command(&args(&["go", "build", "-ldflags", "-w -s -X a.b=it's"])),
            r"go build -ldflags '-w -s -X a.b=it'\''s'"
        );
        assert_eq!(display_command(&args(&["echo", ""])), "echo ''");
        assert_eq!(display_command(&[]), "(no command reported)");
    }

    #[test]
    fn query_errors_without_exec_error_are_not_explained() {
        let log = StepLog::new("p");
        let err = QueryError::MissingData { what: "x".into() };
        assert_eq!(log.explain_query_error(&err), None);
    }
}
