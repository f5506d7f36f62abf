//! `validate-workflows`: the forge's CI workflows checked by the Forgejo runner itself.

use dagger_sdk::{Directory, Query};

use super::{Steps, TaskError, WORKSPACE};
use dagger_engine::registry::Tag;

/// The runner image, without its tag (the tag is the `runner-version` argument).
pub const RUNNER_IMAGE: &str = "code.forgejo.org/forgejo/runner";

/// The runner version the Python module defaulted to.
pub const DEFAULT_RUNNER_VERSION: &str = "12.7.0";

/// The cache policy of [`validate_workflows`].
pub const VALIDATE_WORKFLOWS_CACHE: super::CachePolicy = super::CachePolicy::Default;

/// Runs `forgejo-runner validate --directory .` on `src` (at `/workspace`) in
/// `code.forgejo.org/forgejo/runner:<runner_version>` and returns what it printed.
///
/// Cache policy: [`Default`](super::CachePolicy::Default): the verdict follows from the
/// workflows and the pinned runner version.
pub async fn validate_workflows(
    dag: &Query,
    src: &Directory,
    runner_version: &str,
) -> Result<String, TaskError> {
    Tag::parse(runner_version).map_err(|e| TaskError::InvalidArgument {
        argument: "runner-version",
        value: runner_version.to_string(),
        rule: format!("it is the runner image's tag: {e}"),
    })?;
    let steps = Steps::new("validate-workflows");
    let runner = dag
        .container()
        .from(format!("{RUNNER_IMAGE}:{runner_version}"))
        .with_directory(WORKSPACE, src.clone())
        .with_workdir(WORKSPACE);
    let validated = steps.exec(
        &runner,
        "forgejo-runner validate",
        &["forgejo-runner", "validate", "--directory", "."],
    );
    validated.stdout().await.map_err(|e| steps.explain(&e))
}
