//! `GitRepository`'s and `GitRef`'s fields beyond those of `git.rs` (upstream
//! `core/schema/git.go`, `core/git.go`), `Address.container|gitRepository|gitRef` (upstream
//! `core/schema/address.go`) and `Secret.uri` (upstream `core/schema/secret.go`).
//!
//! The mock's repositories are the refs a test declared ([`crate::MockEngine::
//! add_git_repository`]), each a tree; there is no history. A ref's commit is named by a
//! 40-hex-digit hash of the repository URL and its tree's digest, so equal trees of one
//! repository are one commit; `commonAncestor` of two refs is known only when they are the
//! same commit (otherwise it fails saying so). Refs named `refs/heads/<name>` are branches,
//! every other declared name (but `HEAD`) is a tag.

use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};

use super::super::ids::{Call, Obj};
use super::directory::{glob, DirState};
use super::{wrong_state, Args, Ctx, FieldError, Out, State};

/// The fields this file answers (from the engine's v0.21.8 schema).
pub(crate) const EXTENSION: super::TypeImpl = super::TypeImpl {
    name: "GitRepository",
    sdl: r#"
extend type GitRepository {
  branches(patterns: [String!]): [String!]!
  commit(id: String!): GitRef!
  latestVersion: GitRef!
  tags(patterns: [String!]): [String!]!
  url: String
}
extend type GitRef {
  commit: String!
  commonAncestor(other: ID! @expectedType(name: "GitRef")): GitRef!
  ref: String!
}
extend type Address {
  container: Container!
  gitRef: GitRef!
  gitRepository: GitRepository!
}
extend type Secret {
  uri: String!
}
"#,
    resolve,
    apply: no_chain,
};

fn no_chain(_ctx: &Ctx, state: State, call: &Call, _args: &Args) -> Result<State, FieldError> {
    Err(wrong_state(call, &state))
}

/// The commit a tree of repository `url` stands for.
fn commit_of(url: &str, tree: &DirState) -> String {
    let digest = Sha256::digest(format!("commit\0{url}\0{}", tree.digest()).as_bytes());
    hex::encode(digest)[..40].to_string()
}

/// The refs declared for `url`, with their trees.
fn declared(ctx: &Ctx, url: &str) -> Vec<(String, DirState)> {
    let mut refs: Vec<(String, DirState)> = ctx
        .state()
        .git
        .iter()
        .filter(|((u, _), _)| u == url)
        .map(|((_, r), tree)| (r.clone(), DirState::of(tree.clone())))
        .collect();
    refs.sort_by(|a, b| a.0.cmp(&b.0));
    refs
}

fn names(ctx: &Ctx, url: &str, branches: bool, patterns: &[String]) -> Vec<String> {
    declared(ctx, url)
        .into_iter()
        .filter_map(|(r, _)| match r.strip_prefix("refs/heads/") {
            Some(branch) if branches => Some(branch.to_string()),
            None if !branches && r != "HEAD" => {
                Some(r.strip_prefix("refs/tags/").unwrap_or(&r).to_string())
            }
            _ => None,
        })
        .filter(|name| patterns.is_empty() || patterns.iter().any(|p| glob(p, name)))
        .collect()
}

/// A version tag's numbers (`v1.2.3` and `1.2.3`), for `latestVersion`.
fn version(tag: &str) -> Option<Vec<u64>> {
    let v = tag.strip_prefix('v').unwrap_or(tag);
    let core = v.split(['-', '+']).next()?;
    let parts: Option<Vec<u64>> = core.split('.').map(|p| p.parse().ok()).collect();
    parts.filter(|p| !p.is_empty() && !v.contains('-'))
}

fn repository_url(ctx: &Ctx, obj: &Obj) -> Result<String, FieldError> {
    match ctx.eval(obj)? {
        State::GitRepository { url } | State::GitRef { url, .. } => Ok(url),
        other => Err(FieldError::new(format!(
            "invalid ID: expected a git object, found a {}",
            other.kind()
        ))),
    }
}

/// The commit of a `GitRef` object: its tree's (through `git.rs`'s lookup of declared trees).
fn ref_commit(ctx: &Ctx, obj: &Obj) -> Result<String, FieldError> {
    let url = repository_url(ctx, obj)?;
    let tree = obj.then(
        Call {
            field: "tree".into(),
            args: Map::new(),
        },
        "Directory",
    );
    let State::Directory(d) = ctx.eval(&tree)? else {
        return Err(FieldError::new(
            "invalid ID: a git ref's tree is not a directory",
        ));
    };
    Ok(commit_of(&url, &d))
}

fn root_call(field: &str, args: &[(&str, &str)]) -> Call {
    Call {
        field: field.into(),
        args: args
            .iter()
            .map(|(k, v)| (k.to_string(), Value::from(*v)))
            .collect(),
    }
}

/// Answers the fields above (and hands the others back as lazy chains).
pub(crate) fn resolve(
    ctx: &Ctx,
    parent: &Obj,
    field: &str,
    args: &Args,
) -> Result<Out, FieldError> {
    match (parent.ty.as_str(), field) {
        ("GitRepository", "url") => Ok(Out::Value(Value::from(repository_url(ctx, parent)?))),
        ("GitRepository", "tags" | "branches") => {
            let url = repository_url(ctx, parent)?;
            Ok(Out::Value(Value::from(names(
                ctx,
                &url,
                field == "branches",
                &args.strings("patterns"),
            ))))
        }
        ("GitRepository", "latestVersion") => {
            let url = repository_url(ctx, parent)?;
            let latest = names(ctx, &url, false, &[])
                .into_iter()
                .filter_map(|t| version(&t).map(|v| (v, t)))
                .max()
                .map(|(_, t)| t)
                .ok_or_else(|| {
                    FieldError::new(format!("no version tags found in repository {url}"))
                })?;
            Ok(Out::Object(
                parent.then(root_call("tag", &[("name", &latest)]), "GitRef"),
            ))
        }
        ("GitRepository", "commit") => {
            let url = repository_url(ctx, parent)?;
            let id = args.str("id")?;
            let found = declared(ctx, &url)
                .into_iter()
                .find(|(_, tree)| commit_of(&url, tree) == id)
                .ok_or_else(|| {
                    FieldError::new(format!(
                        "failed to fetch commit {id} of {url}: no declared ref is this commit"
                    ))
                })?;
            Ok(Out::Object(
                parent.then(root_call("ref", &[("name", &found.0)]), "GitRef"),
            ))
        }
        ("GitRef", "commit") => Ok(Out::Value(Value::from(ref_commit(ctx, parent)?))),
        // The full name of the ref, as it was selected.
        ("GitRef", "ref") => {
            repository_url(ctx, parent)?;
            let last = parent.calls.last();
            let name = last
                .and_then(|c| c.args.get("name"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            let full = match last.map(|c| c.field.as_str()) {
                Some("head") => "HEAD".to_string(),
                Some("tag") if !name.starts_with("refs/") => format!("refs/tags/{name}"),
                Some("branch") if !name.starts_with("refs/") => format!("refs/heads/{name}"),
                _ => name.to_string(),
            };
            Ok(Out::Value(Value::from(full)))
        }
        ("GitRef", "commonAncestor") => {
            let other = Obj::decode(args.str("other")?)?;
            let (mine, theirs) = (ref_commit(ctx, parent)?, ref_commit(ctx, &other)?);
            if mine != theirs {
                return Err(FieldError::new(format!(
                    "no common ancestor of {mine} and {theirs} is known: the mock engine keeps \
                     no git history, only the declared trees"
                )));
            }
            Ok(Out::Object(parent.clone()))
        }
        ("Secret", "uri") => {
            // upstream core/secret.go: the URI the secret was made from; setSecret's secrets
            // have none.
            let uri = parent
                .calls
                .iter()
                .rev()
                .find(|c| c.field == "secret" || c.field == "setSecret")
                .and_then(|c| c.args.get("uri"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            ctx.eval(parent)?;
            Ok(Out::Value(Value::from(uri)))
        }
        _ => Ok(Out::Chain),
    }
}

/// `Address.container|gitRepository|gitRef`: the address selected as the CLI selects it
/// (upstream `core/schema/address.go`): `container.from(address:)`, `git(url:)`,
/// `git(url:).ref(name:)` (or `head`).
pub(crate) fn resolve_address(ctx: &Ctx, value: &str, field: &str) -> Result<Out, FieldError> {
    let root = Obj::root();
    let obj = match field {
        "container" => root
            .then(root_call("container", &[]), "Container")
            .then(root_call("from", &[("address", value)]), "Container"),
        "gitRepository" | "gitRef" => {
            let git = super::address::git_address(value)
                .ok_or_else(|| FieldError::new(format!("{value:?} is not a git address")))?;
            let repo = root.then(root_call("git", &[("url", &git.remote)]), "GitRepository");
            match (field, &git.reference) {
                ("gitRepository", _) => repo,
                (_, Some(r)) => repo.then(root_call("ref", &[("name", r)]), "GitRef"),
                (_, None) => repo.then(root_call("head", &[]), "GitRef"),
            }
        }
        other => {
            return Err(FieldError::new(format!(
                "Address.{other} is not a field the mock engine knows"
            )))
        }
    };
    // Loaded as the engine selects it: `from` resolves its tag now.
    Ok(Out::Object(ctx.load(&obj.id(), None)?))
}
