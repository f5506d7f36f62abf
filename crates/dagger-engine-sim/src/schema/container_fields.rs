//! `Container`'s mounts, removals, image-config readers and the other fields a build or
//! publish pipeline uses beyond those of `container.rs` (upstream `core/schema/container.go`,
//! `core/container.go`). `container.rs` hands every field it does not answer itself to
//! [`resolve`] and [`apply`] here.
//!
//! Mounts: a mounted directory, file or temporary directory is visible to the commands of the
//! container and to `file`/`directory`/`exists` (upstream `locatePath` reads through mounts),
//! but is not part of the image (`publish` and `rootfs` leave it out); the filesystem it hides
//! comes back on `withoutMount`. What a command writes under a mount point stays in the mount.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::super::describe::BuildStep;
use super::super::ids::{Call, Obj};
use super::config_objects::{elements, StatInfo};
use super::container::ContainerState;
use super::directory::{self, DirState};
use super::file::FileState;
use super::image_config::ImageConfig;
use super::{Args, Ctx, FieldError, Out, State};

/// The fields of `Container` this file answers (names, arguments and defaults from the engine's
/// v0.21.8 schema).
pub(crate) const EXTENSION: super::TypeImpl = super::TypeImpl {
    name: "Container",
    sdl: r#"
extend type Container {
  combinedOutput: String!
  defaultArgs: [String!]!
  dockerHealthcheck: HealthcheckConfig
  entrypoint: [String!]!
  envVariable(name: String!): String
  envVariables: [EnvVariable!]!
  exists(path: String!, expectedType: ExistsType, doNotFollowSymlinks: Boolean = false, expand: Boolean = false): Boolean!
  exposedPorts: [Port!]!
  mounts: [String!]!
  rootfs: Directory!
  stat(path: String!, doNotFollowSymlinks: Boolean = false): Stat
  user: String!
  withDefaultTerminalCmd(args: [String!]!, experimentalPrivilegedNesting: Boolean = false, insecureRootCapabilities: Boolean = false): Container!
  withDockerHealthcheck(args: [String!]!, shell: Boolean, interval: String, timeout: String, startPeriod: String, startInterval: String, retries: Int): Container!
  withEnvFileVariables(source: ID! @expectedType(name: "EnvFile")): Container!
  withError(err: String!): Container!
  withFiles(path: String!, sources: [ID!]! @expectedType(name: "File"), permissions: Int, owner: String = "", expand: Boolean = false): Container!
  withMountedDirectory(path: String!, source: ID! @expectedType(name: "Directory"), owner: String = "", readOnly: Boolean = false, expand: Boolean = false): Container!
  withMountedFile(path: String!, source: ID! @expectedType(name: "File"), owner: String = "", expand: Boolean = false): Container!
  withMountedSecret(path: String!, source: ID! @expectedType(name: "Secret"), owner: String = "", mode: Int = 256, expand: Boolean = false): Container!
  withMountedTemp(path: String!, size: Int, expand: Boolean = false): Container!
  withRootfs(directory: ID! @expectedType(name: "Directory")): Container!
  withSymlink(target: String!, linkName: String!, expand: Boolean = false): Container!
  withVolatileVariable(name: String!, value: String!): Container!
  withoutAnnotation(name: String!): Container!
  withoutDefaultArgs: Container!
  withoutDirectory(path: String!, expand: Boolean = false): Container!
  withoutDockerHealthcheck: Container!
  withoutEntrypoint(keepDefaultArgs: Boolean = false): Container!
  withoutEnvVariable(name: String!): Container!
  withoutExposedPort(port: Int!, protocol: NetworkProtocol = TCP): Container!
  withoutFile(path: String!, expand: Boolean = false): Container!
  withoutFiles(paths: [String!]!, expand: Boolean = false): Container!
  withoutLabel(name: String!): Container!
  withoutMount(path: String!, expand: Boolean = false): Container!
  withoutSecretVariable(name: String!): Container!
  withoutUser: Container!
  withoutVolatileVariable(name: String!): Container!
  withoutWorkdir: Container!
  workdir: String!
}
"#,
    resolve,
    apply: apply_state,
};

/// [`apply`] on a container's state (`container.rs` calls [`apply`] directly).
fn apply_state(ctx: &Ctx, state: State, call: &Call, args: &Args) -> Result<State, FieldError> {
    match state {
        State::Container(c) => apply(ctx, *c, call, args),
        other => Err(super::wrong_state(call, &other)),
    }
}

/// What is mounted at a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mounted {
    /// `directory <digest>`, `file <name> <digest>`, `secret <name>`, `tmpfs`, `cache <key>`.
    pub source: String,
    /// The container's own files the mount hides, restored by `withoutMount`.
    pub hidden: BTreeMap<String, String>,
    /// `withMountedDirectory(readOnly: true)`, and secrets: a command cannot write there.
    pub read_only: bool,
}

/// Answers a field of a container that `container.rs` does not.
pub(crate) fn resolve(
    ctx: &Ctx,
    parent: &Obj,
    field: &str,
    args: &Args,
) -> Result<Out, FieldError> {
    let c = || -> Result<ContainerState, FieldError> {
        match ctx.eval(parent)? {
            State::Container(c) => Ok(*c),
            other => Err(FieldError::new(format!(
                "invalid ID: expected a Container, found a {}",
                other.kind()
            ))),
        }
    };
    let value = |v: Value| Ok(Out::Value(v));
    match field {
        // upstream core/schema/container.go: these read the image config.
        "workdir" => value(Value::from(ImageConfig::of(&c()?).workdir)),
        "user" => value(Value::from(ImageConfig::of(&c()?).user)),
        "entrypoint" => value(Value::from(ImageConfig::of(&c()?).entrypoint)),
        "defaultArgs" => value(Value::from(ImageConfig::of(&c()?).cmd)),
        "envVariable" => value(
            ImageConfig::of(&c()?)
                .env_value(args.str("name")?)
                .map_or(Value::Null, Value::from),
        ),
        "envVariables" => {
            let keys = ImageConfig::of(&c()?)
                .env
                .into_iter()
                .map(|(name, _)| one("name", Value::from(name)))
                .collect();
            Ok(elements(parent, "envVariables", "EnvVariable", keys))
        }
        "exposedPorts" => {
            let keys = ImageConfig::of(&c()?)
                .ports
                .into_iter()
                .map(|p| {
                    let mut m = one("port", Value::from(p.port));
                    m.insert("protocol".into(), Value::from(p.protocol));
                    m
                })
                .collect();
            Ok(elements(parent, "exposedPorts", "Port", keys))
        }
        "dockerHealthcheck" => match ImageConfig::of(&c()?).healthcheck {
            Some(_) => Ok(Out::Chain),
            None => value(Value::Null),
        },
        // upstream core/container.go (MountTargets): the mount points, in the order mounted.
        "mounts" => value(Value::from(mount_targets(&c()?))),
        // upstream core/container.go (CombinedOutput): the last command's output; the mock
        // keeps stdout and stderr apart, so stdout comes first.
        "combinedOutput" => {
            let c = c()?;
            let last = c
                .last
                .ok_or_else(|| FieldError::new("combinedOutput: no command has been set"))?;
            value(Value::from(format!("{}{}", last.stdout, last.stderr)))
        }
        // upstream core/container.go (Exists): a missing path is `false`, not an error.
        "exists" => {
            let c = c()?;
            let path = abs(&c, args.str("path")?);
            let found = stat(&c, &path, args.bool("doNotFollowSymlinks")).ok();
            let wanted = match args.opt_str("expectedType") {
                Some("REGULAR_TYPE") => Some("REGULAR"),
                Some("DIRECTORY_TYPE") => Some("DIRECTORY"),
                Some("SYMLINK_TYPE") => Some("SYMLINK"),
                _ => None,
            };
            value(Value::from(
                found.is_some_and(|s| wanted.is_none_or(|w| w == s.file_type)),
            ))
        }
        // upstream core/container.go (Stat): fails for a missing path.
        "stat" => {
            let c = c()?;
            stat(&c, args.str("path")?, args.bool("doNotFollowSymlinks"))
                .map_err(FieldError::new)?;
            Ok(Out::Chain)
        }
        _ => Ok(Out::Chain),
    }
}

/// The mount points (caches included), in the order they were mounted.
pub(crate) fn mount_targets(c: &ContainerState) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for step in &c.steps {
        match step {
            BuildStep::Mount { path, .. } | BuildStep::MountedCache { path, .. } => {
                out.retain(|p| p != path);
                out.push(path.clone());
            }
            BuildStep::Unmount { path } | BuildStep::Remove { path } => out.retain(|p| p != path),
            BuildStep::Rootfs { .. } => out.clear(),
            _ => {}
        }
    }
    out
}

fn one(name: &str, v: Value) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(name.into(), v);
    m
}

fn abs(c: &ContainerState, path: &str) -> String {
    directory::join(&c.workdir, path)
}

/// What is at `path` in the container (through mounts and, unless `no_follow`, symlinks);
/// the error is the engine's `lstat` wording.
pub(crate) fn stat(c: &ContainerState, path: &str, no_follow: bool) -> Result<StatInfo, String> {
    let mut path = abs(c, path);
    for _ in 0..40 {
        let name = directory::base_name(&path);
        if let Some(target) = c.links.get(&path) {
            if no_follow {
                return Ok(StatInfo::symlink(&name, target));
            }
            let parent = path.rsplit_once('/').map_or("/", |(p, _)| p).to_string();
            path = directory::join(if parent.is_empty() { "/" } else { &parent }, target);
            continue;
        }
        if let Some(contents) = c.fs.get(&path) {
            return Ok(StatInfo::file(&name, contents.len()));
        }
        if let Some(m) = c.mounted.get(&path) {
            if m.source.starts_with("file ") || m.source.starts_with("secret ") {
                return Ok(StatInfo::file(&name, 0));
            }
            return Ok(StatInfo::dir(&name));
        }
        let prefix = format!("{}/", path.trim_end_matches('/'));
        if path == "/"
            || c.dirs.contains(&path)
            || mount_targets(c).contains(&path)
            || c.fs.keys().any(|k| k.starts_with(&prefix))
            || c.mounted.keys().any(|k| k.starts_with(&prefix))
        {
            return Ok(StatInfo::dir(if path == "/" { "/" } else { &name }));
        }
        return Err(format!("lstat {path}: no such file or directory"));
    }
    Err(format!("stat {path}: too many levels of symbolic links"))
}

/// `withExposedPort` with a description or `experimentalSkipHealthcheck` (upstream
/// `core/container.go`, WithExposedPort: the port goes to the image config, the rest to the
/// container's port list).
pub(crate) fn exposed_port_with_notes(
    c: &mut ContainerState,
    args: &Args,
) -> Result<(), FieldError> {
    let port = args
        .int("port")
        .ok_or_else(|| FieldError::new("withExposedPort: port must be an integer"))?;
    let protocol = args.opt_str("protocol").unwrap_or("TCP").to_string();
    c.port_notes.insert(
        (port, protocol.clone()),
        (
            args.opt_str("description").map(str::to_string),
            args.bool("experimentalSkipHealthcheck"),
        ),
    );
    push(c, BuildStep::ExposedPort { port, protocol });
    Ok(())
}

/// `directory(path)` of a container when the path holds what files alone cannot show: an
/// empty directory, a mount point, a link, or directories or links under it. `None` when the
/// files alone answer (or the path is missing: `container.rs` words that error).
pub(crate) fn directory_beyond_files(c: &ContainerState, path: &str) -> Option<DirState> {
    let prefix = format!("{}/", path.trim_end_matches('/'));
    let under = |k: &String| k.strip_prefix(&prefix).map(str::to_string);
    let mounts = mount_targets(c);
    let special = c.dirs.iter().any(|d| d == path || d.starts_with(&prefix))
        || c.links.keys().any(|l| l == path || l.starts_with(&prefix))
        || mounts.iter().any(|m| m == path || m.starts_with(&prefix));
    if !special {
        return None;
    }
    let info = stat(c, path, false).ok()?;
    if info.file_type != "DIRECTORY" {
        return None;
    }
    let mut d = DirState::of(
        c.fs.iter()
            .filter_map(|(k, v)| under(k).map(|k| (k, v.clone())))
            .collect(),
    );
    let mounted_dirs = mounts
        .iter()
        .filter(|m| stat(c, m, true).is_ok_and(|s| s.file_type == "DIRECTORY"));
    d.dirs = c
        .dirs
        .iter()
        .chain(mounted_dirs)
        .filter_map(under)
        .collect();
    d.links = c
        .links
        .iter()
        .filter_map(|(k, v)| under(k).map(|k| (k, v.clone())))
        .collect();
    Some(d)
}

/// `withEntrypoint(args, keepDefaultArgs: true)`: the entrypoint, then the default args it
/// would have cleared (upstream `core/schema/container.go`, withEntrypoint).
pub(crate) fn entrypoint_keeping_args(c: &mut ContainerState, args: &Args) {
    let kept = ImageConfig::of(c).cmd;
    push(
        c,
        BuildStep::Entrypoint {
            args: args.strings("args"),
        },
    );
    if !kept.is_empty() {
        push(c, BuildStep::DefaultArgs { args: kept });
    }
}

fn push(c: &mut ContainerState, step: BuildStep) {
    c.image_ref = None;
    c.steps.push(step);
}

fn unset(c: &mut ContainerState, what: impl Into<String>) {
    push(c, BuildStep::Unset { what: what.into() });
}

/// Removes what is at and under `path` from the container's files.
fn remove_tree(fs: &mut BTreeMap<String, String>, path: &str) -> BTreeMap<String, String> {
    let prefix = format!("{}/", path.trim_end_matches('/'));
    let keys: Vec<String> = fs
        .keys()
        .filter(|k| *k == path || k.starts_with(&prefix))
        .cloned()
        .collect();
    keys.into_iter()
        .filter_map(|k| fs.remove(&k).map(|v| (k, v)))
        .collect()
}

/// Mounts `files` (paths relative to `path`; `""` for a file mount) at `path`.
fn mount(
    c: &mut ContainerState,
    path: String,
    files: BTreeMap<String, String>,
    source: String,
    read_only: bool,
) {
    unmount(c, &path);
    let hidden = remove_tree(&mut c.fs, &path);
    for (rel, contents) in files {
        c.fs.insert(directory::join(&path, &rel), contents);
    }
    c.mounted.insert(
        path.clone(),
        Mounted {
            source: source.clone(),
            hidden,
            read_only,
        },
    );
    push(c, BuildStep::Mount { path, source });
}

/// Takes the mount at `path` away (nothing when nothing is mounted there, as upstream).
fn unmount(c: &mut ContainerState, path: &str) -> bool {
    c.secret_files.remove(path);
    let Some(m) = c.mounted.remove(path) else {
        return false;
    };
    remove_tree(&mut c.fs, path);
    c.fs.extend(m.hidden);
    true
}

/// Upstream `core/container.go` (withoutPath): an exact mount point is unmounted; otherwise
/// the path is removed, and a path that is not there is no error.
fn without_path(c: &mut ContainerState, path: &str) {
    let path = abs(c, path);
    if !unmount(c, &path) {
        remove_tree(&mut c.fs, &path);
        c.links.remove(&path);
        c.dirs
            .retain(|d| d != &path && !d.starts_with(&format!("{path}/")));
    }
    push(c, BuildStep::Remove { path });
}

fn eval_dir(ctx: &Ctx, id: &str) -> Result<DirState, FieldError> {
    match ctx.eval_id(id)? {
        State::Directory(d) => Ok(d),
        other => Err(FieldError::new(format!(
            "expected a Directory, found a {}",
            other.kind()
        ))),
    }
}

fn eval_file(ctx: &Ctx, id: &str) -> Result<FileState, FieldError> {
    match ctx.eval_id(id)? {
        State::File(f) => Ok(f),
        other => Err(FieldError::new(format!(
            "expected a File, found a {}",
            other.kind()
        ))),
    }
}

/// Evaluates one call of the fields above on a container.
pub(crate) fn apply(
    ctx: &Ctx,
    mut c: ContainerState,
    call: &Call,
    args: &Args,
) -> Result<State, FieldError> {
    match call.field.as_str() {
        "withMountedDirectory" => {
            let d = eval_dir(ctx, args.str("source")?)?;
            let path = abs(&c, args.str("path")?);
            let source = d.label();
            let read_only = args.bool("readOnly");
            let source = if read_only {
                format!("{source} (read-only)")
            } else {
                source
            };
            mount(&mut c, path, d.tree, source, read_only);
        }
        "withMountedFile" => {
            let f = eval_file(ctx, args.str("source")?)?;
            let path = abs(&c, args.str("path")?);
            let source = f.label();
            mount(
                &mut c,
                path,
                BTreeMap::from([(String::new(), f.contents)]),
                source,
                false,
            );
        }
        // upstream core/container.go (WithMountedSecret): the plaintext is mounted when a
        // command runs; it never enters the container's files (nor a plan).
        "withMountedSecret" => {
            let source = args.str("source")?;
            let State::Secret(secret) = ctx.eval_id(source)? else {
                return Err(FieldError::new("withMountedSecret: source is not a Secret"));
            };
            let path = abs(&c, args.str("path")?);
            mount(
                &mut c,
                path.clone(),
                BTreeMap::new(),
                format!("secret {}", secret.name),
                true,
            );
            c.secret_files.insert(path, source.to_string());
        }
        "withMountedTemp" => {
            let path = abs(&c, args.str("path")?);
            mount(&mut c, path, BTreeMap::new(), "tmpfs".into(), false);
        }
        "withoutMount" => {
            let path = abs(&c, args.str("path")?);
            unmount(&mut c, &path);
            push(&mut c, BuildStep::Unmount { path });
        }
        "withoutFile" | "withoutDirectory" => without_path(&mut c, args.str("path")?),
        "withoutFiles" => {
            for path in args.strings("paths") {
                without_path(&mut c, &path);
            }
        }
        "withoutEnvVariable" => {
            let name = args.str("name")?;
            c.env.remove(name);
            unset(&mut c, format!("ENV {name}"));
        }
        "withoutLabel" => {
            let name = args.str("name")?;
            c.image_labels.remove(name);
            unset(&mut c, format!("LABEL {name}"));
        }
        "withoutAnnotation" => unset(&mut c, format!("ANNOTATION {}", args.str("name")?)),
        "withoutEntrypoint" => {
            unset(&mut c, "ENTRYPOINT");
            if !args.bool("keepDefaultArgs") {
                unset(&mut c, "CMD");
            }
        }
        "withoutDefaultArgs" => unset(&mut c, "CMD"),
        "withoutUser" => unset(&mut c, "USER"),
        // upstream: the working directory is unset; relative paths are then taken from `/`.
        "withoutWorkdir" => {
            c.workdir = "/".into();
            unset(&mut c, "WORKDIR");
        }
        "withoutExposedPort" => {
            let port = args
                .int("port")
                .ok_or_else(|| FieldError::new("withoutExposedPort: port must be an integer"))?;
            let protocol = args.opt_str("protocol").unwrap_or("TCP");
            unset(&mut c, format!("EXPOSE {port}/{protocol}"));
        }
        "withoutDockerHealthcheck" => unset(&mut c, "HEALTHCHECK"),
        "withoutSecretVariable" => {
            let name = args.str("name")?;
            c.secret_env.remove(name);
            unset(&mut c, format!("SECRET ENV {name}"));
        }
        "withVolatileVariable" => {
            let (name, value) = (args.str("name")?, args.str("value")?);
            c.env.insert(name.to_string(), value.to_string());
            push(
                &mut c,
                BuildStep::VolatileVariable {
                    name: name.to_string(),
                    value: value.to_string(),
                },
            );
        }
        "withoutVolatileVariable" => {
            let name = args.str("name")?;
            let persisted = ImageConfig::of(&c).env_value(name).map(str::to_string);
            match persisted {
                Some(v) => c.env.insert(name.to_string(), v),
                None => c.env.remove(name),
            };
            unset(&mut c, format!("VOLATILE ENV {name}"));
        }
        "withSymlink" => {
            let target = args.str("target")?.to_string();
            let link = abs(&c, args.str("linkName")?);
            c.links.insert(link.clone(), target.clone());
            push(&mut c, BuildStep::Symlink { target, link });
        }
        "withFiles" => {
            let base = abs(&c, args.str("path")?);
            for id in super::id_values(args.get("sources")) {
                let f = eval_file(ctx, id)?;
                let path = directory::join(&base, &f.name);
                c.fs.insert(path.clone(), f.contents.clone());
                push(
                    &mut c,
                    BuildStep::File {
                        path,
                        source: f.label(),
                    },
                );
            }
        }
        "withDockerHealthcheck" => {
            let mut options = Vec::new();
            for name in ["interval", "timeout", "startPeriod", "startInterval"] {
                if let Some(v) = args.opt_str(name) {
                    options.push((name.to_string(), v.to_string()));
                }
            }
            if let Some(r) = args.int("retries") {
                options.push(("retries".into(), r.to_string()));
            }
            push(
                &mut c,
                BuildStep::Healthcheck {
                    args: args.strings("args"),
                    shell: args.bool("shell"),
                    options,
                },
            );
        }
        // The terminal is not simulated (see `exempt.rs`); its default command changes
        // nothing else.
        "withDefaultTerminalCmd" => {}
        "withEnvFileVariables" => {
            let State::Other(env) = ctx.eval_id(args.str("source")?)? else {
                return Err(FieldError::new(
                    "withEnvFileVariables: source is not an EnvFile",
                ));
            };
            for (name, value) in super::file_fields::variables(&env) {
                c.env.insert(name.clone(), value.clone());
                push(&mut c, BuildStep::EnvVariable { name, value });
            }
        }
        // upstream core/schema/container.go (withError): evaluating the container fails.
        "withError" => return Err(FieldError::new(args.str("err")?)),
        // upstream core/container.go (WithRootFS): the filesystem is replaced, the config kept.
        "withRootfs" => {
            let d = eval_dir(ctx, args.str("directory")?)?;
            c.fs = d
                .tree
                .iter()
                .map(|(k, v)| (directory::join("/", k), v.clone()))
                .collect();
            c.mounted.clear();
            c.links.clear();
            c.dirs.clear();
            push(&mut c, BuildStep::Rootfs { source: d.label() });
        }
        // upstream core/container.go (RootFS): the container's own files, mounts left out.
        "rootfs" => {
            let mut fs = c.fs.clone();
            for (path, m) in &c.mounted {
                remove_tree(&mut fs, path);
                fs.extend(m.hidden.clone());
            }
            let tree = fs
                .into_iter()
                .map(|(k, v)| (k.trim_start_matches('/').to_string(), v))
                .collect();
            return Ok(State::Directory(DirState::of(tree)));
        }
        "stat" | "dockerHealthcheck" => return Ok(State::Container(Box::new(c))),
        _ => return Err(super::wrong_state(call, &State::Container(Box::new(c)))),
    }
    Ok(State::Container(Box::new(c)))
}

/// After `from`: the config of the image, when it is one pushed to a registry model (upstream
/// `core/container.go`, From: the image's config becomes the container's).
pub(crate) fn start_from_config(ctx: &Ctx, c: &mut ContainerState) {
    let Some(digest) = c
        .image_ref
        .as_deref()
        .and_then(|r| r.rsplit_once('@'))
        .map(|(_, d)| d.to_string())
    else {
        return;
    };
    let Some(cfg) = ctx.state().image_configs.get(&digest).cloned() else {
        return;
    };
    c.env = cfg.env_map();
    if !cfg.workdir.is_empty() {
        c.workdir = cfg.workdir.clone();
    }
    c.base = cfg;
    c.base.platform = None;
    // A port's description is the container's, not the image config's.
    for p in &mut c.base.ports {
        p.description = None;
        p.skip_healthcheck = false;
    }
}
