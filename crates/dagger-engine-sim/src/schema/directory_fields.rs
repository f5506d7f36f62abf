//! `Directory`'s fields beyond those of `directory.rs` (upstream `core/schema/directory.go`,
//! `core/directory.go`): removals, new directories, links, globbing, filters, digests, stat,
//! diffs and patches. `directory.rs` hands every field it does not answer itself to
//! [`resolve`] and [`apply`] here.
//!
//! The mock keeps no owners, modes or timestamps: `chown` and `withTimestamps` check their
//! path and change nothing else, and `stat` reports 0644 for files and 0755 for directories.

use serde_json::Value;

use super::super::ids::{Call, Obj};
use super::config_objects::StatInfo;
use super::directory::{base_name, glob, join, DirState};
use super::{wrong_state, Args, Ctx, FieldError, Out, State};

/// The fields of `Directory` this file answers (from the engine's v0.21.8 schema).
pub(crate) const EXTENSION: super::TypeImpl = super::TypeImpl {
    name: "Directory",
    sdl: r#"
extend type Directory {
  chown(path: String!, owner: String!): Directory!
  diff(other: ID! @expectedType(name: "Directory")): Directory!
  digest: String!
  exists(path: String!, expectedType: ExistsType, doNotFollowSymlinks: Boolean = false): Boolean!
  filter(exclude: [String!] = [], include: [String!] = [], gitignore: Boolean = false): Directory!
  findUp(name: String!, start: String!): String
  glob(pattern: String!): [String!]!
  name: String!
  search(paths: [String!] = [], globs: [String!] = [], pattern: String!, literal: Boolean = false, multiline: Boolean = false, dotall: Boolean = false, insensitive: Boolean = false, skipIgnored: Boolean = false, skipHidden: Boolean = false, filesOnly: Boolean = false, limit: Int): [SearchResult!]!
  stat(path: String!, doNotFollowSymlinks: Boolean = false): Stat
  withError(err: String!): Directory!
  withFiles(path: String!, sources: [ID!]! @expectedType(name: "File"), permissions: Int): Directory!
  withNewDirectory(path: String!, permissions: Int = 420): Directory!
  withPatch(patch: String!): Directory!
  withPatchFile(patch: ID! @expectedType(name: "File")): Directory!
  withSymlink(target: String!, linkName: String!): Directory!
  withTimestamps(timestamp: Int!): Directory!
  withoutDirectory(path: String!): Directory!
  withoutFile(path: String!): Directory!
  withoutFiles(paths: [String!]!): Directory!
}
"#,
    resolve,
    apply: apply_state,
};

/// [`apply`] on a directory's state (`directory.rs` calls [`apply`] directly).
fn apply_state(ctx: &Ctx, state: State, call: &Call, args: &Args) -> Result<State, FieldError> {
    match state {
        State::Directory(d) => apply(ctx, d, call, args),
        other => Err(wrong_state(call, &other)),
    }
}

fn eval(ctx: &Ctx, obj: &Obj) -> Result<DirState, FieldError> {
    match ctx.eval(obj)? {
        State::Directory(d) => Ok(d),
        other => Err(FieldError::new(format!(
            "invalid ID: expected a Directory, found a {}",
            other.kind()
        ))),
    }
}

/// Every entry of the directory, depth first in name order as a directory walk visits them
/// (upstream `filepath.WalkDir`): `(relative path, is a directory)`.
pub(crate) fn walk(d: &DirState) -> Vec<(String, bool)> {
    use std::collections::BTreeMap;
    #[derive(Default)]
    struct Node(BTreeMap<String, Option<Node>>);
    let mut root = Node::default();
    let mut add = |path: &str, dir: bool| {
        let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        let mut node = &mut root;
        for (i, part) in parts.iter().enumerate() {
            let last = i + 1 == parts.len();
            let entry = node.0.entry(part.to_string()).or_insert_with(|| {
                if last && !dir {
                    None
                } else {
                    Some(Node::default())
                }
            });
            match entry {
                Some(child) => node = child,
                None => return,
            }
        }
    };
    for path in d.tree.keys().chain(d.links.keys()) {
        add(path, false);
    }
    for path in &d.dirs {
        add(path, true);
    }
    fn visit(node: &Node, prefix: &str, out: &mut Vec<(String, bool)>) {
        for (name, child) in &node.0 {
            let path = join(prefix, name);
            out.push((path.clone(), child.is_some()));
            if let Some(child) = child {
                visit(child, &path, out);
            }
        }
    }
    let mut out = Vec::new();
    visit(&root, "", &mut out);
    out
}

/// What is at `path` in the directory (through symlinks unless `no_follow`); the error is the
/// engine's `lstat` wording.
pub(crate) fn stat(d: &DirState, path: &str, no_follow: bool) -> Result<StatInfo, String> {
    let mut path = join("", path);
    for _ in 0..40 {
        let name = base_name(&path);
        if path.is_empty() {
            return Ok(StatInfo::dir("/"));
        }
        if let Some(target) = d.links.get(&path) {
            if no_follow {
                return Ok(StatInfo::symlink(&name, target));
            }
            let parent = path.rsplit_once('/').map_or("", |(p, _)| p).to_string();
            path = join(&parent, target);
            continue;
        }
        if let Some(contents) = d.tree.get(&path) {
            return Ok(StatInfo::file(&name, contents.len()));
        }
        let prefix = format!("{path}/");
        if d.dirs.contains(&path)
            || d.tree
                .keys()
                .chain(d.dirs.iter())
                .any(|k| k.starts_with(&prefix))
        {
            return Ok(StatInfo::dir(&name));
        }
        return Err(format!("lstat {path}: no such file or directory"));
    }
    Err(format!("stat {path}: too many levels of symbolic links"))
}

/// Whether a path exists with the type `expectedType` asks (`ExistsType`), if any.
pub(crate) fn exists(found: Option<StatInfo>, expected: Option<&str>) -> bool {
    let wanted = match expected {
        Some("REGULAR_TYPE") => Some("REGULAR"),
        Some("DIRECTORY_TYPE") => Some("DIRECTORY"),
        Some("SYMLINK_TYPE") => Some("SYMLINK"),
        _ => None,
    };
    found.is_some_and(|s| wanted.is_none_or(|w| w == s.file_type))
}

pub(crate) fn resolve(
    ctx: &Ctx,
    parent: &Obj,
    field: &str,
    args: &Args,
) -> Result<Out, FieldError> {
    let value = |v: Value| Ok(Out::Value(v));
    match field {
        "digest" => value(Value::from(eval(ctx, parent)?.digest())),
        "exists" => {
            let d = eval(ctx, parent)?;
            let found = stat(&d, args.str("path")?, args.bool("doNotFollowSymlinks")).ok();
            value(Value::from(exists(found, args.opt_str("expectedType"))))
        }
        // upstream core/schema/directory.go (findUp): from `start` up to the root, the first
        // directory holding `name`; null when none does.
        "findUp" => {
            let name = args.str("name")?;
            if name.is_empty() {
                return Err(FieldError::new("name cannot be empty"));
            }
            let start = join("", args.str("start")?);
            if args.str("start")?.starts_with("../") {
                return Err(FieldError::new(format!(
                    "cannot search outside parent: {start}"
                )));
            }
            let d = eval(ctx, parent)?;
            let mut current = start;
            loop {
                stat(&d, &current, false).map_err(FieldError::new)?;
                let candidate = join(&current, name);
                if stat(&d, &candidate, true).is_ok() {
                    return value(Value::from(candidate));
                }
                if current.is_empty() {
                    return value(Value::Null);
                }
                current = current.rsplit_once('/').map_or("", |(p, _)| p).to_string();
            }
        }
        // upstream core/directory.go (Glob): every entry the pattern matches, directories
        // with a trailing slash, in walk order.
        "glob" => {
            let pattern = args.str("pattern")?.trim_start_matches("./");
            let d = eval(ctx, parent)?;
            let found: Vec<String> = walk(&d)
                .into_iter()
                .filter(|(path, _)| glob(pattern, path))
                .map(|(path, dir)| if dir { format!("{path}/") } else { path })
                .collect();
            value(Value::from(found))
        }
        // upstream core/schema/directory.go (name): the base name of the directory's path,
        // with a trailing slash.
        "name" => {
            eval(ctx, parent)?;
            let path = parent
                .calls
                .iter()
                .rev()
                .find(|c| c.field == "directory")
                .and_then(|c| c.args.get("path"))
                .and_then(Value::as_str)
                .map(|p| join("", p))
                .unwrap_or_default();
            let name = if path.is_empty() {
                "/".to_string()
            } else {
                format!("{}/", base_name(&path))
            };
            value(Value::from(name))
        }
        "search" => {
            let d = eval(ctx, parent)?;
            super::search::results(parent, &d, args)
        }
        "stat" => {
            let d = eval(ctx, parent)?;
            stat(&d, args.str("path")?, args.bool("doNotFollowSymlinks"))
                .map_err(FieldError::new)?;
            Ok(Out::Chain)
        }
        _ => Ok(Out::Chain),
    }
}

/// `directory(path)` of a directory holding empty directories or links: what is under `path`,
/// links followed to get there (upstream `core/directory.go`, Directory).
pub(crate) fn subdirectory(d: DirState, path: &str) -> Result<State, FieldError> {
    let info = stat(&d, path, false).map_err(FieldError::new)?;
    if info.file_type != "DIRECTORY" {
        return Err(FieldError::new(format!("{path}: not a directory")));
    }
    let mut path = join("", path);
    // Resolve links on the way (stat followed them).
    while let Some(target) = d.links.get(&path) {
        let parent = path.rsplit_once('/').map_or("", |(p, _)| p).to_string();
        path = join(&parent, target);
    }
    if path.is_empty() {
        return Ok(State::Directory(d));
    }
    let prefix = format!("{path}/");
    let under = |k: &String| k.strip_prefix(&prefix).map(str::to_string);
    let mut out = DirState::of(
        d.tree
            .iter()
            .filter_map(|(k, v)| under(k).map(|k| (k, v.clone())))
            .collect(),
    );
    out.dirs = d.dirs.iter().filter_map(under).collect();
    out.links = d
        .links
        .iter()
        .filter_map(|(k, v)| under(k).map(|k| (k, v.clone())))
        .collect();
    Ok(State::Directory(out))
}

/// `entries(path)` of a directory holding empty directories or links: the names right under
/// `path`, directories with a trailing slash (upstream `core/directory.go`, Entries).
pub(crate) fn entries(d: DirState, path: Option<&str>) -> Result<Out, FieldError> {
    let d = match path {
        Some(p) => match subdirectory(d, p)? {
            State::Directory(d) => d,
            other => {
                return Err(FieldError::new(format!(
                    "{p}: not a directory ({})",
                    other.kind()
                )))
            }
        },
        None => d,
    };
    let names: Vec<String> = walk(&d)
        .into_iter()
        .filter(|(p, _)| !p.contains('/'))
        .map(|(p, dir)| if dir { format!("{p}/") } else { p })
        .collect();
    Ok(Out::Value(Value::from(names)))
}

/// Removes `path` and all under it; a missing path is no error (upstream `Directory.Without`).
fn without(d: &mut DirState, path: &str) {
    let path = join("", path);
    let prefix = format!("{path}/");
    d.tree.retain(|k, _| k != &path && !k.starts_with(&prefix));
    d.links.retain(|k, _| k != &path && !k.starts_with(&prefix));
    d.dirs.retain(|k| k != &path && !k.starts_with(&prefix));
}

/// Evaluates one call of the fields above on a directory.
pub(crate) fn apply(
    ctx: &Ctx,
    mut d: DirState,
    call: &Call,
    args: &Args,
) -> Result<State, FieldError> {
    match call.field.as_str() {
        "withoutFile" | "withoutDirectory" => without(&mut d, args.str("path")?),
        "withoutFiles" => {
            for path in args.strings("paths") {
                without(&mut d, &path);
            }
        }
        "withNewDirectory" => {
            let path = join("", args.str("path")?);
            if !path.is_empty() {
                d.dirs.insert(path);
            }
        }
        "withSymlink" => {
            let link = join("", args.str("linkName")?);
            d.links.insert(link, args.str("target")?.to_string());
        }
        "withFiles" => {
            let base = join("", args.str("path")?);
            for id in super::id_values(args.get("sources")) {
                let State::File(f) = ctx.eval_id(id)? else {
                    return Err(FieldError::new("withFiles: a source is not a File"));
                };
                d.tree.insert(join(&base, &f.name), f.contents);
            }
        }
        "filter" => {
            d = d.filtered(&args.strings("include"), &args.strings("exclude"));
        }
        // upstream core/directory.go (Diff): what `other` adds or changes over this directory.
        "diff" => {
            let State::Directory(other) = ctx.eval_id(args.str("other")?)? else {
                return Err(FieldError::new("diff: other is not a Directory"));
            };
            let tree = other
                .tree
                .into_iter()
                .filter(|(k, v)| d.tree.get(k) != Some(v))
                .collect();
            let mut out = DirState::of(tree);
            out.dirs = other
                .dirs
                .into_iter()
                .filter(|k| !d.dirs.contains(k))
                .collect();
            out.links = other
                .links
                .into_iter()
                .filter(|(k, v)| d.links.get(k) != Some(v))
                .collect();
            d = out;
        }
        "withPatch" => d = super::patch::apply(d, args.str("patch")?)?,
        "withPatchFile" => {
            let State::File(f) = ctx.eval_id(args.str("patch")?)? else {
                return Err(FieldError::new("withPatchFile: patch is not a File"));
            };
            d = super::patch::apply(d, &f.contents)?;
        }
        // No owners nor timestamps in the mock: the path must exist, nothing else changes.
        "chown" => {
            stat(&d, args.str("path")?, true).map_err(FieldError::new)?;
        }
        "withTimestamps" => {}
        "withError" => return Err(FieldError::new(args.str("err")?)),
        _ => return Err(wrong_state(call, &State::Directory(d))),
    }
    Ok(State::Directory(d))
}
