//! `Directory` (upstream `core/schema/directory.go`, `core/directory.go`), as a virtual tree
//! of text files keyed by relative path.

use std::collections::BTreeMap;

use serde_json::Value;
use sha2::{Digest as _, Sha256};

use super::super::describe::BuildStep;
use super::super::ids::{Call, Obj};
use super::container::ContainerState;
use super::file::FileState;
use super::{wrong_state, Args, Ctx, FieldError, Out, State};

pub(crate) const TYPE: super::TypeImpl = super::TypeImpl {
    name: "Directory",
    sdl: r#"
type Directory implements Node & Syncer {
  id: ID!
  directory(path: String!): Directory!
  dockerBuild(dockerfile: String = "Dockerfile", platform: Platform, buildArgs: [BuildArg!] = [], target: String = "", secrets: [ID!] = [] @expectedType(name: "Secret"), noInit: Boolean = false, ssh: ID @expectedType(name: "Socket")): Container!
  entries(path: String): [String!]!
  file(path: String!): File!
  sync: ID! @expectedType(name: "Directory")
  withDirectory(path: String!, source: ID! @expectedType(name: "Directory"), exclude: [String!] = [], include: [String!] = [], gitignore: Boolean = false, owner: String = "", permissions: Int): Directory!
  withFile(path: String!, source: ID! @expectedType(name: "File"), permissions: Int, owner: String = ""): Directory!
  withNewFile(path: String!, contents: String!, permissions: Int = 420): Directory!
}
"#,
    resolve,
    apply,
};

/// A directory: file contents by relative path (`a/b.txt`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct DirState {
    /// Set on the recording engine for a directory taken from a container where commands ran:
    /// its tree holds what is known, and a command may have written more.
    pub partial: bool,
    pub tree: BTreeMap<String, String>,
    /// Set on the recording engine when the contents are unknown (a path no command was
    /// declared to write, a git tree nobody declared): what the empty tree stands for.
    pub stand_in: Option<StandIn>,
    /// Directories that exist though they may hold no file (`withNewDirectory`), relative.
    pub dirs: std::collections::BTreeSet<String>,
    /// Symbolic links (`withSymlink`): their targets by relative path.
    pub links: BTreeMap<String, String>,
}

/// What an empty directory or file of the recording engine stands for, and why it is empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StandIn {
    /// Names the real content's origin (a git ref, a path in a container by its build
    /// digest): distinct origins give distinct stand-in digests.
    pub origin: String,
    /// Why the content is unknown, for the plan.
    pub reason: &'static str,
}

/// Why a path of a container is unknown on the recording engine.
pub(crate) const NOTHING_RUNS: &str = "the recording engine runs nothing";
/// Why a git tree is unknown on the recording engine.
pub(crate) const NOTHING_FETCHED: &str = "the recording engine fetches nothing";

impl StandIn {
    /// A stand-in for the content from `origin`, unknown because of `reason`.
    pub fn new(origin: impl Into<String>, reason: &'static str) -> Self {
        Self {
            origin: origin.into(),
            reason,
        }
    }

    /// A digest of the origin, so that two stand-ins for different content differ.
    pub fn digest(&self) -> String {
        let bytes = format!("stand-in\0{}", self.origin);
        format!("sha256:{}", hex::encode(Sha256::digest(bytes.as_bytes())))
    }
}

/// How a plan shows content: `<kind> <digest>`, followed by `(stand-in: <reason>)` for a
/// stand-in.
pub(crate) fn content_label(kind: &str, digest: &str, stand_in: Option<&StandIn>) -> String {
    match stand_in {
        Some(s) => format!("{kind} {digest} (stand-in: {})", s.reason),
        None => format!("{kind} {digest}"),
    }
}

impl DirState {
    /// A directory of known contents.
    pub fn of(tree: BTreeMap<String, String>) -> Self {
        Self {
            tree,
            stand_in: None,
            ..Self::default()
        }
    }

    /// An empty directory standing in for unknown contents (recording engine only).
    pub fn standing_in(stand_in: StandIn) -> Self {
        Self {
            tree: BTreeMap::new(),
            stand_in: Some(stand_in),
            ..Self::default()
        }
    }

    /// The digest of the tree (paths and contents); for a stand-in, of what it stands for.
    pub fn digest(&self) -> String {
        if let Some(s) = &self.stand_in {
            return s.digest();
        }
        let bytes = if self.dirs.is_empty() && self.links.is_empty() {
            serde_json::to_vec(&self.tree).unwrap_or_default()
        } else {
            // Empty directories and links are part of the contents too.
            serde_json::to_vec(&(&self.tree, &self.dirs, &self.links)).unwrap_or_default()
        };
        format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
    }

    /// `directory <digest>`, marked when it is a stand-in.
    pub fn label(&self) -> String {
        content_label("directory", &self.digest(), self.stand_in.as_ref())
    }

    /// The files kept by `include` / `exclude` patterns (`*` within a component, `**` across
    /// components, and a pattern naming a directory keeps or drops all it holds).
    pub fn filtered(&self, include: &[String], exclude: &[String]) -> DirState {
        let kept = |path: &String| {
            (include.is_empty() || include.iter().any(|p| pattern_matches(p, path)))
                && !exclude.iter().any(|p| pattern_matches(p, path))
        };
        let tree = self
            .tree
            .iter()
            .filter(|(path, _)| kept(path))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        DirState {
            partial: self.partial,
            tree,
            stand_in: self.stand_in.clone(),
            dirs: self.dirs.iter().filter(|d| kept(d)).cloned().collect(),
            links: self
                .links
                .iter()
                .filter(|(path, _)| kept(path))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        }
    }
}

/// Whether `pattern` matches `path` or one of its parent directories.
fn pattern_matches(pattern: &str, path: &str) -> bool {
    let pattern = pattern.trim_start_matches("./").trim_end_matches('/');
    let parts: Vec<&str> = path.split('/').collect();
    (1..=parts.len()).any(|n| glob(pattern, &parts[..n].join("/")))
}

pub(crate) fn glob(pattern: &str, text: &str) -> bool {
    fn go(p: &[u8], t: &[u8]) -> bool {
        match (p.first(), t.first()) {
            (None, None) => true,
            (Some(b'*'), _) if p.get(1) == Some(&b'*') => {
                let rest = p[2..].strip_prefix(b"/").unwrap_or(&p[2..]);
                (0..=t.len()).any(|i| go(rest, &t[i..]))
            }
            (Some(b'*'), _) => (0..=t.len())
                .take_while(|&i| i == 0 || t[i - 1] != b'/')
                .any(|i| go(&p[1..], &t[i..])),
            (Some(b'?'), Some(c)) if *c != b'/' => go(&p[1..], &t[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &t[1..]),
            _ => false,
        }
    }
    go(pattern.as_bytes(), text.as_bytes())
}

pub(crate) use crate::paths::join;

/// The last component of a path.
pub(crate) fn base_name(path: &str) -> String {
    path.rsplit('/').next().unwrap_or(path).to_string()
}

/// The files under `path` in `tree`, keyed relative to `path`; an error like the engine's
/// when nothing is there.
pub(crate) fn subtree(tree: &BTreeMap<String, String>, path: &str) -> Result<DirState, FieldError> {
    let prefix = path.trim_end_matches('/');
    let sub: BTreeMap<String, String> = tree
        .iter()
        .filter_map(|(k, v)| {
            let rest = if prefix.is_empty() {
                Some(k.as_str())
            } else {
                k.strip_prefix(prefix).and_then(|r| r.strip_prefix('/'))
            };
            rest.map(|r| (r.to_string(), v.clone()))
        })
        .collect();
    if sub.is_empty() && !prefix.is_empty() && prefix != "/" {
        if tree.contains_key(prefix) {
            return Err(FieldError::new(format!("{path}: not a directory")));
        }
        return Err(FieldError::new(format!(
            "lstat {path}: no such file or directory"
        )));
    }
    Ok(DirState::of(sub))
}

fn dir(state: State, call: &Call) -> Result<DirState, FieldError> {
    match state {
        State::Directory(d) => Ok(d),
        other => Err(wrong_state(call, &other)),
    }
}

fn resolve(ctx: &Ctx, parent: &Obj, field: &str, args: &Args) -> Result<Out, FieldError> {
    match field {
        "sync" => {
            ctx.eval(parent)?;
            Ok(Out::Value(Value::from(parent.id())))
        }
        "entries" => {
            let State::Directory(d) = ctx.eval(parent)? else {
                return Err(FieldError::new("invalid ID: not a Directory"));
            };
            if !d.dirs.is_empty() || !d.links.is_empty() {
                return super::directory_fields::entries(d, args.opt_str("path"));
            }
            let d = match args.opt_str("path") {
                Some(p) => subtree(&d.tree, &join("", p))?,
                None => d,
            };
            let mut names: Vec<String> = d
                .tree
                .keys()
                .map(|k| match k.split_once('/') {
                    Some((first, _)) => format!("{first}/"),
                    None => k.clone(),
                })
                .collect();
            names.dedup();
            Ok(Out::Value(Value::from(names)))
        }
        _ => super::directory_fields::resolve(ctx, parent, field, args),
    }
}

fn apply(ctx: &Ctx, state: State, call: &Call, args: &Args) -> Result<State, FieldError> {
    let mut d = dir(state, call)?;
    match call.field.as_str() {
        "directory" if !d.dirs.is_empty() || !d.links.is_empty() => {
            super::directory_fields::subdirectory(d, args.str("path")?)
        }
        "directory" => match subtree(&d.tree, &join("", args.str("path")?)) {
            // The recording engine: what a command would have written is unknown.
            Err(_) if ctx.state().recording => {
                Ok(State::Directory(DirState::standing_in(StandIn::new(
                    format!("{} {}", d.digest(), args.str("path")?),
                    d.stand_in.as_ref().map_or(NOTHING_RUNS, |s| s.reason),
                ))))
            }
            found => Ok(State::Directory(found?)),
        },
        "file" => {
            let path = join("", args.str("path")?);
            match d.tree.get(&path) {
                Some(contents) => Ok(State::File(FileState::new(base_name(&path), contents))),
                None if d.tree.keys().any(|k| k.starts_with(&format!("{path}/"))) => {
                    Err(FieldError::new(format!("{path}: is a directory")))
                }
                // The recording engine: a file of unknown contents (a stand-in, or a container's
                // directory where commands ran) is a stand-in; a fully known directory lacks it
                // as on the engine.
                None if ctx.state().recording && (d.stand_in.is_some() || d.partial) => {
                    Ok(State::File(FileState::standing_in(
                        base_name(&path),
                        StandIn::new(
                            format!("{} {path}", d.digest()),
                            d.stand_in.as_ref().map_or(NOTHING_RUNS, |s| s.reason),
                        ),
                    )))
                }
                // upstream core/schema/directory.go (file) -> core/file.go (FileSubfileLazy)
                // evaluates through Directory.Stat, whose os.Stat error is a PathError with
                // Op "stat" (v0.21.8): "stat <path>: no such file or directory". Copies of a
                // missing path (withDirectory, Container.file) say lstat.
                None => Err(FieldError::new(format!(
                    "stat {path}: no such file or directory"
                ))),
            }
        }
        "withDirectory" => {
            let State::Directory(src) = ctx.eval_id(args.str("source")?)? else {
                return Err(FieldError::new("withDirectory: source is not a Directory"));
            };
            let src = src.filtered(&args.strings("include"), &args.strings("exclude"));
            d.partial |= src.partial;
            let base = join("", args.str("path")?);
            for (k, v) in src.tree {
                d.tree.insert(join(&base, &k), v);
            }
            d.dirs.extend(src.dirs.iter().map(|k| join(&base, k)));
            d.links
                .extend(src.links.iter().map(|(k, v)| (join(&base, k), v.clone())));
            Ok(State::Directory(d))
        }
        "withFile" => {
            let State::File(f) = ctx.eval_id(args.str("source")?)? else {
                return Err(FieldError::new("withFile: source is not a File"));
            };
            d.tree.insert(join("", args.str("path")?), f.contents);
            Ok(State::Directory(d))
        }
        "withNewFile" => {
            d.tree.insert(
                join("", args.str("path")?),
                args.str("contents")?.to_string(),
            );
            Ok(State::Directory(d))
        }
        "dockerBuild" => {
            let dockerfile = args.opt_str("dockerfile").unwrap_or("Dockerfile");
            let path = join("", dockerfile);
            // upstream core/directory.go (DockerBuild) reads the Dockerfile from the context.
            if !d.tree.contains_key(&path) {
                return Err(FieldError::new(format!(
                    "failed to read dockerfile: open {path}: no such file or directory"
                )));
            }
            let mut c = ContainerState::new(args.opt_str("platform"));
            c.steps.push(BuildStep::DockerBuild {
                context: d.label(),
                dockerfile: path,
            });
            Ok(State::Container(Box::new(c)))
        }
        _ => super::directory_fields::apply(ctx, d, call, args),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_join_and_normalise() {
        assert_eq!(join("/", "src"), "/src");
        assert_eq!(join("/app", "./a/../b"), "/app/b");
        assert_eq!(join("/app", "/etc"), "/etc");
        assert_eq!(join("", "containers/x/"), "containers/x");
        assert_eq!(join("", "Dockerfile"), "Dockerfile");
        assert_eq!(join("", "./"), "");
    }

    #[test]
    fn include_exclude_patterns() {
        let d = DirState::of(
            [("a/b.txt", "1"), ("a/c.go", "2"), ("d.txt", "3")]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        );
        let only_a = d.filtered(&["a".into()], &[]);
        assert_eq!(only_a.tree.len(), 2);
        let no_txt = d.filtered(&[], &["**/*.txt".into(), "*.txt".into()]);
        assert_eq!(no_txt.tree.keys().collect::<Vec<_>>(), ["a/c.go"]);
    }
}
