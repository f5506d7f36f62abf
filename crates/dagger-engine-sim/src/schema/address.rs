//! `Address` (upstream `core/schema/address.go`): what the Dagger CLI turns a flag value into
//! (`cmd/dagger/flags.go`: a Secret flag is `address(value:).secret`, a Directory flag
//! `address(value:).directory(exclude: <the argument's ignore>)`).
//!
//! Each field selects another field from the root, as upstream does with `srv.Select`, so the
//! object it answers has that field's call chain and ID:
//! - `secret`: `NAME` becomes `env://NAME`, a legacy `scheme:value` becomes `scheme://value`,
//!   a `cacheKey` query parameter becomes the `cacheKey` argument, then `Query.secret(uri:)`
//!   (which refuses an unknown provider at once);
//! - `directory`: a git URL (`http(s)://`, `ssh://`, `git://` or `user@host:path`, upstream
//!   `util/gitutil/url.go`) becomes `git(url:).head|ref(name:).tree[.directory(path:)]` and
//!   ignores the filters; anything else is a local path, `host.directory(path:)` with
//!   `exclude`, `include` and `gitignore` passed on only when set (`queryLocalDirectory`;
//!   `noCache` is not passed on);
//! - `file`: `host.file(path:)`, or the `#ref:path` file of a git tree; filters are ignored.

use serde_json::{Map, Value};

use super::super::ids::{Call, Obj};
use super::{wrong_state, Args, Ctx, FieldError, Out, State};

pub(crate) const TYPE: super::TypeImpl = super::TypeImpl {
    name: "Address",
    sdl: r#"
extend type Query {
  address(value: String!): Address!
}
type Address implements Node {
  id: ID!
  directory(exclude: [String!] = [], include: [String!] = [], gitignore: Boolean = false, noCache: Boolean = false): Directory!
  file(exclude: [String!] = [], include: [String!] = [], gitignore: Boolean = false, noCache: Boolean = false): File!
  secret: Secret!
  value: String!
}
"#,
    resolve,
    apply,
};

/// `Query.address(value:)`: an empty value is refused when the address is built.
pub(crate) fn check_value(args: &Args) -> Result<(), FieldError> {
    if args.str("value")?.is_empty() {
        return Err(FieldError::new("resource cannot have empty address"));
    }
    Ok(())
}

/// Evaluates `Query.address`.
pub(crate) fn apply_root(args: &Args) -> Result<State, FieldError> {
    check_value(args)?;
    Ok(State::Address {
        value: args.str("value")?.to_string(),
    })
}

/// The URI and cache key `Address.secret` gives to `Query.secret` (upstream `address.go`,
/// `secret`).
pub(crate) fn secret_uri(value: &str) -> (String, Option<String>) {
    let mut addr = if value.contains(':') {
        value.to_string()
    } else {
        format!("env://{value}")
    };
    let (source, rest) = addr.split_once(':').unwrap_or((addr.as_str(), ""));
    if !rest.starts_with("//") {
        addr = format!("{source}://{rest}");
    }
    let Some((base, query)) = addr.split_once('?') else {
        return (addr, None);
    };
    if query.is_empty() {
        return (addr, None);
    }
    // Go's url.ParseQuery then Encode: the other parameters stay, sorted by key.
    let mut cache_key = None;
    let mut others: Vec<(&str, &str)> = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        if k == "cacheKey" {
            if cache_key.is_none() {
                cache_key = Some(v.to_string());
            }
        } else {
            others.push((k, v));
        }
    }
    match cache_key.filter(|k| !k.is_empty()) {
        None => (addr.clone(), None),
        Some(key) => {
            others.sort_by(|a, b| a.0.cmp(b.0));
            let rest: Vec<String> = others.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let uri = if rest.is_empty() {
                base.to_string()
            } else {
                format!("{base}?{}", rest.join("&"))
            };
            (uri, Some(key))
        }
    }
}

/// A git address: the remote, the ref and the path inside the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GitAddress {
    pub remote: String,
    pub reference: Option<String>,
    pub subdir: Option<String>,
}

/// Reads a git address as upstream `gitutil.ParseURL` does; `None` for a local path.
pub(crate) fn git_address(value: &str) -> Option<GitAddress> {
    let fragment = |f: Option<&str>| -> (Option<String>, Option<String>) {
        match f.filter(|f| !f.is_empty()) {
            None => (None, None),
            Some(f) => {
                let (r, sub) = f.split_once(':').unwrap_or((f, ""));
                (
                    Some(r.to_string()).filter(|r| !r.is_empty()),
                    Some(sub.to_string()).filter(|s| !s.is_empty()),
                )
            }
        }
    };
    if let Some(at) = value.find("://") {
        let proto = &value[..at];
        if proto.is_empty() || !proto.chars().all(|c| c.is_ascii_alphanumeric()) {
            return scp_style(value, fragment);
        }
        // Another protocol (`file://`) is not a git address: the value is a local path.
        if !["http", "https", "ssh", "git"].contains(&proto.to_ascii_lowercase().as_str()) {
            return None;
        }
        let (remote, frag) = match value.split_once('#') {
            Some((r, f)) => (r, Some(f)),
            None => (value, None),
        };
        let (reference, subdir) = fragment(frag);
        return Some(GitAddress {
            remote: remote.to_string(),
            reference,
            subdir,
        });
    }
    scp_style(value, fragment)
}

/// `user@host:path[#fragment]` (upstream `sshutil`, `^([a-zA-Z0-9-_]+)@([a-zA-Z0-9-.]+):(.*?)(?:#(.*))?$`).
fn scp_style(
    value: &str,
    fragment: impl Fn(Option<&str>) -> (Option<String>, Option<String>),
) -> Option<GitAddress> {
    let (user, rest) = value.split_once('@')?;
    let (host, path) = rest.split_once(':')?;
    let user_ok = !user.is_empty()
        && user
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    let host_ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    if !user_ok || !host_ok {
        return None;
    }
    let (path, frag) = match path.split_once('#') {
        Some((p, f)) => (p, Some(f)),
        None => (path, None),
    };
    let (reference, subdir) = fragment(frag);
    Some(GitAddress {
        remote: format!("{user}@{host}:{path}"),
        reference,
        subdir,
    })
}

fn call(field: &str, args: &[(&str, Value)]) -> Call {
    Call {
        field: field.to_string(),
        args: args
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect::<Map<String, Value>>(),
    }
}

/// `git(url:).head|ref(name:).tree` for a git address.
fn git_tree(git: &GitAddress) -> Obj {
    let repo = Obj::root().then(
        call("git", &[("url", Value::from(git.remote.clone()))]),
        "GitRepository",
    );
    let reference = match &git.reference {
        None => repo.then(call("head", &[]), "GitRef"),
        Some(r) => repo.then(call("ref", &[("name", Value::from(r.clone()))]), "GitRef"),
    };
    reference.then(call("tree", &[]), "Directory")
}

/// The local path of an address: only `file://` is stripped (upstream `getLocalPath`).
fn local_path(value: &str) -> &str {
    value.strip_prefix("file://").unwrap_or(value)
}

fn directory(value: &str, args: &Args) -> Obj {
    if let Some(git) = git_address(value) {
        let tree = git_tree(&git);
        return match &git.subdir {
            Some(sub) => tree.then(
                call("directory", &[("path", Value::from(sub.clone()))]),
                "Directory",
            ),
            None => tree,
        };
    }
    let mut dir_args = vec![("path", Value::from(local_path(value)))];
    let exclude = args.strings("exclude");
    if !exclude.is_empty() {
        dir_args.push(("exclude", Value::from(exclude)));
    }
    let include = args.strings("include");
    if !include.is_empty() {
        dir_args.push(("include", Value::from(include)));
    }
    if args.bool("gitignore") {
        dir_args.push(("gitignore", Value::from(true)));
    }
    Obj::root()
        .then(call("host", &[]), "Host")
        .then(call("directory", &dir_args), "Directory")
}

fn file(value: &str) -> Result<Obj, FieldError> {
    if let Some(git) = git_address(value) {
        let path = git
            .subdir
            .clone()
            .ok_or_else(|| FieldError::new("no file path specified within git repository"))?;
        return Ok(git_tree(&git).then(call("file", &[("path", Value::from(path))]), "File"));
    }
    Ok(Obj::root().then(call("host", &[]), "Host").then(
        call("file", &[("path", Value::from(local_path(value)))]),
        "File",
    ))
}

fn resolve(ctx: &Ctx, parent: &Obj, field: &str, args: &Args) -> Result<Out, FieldError> {
    let State::Address { value } = ctx.eval(parent)? else {
        return Err(FieldError::new("invalid ID: not an Address"));
    };
    match field {
        "value" => Ok(Out::Value(Value::from(value))),
        "secret" => {
            let (uri, cache_key) = secret_uri(&value);
            let mut secret_args = Map::new();
            secret_args.insert("uri".into(), Value::from(uri));
            if let Some(key) = cache_key {
                secret_args.insert("cacheKey".into(), Value::from(key));
            }
            super::secret::resolve_root(ctx, "secret", &Args(secret_args))
        }
        // The selected field runs at once, as `srv.Select` runs it: a missing host path fails
        // here.
        "directory" | "file" => {
            let obj = if field == "directory" {
                directory(&value, args)
            } else {
                file(&value)?
            };
            ctx.eval(&obj)?;
            Ok(Out::Object(obj))
        }
        _ => super::git_fields::resolve_address(ctx, &value, field),
    }
}

fn apply(_ctx: &Ctx, state: State, call: &Call, _args: &Args) -> Result<State, FieldError> {
    Err(wrong_state(call, &state))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_addresses_map_as_the_cli_maps_them() {
        let cases = [
            ("NAME", "env://NAME"),
            ("env:NAME", "env://NAME"),
            ("env://NAME", "env://NAME"),
            ("env:", "env://"),
            ("file:/abs/pw", "file:///abs/pw"),
            ("file://rel/pw", "file://rel/pw"),
            ("cmd:echo x", "cmd://echo x"),
            ("op://vault/item/field", "op://vault/item/field"),
            ("foo:bar", "foo://bar"),
            ("MY:VAR", "MY://VAR"),
        ];
        for (value, uri) in cases {
            assert_eq!(secret_uri(value), (uri.to_string(), None), "{value}");
        }
        assert_eq!(
            secret_uri("env:NAME?cacheKey=k1"),
            ("env://NAME".to_string(), Some("k1".to_string()))
        );
        assert_eq!(
            secret_uri("vault://p?z=1&cacheKey=k&a=2"),
            ("vault://p?a=2&z=1".to_string(), Some("k".to_string()))
        );
        assert_eq!(secret_uri("env://N?x=1"), ("env://N?x=1".to_string(), None));
    }

    #[test]
    fn git_addresses_are_told_from_local_paths() {
        assert_eq!(
            git_address("https://github.com/a/b#v1.0:sub/dir"),
            Some(GitAddress {
                remote: "https://github.com/a/b".into(),
                reference: Some("v1.0".into()),
                subdir: Some("sub/dir".into()),
            })
        );
        assert_eq!(
            git_address("git@github.com:a/b.git#main"),
            Some(GitAddress {
                remote: "git@github.com:a/b.git".into(),
                reference: Some("main".into()),
                subdir: None,
            })
        );
        for local in [".", "./src", "/abs", "github.com/a/b", "file:///x", "C:/x"] {
            assert_eq!(git_address(local), None, "{local}");
        }
    }
}
