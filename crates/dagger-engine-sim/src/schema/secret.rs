//! `Secret` (upstream `core/schema/secret.go`, `core/secret.go`).
//!
//! `setSecret(name, plaintext)` keeps the plaintext in the engine's store under a salted digest;
//! the Secret's ID records the name and that digest only, never the plaintext (upstream the
//! plaintext argument is marked sensitive and left out of the ID, `core/schema/secret.go`).

use serde_json::Value;
use sha2::{Digest as _, Sha256};

use super::super::ids::{Call, Obj};
use super::{wrong_state, Args, Ctx, FieldError, Out, State};

pub(crate) const TYPE: super::TypeImpl = super::TypeImpl {
    name: "Secret",
    sdl: r#"
type Secret implements Node {
  id: ID!
  name: String!
  plaintext: String!
}
"#,
    resolve,
    apply,
};

/// What the recording engine uses for a secret it does not read (from a file, a command, a
/// vault): a plan reads no secret, so a credential it needs stands in with this value.
pub const RECORDING_SECRET_STAND_IN: &str = "recording-engine-stand-in-secret";

/// Where a secret's plaintext comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SecretSource {
    /// `setSecret`: the plaintext is in the engine's store under this digest.
    Stored { digest: String },
    /// `secret(uri: "env://NAME")`: read from the engine's environment when used.
    Env { var: String },
    /// `secret(uri: "file://PATH")`: read from the file when used (the engine's `file` provider
    /// runs on the client, which for the mock is the test's process).
    File { path: String },
    /// Another provider the engine knows (`cmd`, `op`, `vault`, ...): accepted, as the engine
    /// accepts it, but the mock cannot read it.
    Unmodelled { provider: String },
}

/// The secret providers the engine knows (upstream `engine/client/secretprovider/
/// secretprovider.go`, `resolvers`).
const PROVIDERS: &[&str] = &[
    "env",
    "file",
    "cmd",
    "op",
    "vault",
    "libsecret",
    "gcp",
    "aws+sm",
    "aws+ps",
];

/// The provider and reference of a secret URI, refused as the engine refuses it when
/// `Query.secret` is called (upstream `secretprovider.go`, `ResolverForID`: the URI is cut at
/// `://`; `parse %q: malformed id`, `unsupported secret provider: %q`).
pub(crate) fn provider(uri: &str) -> Result<SecretSource, FieldError> {
    let (scheme, reference) = uri
        .split_once("://")
        .ok_or_else(|| FieldError::new(format!("parse {}: malformed id", super::go_quote(uri))))?;
    if !PROVIDERS.contains(&scheme) {
        return Err(FieldError::new(format!(
            "unsupported secret provider: {}",
            super::go_quote(scheme)
        )));
    }
    // The query parameters (`?...`) are the provider's options, not part of the name.
    let name = reference.split('?').next().unwrap_or_default().to_string();
    Ok(match scheme {
        "env" => SecretSource::Env { var: name },
        "file" => SecretSource::File { path: name },
        other => SecretSource::Unmodelled {
            provider: other.to_string(),
        },
    })
}

/// A secret as the engine sees it: a name and where its plaintext lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SecretState {
    pub name: String,
    pub source: SecretSource,
}

impl SecretState {
    /// The plaintext, read from the engine's store, environment or a file.
    pub fn plaintext(&self, ctx: &Ctx) -> Result<String, FieldError> {
        let state = ctx.state();
        if state.recording
            && !matches!(
                self.source,
                SecretSource::Stored { .. } | SecretSource::Env { .. }
            )
        {
            // Plans never read a secret from outside (a file, a command, a vault): where a
            // plan needs one (a registry credential), it stands in, unread.
            return Ok(RECORDING_SECRET_STAND_IN.to_string());
        }
        match &self.source {
            SecretSource::Stored { digest } => {
                state.secrets.get(digest).cloned().ok_or_else(|| {
                    FieldError::new(format!(
                        "secret {:?} not found in this session's secret store",
                        self.name
                    ))
                })
            }
            // upstream engine/client/secretprovider/env.go: a name of 4 characters or more is
            // cut to its first 3 and "..."; the error crosses the session's gRPC connection,
            // which prefixes its code.
            SecretSource::Env { var } => state.env.get(var).cloned().ok_or_else(|| {
                let shown = match var.char_indices().nth(3) {
                    Some((cut, _)) => format!("{}...", &var[..cut]),
                    None => var.clone(),
                };
                FieldError::new(format!(
                    "rpc error: code = Unknown desc = secret env var not found: {}",
                    super::go_quote(&shown)
                ))
            }),
            // upstream engine/client/secretprovider/file.go: `~` expanded, then read.
            SecretSource::File { path } => {
                let expanded = match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
                    (Some(rest), Some(home)) => {
                        std::path::Path::new(&home).join(rest).display().to_string()
                    }
                    _ => path.clone(),
                };
                std::fs::read_to_string(&expanded).map_err(|e| {
                    let cause = match e.kind() {
                        std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
                        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
                        _ => e.to_string(),
                    };
                    FieldError::new(format!(
                        "rpc error: code = Unknown desc = failed to read secret file {}: open {expanded}: {cause}",
                        super::go_quote(path)
                    ))
                })
            }
            SecretSource::Unmodelled { provider } => Err(FieldError::new(format!(
                "the mock engine cannot read secrets of the {provider:?} provider (it models env and file)"
            ))),
        }
    }
}

/// The ID-safe digest naming a stored plaintext.
fn digest(salt: &[u8], plaintext: &str) -> String {
    let mut h = Sha256::new();
    h.update(salt);
    h.update(plaintext.as_bytes());
    format!("sha256:{}", hex::encode(h.finalize()))
}

/// `Query.setSecret` and `Query.secret`.
pub(crate) fn resolve_root(ctx: &Ctx, field: &str, args: &Args) -> Result<Out, FieldError> {
    let mut call_args = serde_json::Map::new();
    if field == "setSecret" {
        let name = args.str("name")?;
        call_args.insert("name".into(), Value::from(name));
        match args.opt_str("plaintext") {
            Some(plaintext) => {
                let mut state = ctx.state();
                let d = digest(&state.secret_salt, plaintext);
                state.secrets.insert(d.clone(), plaintext.to_string());
                call_args.insert("digest".into(), Value::from(d));
            }
            // Replayed from an ID: the digest must name a stored plaintext.
            None => {
                let d = args.str("digest")?;
                if !ctx.state().secrets.contains_key(d) {
                    return Err(FieldError::new(format!(
                        "secret {name:?} not found in this session's secret store"
                    )));
                }
                call_args.insert("digest".into(), Value::from(d));
            }
        }
    } else {
        // The provider is checked at once; the value is read only when used (upstream
        // core/schema/secret.go: an unreadable value only logs a warning here).
        let uri = args.str("uri")?;
        provider(uri)?;
        call_args.insert("uri".into(), Value::from(uri));
        if let Some(key) = args.opt_str("cacheKey") {
            call_args.insert("cacheKey".into(), Value::from(key));
        }
    }
    Ok(Out::Object(Obj::root().then(
        Call {
            field: field.to_string(),
            args: call_args,
        },
        "Secret",
    )))
}

/// Evaluates `Query.setSecret` / `Query.secret`.
pub(crate) fn apply_root(_ctx: &Ctx, call: &Call, args: &Args) -> Result<State, FieldError> {
    if call.field == "setSecret" {
        Ok(State::Secret(SecretState {
            name: args.str("name")?.to_string(),
            source: SecretSource::Stored {
                digest: args.str("digest")?.to_string(),
            },
        }))
    } else {
        let uri = args.str("uri")?;
        Ok(State::Secret(SecretState {
            name: uri.to_string(),
            source: provider(uri)?,
        }))
    }
}

fn resolve(ctx: &Ctx, parent: &Obj, field: &str, args: &Args) -> Result<Out, FieldError> {
    let State::Secret(secret) = ctx.eval(parent)? else {
        return Err(FieldError::new("invalid ID: not a secret"));
    };
    match field {
        "name" => Ok(Out::Value(Value::from(secret.name))),
        "plaintext" => {
            let plaintext = secret.plaintext(ctx)?;
            ctx.state().plaintext_reads.push(secret.name);
            Ok(Out::Value(Value::from(plaintext)))
        }
        _ => super::git_fields::resolve(ctx, parent, field, args),
    }
}

fn apply(_ctx: &Ctx, state: State, call: &Call, _args: &Args) -> Result<State, FieldError> {
    Err(wrong_state(call, &state))
}
