//! Smoke checks: the final image runs its program before it is published, and its output must
//! name the version the image is tagged with.
//!
//! The check runs on a container *derived* from the image (`image.withExec(command)`, its
//! `stdout` read), so the image that is published afterwards is the original, unchanged: no
//! extra layer, no configuration change. The image's ID is read in the same request, so the
//! publish that follows loads the image by ID instead of rebuilding its call chain: all checks
//! (one per platform of a multi-platform image) cost one engine round trip. A check of an image
//! of another platform than the engine's runs under the engine's emulation; without it the
//! command fails with `exec format error`, which is what the check is there to catch before a
//! cluster does.

use std::fmt;

use dagger_engine::gql::{self, Arg, Field};
use dagger_engine::{EngineClient, QueryError};
use dagger_sdk::Container;

use super::platform::TargetPlatform;
use super::steps::{display_command, tail_lines, StepLog, OUTPUT_TAIL_LINES};
use dagger_engine::gql::Chain;

/// A command run in a pipeline's final image, and the text its standard output must name: the
/// version, as the program prints it (`SmokeCheck::new(["/usr/bin/app", "--version"], "1.2.3")`).
///
/// The text must appear as a whole version: not preceded by a digit or `.`, not followed by a
/// digit or by `.` and a digit (`1.2.3` passes `app 1.2.3 (abc)` and `v1.2.3`, not `11.2.3` or
/// `1.2.30`).
///
/// ```
/// use dagger_pipeline::SmokeCheck;
/// let check = SmokeCheck::new(["/usr/bin/app", "--version"], "0.61.1");
/// assert!(check.passes("0.61.1 (source_archive)\n"));
/// assert!(check.passes("app version v0.61.1"));
/// assert!(!check.passes("dev"));
/// assert!(!check.passes("0.61.10"));
/// assert_eq!(check.step_name(), "smoke check (/usr/bin/app --version)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmokeCheck {
    command: Vec<String>,
    expect: String,
}

impl SmokeCheck {
    /// Runs `command` and requires `expect` in its standard output. Both must be non-empty;
    /// [`run_smoke_checks`] refuses a check that is not (it could never fail).
    pub fn new<I, S>(command: I, expect: impl Into<String>) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            command: command.into_iter().map(Into::into).collect(),
            expect: expect.into(),
        }
    }

    /// The command.
    pub fn command(&self) -> &[String] {
        &self.command
    }

    /// The text the output must name.
    pub fn expect(&self) -> &str {
        &self.expect
    }

    /// The step's name in the step log: `smoke check (<command>)`.
    pub fn step_name(&self) -> String {
        format!("smoke check ({})", display_command(&self.command))
    }

    /// Whether `output` names [`SmokeCheck::expect`] as a whole version (see the type's docs).
    pub fn passes(&self, output: &str) -> bool {
        if self.expect.is_empty() {
            return false;
        }
        let bytes = output.as_bytes();
        output.match_indices(&self.expect).any(|(at, _)| {
            let end = at + self.expect.len();
            let before_ok = at == 0 || !matches!(bytes[at - 1], b'0'..=b'9' | b'.');
            let after_ok = match bytes.get(end) {
                Some(b'0'..=b'9') => false,
                Some(b'.') => !bytes.get(end + 1).is_some_and(u8::is_ascii_digit),
                _ => true,
            };
            before_ok && after_ok
        })
    }

    fn validate(&self) -> Result<(), SmokeCheckError> {
        if self.command.is_empty() || self.command[0].is_empty() {
            return Err(SmokeCheckError::Invalid {
                rule: "a smoke check needs a command",
            });
        }
        if self.expect.trim().is_empty() {
            return Err(SmokeCheckError::Invalid {
                rule: "a smoke check needs the text its output must name (it could never fail)",
            });
        }
        Ok(())
    }
}

/// An image whose smoke check passed: its ID (the image itself, unchanged) and what the check
/// printed.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedImage {
    /// The platform it was built for (`None`: the engine's).
    pub platform: Option<TargetPlatform>,
    /// The image's ID: publish `dag.r#ref::<Container>(id)`.
    pub id: dagger_sdk::Id,
    /// The check's standard output.
    pub output: String,
}

/// A smoke check that did not pass.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SmokeCheckError {
    /// The check itself is unusable.
    #[error("invalid smoke check: {rule}")]
    Invalid {
        /// The rule broken.
        rule: &'static str,
    },
    /// The engine failed: a build step, the check's command (both explained by the step log,
    /// where the check is recorded as [`SmokeCheck::step_name`]), or the engine itself.
    #[error("{0}")]
    Engine(QueryError),
    /// The command ran but its output does not name the version.
    #[error("{0}")]
    WrongOutput(Box<WrongOutput>),
}

/// A smoke check whose command printed something else than the version. Its `Display` is for a
/// person reading CI logs:
///
/// ```text
/// pipeline "app", step "smoke check (/usr/bin/app --version)" failed: its output does not name 0.61.1
///   command: /usr/bin/app --version
///   last line of stdout:
///     dev
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrongOutput {
    /// The pipeline.
    pub pipeline: String,
    /// The check's step name.
    pub step: String,
    /// The command.
    pub command: Vec<String>,
    /// The platform of the image checked (`None`: the engine's).
    pub platform: Option<String>,
    /// The text the output had to name.
    pub expected: String,
    /// The last lines of the command's standard output.
    pub stdout_tail: Vec<String>,
}

impl fmt::Display for WrongOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "pipeline {:?}, step {:?} failed",
            self.pipeline, self.step
        )?;
        if let Some(platform) = &self.platform {
            write!(f, " on {platform}")?;
        }
        writeln!(f, ": its output does not name {}", self.expected)?;
        write!(f, "  command: {}", display_command(&self.command))?;
        match self.stdout_tail.len() {
            0 => write!(f, "\n  (the command printed nothing on stdout)"),
            n => {
                if n == 1 {
                    write!(f, "\n  last line of stdout:")?;
                } else {
                    write!(f, "\n  last {n} lines of stdout:")?;
                }
                for line in &self.stdout_tail {
                    write!(f, "\n    {line}")?;
                }
                Ok(())
            }
        }
    }
}

/// Runs `check` in each of `images` (one per platform) in ONE engine request, which also reads
/// each image's ID; records the check in `steps` first, so that a failing command is explained
/// as the check's step.
///
/// Every image must pass. The images are not changed: publish them by the returned IDs (no
/// round trip to rebuild their call chains).
pub async fn run_smoke_checks(
    client: &EngineClient,
    images: &[(Option<TargetPlatform>, Container)],
    check: &SmokeCheck,
    steps: &StepLog,
) -> Result<Vec<CheckedImage>, SmokeCheckError> {
    check.validate()?;
    steps.record(check.step_name(), &check.command);
    let exec = Field::new("withExec")
        .arg(
            "args",
            Arg::strings(check.command.iter().map(String::as_str)),
        )
        .select(Field::new("stdout"));
    let mut fields = Vec::new();
    for (i, (_, image)) in images.iter().enumerate() {
        // dagger-sdk resolves the chain's object arguments here, once for both fields.
        let chain = Chain::of(&image.selection)
            .await
            .map_err(SmokeCheckError::Engine)?;
        fields.push(chain.ending_in(&format!("image{i}"), Field::new("id")));
        fields.push(chain.ending_in(&format!("check{i}"), exec.clone()));
    }
    if fields.is_empty() {
        return Ok(Vec::new());
    }
    let data = client
        .query(&gql::query(&fields))
        .await
        .map_err(SmokeCheckError::Engine)?;
    let leaf = |key: String| -> Result<String, SmokeCheckError> {
        data.get(&key).and_then(leaf_string).ok_or_else(|| {
            SmokeCheckError::Engine(QueryError::MissingData {
                what: format!("{key} in the answer"),
            })
        })
    };
    let mut checked = Vec::new();
    for (i, (platform, _)) in images.iter().enumerate() {
        let id = leaf(format!("image{i}"))?;
        let output = leaf(format!("check{i}"))?;
        if !check.passes(&output) {
            return Err(SmokeCheckError::WrongOutput(Box::new(WrongOutput {
                pipeline: steps.pipeline().to_string(),
                step: check.step_name(),
                command: check.command.clone(),
                platform: platform.as_ref().map(|p| p.to_string()),
                expected: check.expect.clone(),
                stdout_tail: tail_lines(&output, OUTPUT_TAIL_LINES),
            })));
        }
        checked.push(CheckedImage {
            platform: platform.clone(),
            id: dagger_sdk::Id(id),
            output,
        });
    }
    Ok(checked)
}

/// The string at the end of a spliced chain's answer (`{"from":{"withExec":{"stdout":"..."}}}`).
fn leaf_string(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Object(map) if map.len() == 1 => {
            map.values().next().and_then(leaf_string)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_versions_only() {
        let check = SmokeCheck::new(["app", "-version"], "2.2.19");
        for ok in [
            "2.2.19",
            "2.2.19\n",
            "App v2.2.19 (go1.25)",
            "2.2.19.",
            "2.2.19-rc1",
        ] {
            assert!(check.passes(ok), "{ok:?}");
        }
        for bad in [
            "", "dev", "12.2.19", "2.2.190", "2.2.19.1", "1.2.2.19", "2.2.1",
        ] {
            assert!(!check.passes(bad), "{bad:?}");
        }
        assert!(!SmokeCheck::new(["app"], "").passes("anything"));
    }

    #[test]
    fn a_check_that_cannot_fail_is_refused() {
        assert!(matches!(
            SmokeCheck::new(Vec::<String>::new(), "1").validate(),
            Err(SmokeCheckError::Invalid { .. })
        ));
        let err = SmokeCheck::new(["app"], " ").validate().unwrap_err();
        assert!(err.to_string().contains("could never fail"), "{err}");
        assert!(SmokeCheck::new(["app", "-v"], "1").validate().is_ok());
    }

    #[test]
    fn wrong_output_reads_like_a_step_error() {
        let err = WrongOutput {
            pipeline: "app".into(),
            step: "smoke check (/usr/bin/app --version)".into(),
            command: vec!["/usr/bin/app".into(), "--version".into()],
            platform: Some("linux/arm64".into()),
            expected: "0.61.1".into(),
            stdout_tail: vec!["dev".into()],
        };
        assert_eq!(
            err.to_string(),
            "pipeline \"app\", step \"smoke check (/usr/bin/app --version)\" failed on linux/arm64: \
             its output does not name 0.61.1\n  command: /usr/bin/app --version\n  last line of \
             stdout:\n    dev"
        );
    }
}
