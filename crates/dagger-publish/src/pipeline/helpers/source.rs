use dagger_sdk::Directory;

use crate::pipeline::BuildContext;

/// The tree of `repo` at `tag`, cloned from the forge mirror (`<forge base>/<repo>.git`).
///
/// Lazy like everything else: a missing tag surfaces when the build runs, as the engine's
/// git error.
pub fn git_tag_source(ctx: &BuildContext, repo: &str, tag: &str) -> Directory {
    ctx.dag.git(ctx.forge.repository_url(repo)).tag(tag).tree()
}
