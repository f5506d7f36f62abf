//! Small objects the readers of a container, directory or file return: `EnvVariable`, `Port`,
//! `HealthcheckConfig` and `Stat` (upstream `core/schema/container.go`, `core/container.go`,
//! `core/stat.go`).
//!
//! Each is named by its parent's chain followed by the call that returned it (for list
//! elements, with the element's key as an argument, as `Label` does); its fields evaluate the
//! parent again and read the part they need.

use serde_json::{Map, Value};

use super::super::ids::{Call, Obj};
use super::image_config::ImageConfig;
use super::{wrong_state, Args, Ctx, FieldError, Out, State};

/// `EnvVariable`.
pub(crate) const ENV_VARIABLE: super::TypeImpl = super::TypeImpl {
    name: "EnvVariable",
    sdl: r#"
type EnvVariable implements Node {
  id: ID!
  name: String!
  value: String!
}
"#,
    resolve: resolve_env,
    apply: no_chain,
};

/// `Port`.
pub(crate) const PORT: super::TypeImpl = super::TypeImpl {
    name: "Port",
    sdl: r#"
type Port implements Node {
  id: ID!
  description: String
  experimentalSkipHealthcheck: Boolean!
  port: Int!
  protocol: NetworkProtocol!
}
"#,
    resolve: resolve_port,
    apply: no_chain,
};

/// `HealthcheckConfig`.
pub(crate) const HEALTHCHECK: super::TypeImpl = super::TypeImpl {
    name: "HealthcheckConfig",
    sdl: r#"
type HealthcheckConfig implements Node {
  id: ID!
  args: [String!]!
  interval: String!
  retries: Int!
  shell: Boolean!
  startInterval: String!
  startPeriod: String!
  timeout: String!
}
"#,
    resolve: resolve_healthcheck,
    apply: no_chain,
};

/// `Stat`.
pub(crate) const STAT: super::TypeImpl = super::TypeImpl {
    name: "Stat",
    sdl: r#"
enum FileType { UNKNOWN REGULAR DIRECTORY SYMLINK }
enum ExistsType { REGULAR_TYPE DIRECTORY_TYPE SYMLINK_TYPE }
type Stat implements Node {
  id: ID!
  fileType: FileType
  name: String!
  permissions: Int!
  size: Int!
}
"#,
    resolve: resolve_stat,
    apply: no_chain,
};

fn no_chain(_ctx: &Ctx, state: State, call: &Call, _args: &Args) -> Result<State, FieldError> {
    Err(wrong_state(call, &state))
}

/// A list of elements: the parent's chain, then `field` with the element's key arguments.
pub(crate) fn elements(parent: &Obj, field: &str, ty: &str, keys: Vec<Map<String, Value>>) -> Out {
    Out::Objects(
        keys.into_iter()
            .map(|args| {
                parent.then(
                    Call {
                        field: field.into(),
                        args,
                    },
                    ty,
                )
            })
            .collect(),
    )
}

/// The object's parent and the call that made it.
pub(crate) fn split(obj: &Obj, what: &str) -> Result<(Obj, Call), FieldError> {
    let (last, chain) = obj
        .calls
        .split_last()
        .ok_or_else(|| FieldError::new(format!("invalid ID: not a {what}")))?;
    let parent_ty = if chain.is_empty() {
        "Query".to_string()
    } else {
        // The parent's type is the type the previous call returned.
        let schema = super::schema();
        let mut ty = "Query".to_string();
        for call in chain {
            ty = schema.chain_field(&ty, call)?.ty.named().to_string();
        }
        ty
    };
    Ok((
        Obj {
            ty: parent_ty,
            calls: chain.to_vec(),
        },
        last.clone(),
    ))
}

fn parent_config(ctx: &Ctx, obj: &Obj, what: &str) -> Result<(ImageConfig, Call), FieldError> {
    let (parent, call) = split(obj, what)?;
    let State::Container(c) = ctx.eval(&parent)? else {
        return Err(FieldError::new(format!(
            "invalid ID: not a {what} of a container"
        )));
    };
    Ok((ImageConfig::of(&c), call))
}

fn key<'a>(call: &'a Call, name: &str) -> Option<&'a Value> {
    call.args.get(name)
}

fn resolve_env(ctx: &Ctx, parent: &Obj, field: &str, _args: &Args) -> Result<Out, FieldError> {
    let (cfg, call) = parent_config(ctx, parent, "EnvVariable")?;
    let name = key(&call, "name")
        .and_then(Value::as_str)
        .ok_or_else(|| FieldError::new("invalid ID: not an EnvVariable"))?;
    let value = cfg.env_value(name).ok_or_else(|| {
        FieldError::new(format!(
            "the container has no environment variable {name:?}"
        ))
    })?;
    match field {
        "name" => Ok(Out::Value(Value::from(name))),
        "value" => Ok(Out::Value(Value::from(value))),
        other => Err(unknown("EnvVariable", other)),
    }
}

fn resolve_port(ctx: &Ctx, parent: &Obj, field: &str, _args: &Args) -> Result<Out, FieldError> {
    let (cfg, call) = parent_config(ctx, parent, "Port")?;
    let port = key(&call, "port").and_then(Value::as_i64);
    let protocol = key(&call, "protocol").and_then(Value::as_str);
    let p = cfg
        .ports
        .iter()
        .find(|p| Some(p.port) == port && Some(p.protocol.as_str()) == protocol)
        .ok_or_else(|| FieldError::new("invalid ID: the container exposes no such port"))?;
    Ok(Out::Value(match field {
        "port" => Value::from(p.port),
        "protocol" => Value::from(p.protocol.clone()),
        "description" => p.description.clone().map_or(Value::Null, Value::from),
        "experimentalSkipHealthcheck" => Value::from(p.skip_healthcheck),
        other => return Err(unknown("Port", other)),
    }))
}

fn resolve_healthcheck(
    ctx: &Ctx,
    parent: &Obj,
    field: &str,
    _args: &Args,
) -> Result<Out, FieldError> {
    let (cfg, _) = parent_config(ctx, parent, "HealthcheckConfig")?;
    let h = cfg
        .healthcheck
        .ok_or_else(|| FieldError::new("the container has no healthcheck"))?;
    let text = |v: Option<String>| Value::from(v.unwrap_or_default());
    Ok(Out::Value(match field {
        "args" => Value::from(h.args),
        "shell" => Value::from(h.shell),
        "interval" => text(h.interval),
        "timeout" => text(h.timeout),
        "startPeriod" => text(h.start_period),
        "startInterval" => text(h.start_interval),
        "retries" => Value::from(h.retries.unwrap_or(0)),
        other => return Err(unknown("HealthcheckConfig", other)),
    }))
}

/// What `stat` finds at a path (upstream `core/stat.go`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StatInfo {
    pub name: String,
    /// `REGULAR`, `DIRECTORY` or `SYMLINK`.
    pub file_type: &'static str,
    pub permissions: i64,
    pub size: i64,
}

impl StatInfo {
    /// A regular file of `size` bytes, mode 0644 (the mock keeps no modes).
    pub fn file(name: &str, size: usize) -> Self {
        Self {
            name: name.to_string(),
            file_type: "REGULAR",
            permissions: 0o644,
            size: size as i64,
        }
    }

    /// A directory, mode 0755, of the size overlayfs reports for one (4096).
    pub fn dir(name: &str) -> Self {
        Self {
            name: name.to_string(),
            file_type: "DIRECTORY",
            permissions: 0o755,
            size: 4096,
        }
    }

    /// A symbolic link to `target` (its size is the target's length, as `lstat` reports).
    pub fn symlink(name: &str, target: &str) -> Self {
        Self {
            name: name.to_string(),
            file_type: "SYMLINK",
            permissions: 0o777,
            size: target.len() as i64,
        }
    }
}

/// The stat of the path the `stat` call names, on its parent (a container, a directory or a
/// file).
pub(crate) fn stat_of(ctx: &Ctx, obj: &Obj) -> Result<StatInfo, FieldError> {
    let (parent, call) = split(obj, "Stat")?;
    let args = Args(call.args.clone());
    let no_follow = args.bool("doNotFollowSymlinks");
    match ctx.eval(&parent)? {
        State::Container(c) => {
            super::container_fields::stat(&c, args.str("path")?, no_follow).map_err(FieldError::new)
        }
        State::Directory(d) => {
            super::directory_fields::stat(&d, args.str("path")?, no_follow).map_err(FieldError::new)
        }
        State::File(f) => Ok(StatInfo::file(&f.name, f.contents.len())),
        other => Err(wrong_state(&call, &other)),
    }
}

fn resolve_stat(ctx: &Ctx, parent: &Obj, field: &str, _args: &Args) -> Result<Out, FieldError> {
    let s = stat_of(ctx, parent)?;
    Ok(Out::Value(match field {
        "name" => Value::from(s.name),
        "fileType" => Value::from(s.file_type),
        "permissions" => Value::from(s.permissions),
        "size" => Value::from(s.size),
        other => return Err(unknown("Stat", other)),
    }))
}

fn unknown(ty: &str, field: &str) -> FieldError {
    FieldError::new(format!("{ty}.{field} is not a field the mock engine knows"))
}
