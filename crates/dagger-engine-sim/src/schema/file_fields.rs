//! `File`'s fields beyond those of `file.rs` (upstream `core/schema/file.go`, `core/file.go`),
//! the `EnvFile` and `JSONValue` objects they make, and the root fields `http`, `json` and
//! `envFile` (upstream `core/schema/http.go`, `core/schema/json.go`, `core/schema/envfile.go`).
//!
//! `Query.http` downloads nothing: the mock has no network. A URL the test declared with
//! [`crate::MockEngine::add_http_file`] answers its declared contents; any other fails as the
//! engine fails without network, with the DNS error Go's HTTP client reports for a host it
//! cannot resolve, followed by how to declare it.

use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};

use super::super::ids::{Call, Obj};
use super::file::FileState;
use super::{wrong_state, Args, Ctx, FieldError, Out, State};

/// The fields of `File` this file answers (from the engine's v0.21.8 schema).
pub(crate) const EXTENSION: super::TypeImpl = super::TypeImpl {
    name: "File",
    sdl: r#"
extend type File {
  asEnvFile(expand: Boolean): EnvFile!
  asJSON: JSONValue!
  chown(owner: String!): File!
  digest(excludeMetadata: Boolean = false): String!
  search(pattern: String!, literal: Boolean = false, multiline: Boolean = false, dotall: Boolean = false, insensitive: Boolean = false, skipIgnored: Boolean = false, skipHidden: Boolean = false, filesOnly: Boolean = false, limit: Int, paths: [String!] = [], globs: [String!] = []): [SearchResult!]!
  size: Int!
  stat: Stat
  withName(name: String!): File!
  withReplaced(search: String!, replacement: String!, all: Boolean = false, firstFrom: Int): File!
  withTimestamps(timestamp: Int!): File!
}
extend type Query {
  envFile(expand: Boolean): EnvFile!
  http(url: String!, name: String, permissions: Int, checksum: String, authHeader: ID @expectedType(name: "Secret"), experimentalServiceHost: ID @expectedType(name: "Service")): File!
  json: JSONValue!
}
"#,
    resolve,
    apply,
};

/// `EnvFile` (the variables of an env file; its own fields beyond `id` are not part of a
/// build pipeline's API here).
pub(crate) const ENV_FILE: super::TypeImpl = super::TypeImpl {
    name: "EnvFile",
    sdl: r#"
type EnvFile implements Node {
  id: ID!
}
"#,
    resolve: no_field,
    apply: no_chain,
};

/// `JSONValue`.
pub(crate) const JSON_VALUE: super::TypeImpl = super::TypeImpl {
    name: "JSONValue",
    sdl: r#"
type JSONValue implements Node {
  id: ID!
  contents(pretty: Boolean = false, indent: String = "  "): JSON!
}
"#,
    resolve: resolve_json,
    apply: no_chain,
};

fn no_field(_ctx: &Ctx, parent: &Obj, field: &str, _args: &Args) -> Result<Out, FieldError> {
    Err(FieldError::new(format!(
        "{}.{field} is not a field the mock engine knows",
        parent.ty
    )))
}

fn no_chain(_ctx: &Ctx, state: State, call: &Call, _args: &Args) -> Result<State, FieldError> {
    Err(wrong_state(call, &state))
}

/// The variables of an `EnvFile` state, in order.
pub(crate) fn variables(state: &Value) -> Vec<(String, String)> {
    state["envFile"]
        .as_array()
        .map(|vars| {
            vars.iter()
                .filter_map(|v| Some((v[0].as_str()?.to_string(), v[1].as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// Reads an env file (upstream `core/envfile.go`): `NAME=value` lines, `export ` prefixes,
/// comments and blank lines skipped, one level of quotes removed; with `expand`, `$NAME` and
/// `${NAME}` are replaced by the variables defined before.
fn parse_env_file(text: &str, expand: bool) -> Result<Vec<(String, String)>, FieldError> {
    let mut vars: Vec<(String, String)> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let (name, value) = line.split_once('=').ok_or_else(|| {
            FieldError::new(format!(
                "line {}: expected NAME=value, found {line:?}",
                i + 1
            ))
        })?;
        let value = value.trim();
        let quoted = value.len() >= 2
            && ((value.starts_with('"') && value.ends_with('"'))
                || (value.starts_with('\'') && value.ends_with('\'')));
        let mut value = if quoted {
            value[1..value.len() - 1].to_string()
        } else {
            value.to_string()
        };
        if expand {
            for (n, v) in &vars {
                value = value
                    .replace(&format!("${{{n}}}"), v)
                    .replace(&format!("${n}"), v);
            }
        }
        let name = name.trim().to_string();
        vars.retain(|(n, _)| n != &name);
        vars.push((name, value));
    }
    Ok(vars)
}

fn file(ctx: &Ctx, parent: &Obj) -> Result<FileState, FieldError> {
    match ctx.eval(parent)? {
        State::File(f) => Ok(f),
        other => Err(FieldError::new(format!(
            "invalid ID: expected a File, found a {}",
            other.kind()
        ))),
    }
}

/// Answers a field of a file (or the root fields above) that `file.rs` does not.
pub(crate) fn resolve(
    ctx: &Ctx,
    parent: &Obj,
    field: &str,
    args: &Args,
) -> Result<Out, FieldError> {
    match field {
        "size" => Ok(Out::Value(Value::from(file(ctx, parent)?.contents.len()))),
        // The mock keeps no metadata: with or without it, the digest is the contents'.
        "digest" => Ok(Out::Value(Value::from(file(ctx, parent)?.digest()))),
        "search" => {
            let f = file(ctx, parent)?;
            let d = super::directory::DirState::of([(f.name, f.contents)].into_iter().collect());
            super::search::results(parent, &d, args)
        }
        _ => Ok(Out::Chain),
    }
}

/// Evaluates one call of the fields above on a file.
pub(crate) fn apply(
    _ctx: &Ctx,
    state: State,
    call: &Call,
    args: &Args,
) -> Result<State, FieldError> {
    let State::File(mut f) = state else {
        return Err(wrong_state(call, &state));
    };
    match call.field.as_str() {
        "withName" => f.name = args.str("name")?.to_string(),
        // No owners nor timestamps in the mock: nothing else changes.
        "chown" | "withTimestamps" => {}
        "withReplaced" => f.contents = replaced(&f.contents, args)?,
        "asEnvFile" => {
            let vars = parse_env_file(&f.contents, args.bool("expand"))?;
            return Ok(State::Other(json!({ "envFile": vars })));
        }
        // upstream core/schema/json.go: the contents must be JSON.
        "asJSON" => {
            let value: Value = serde_json::from_str(&f.contents)
                .map_err(|e| FieldError::new(format!("failed to parse {} as JSON: {e}", f.name)))?;
            return Ok(State::Other(json!({ "json": value })));
        }
        _ => return Err(wrong_state(call, &State::File(f))),
    }
    Ok(State::File(f))
}

/// upstream `core/file.go` (WithReplaced): the first match (or all), from line `firstFrom`
/// on; no match is an error unless `all`, several matches without `all` are an error.
fn replaced(contents: &str, args: &Args) -> Result<String, FieldError> {
    let search = args.str("search")?;
    let replacement = args.str("replacement")?;
    let all = args.bool("all");
    let first_from = args.int("firstFrom");
    let skip = first_from.map_or(0, |n| (n.max(1) - 1) as usize);
    let cut: usize = contents
        .split_inclusive('\n')
        .take(skip)
        .map(str::len)
        .sum();
    let (before, rest) = contents.split_at(cut.min(contents.len()));
    let matches: Vec<(usize, usize)> = rest
        .match_indices(search)
        .map(|(i, _)| {
            let line = contents[..cut + i].matches('\n').count() + 1;
            let start = cut + i - contents[..cut + i].rfind('\n').map_or(0, |p| p + 1);
            (line, start)
        })
        .collect();
    if matches.is_empty() {
        if all {
            return Ok(contents.to_string());
        }
        return Err(FieldError::new("search string not found"));
    }
    let replaced = if all {
        rest.replace(search, replacement)
    } else if first_from.is_some() || matches.len() == 1 {
        rest.replacen(search, replacement, 1)
    } else {
        let locations: Vec<String> = matches
            .iter()
            .map(|(line, start)| format!("line {line} ({start}-{})", start + search.len()))
            .collect();
        return Err(FieldError::new(format!(
            "search string found multiple times: {}",
            locations.join(", ")
        )));
    };
    Ok(format!("{before}{replaced}"))
}

/// Evaluates `Query.envFile`, `Query.json` and `Query.http`.
pub(crate) fn apply_root(ctx: &Ctx, call: &Call, args: &Args) -> Result<State, FieldError> {
    match call.field.as_str() {
        "envFile" => Ok(State::Other(json!({ "envFile": [] }))),
        "json" => Ok(State::Other(json!({ "json": null }))),
        "http" => http(ctx, args),
        _ => Err(wrong_state(call, &State::Query)),
    }
}

fn http(ctx: &Ctx, args: &Args) -> Result<State, FieldError> {
    let url = args.str("url")?;
    // upstream core/schema/http.go (httpPath): the name given, else the URL path's base.
    let name = match args.opt_str("name") {
        Some(n) => n.to_string(),
        None => {
            let path = url.split(['?', '#']).next().unwrap_or(url);
            let base = path.rsplit('/').next().unwrap_or_default();
            if base.is_empty() || path.ends_with("//") || !path.contains("://") {
                "index".to_string()
            } else {
                base.to_string()
            }
        }
    };
    let (declared, recording) = {
        let state = ctx.state();
        (state.http.get(url).cloned(), state.recording)
    };
    // The recording engine fetches nothing: an undeclared download is an empty stand-in, as an
    // undeclared git tree is (a plan shows the call, not a network failure).
    let declared = declared.or_else(|| recording.then(String::new));
    let Some(contents) = declared else {
        let host = url
            .split("://")
            .nth(1)
            .and_then(|rest| rest.split(['/', '?', '#']).next())
            .map(|h| h.rsplit_once('@').map_or(h, |(_, h)| h))
            .map(|h| h.split(':').next().unwrap_or(h))
            .unwrap_or(url);
        return Err(FieldError::new(format!(
            "Get {}: dial tcp: lookup {host}: no such host (the mock engine has no network; \
             declare the download with engine.add_http_file({url:?}, \"contents\"))",
            super::go_quote(url)
        )));
    };
    if let Some(checksum) = args.opt_str("checksum") {
        let actual = format!(
            "sha256:{}",
            hex::encode(Sha256::digest(contents.as_bytes()))
        );
        if checksum != actual {
            return Err(FieldError::new(format!(
                "checksum mismatch for {url}: expected {checksum}, got {actual}"
            )));
        }
    }
    Ok(State::File(FileState::new(name, contents)))
}

fn resolve_json(ctx: &Ctx, parent: &Obj, field: &str, args: &Args) -> Result<Out, FieldError> {
    let State::Other(state) = ctx.eval(parent)? else {
        return Err(FieldError::new("invalid ID: not a JSONValue"));
    };
    match field {
        "contents" => {
            // The JSON scalar travels as a string holding the JSON text.
            let value = &state["json"];
            if !args.bool("pretty") {
                return Ok(Out::Value(Value::from(value.to_string())));
            }
            let indent = args.opt_str("indent").unwrap_or("  ").to_string();
            let mut out = Vec::new();
            let formatter = serde_json::ser::PrettyFormatter::with_indent(indent.as_bytes());
            let mut ser = serde_json::Serializer::with_formatter(&mut out, formatter);
            serde::Serialize::serialize(value, &mut ser)
                .map_err(|e| FieldError::new(e.to_string()))?;
            Ok(Out::Value(Value::from(
                String::from_utf8_lossy(&out).into_owned(),
            )))
        }
        other => Err(FieldError::new(format!(
            "JSONValue.{other} is not a field the mock engine knows"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_files_are_read_like_the_engine() {
        let vars = parse_env_file("# c\nexport A=1\nB=\"x $A\"\nC='${A}2'\n\n", true).unwrap();
        assert_eq!(
            vars,
            [("A", "1"), ("B", "x 1"), ("C", "12")].map(|(a, b)| (a.to_string(), b.to_string()))
        );
        assert!(parse_env_file("oops", false).is_err());
    }

    #[test]
    fn replacing_follows_the_engine_rules() {
        let args = |v: Value| Args(v.as_object().cloned().unwrap_or_default());
        let text = "a=1\nb=1\n";
        let one = args(json!({"search": "b=1", "replacement": "b=2"}));
        assert_eq!(replaced(text, &one).unwrap(), "a=1\nb=2\n");
        let many = args(json!({"search": "=1", "replacement": "=3"}));
        assert_eq!(
            replaced(text, &many).unwrap_err().message,
            "search string found multiple times: line 1 (1-3), line 2 (1-3)"
        );
        let from = args(json!({"search": "=1", "replacement": "=3", "firstFrom": 2}));
        assert_eq!(replaced(text, &from).unwrap(), "a=1\nb=3\n");
        let all = args(json!({"search": "=1", "replacement": "=0", "all": true}));
        assert_eq!(replaced(text, &all).unwrap(), "a=0\nb=0\n");
        let none = args(json!({"search": "zz", "replacement": ""}));
        assert_eq!(
            replaced(text, &none).unwrap_err().message,
            "search string not found"
        );
    }
}
