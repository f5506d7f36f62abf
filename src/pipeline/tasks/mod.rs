//! The Python module's tool functions as native pipelines: `build-nix`, `nix-version`,
//! `flake-lock`, `flake-update` ([`nix`]), `build-docs` ([`docs`]), `validate-workflows`
//! ([`workflows`]) and `export-yolov9` ([`yolo`]).
//!
//! Each is a plain async function the module calls in one line. Every command is a step of its
//! own, recorded in a [`StepLog`], so a failure reads as the step, the command, its exit code
//! and the end of its stderr ([`TaskError::Step`]) rather than one opaque shell line. Functions
//! returning a file evaluate it before returning, so their errors surface here, with the step,
//! not later at `export`.
//!
//! Each function's documentation states its [`CachePolicy`]; the module registers it.

pub mod docs;
pub mod nix;
pub mod workflows;
pub mod yolo;

use std::time::{SystemTime, UNIX_EPOCH};

use dagger_sdk::Container;

use dagger_engine::{query_error_from_sdk, QueryError};
use dagger_pipeline::{StepError, StepLog};

/// The folder a task's source directory is mounted at.
pub const WORKSPACE: &str = "/workspace";

/// The variable set to the current time on steps that resolve "latest", so that the engine
/// never answers them from its cache (`withExec` has no option to skip the cache in engine
/// v0.21; the usual Dagger cache buster).
pub const RESOLVED_AT_VARIABLE: &str = "RESOLVED_AT";

/// Whether the engine may answer a function call from its function cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CachePolicy {
    /// The engine's default: a call with the same arguments (and the same source contents) may
    /// be answered from the cache. Right for functions whose result follows from their inputs.
    Default,
    /// Never cached: the function resolves something that moves ("latest"), so the same
    /// arguments can give a different answer tomorrow.
    Never,
}

/// Why a task failed. No variant carries a secret: tasks take none.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TaskError {
    /// An argument broke a rule, checked before anything is sent to the engine.
    #[error("invalid {argument} {value:?}: {rule}")]
    InvalidArgument {
        /// The argument's Dagger name (`container-name`, `model-size`, ...).
        argument: &'static str,
        /// The value given.
        value: String,
        /// The rule it broke.
        rule: String,
    },
    /// A step's command failed.
    #[error("{0}")]
    Step(Box<StepError>),
    /// A step succeeded but printed something the task cannot use.
    #[error("task {task:?}, step {step:?}: {detail}")]
    Output {
        /// The task.
        task: String,
        /// The step whose output it is.
        step: String,
        /// What is wrong with it.
        detail: String,
    },
    /// The engine failed for another reason than a failed command (a missing file, an
    /// unreachable image, a download refused).
    #[error("task {task:?}: the Dagger engine failed: {source}")]
    Engine {
        /// The task.
        task: String,
        /// The engine's error.
        #[source]
        source: QueryError,
    },
}

/// The steps of one task run: records each command before adding it, and explains failures.
#[derive(Debug, Clone)]
pub(crate) struct Steps {
    log: StepLog,
}

impl Steps {
    pub(crate) fn new(task: &str) -> Self {
        Self {
            log: StepLog::new(task),
        }
    }

    /// `container.withExec(args)`, recorded as the step `name`.
    pub(crate) fn exec<S: AsRef<str>>(
        &self,
        container: &Container,
        name: &str,
        args: &[S],
    ) -> Container {
        let args: Vec<String> = args.iter().map(|a| a.as_ref().to_string()).collect();
        self.log.record(name, &args);
        container.with_exec(args)
    }

    /// The engine's error as a step error when it is a failed command, else an engine error.
    pub(crate) fn explain(&self, err: &dagger_sdk::errors::DaggerError) -> TaskError {
        match self.log.explain_sdk_error(err) {
            Some(step) => TaskError::Step(Box::new(step)),
            None => TaskError::Engine {
                task: self.log.pipeline().to_string(),
                source: query_error_from_sdk(err),
            },
        }
    }

    /// An unusable output of the step `step`.
    pub(crate) fn output(&self, step: &str, detail: impl Into<String>) -> TaskError {
        TaskError::Output {
            task: self.log.pipeline().to_string(),
            step: step.to_string(),
            detail: detail.into(),
        }
    }

    /// Evaluates `file` (runs its steps) and returns it: failures surface with their step.
    pub(crate) async fn evaluated(
        &self,
        file: dagger_sdk::File,
    ) -> Result<dagger_sdk::File, TaskError> {
        file.sync().await.map_err(|e| self.explain(&e))?;
        Ok(file)
    }
}

/// The current time as a cache buster value (seconds and nanoseconds since the epoch).
pub(crate) fn now_stamp() -> String {
    // A clock before 1970 only makes the value constant, never an error.
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    format!("{}.{:09}", now.as_secs(), now.subsec_nanos())
}

/// Checks that `value` is a relative path inside the source: not empty, not absolute, no `..`.
pub(crate) fn relative_path(argument: &'static str, value: &str) -> Result<String, TaskError> {
    let invalid = |rule: &str| TaskError::InvalidArgument {
        argument,
        value: value.to_string(),
        rule: rule.to_string(),
    };
    let trimmed = value.trim_end_matches('/');
    if trimmed.is_empty() {
        return Err(invalid(
            "a path relative to the source directory is required",
        ));
    }
    if trimmed.starts_with('/') {
        return Err(invalid(
            "the path must be relative to the source directory, not absolute",
        ));
    }
    if trimmed
        .split('/')
        .any(|part| part == ".." || part.is_empty())
    {
        return Err(invalid(
            "the path must stay inside the source directory (no `..`, no empty part)",
        ));
    }
    Ok(trimmed.to_string())
}

/// Checks that `value` can be part of a file name: letters, digits, `.`, `_`, `-`, and not
/// starting with `.` or `-`.
pub(crate) fn file_name_part(argument: &'static str, value: &str) -> Result<(), TaskError> {
    let ok = !value.is_empty()
        && !value.starts_with(['.', '-'])
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(TaskError::InvalidArgument {
            argument,
            value: value.to_string(),
            rule: "it becomes part of a file name: letters, digits, `.`, `_` and `-` only, not \
                   starting with `.` or `-`"
                .to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_stay_inside_the_source() {
        assert_eq!(
            relative_path("p", "nixos/ringtail/").unwrap(),
            "nixos/ringtail"
        );
        for bad in ["", "/etc", "a/../../b", "a//b", ".."] {
            assert!(
                matches!(
                    relative_path("p", bad),
                    Err(TaskError::InvalidArgument { .. })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn file_name_parts_refuse_separators_and_leading_dots() {
        assert!(file_name_part("v", "v1.2.3-rc_1").is_ok());
        for bad in ["", "a/b", "..", "-x", "a b", "$(x)"] {
            assert!(file_name_part("v", bad).is_err(), "{bad}");
        }
    }
}
