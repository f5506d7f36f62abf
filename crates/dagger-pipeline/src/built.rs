//! A built image that carries its step log, so that the publisher names a failed step.

use std::sync::Arc;

use async_trait::async_trait;
use dagger_sdk::Container;

use super::inputs::StageInputs;
use super::smoke::{run_smoke_checks, SmokeCheck, SmokeCheckError};
use super::steps::{StepError, StepLog};
use dagger_publish::{PublishError, PublishReport, PublishRequest, Publisher};

/// A pipeline's container paired with the log of its steps ([`super::BuildContext::build`]).
///
/// Published with [`PublishBuilt::publish_built`], a failed command comes back as
/// [`PublishError::BuildFailed`] naming the pipeline and the step:
///
/// ```text
/// pipeline "app", step "go build" failed with exit code 1
///   command: go build -o /out/app .
///   last line of stderr:
///     main.go:3:1: syntax error: non-declaration statement outside function body
/// ```
#[derive(Clone)]
pub struct BuiltImage {
    /// The built container (lazy: nothing has run yet).
    pub container: Container,
    /// The commands its build recorded.
    pub steps: StepLog,
    /// The objects its stages handed on ([`super::BuildContext::input`]), for the cause of a
    /// failed ID lookup; `None` for an image built without a context.
    pub inputs: Option<StageInputs>,
}

impl std::fmt::Debug for BuiltImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BuiltImage")
            .field("pipeline", &self.steps.pipeline())
            .finish_non_exhaustive()
    }
}

impl BuiltImage {
    /// `container` as built by the steps in `steps`.
    pub fn new(container: Container, steps: StepLog) -> Self {
        Self {
            container,
            steps,
            inputs: None,
        }
    }

    /// The same image, its stage inputs being `inputs`.
    pub fn with_inputs(mut self, inputs: StageInputs) -> Self {
        self.inputs = Some(inputs);
        self
    }

    /// The pipeline (container) name.
    pub fn pipeline(&self) -> &str {
        self.steps.pipeline()
    }

    /// `err` with a failed build step named from this image's step log (also inside
    /// [`PublishError::Partial`]), and an engine failure after a failed lookup of its stage
    /// inputs' IDs as that lookup's failure ([`PublishError::StageInputs`]); other errors
    /// unchanged.
    pub fn explain(&self, err: PublishError) -> PublishError {
        let failed_lookup = self.inputs.as_ref().and_then(StageInputs::failure);
        match err {
            PublishError::Engine(_) if failed_lookup.is_some() => {
                failed_lookup.map_or(err, |e| PublishError::StageInputs(Arc::new(e)))
            }
            PublishError::BuildFailed { exec, step: None } => {
                let step: Arc<dyn std::error::Error + Send + Sync> =
                    Arc::new(self.steps.explain(&exec));
                PublishError::BuildFailed {
                    exec,
                    step: Some(step),
                }
            }
            PublishError::Partial { published, failed } => PublishError::Partial {
                published,
                failed: failed
                    .into_iter()
                    .map(|mut f| {
                        f.error = Box::new(self.explain(*f.error));
                        f
                    })
                    .collect(),
            },
            other => other,
        }
    }
}

/// Why a smoke-checked publish ([`PublishBuilt::publish_smoke_checked`]) pushed nothing, or
/// not everything.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PublishBuiltError {
    /// The image's program did not start or did not print what it must: nothing was pushed.
    #[error("nothing was pushed: {0}")]
    SmokeCheck(SmokeCheckError),
    /// A build step (or the check's own command) failed, named from the step log: nothing was
    /// pushed.
    #[error("nothing was pushed: {0}")]
    Step(Box<StepError>),
    /// The publish itself failed (its error names what is in the registry).
    #[error(transparent)]
    Publish(#[from] PublishError),
}

/// Publishing a pipeline's [`BuiltImage`] with a [`Publisher`].
///
/// ```no_run
/// # async fn run(publisher: dagger_publish::Publisher, image: dagger_pipeline::BuiltImage,
/// #              request: dagger_publish::PublishRequest) -> Result<(), dagger_publish::PublishError> {
/// use dagger_pipeline::PublishBuilt;
///
/// let report = publisher.publish_built(&image, &request).await?;
/// println!("{}", report.primary());
/// # Ok(()) }
/// ```
#[async_trait]
pub trait PublishBuilt {
    /// [`Publisher::publish`] for a pipeline's [`BuiltImage`]: a failed build step comes back
    /// as [`PublishError::BuildFailed`] naming the pipeline and the step, without the caller
    /// keeping the build context.
    async fn publish_built(
        &self,
        image: &BuiltImage,
        request: &PublishRequest,
    ) -> Result<PublishReport, PublishError>;

    /// Publishes `image` only if its program starts: runs `check` in it (one request, which
    /// also reads the image's ID) beside the existing-tag check (their waits overlap), then
    /// pushes the checked image by its ID, unchanged. Nothing is pushed when the check fails;
    /// a failed build step or check command is named from the image's step log.
    ///
    /// ```no_run
    /// # async fn run(publisher: dagger_publish::Publisher, image: dagger_pipeline::BuiltImage,
    /// #              request: dagger_publish::PublishRequest)
    /// #              -> Result<(), dagger_pipeline::PublishBuiltError> {
    /// use dagger_pipeline::{PublishBuilt, SmokeCheck};
    ///
    /// let check = SmokeCheck::new(["/usr/local/bin/app", "--version"], "1.4.0");
    /// let report = publisher.publish_smoke_checked(&image, &check, &request).await?;
    /// println!("{}", report.primary());
    /// # Ok(()) }
    /// ```
    async fn publish_smoke_checked(
        &self,
        image: &BuiltImage,
        check: &SmokeCheck,
        request: &PublishRequest,
    ) -> Result<PublishReport, PublishBuiltError>;
}

#[async_trait]
impl PublishBuilt for Publisher {
    async fn publish_built(
        &self,
        image: &BuiltImage,
        request: &PublishRequest,
    ) -> Result<PublishReport, PublishError> {
        self.publish(&image.container, request)
            .await
            .map_err(|e| image.explain(e))
    }

    async fn publish_smoke_checked(
        &self,
        image: &BuiltImage,
        check: &SmokeCheck,
        request: &PublishRequest,
    ) -> Result<PublishReport, PublishBuiltError> {
        let images = [(None, image.container.clone())];
        let (checked, tag_check) = tokio::join!(
            run_smoke_checks(self.client(), &images, check, &image.steps),
            self.check(request)
        );
        let checked = match checked {
            Ok(checked) => checked,
            Err(SmokeCheckError::Engine(err)) => {
                return Err(match image.steps.explain_query_error(&err) {
                    Some(step) => PublishBuiltError::Step(Box::new(step)),
                    None => PublishBuiltError::SmokeCheck(SmokeCheckError::Engine(err)),
                })
            }
            Err(other) => return Err(PublishBuiltError::SmokeCheck(other)),
        };
        let tag_check = tag_check.map_err(|e| image.explain(e))?;
        let Some(first) = checked.into_iter().next() else {
            return Err(PublishBuiltError::Publish(PublishError::InvalidRequest(
                "the smoke check answered for no image".into(),
            )));
        };
        // The checked image, by its ID: the same chain, no rebuild and no lookup.
        let container = self.client().dagger().r#ref::<Container>(first.id);
        self.publish_checked(&container, request, tag_check)
            .await
            .map_err(|e| PublishBuiltError::Publish(image.explain(e)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dagger_engine::ExecError;

    #[test]
    fn a_build_failure_with_its_step_names_pipeline_and_step() {
        let exec = ExecError {
            cmd: vec!["go".into(), "build".into(), ".".into()],
            exit_code: 1,
            stdout: String::new(),
            stderr: "main.go:3:1: syntax error\n".into(),
        };
        let bare = PublishError::BuildFailed {
            exec: exec.clone(),
            step: None,
        };
        let log = StepLog::new("app");
        log.record("go build", &exec.cmd);
        let named = BuiltImage::new(crate::helpers::offline_container(), log).explain(bare);
        assert!(
            named
                .to_string()
                .starts_with("pipeline \"app\", step \"go build\" failed with exit code 1"),
            "{named}"
        );
        assert!(named.to_string().contains("main.go:3:1: syntax error"));
    }
}
