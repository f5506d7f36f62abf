//! `Host` (upstream `core/schema/host.go`): directories the test declared with
//! [`crate::MockEngine::add_host_directory`], and their files.

use super::super::ids::{Call, Obj};
use super::directory::{base_name, join, DirState};
use super::file::FileState;
use super::{wrong_state, Args, Ctx, FieldError, Out, State};

pub(crate) const TYPE: super::TypeImpl = super::TypeImpl {
    name: "Host",
    sdl: r#"
type Host implements Node {
  id: ID!
  directory(path: String!, exclude: [String!] = [], include: [String!] = [], noCache: Boolean = false, gitignore: Boolean = false): Directory!
  file(path: String!, noCache: Boolean = false): File!
}
"#,
    resolve,
    apply,
};

fn resolve(_ctx: &Ctx, _parent: &Obj, _field: &str, _args: &Args) -> Result<Out, FieldError> {
    Ok(Out::Chain)
}

fn apply(ctx: &Ctx, state: State, call: &Call, args: &Args) -> Result<State, FieldError> {
    if !matches!(state, State::Host) {
        return Err(wrong_state(call, &state));
    }
    match call.field.as_str() {
        "directory" => directory(ctx, args),
        "file" => file(ctx, args),
        _ => Err(wrong_state(call, &state)),
    }
}

/// `host.file(path)`: a file of a declared host directory.
fn file(ctx: &Ctx, args: &Args) -> Result<State, FieldError> {
    let path = args.str("path")?;
    let wanted = normalise_host_path(path);
    let state = ctx.state();
    let found = state.host_dirs.iter().find_map(|(dir, tree)| {
        let rest = if dir == "." {
            Some(wanted.as_str()).filter(|w| !w.starts_with('/'))
        } else {
            wanted
                .strip_prefix(dir.as_str())
                .and_then(|r| r.strip_prefix('/'))
        };
        rest.and_then(|r| tree.get(r))
    });
    match found {
        Some(contents) => Ok(State::File(FileState::new(base_name(&wanted), contents))),
        None => Err(FieldError::new(format!(
            "stat {path}: no such file or directory"
        ))),
    }
}

fn directory(ctx: &Ctx, args: &Args) -> Result<State, FieldError> {
    let path = args.str("path")?;
    let key = normalise_host_path(path);
    let tree = ctx.state().host_dirs.get(&key).cloned().ok_or_else(|| {
        // upstream engine/filesync: the host path is stat'ed first.
        FieldError::new(format!("stat {path}: no such file or directory"))
    })?;
    Ok(State::Directory(DirState::of(tree).filtered(
        &args.strings("include"),
        &args.strings("exclude"),
    )))
}

/// The key of a host directory: `.`, `./x` and `x/` name the same place.
pub(crate) fn normalise_host_path(path: &str) -> String {
    let joined = join("", path);
    if path.starts_with('/') {
        joined
    } else if joined.is_empty() {
        ".".into()
    } else {
        joined
    }
}
