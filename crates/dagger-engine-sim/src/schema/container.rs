//! `Container` (upstream `core/schema/container.go`, `core/container.go`).

use std::collections::BTreeMap;

use serde_json::Value;
use sha2::{Digest as _, Sha256};

use super::super::describe::{BuildStep, ContainerDescription, Stage};
use super::super::effects::CommandEffect;
use super::super::ids::{Call, Obj};
use super::super::CommandOutputRead;
use super::directory::{self, DirState, StandIn, NOTHING_RUNS};
use super::file::FileState;
use super::{wrong_state, Args, Ctx, FieldError, Out, State};

pub(crate) const TYPE: super::TypeImpl = super::TypeImpl {
    name: "Container",
    sdl: r#"
type Container implements Node & Syncer {
  id: ID!
  directory(path: String!, expand: Boolean = false): Directory!
  exitCode: Int!
  file(path: String!, expand: Boolean = false): File!
  from(address: String!, registryService: ID @expectedType(name: "Service")): Container!
  imageRef: String!
  import(source: ID! @expectedType(name: "File"), tag: String = ""): Container!
  label(name: String!): String
  labels: [Label!]!
  platform: Platform!
  publish(address: String!, platformVariants: [ID!] = [] @expectedType(name: "Container"), forcedCompression: ImageLayerCompression, mediaTypes: ImageMediaTypes = OCIMediaTypes, registryService: ID @expectedType(name: "Service")): String!
  stderr: String!
  stdout: String!
  sync: ID! @expectedType(name: "Container")
  withAnnotation(name: String!, value: String!): Container!
  withDefaultArgs(args: [String!]!): Container!
  withDirectory(path: String!, source: ID! @expectedType(name: "Directory"), exclude: [String!] = [], include: [String!] = [], gitignore: Boolean = false, owner: String = "", expand: Boolean = false, permissions: Int): Container!
  withEntrypoint(args: [String!]!, keepDefaultArgs: Boolean = false): Container!
  withEnvVariable(name: String!, value: String!, expand: Boolean = false): Container!
  withExec(args: [String!]!, useEntrypoint: Boolean = false, stdin: String = "", redirectStdin: String = "", redirectStdout: String = "", redirectStderr: String = "", expect: ReturnType = SUCCESS, experimentalPrivilegedNesting: Boolean = false, insecureRootCapabilities: Boolean = false, expand: Boolean = false, noInit: Boolean = false): Container!
  withExposedPort(port: Int!, protocol: NetworkProtocol = TCP, description: String, experimentalSkipHealthcheck: Boolean = false): Container!
  withFile(path: String!, source: ID! @expectedType(name: "File"), permissions: Int, owner: String = "", expand: Boolean = false): Container!
  withLabel(name: String!, value: String!): Container!
  withMountedCache(path: String!, cache: ID! @expectedType(name: "CacheVolume"), source: ID @expectedType(name: "Directory"), sharing: CacheSharingMode = SHARED, owner: String = "", expand: Boolean = false): Container!
  withNewFile(path: String!, contents: String!, permissions: Int = 420, owner: String = "", expand: Boolean = false): Container!
  withRegistryAuth(address: String!, username: String!, secret: ID! @expectedType(name: "Secret")): Container!
  withSecretVariable(name: String!, secret: ID! @expectedType(name: "Secret")): Container!
  withUser(name: String!): Container!
  withWorkdir(path: String!, expand: Boolean = false): Container!
  withoutRegistryAuth(address: String!): Container!
}
"#,
    resolve,
    apply,
};

/// The output of the last command run in a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ExecOutput {
    pub stdout: String,
    pub stderr: String,
    pub exit_code: i32,
}

/// An evaluated container.
#[derive(Debug, Clone)]
pub(crate) struct ContainerState {
    pub platform: Option<String>,
    pub steps: Vec<BuildStep>,
    /// Files known to be in the root filesystem (those the chain put there).
    pub fs: BTreeMap<String, String>,
    pub workdir: String,
    pub last: Option<ExecOutput>,
    /// `ref@digest` right after `from` of an image the registry model knows.
    pub image_ref: Option<String>,
    /// Containers whose outputs this one copied in (build stages).
    pub stages: Vec<Stage>,
    /// Labels of the image configuration the container started from (an imported archive's,
    /// see `MockEngine::set_archive_labels`); `withLabel` steps come on top.
    pub image_labels: BTreeMap<String, String>,
    /// Environment variables (`withEnvVariable`).
    pub env: BTreeMap<String, String>,
    /// Secret variables (`withSecretVariable`): the secret's ID by variable name; the plaintext
    /// stays in the engine's store until a command reads it.
    pub secret_env: BTreeMap<String, String>,
    /// The config of the image the container started from (a pushed image read back with
    /// `from`); the chain's steps come on top (see `image_config.rs`).
    pub base: super::image_config::ImageConfig,
    /// Mounts by absolute path (see `container_fields.rs`).
    pub mounted: BTreeMap<String, super::container_fields::Mounted>,
    /// Secrets mounted as files (`withMountedSecret`): the secret's ID by absolute path. Only a
    /// command reads them, inside the engine (the registry clients of `registry_client.rs`).
    pub secret_files: BTreeMap<String, String>,
    /// Symbolic links by absolute path: their targets.
    pub links: BTreeMap<String, String>,
    /// Directories known to exist though they may hold no file (`withMountedTemp`, ...).
    pub dirs: std::collections::BTreeSet<String>,
    /// What `withExposedPort` said of a port beyond its number: its description and whether
    /// a service skips its health check, by (port, protocol).
    pub port_notes: BTreeMap<(i64, String), (Option<String>, bool)>,
}

impl ContainerState {
    /// An empty container (`Query.container`).
    pub fn new(platform: Option<&str>) -> Self {
        Self {
            platform: platform.map(str::to_string),
            steps: Vec::new(),
            fs: BTreeMap::new(),
            workdir: "/".into(),
            last: None,
            image_ref: None,
            stages: Vec::new(),
            image_labels: BTreeMap::new(),
            env: BTreeMap::new(),
            secret_env: BTreeMap::new(),
            base: Default::default(),
            mounted: BTreeMap::new(),
            secret_files: BTreeMap::new(),
            links: BTreeMap::new(),
            dirs: Default::default(),
            port_notes: BTreeMap::new(),
        }
    }

    /// The value of label `name` in the image config (see `image_config.rs`): the last
    /// `withLabel` of that name, else the image's own; none after `withoutLabel`.
    pub fn label(&self, name: &str) -> Option<String> {
        super::image_config::ImageConfig::of(self)
            .labels
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }

    /// The container's description (platform and steps).
    pub fn description(&self) -> ContainerDescription {
        ContainerDescription {
            platform: self.platform.clone(),
            steps: self.steps.clone(),
            stages: self.stages.clone(),
        }
    }

    /// The address `repository@sha256:...` of an image pulled by digest and left as it is (its
    /// only image step is that `from`), which a push re-tags rather than builds.
    pub fn retag_source(&self) -> Option<&str> {
        let mut image_steps = self.steps.iter().filter(|s| {
            !matches!(
                s,
                BuildStep::RegistryAuth { .. } | BuildStep::SecretVariable { .. }
            )
        });
        match (image_steps.next(), image_steps.next()) {
            (Some(BuildStep::From { address }), None) if address.contains('@') => {
                Some(address.as_str())
            }
            _ => None,
        }
    }

    /// The digest of the container's build: the same chain gives the same digest; registry
    /// auth is not part of the image (upstream `withRegistryAuth` leaves the container as is),
    /// nor are secret variables (upstream `core/container.go`: secrets are mounted at run time
    /// and left out of the image's config).
    pub fn build_digest(&self, variants: &[ContainerState]) -> String {
        // An image pulled by digest (`repository@sha256:...`) and left as it is keeps that
        // manifest digest when it is pushed again (a retag). ASSUMPTION, not confirmed against a live engine: upstream
        // `core/container.go` Publish re-exports the pulled image through BuildKit, which may
        // write a new manifest; `dagger_publish` checks the digest the push answers, so a
        // difference fails loudly there rather than splitting a release (README).
        if variants.is_empty() {
            if let Some((_, digest)) = self.retag_source().and_then(|a| a.rsplit_once('@')) {
                return digest.to_string();
            }
        }
        fn image(c: &ContainerState) -> Value {
            let steps: Vec<&BuildStep> = c
                .steps
                .iter()
                .filter(|s| {
                    !matches!(
                        s,
                        BuildStep::RegistryAuth { .. } | BuildStep::SecretVariable { .. }
                    )
                })
                .collect();
            serde_json::json!({ "platform": c.platform, "steps": steps })
        }
        let all: Vec<Value> = std::iter::once(image(self))
            .chain(variants.iter().map(image))
            .collect();
        let bytes = serde_json::to_vec(&all).unwrap_or_default();
        format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
    }

    fn abs(&self, path: &str) -> String {
        directory::join(&self.workdir, path)
    }

    fn push(&mut self, step: BuildStep) {
        self.image_ref = None;
        self.steps.push(step);
    }
}

fn resolve(ctx: &Ctx, parent: &Obj, field: &str, args: &Args) -> Result<Out, FieldError> {
    match field {
        "sync" => {
            ctx.eval(parent)?;
            Ok(Out::Value(Value::from(parent.id())))
        }
        "stdout" | "stderr" | "exitCode" => {
            let c = container(ctx.eval(parent)?)?;
            // upstream core/container.go (metaFileContents): no exec yet is an error.
            let last = c
                .last
                .clone()
                .ok_or_else(|| FieldError::new(format!("{field}: no command has been set")))?;
            let value = match field {
                "stdout" => Value::from(last.stdout),
                "stderr" => Value::from(last.stderr),
                _ => Value::from(last.exit_code),
            };
            let command = c
                .steps
                .iter()
                .rev()
                .find_map(|s| match s {
                    BuildStep::Exec { args, .. } => Some(args.clone()),
                    _ => None,
                })
                .unwrap_or_default();
            ctx.state().output_reads.push(CommandOutputRead {
                platform: c.platform.clone(),
                command,
                field: field.to_string(),
                value: value
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| value.to_string()),
            });
            Ok(Out::Value(value))
        }
        // upstream core/schema/container.go (label): the image config's label, or null.
        "label" => {
            let c = container(ctx.eval(parent)?)?;
            Ok(Out::Value(
                c.label(args.str("name")?)
                    .map(Value::from)
                    .unwrap_or(Value::Null),
            ))
        }
        // upstream core/schema/container.go (labels): the image config's labels: the base
        // image's (an imported archive's, a pushed image's), then the chain's.
        "labels" => {
            let c = container(ctx.eval(parent)?)?;
            Ok(super::label::list(
                parent,
                &super::image_config::ImageConfig::of(&c).labels,
            ))
        }
        "platform" => {
            let c = container(ctx.eval(parent)?)?;
            Ok(Out::Value(Value::from(c.platform.unwrap_or_else(|| {
                super::query::DEFAULT_PLATFORM.to_string()
            }))))
        }
        "imageRef" => {
            let c = container(ctx.eval(parent)?)?;
            c.image_ref.map(|r| Out::Value(Value::from(r))).ok_or_else(|| {
                FieldError::new(
                    "Image reference can only be retrieved immediately after the 'Container.From' call",
                )
            })
        }
        "publish" => super::registry::publish(ctx, parent, args),
        // upstream core/schema/container.go (from): the tag is resolved when the field is
        // selected, not when the container is used; a tag the registry lacks fails here.
        "from" => {
            let address = args.str("address")?.to_string();
            let platform = container(ctx.eval(parent)?)?
                .platform
                .unwrap_or_else(|| super::query::DEFAULT_PLATFORM.to_string());
            match super::registry::needs_backend(ctx, &address)? {
                Some(api) => {
                    let ctx = Ctx {
                        shared: ctx.shared.clone(),
                    };
                    Ok(Out::Later(Box::pin(async move {
                        super::registry::resolve_from_backend(ctx, api, address, platform).await?;
                        Ok(Out::Chain)
                    })))
                }
                None => {
                    super::registry::resolve_from(ctx, &address, &platform)?;
                    Ok(Out::Chain)
                }
            }
        }
        // upstream core/schema/container.go (withRegistryAuth): the credential goes to the
        // session's auth provider, keyed by host; the container is returned unchanged.
        "withRegistryAuth" => {
            super::registry::store_auth(ctx, args)?;
            Ok(Out::Chain)
        }
        "withoutRegistryAuth" => {
            super::registry::remove_auth(ctx, args)?;
            Ok(Out::Chain)
        }
        _ => super::container_fields::resolve(ctx, parent, field, args),
    }
}

fn container(state: State) -> Result<ContainerState, FieldError> {
    match state {
        State::Container(c) => Ok(*c),
        other => Err(FieldError::new(format!(
            "invalid ID: expected a Container, found a {}",
            other.kind()
        ))),
    }
}

fn apply(ctx: &Ctx, state: State, call: &Call, args: &Args) -> Result<State, FieldError> {
    let State::Container(mut c) = state else {
        return Err(wrong_state(call, &state));
    };
    match call.field.as_str() {
        "from" => {
            let address = args.str("address")?;
            let platform = c.platform.take();
            let image_ref = super::registry::resolve_from(
                ctx,
                address,
                platform
                    .as_deref()
                    .unwrap_or(super::query::DEFAULT_PLATFORM),
            )?;
            // upstream core/container.go (From): the previous state is replaced by the image.
            *c = ContainerState::new(platform.as_deref());
            c.steps.push(BuildStep::From {
                address: address.to_string(),
            });
            c.image_ref = Some(image_ref);
            super::container_fields::start_from_config(ctx, &mut c);
            // The files the test declared for this image (the mock has no image contents).
            let state = ctx.state();
            if let Some(image) = state.images.iter().find(|i| i.matcher.matches(address)) {
                image.apply(&mut c.fs);
            }
        }
        "withExec" => {
            let argv = args.strings("args");
            if argv.is_empty() {
                return Err(FieldError::new("withExec: args must not be empty"));
            }
            let expect = args.opt_str("expect").unwrap_or("SUCCESS").to_string();
            let effect = declared_effect(ctx, &argv);
            let effect = super::super::needs::checked(effect, &c);
            let output = match &effect {
                Some(e) => ExecOutput {
                    stdout: e.stdout.clone(),
                    stderr: e.stderr.clone(),
                    exit_code: e.exit_code,
                },
                None => super::super::registry_client::answer(ctx, &c, &argv)
                    .unwrap_or_else(|| undeclared_exec(&argv)),
            };
            c.push(BuildStep::Exec {
                args: argv.clone(),
                expect: expect.clone(),
            });
            let ok = match expect.as_str() {
                "ANY" => true,
                "FAILURE" => output.exit_code != 0,
                _ => output.exit_code == 0,
            };
            if !ok {
                return Err(exec_error(&argv, &output));
            }
            if let Some(effect) = effect {
                let workdir = c.workdir.clone();
                effect.apply_writes(&mut c.fs, &workdir);
            }
            c.last = Some(output);
        }
        "withEnvVariable" => {
            let (name, value) = (args.str("name")?, args.str("value")?);
            c.env.insert(name.to_string(), value.to_string());
            c.push(BuildStep::EnvVariable {
                name: name.to_string(),
                value: value.to_string(),
            });
        }
        "withSecretVariable" => {
            let name = args.str("name")?.to_string();
            let secret_id = args.str("secret")?;
            let State::Secret(secret) = ctx.eval_id(secret_id)? else {
                return Err(FieldError::new(
                    "withSecretVariable: secret is not a Secret",
                ));
            };
            c.secret_env.insert(name.clone(), secret_id.to_string());
            c.push(BuildStep::SecretVariable {
                name,
                secret_name: secret.name,
            });
        }
        "withMountedCache" => {
            let State::CacheVolume { key } = ctx.eval_id(args.str("cache")?)? else {
                return Err(FieldError::new(
                    "withMountedCache: cache is not a CacheVolume",
                ));
            };
            let path = c.abs(args.str("path")?);
            c.push(BuildStep::MountedCache { path, volume: key });
        }
        "withDirectory" => {
            let dir = dir_state(ctx, args.str("source")?)?;
            let (include, exclude) = (args.strings("include"), args.strings("exclude"));
            let dir = dir.filtered(&include, &exclude);
            let path = c.abs(args.str("path")?);
            for (name, contents) in &dir.tree {
                c.fs.insert(directory::join(&path, name), contents.clone());
            }
            c.dirs
                .extend(dir.dirs.iter().map(|k| directory::join(&path, k)));
            c.links.extend(
                dir.links
                    .iter()
                    .map(|(k, v)| (directory::join(&path, k), v.clone())),
            );
            if let Some(stage) = source_stage(ctx, args.str("source")?, &path)? {
                c.stages.push(stage);
            }
            let mut source = match source_origin(args.str("source")?) {
                Some(origin) => format!("{origin}, {}", dir.label()),
                None => dir.label(),
            };
            // The filters are part of what is copied: show them.
            for (what, patterns) in [("include", &include), ("exclude", &exclude)] {
                if !patterns.is_empty() {
                    source.push_str(&format!(" {what} [{}]", patterns.join(", ")));
                }
            }
            c.push(BuildStep::Directory { path, source });
        }
        "withFile" => {
            let State::File(file) = ctx.eval_id(args.str("source")?)? else {
                return Err(FieldError::new("withFile: source is not a File"));
            };
            let path = c.abs(args.str("path")?);
            c.fs.insert(path.clone(), file.contents.clone());
            if let Some(stage) = source_stage(ctx, args.str("source")?, &path)? {
                c.stages.push(stage);
            }
            c.push(BuildStep::File {
                path,
                source: file.label(),
            });
        }
        "withNewFile" => {
            let contents = args.str("contents")?.to_string();
            let path = c.abs(args.str("path")?);
            let file = FileState::new(directory::base_name(&path), contents);
            c.fs.insert(path.clone(), file.contents.clone());
            c.push(BuildStep::File {
                path,
                source: format!("new file {}", file.digest()),
            });
        }
        "withWorkdir" => {
            let path = c.abs(args.str("path")?);
            c.workdir = path.clone();
            c.push(BuildStep::Workdir { path });
        }
        "withUser" => c.push(BuildStep::User {
            name: args.str("name")?.to_string(),
        }),
        "withLabel" => c.push(BuildStep::Label {
            name: args.str("name")?.to_string(),
            value: args.str("value")?.to_string(),
        }),
        "withAnnotation" => c.push(BuildStep::Annotation {
            name: args.str("name")?.to_string(),
            value: args.str("value")?.to_string(),
        }),
        "withExposedPort"
            if args.opt_str("description").is_some()
                || args.bool("experimentalSkipHealthcheck") =>
        {
            super::container_fields::exposed_port_with_notes(&mut c, args)?
        }
        "withExposedPort" => c.push(BuildStep::ExposedPort {
            port: args
                .int("port")
                .ok_or_else(|| FieldError::new("withExposedPort: port must be an integer"))?,
            protocol: args.opt_str("protocol").unwrap_or("TCP").to_string(),
        }),
        "withDefaultArgs" => c.push(BuildStep::DefaultArgs {
            args: args.strings("args"),
        }),
        "withEntrypoint" if args.bool("keepDefaultArgs") => {
            super::container_fields::entrypoint_keeping_args(&mut c, args)
        }
        "withEntrypoint" => c.push(BuildStep::Entrypoint {
            args: args.strings("args"),
        }),
        "import" => {
            let State::File(file) = ctx.eval_id(args.str("source")?)? else {
                return Err(FieldError::new("import: source is not a File"));
            };
            let platform = c.platform.take();
            *c = ContainerState::new(platform.as_deref());
            c.image_labels = ctx
                .state()
                .archive_labels
                .get(&file.contents)
                .cloned()
                .unwrap_or_default();
            c.steps.push(BuildStep::Import {
                source: file.label(),
            });
        }
        "withRegistryAuth" => {
            let host = super::registry::auth_host(args.str("address")?)?;
            let secret = match ctx.eval_id(args.str("secret")?)? {
                State::Secret(s) => s,
                _ => return Err(FieldError::new("withRegistryAuth: secret is not a Secret")),
            };
            c.steps.push(BuildStep::RegistryAuth {
                host,
                username: args.str("username")?.to_string(),
                secret_name: secret.name,
            });
        }
        "withoutRegistryAuth" => {}
        "directory" => {
            let path = c.abs(args.str("path")?);
            if let Some(d) = super::container_fields::directory_beyond_files(&c, &path) {
                return Ok(State::Directory(d));
            }
            return match directory::subtree(&c.fs, &path) {
                // The recording engine: what a command would have written is unknown.
                Err(_) if ctx.state().recording => Ok(State::Directory(DirState::standing_in(
                    StandIn::new(format!("{} {path}", c.build_digest(&[])), NOTHING_RUNS),
                ))),
                Err(e) if !c.fs.contains_key(&path) => Err(undeclared_path(&c, &path, e, true)),
                found => {
                    let mut found = found?;
                    // The recording engine: a command that ran may have written more here.
                    found.partial = ctx.state().recording
                        && c.steps.iter().any(|s| matches!(s, BuildStep::Exec { .. }));
                    Ok(State::Directory(found))
                }
            };
        }
        "file" => {
            let path = c.abs(args.str("path")?);
            let recording = ctx.state().recording;
            let name = directory::base_name(&path);
            return match c.fs.get(&path) {
                Some(contents) => Ok(State::File(FileState::new(name, contents))),
                // The recording engine: what a command would have written is unknown.
                None if recording => Ok(State::File(FileState::standing_in(
                    name,
                    StandIn::new(format!("{} {path}", c.build_digest(&[])), NOTHING_RUNS),
                ))),
                // upstream core/container.go (File) stats the path in the container's rootfs.
                None => {
                    let engine =
                        FieldError::new(format!("lstat {path}: no such file or directory"));
                    Err(undeclared_path(&c, &path, engine, false))
                }
            };
        }
        _ => return super::container_fields::apply(ctx, *c, call, args),
    }
    Ok(State::Container(c))
}

/// When `source_id` is a directory or file taken out of a container (`...container...
/// .directory(path)`), that container as a build stage: the plan shows what builds it.
fn source_stage(ctx: &Ctx, source_id: &str, used_at: &str) -> Result<Option<Stage>, FieldError> {
    let obj = Obj::decode(source_id)?;
    let Some(last) = obj
        .calls
        .iter()
        .rposition(|c| c.field == "directory" || c.field == "file")
    else {
        return Ok(None);
    };
    if last == 0 || obj.calls.first().map(|c| c.field.as_str()) != Some("container") {
        return Ok(None);
    }
    let stage = Obj {
        ty: "Container".into(),
        calls: obj.calls[..last].to_vec(),
    };
    let State::Container(container) = ctx.eval(&stage)? else {
        return Ok(None);
    };
    let output = obj.calls[last]
        .args
        .get("path")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    Ok(Some(Stage {
        output,
        used_at: used_at.to_string(),
        container: container.description(),
    }))
}

/// Where a directory comes from, when it is a git tree or a host directory: `git <url> <ref>
/// [<path>]`, `host <path>` (for plans; the digest still names the contents).
fn source_origin(source_id: &str) -> Option<String> {
    let obj = Obj::decode(source_id).ok()?;
    let arg = |i: usize, name: &str| -> Option<String> {
        obj.calls
            .get(i)?
            .args
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let subpaths: Vec<String> = obj
        .calls
        .iter()
        .filter(|c| c.field == "directory")
        .filter_map(|c| {
            c.args
                .get("path")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .collect();
    let suffix = if subpaths.is_empty() {
        String::new()
    } else {
        format!(" {}", subpaths.join("/"))
    };
    match obj.calls.first()?.field.as_str() {
        "git" => {
            let reference = arg(1, "name").unwrap_or_default();
            Some(format!("git {} {reference}{suffix}", arg(0, "url")?))
        }
        "host" => Some(format!("host{suffix}")),
        _ => None,
    }
}

fn dir_state(ctx: &Ctx, id: &str) -> Result<DirState, FieldError> {
    match ctx.eval_id(id)? {
        State::Directory(d) => Ok(d),
        other => Err(FieldError::new(format!(
            "expected a Directory, found a {}",
            other.kind()
        ))),
    }
}

/// The first declared effect matching the command (see `MockEngine::on_exec`).
fn declared_effect(ctx: &Ctx, argv: &[String]) -> Option<CommandEffect> {
    ctx.state()
        .commands
        .iter()
        .find(|e| e.matcher.matches(argv))
        .cloned()
}

/// A command no test declared and no model answers: `echo` prints its arguments; anything
/// else succeeds silently and writes nothing.
fn undeclared_exec(argv: &[String]) -> ExecOutput {
    let stdout = if argv[0] == "echo" {
        format!("{}\n", argv[1..].join(" "))
    } else {
        String::new()
    };
    ExecOutput {
        stdout,
        stderr: String::new(),
        exit_code: 0,
    }
}

/// The engine's error for a path that is not in the container (`engine`), followed by what a
/// test needs to know: the mock runs no command, so only declared outputs exist. Names the
/// commands that ran in the container and the declaration that would put the path there.
fn undeclared_path(c: &ContainerState, path: &str, engine: FieldError, dir: bool) -> FieldError {
    let commands: Vec<&Vec<String>> = c
        .steps
        .iter()
        .filter_map(|s| match s {
            BuildStep::Exec { args, .. } => Some(args),
            _ => None,
        })
        .collect();
    let image = c.steps.iter().find_map(|s| match s {
        BuildStep::From { address } => Some(address.as_str()),
        _ => None,
    });
    let output = if dir {
        format!(".writes_directory({path:?}, &[(\"name\", \"contents\")])")
    } else {
        format!(".writes_file({path:?}, \"contents\")")
    };
    let hint = match commands.last() {
        Some(last) => {
            // The command most likely to write the path: the last one naming it (or its
            // folder), else the last one.
            let parent = path.rsplit_once('/').map(|(p, _)| p).unwrap_or("");
            let writer = commands
                .iter()
                .rev()
                .find(|a| {
                    let line = a.join(" ");
                    line.contains(path) || (parent.len() > 1 && line.contains(parent))
                })
                .unwrap_or(last);
            let key: Vec<&str> = writer.iter().take(2).map(String::as_str).collect();
            let ran: Vec<String> = commands
                .iter()
                .map(|a| format!("`{}`", a.join(" ")))
                .collect();
            format!(
                "the mock engine runs no command, so {path} exists only if the test declares it; \
                 ran in this container: {}; declare what the command writes, e.g. \
                 engine.on_exec(CommandEffect::containing({:?}){output})",
                ran.join(", "),
                key.join(" ")
            )
        }
        None => match image {
            Some(address) => format!(
                "the mock engine has no image contents: no command ran in this container, and \
                 {path} exists only if the test declares it for {address}, e.g. \
                 engine.on_from(ImageFiles::address({address:?}){})",
                output.replace(".writes_", ".with_")
            ),
            None => format!("no command ran in this container and nothing put {path} there"),
        },
    };
    FieldError::new(format!("{} ({hint})", engine.message))
}

/// The engine's error for a failed command (upstream `core/exec_error.go` for the
/// `EXEC_ERROR` extensions; the message is buildkit's `process %q did not complete
/// successfully: exit code: %d`, the args joined by spaces and quoted as Go's `%q` does).
pub(crate) fn exec_error(argv: &[String], output: &ExecOutput) -> FieldError {
    FieldError {
        message: format!(
            "process {} did not complete successfully: exit code: {}",
            super::go_quote(&argv.join(" ")),
            output.exit_code
        ),
        extensions: Some(serde_json::json!({
            "_type": "EXEC_ERROR",
            "cmd": argv,
            "exitCode": output.exit_code,
            "stdout": output.stdout,
            "stderr": output.stderr,
        })),
    }
}

/// Evaluates a container object (for `publish` and the recorder).
pub(crate) fn eval_container(ctx: &Ctx, obj: &Obj) -> Result<ContainerState, FieldError> {
    container(ctx.eval(obj)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_message_quotes_like_go() {
        let e = exec_error(
            &["sh".into(), "-c".into(), "echo \"a\\b\"\n".into()],
            &ExecOutput {
                stdout: String::new(),
                stderr: String::new(),
                exit_code: 3,
            },
        );
        assert_eq!(
            e.message,
            r#"process "sh -c echo \"a\\b\"\n" did not complete successfully: exit code: 3"#
        );
    }
}
