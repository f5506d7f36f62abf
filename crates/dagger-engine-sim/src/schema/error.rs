//! `Error` (upstream `core/schema/errors.go`): an error value a module returns with
//! `returnError`.

use serde_json::Value;

use super::super::ids::{Call, Obj};
use super::{wrong_state, Args, Ctx, FieldError, Out, State};

pub(crate) const TYPE: super::TypeImpl = super::TypeImpl {
    name: "Error",
    sdl: r#"
type Error implements Node {
  id: ID!
  message: String!
}
"#,
    resolve,
    apply,
};

fn resolve(ctx: &Ctx, parent: &Obj, field: &str, _args: &Args) -> Result<Out, FieldError> {
    match (field, ctx.eval(parent)?) {
        ("message", State::Error { message }) => Ok(Out::Value(Value::from(message))),
        _ => Err(FieldError::new(format!(
            "Error.{field} is not implemented by the mock engine"
        ))),
    }
}

fn apply(_ctx: &Ctx, state: State, call: &Call, _args: &Args) -> Result<State, FieldError> {
    Err(wrong_state(call, &state))
}
