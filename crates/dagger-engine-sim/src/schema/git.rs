//! `GitRepository` and `GitRef` (upstream `core/schema/git.go`): trees the test declared with
//! [`crate::MockEngine::add_git_repository`].

use super::super::ids::{Call, Obj};

use super::directory::{DirState, StandIn, NOTHING_FETCHED};
use super::{wrong_state, Args, Ctx, FieldError, Out, State};

pub(crate) const REPOSITORY: super::TypeImpl = super::TypeImpl {
    name: "GitRepository",
    sdl: r#"
type GitRepository implements Node {
  id: ID!
  branch(name: String!): GitRef!
  head: GitRef!
  ref(name: String!): GitRef!
  tag(name: String!): GitRef!
}
"#,
    resolve,
    apply: apply_repository,
};

pub(crate) const REF: super::TypeImpl = super::TypeImpl {
    name: "GitRef",
    sdl: r#"
type GitRef implements Node {
  id: ID!
  tree(discardGitDir: Boolean = false, depth: Int = 1, includeTags: Boolean = false): Directory!
}
"#,
    resolve,
    apply: apply_ref,
};

fn resolve(ctx: &Ctx, parent: &Obj, field: &str, args: &Args) -> Result<Out, FieldError> {
    super::git_fields::resolve(ctx, parent, field, args)
}

fn apply_repository(
    _ctx: &Ctx,
    state: State,
    call: &Call,
    args: &Args,
) -> Result<State, FieldError> {
    let State::GitRepository { url } = state else {
        return Err(wrong_state(call, &state));
    };
    let reference = match call.field.as_str() {
        "head" => "HEAD".to_string(),
        "tag" | "ref" | "branch" => args.str("name")?.to_string(),
        _ => return Err(wrong_state(call, &State::GitRepository { url })),
    };
    Ok(State::GitRef { url, reference })
}

fn apply_ref(ctx: &Ctx, state: State, call: &Call, _args: &Args) -> Result<State, FieldError> {
    let State::GitRef { url, reference } = state else {
        return Err(wrong_state(call, &state));
    };
    if call.field != "tree" {
        return Err(wrong_state(call, &State::GitRef { url, reference }));
    }
    let s = ctx.state();
    let declared = s
        .git
        .get(&(url.clone(), reference.clone()))
        .or_else(|| {
            reference
                .strip_prefix("refs/tags/")
                .or_else(|| reference.strip_prefix("refs/heads/"))
                .and_then(|short| s.git.get(&(url.clone(), short.to_string())))
        })
        .cloned()
        .map(DirState::of);
    if declared.is_none() && s.recording {
        return Ok(State::Directory(DirState::standing_in(StandIn::new(
            format!("git {url} {reference}"),
            NOTHING_FETCHED,
        ))));
    }
    let dir = declared.ok_or_else(|| {
        if s.git.keys().any(|(u, _)| u == &url) {
            // upstream core/git.go: an unknown ref fails ls-remote.
            FieldError::new(format!(
                "failed to resolve git ref {reference:?} of {url}: ref not found"
            ))
        } else {
            FieldError::new(format!(
                "failed to load git repository {url}: repository not found"
            ))
        }
    })?;
    Ok(State::Directory(dir))
}
