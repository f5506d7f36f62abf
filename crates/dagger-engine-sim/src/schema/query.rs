//! Fields of `Query`, the root (upstream `core/schema/query.go`, `container.go`,
//! `directory.go`, `git.go`, `host.go`, `secret.go`, `cache.go`, `address.go`).

use std::collections::BTreeMap;

use serde_json::Value;

use super::super::ids::{Call, Obj};
use super::{directory::DirState, file::FileState, wrong_state, Args, Ctx, FieldError, Out, State};

/// The engine version the mock answers (`dagger-sdk` 0.21.11 targets engine v0.21.11).
pub(crate) const ENGINE_VERSION: &str = "v0.21.11";

/// The platform of the mock engine's host (`defaultPlatform`, and a container without
/// `platform`); commands of a container of another platform would run under emulation.
pub const DEFAULT_PLATFORM: &str = "linux/amd64";

pub(crate) const TYPE: super::TypeImpl = super::TypeImpl {
    name: "Query",
    sdl: r#"
extend type Query {
  address(value: String!): Address!
  cacheVolume(key: String!, source: ID @expectedType(name: "Directory"), sharing: CacheSharingMode = SHARED, owner: String = ""): CacheVolume!
  container(platform: Platform): Container!
  defaultPlatform: Platform!
  directory: Directory!
  error(message: String!): Error!
  file(name: String!, contents: String!, permissions: Int = 420): File!
  git(url: String!, keepGitDir: Boolean = true, sshKnownHosts: String = "", sshAuthSocket: ID @expectedType(name: "Socket"), httpAuthUsername: String = "", httpAuthToken: ID @expectedType(name: "Secret"), httpAuthHeader: ID @expectedType(name: "Secret"), experimentalServiceHost: ID @expectedType(name: "Service")): GitRepository!
  host: Host!
  node(id: ID!): Node
  secret(uri: String!, cacheKey: String): Secret!
  setSecret(name: String!, plaintext: String!): Secret!
  version: String!
}
"#,
    resolve,
    apply,
};

fn resolve(ctx: &Ctx, _parent: &Obj, field: &str, args: &Args) -> Result<Out, FieldError> {
    match field {
        "version" => Ok(Out::Value(Value::from(ENGINE_VERSION))),
        "defaultPlatform" => Ok(Out::Value(Value::from(DEFAULT_PLATFORM))),
        // upstream core/schema/query.go (node): loads any object from its ID; the field is
        // nullable, so a failure here nulls only this field.
        "node" => Ok(Out::Object(ctx.load(args.str("id")?, None)?)),
        "setSecret" | "secret" => super::secret::resolve_root(ctx, field, args),
        "address" => {
            super::address::check_value(args)?;
            Ok(Out::Chain)
        }
        _ => Ok(Out::Chain),
    }
}

fn apply(ctx: &Ctx, state: State, call: &Call, args: &Args) -> Result<State, FieldError> {
    if !matches!(state, State::Query) {
        return Err(wrong_state(call, &state));
    }
    match call.field.as_str() {
        "container" => Ok(State::Container(Box::new(
            super::container::ContainerState::new(args.opt_str("platform")),
        ))),
        "directory" => Ok(State::Directory(DirState::of(BTreeMap::new()))),
        "file" => Ok(State::File(FileState::new(
            args.str("name")?,
            args.str("contents")?,
        ))),
        "git" => Ok(State::GitRepository {
            url: args.str("url")?.to_string(),
        }),
        "host" => Ok(State::Host),
        "address" => super::address::apply_root(args),
        "cacheVolume" => Ok(State::CacheVolume {
            key: args.str("key")?.to_string(),
        }),
        "error" => Ok(State::Error {
            message: args.str("message")?.to_string(),
        }),
        "setSecret" | "secret" => super::secret::apply_root(ctx, call, args),
        _ => super::file_fields::apply_root(ctx, call, args),
    }
}
