//! `Address` (upstream `core/schema/address.go`): a value the Dagger CLI turns into a resource.
//! Only `.secret` and `.value` are modelled: what `--flag=value` of a `Secret` argument becomes
//! (`cmd/dagger/flags.go`, `secretValue.Get`: `address(value:).secret`).

use serde_json::{Map, Value};

use super::super::ids::{Call, Obj};
use super::{wrong_state, Args, Ctx, FieldError, Out, State};

pub(crate) const TYPE: super::TypeImpl = super::TypeImpl {
    name: "Address",
    sdl: r#"
type Address implements Node {
  id: ID!
  secret: Secret!
  value: String!
}
"#,
    resolve,
    apply,
};

/// `Query.address(value:)`: the engine refuses an empty value when the address is built.
pub(crate) fn check_value(args: &Args) -> Result<(), FieldError> {
    if args.str("value")?.is_empty() {
        return Err(FieldError::new("resource cannot have empty address"));
    }
    Ok(())
}

/// The URI `Address.secret` gives `Query.secret` (upstream `core/schema/address.go`, `secret`):
/// `NAME` is `env://NAME`; a legacy `scheme:rest` becomes `scheme://rest`.
pub(crate) fn secret_uri(value: &str) -> String {
    if !value.contains(':') {
        return format!("env://{value}");
    }
    let (scheme, rest) = value.split_once(':').unwrap_or((value, ""));
    if rest.starts_with("//") {
        value.to_string()
    } else {
        format!("{scheme}://{rest}")
    }
}

fn value(ctx: &Ctx, parent: &Obj) -> Result<String, FieldError> {
    match ctx.eval(parent)? {
        State::Other(Value::String(v)) => Ok(v),
        other => Err(FieldError::new(format!(
            "invalid ID: expected an Address, found a {}",
            other.kind()
        ))),
    }
}

fn resolve(ctx: &Ctx, parent: &Obj, field: &str, _args: &Args) -> Result<Out, FieldError> {
    match field {
        "value" => Ok(Out::Value(Value::from(value(ctx, parent)?))),
        // Selects `Query.secret(uri:)`, as upstream does: the secret's ID is that call's.
        "secret" => {
            let mut args = Map::new();
            args.insert("uri".into(), Value::from(secret_uri(&value(ctx, parent)?)));
            super::secret::resolve_root(ctx, "secret", &Args(args))
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
    fn values_map_to_secret_uris_as_the_cli_does() {
        assert_eq!(secret_uri("GHCR_TOKEN"), "env://GHCR_TOKEN");
        assert_eq!(secret_uri("env:GHCR_TOKEN"), "env://GHCR_TOKEN");
        assert_eq!(secret_uri("env://GHCR_TOKEN"), "env://GHCR_TOKEN");
        assert_eq!(secret_uri("file:/run/token"), "file:///run/token");
        assert_eq!(secret_uri("op://vault/item/field"), "op://vault/item/field");
    }
}
