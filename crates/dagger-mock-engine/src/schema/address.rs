//! `Address` (upstream `core/schema/address.go`): a value that names a directory, a file or a
//! secret, loaded by re-selecting the engine's own fields, as upstream does.
//!
//! Modelled: `value`, `directory` of a local path (becomes `host.directory(path:, exclude:,
//! include:, gitignore:)`, each filter passed on only when non-empty or true, as upstream
//! `queryLocalDirectory`), and `secret` (the value rewritten to a `provider://...` URI, then
//! `Query.secret(uri:)`). Git addresses and the other fields are refused with a message saying
//! the mock does not model them.

use serde_json::{Map, Value};

use super::super::ids::{Call, Obj};
use super::{wrong_state, Args, Ctx, FieldError, Out, State};

pub(crate) const TYPE: super::TypeImpl = super::TypeImpl {
    name: "Address",
    sdl: r#"
type Address implements Node {
  id: ID!
  directory(exclude: [String!] = [], include: [String!] = [], gitignore: Boolean = false, noCache: Boolean = false): Directory!
  secret: Secret!
  value: String!
}
"#,
    resolve,
    apply,
};

/// `Query.address(value:)`: upstream refuses an empty value when the address is built.
pub(crate) fn resolve_root(args: &Args) -> Result<Out, FieldError> {
    if args.str("value")?.is_empty() {
        return Err(FieldError::new("resource cannot have empty address"));
    }
    Ok(Out::Chain)
}

/// Evaluates `Query.address(value:)`.
pub(crate) fn apply_root(args: &Args) -> Result<State, FieldError> {
    Ok(State::Address {
        value: args.str("value")?.to_string(),
    })
}

/// Whether upstream `gitutil.ParseURL` takes `value` for a git remote: `http(s)://`, `ssh://`,
/// `git://`, or scp-style `user@host:path`.
fn is_git_address(value: &str) -> bool {
    let scheme = ["http://", "https://", "ssh://", "git://"]
        .iter()
        .any(|s| value.starts_with(s));
    let scp = value
        .split_once(':')
        .is_some_and(|(user_host, _)| user_host.contains('@') && !user_host.contains('/'));
    scheme || scp
}

/// The URI upstream `addressSchema.secret` hands to `Query.secret`: `NAME` and `env:NAME` become
/// `env://NAME`; a value already in `provider://` form stays as it is.
fn secret_uri(value: &str) -> String {
    let value = if value.contains(':') {
        value.to_string()
    } else {
        format!("env://{value}")
    };
    match value.split_once(':') {
        Some((provider, rest)) if !rest.starts_with("//") => format!("{provider}://{rest}"),
        _ => value,
    }
}

fn call(field: &str, args: Map<String, Value>) -> Call {
    Call {
        field: field.to_string(),
        args,
    }
}

fn resolve(ctx: &Ctx, parent: &Obj, field: &str, args: &Args) -> Result<Out, FieldError> {
    let State::Address { value } = ctx.eval(parent)? else {
        return Err(FieldError::new("invalid ID: not an Address"));
    };
    match field {
        "value" => Ok(Out::Value(Value::from(value))),
        "directory" if is_git_address(&value) => Err(FieldError::new(format!(
            "Address.directory of a git address ({value:?}) is not modelled by the mock engine; \
             declare the tree with MockEngine::add_git_repository and load it with git(url:)"
        ))),
        "directory" => {
            // upstream getLocalPath: only `file://` is stripped.
            let path = value.strip_prefix("file://").unwrap_or(&value);
            let mut host_args = Map::new();
            host_args.insert("path".into(), Value::from(path));
            for list in ["exclude", "include"] {
                let items = args.strings(list);
                if !items.is_empty() {
                    host_args.insert(list.into(), Value::from(items));
                }
            }
            if args.bool("gitignore") {
                host_args.insert("gitignore".into(), Value::Bool(true));
            }
            Ok(Out::Object(
                Obj::root()
                    .then(call("host", Map::new()), "Host")
                    .then(call("directory", host_args), "Directory"),
            ))
        }
        "secret" => {
            let mut secret_args = Map::new();
            secret_args.insert("uri".into(), Value::from(secret_uri(&value)));
            super::secret::resolve_root(ctx, "secret", &Args(secret_args))
        }
        other => Err(FieldError::new(format!(
            "Address.{other} is not implemented by the mock engine"
        ))),
    }
}

fn apply(_ctx: &Ctx, state: State, call: &Call, _args: &Args) -> Result<State, FieldError> {
    Err(wrong_state(call, &state))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_values_become_uris_as_upstream_rewrites_them() {
        assert_eq!(secret_uri("TOKEN"), "env://TOKEN");
        assert_eq!(secret_uri("env:TOKEN"), "env://TOKEN");
        assert_eq!(secret_uri("env://TOKEN"), "env://TOKEN");
        assert_eq!(secret_uri("file:/run/key"), "file:///run/key");
    }

    #[test]
    fn git_addresses_are_told_apart_from_local_paths() {
        for git in [
            "https://forge/x.git",
            "ssh://git@forge/x",
            "git@forge:x.git",
        ] {
            assert!(is_git_address(git), "{git}");
        }
        for local in ["/work/src", ".", "file:///work/src", "./a@b:c/d"] {
            assert!(!is_git_address(local), "{local}");
        }
    }
}
