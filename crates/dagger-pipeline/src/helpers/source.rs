use dagger_sdk::Directory;

use crate::{BuildContext, BuildContextError};

/// The tree of `repo` at `tag`, cloned from the forge mirror (`<forge base>/<repo>.git`).
///
/// Lazy like everything else: a missing tag surfaces when the build runs, as the engine's
/// git error. Without a forge in the context, [`BuildContext::build`] fails with
/// [`BuildContextError::NoForge`]; a build run anyway fails when it reads this directory, its
/// error naming the missing forge (never an empty source built in silence).
pub fn git_tag_source(ctx: &BuildContext, repo: &str, tag: &str) -> Directory {
    match &ctx.forge {
        Some(forge) => ctx.dag.git(forge.repository_url(repo)).tag(tag).tree(),
        None => {
            let problem = BuildContextError::NoForge {
                pipeline: ctx.pipeline().to_string(),
                repo: repo.to_string(),
                tag: tag.to_string(),
            };
            // A path that is not there: the engine fails when the build reads it, with
            // `lstat <path>: no such file or directory`, the path saying why.
            let missing = ctx
                .dag
                .directory()
                .directory(format!("/{}", problem.to_string().replace('/', "|")));
            ctx.record_problem(problem);
            missing
        }
    }
}
