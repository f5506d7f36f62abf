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

/// Where a secret's plaintext comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SecretSource {
    /// `setSecret`: the plaintext is in the engine's store under this digest.
    Stored { digest: String },
    /// `secret(uri: "env:NAME")`: read from the engine's environment when used.
    Env { var: String },
}

/// A secret as the engine sees it: a name and where its plaintext lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SecretState {
    pub name: String,
    pub source: SecretSource,
}

impl SecretState {
    /// The plaintext, read from the engine's store or environment.
    pub fn plaintext(&self, ctx: &Ctx) -> Result<String, FieldError> {
        let state = ctx.state();
        match &self.source {
            SecretSource::Stored { digest } => {
                state.secrets.get(digest).cloned().ok_or_else(|| {
                    FieldError::new(format!(
                        "secret {:?} not found in this session's secret store",
                        self.name
                    ))
                })
            }
            SecretSource::Env { var } => state.env.get(var).cloned().ok_or_else(|| {
                // upstream core/secretprovider/env.go words it "secret env var not found".
                FieldError::new(format!("secret env var not found: \"{}\"", var))
            }),
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
        let uri = args.str("uri")?;
        parse_uri(uri)?;
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

/// The environment variable named by a secret URI. Only `env:` (and `env://`) is modelled; the
/// real engine also knows `file:`, `cmd:`, `op:`, `vault:` (upstream `core/secretprovider`).
fn parse_uri(uri: &str) -> Result<String, FieldError> {
    let (scheme, rest) = uri.split_once(':').ok_or_else(|| {
        FieldError::new(format!(
            "invalid secret URI {uri:?}: expected <provider>:<reference>, e.g. env:NAME"
        ))
    })?;
    let var = rest.strip_prefix("//").unwrap_or(rest);
    match scheme {
        "env" if !var.is_empty() => Ok(var.to_string()),
        "env" => Err(FieldError::new(format!(
            "invalid secret URI {uri:?}: the variable name is empty"
        ))),
        other => Err(FieldError::new(format!(
            "unsupported secret provider {other:?} in {uri:?}: the mock engine models env: only"
        ))),
    }
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
            source: SecretSource::Env {
                var: parse_uri(uri)?,
            },
        }))
    }
}

fn resolve(ctx: &Ctx, parent: &Obj, field: &str, _args: &Args) -> Result<Out, FieldError> {
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
        other => Err(FieldError::new(format!(
            "Secret.{other} is not implemented by the mock engine"
        ))),
    }
}

fn apply(_ctx: &Ctx, state: State, call: &Call, _args: &Args) -> Result<State, FieldError> {
    Err(wrong_state(call, &state))
}
