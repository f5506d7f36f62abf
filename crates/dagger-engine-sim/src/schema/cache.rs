//! `CacheVolume` (upstream `core/schema/cache.go`): only its ID.

use super::super::ids::{Call, Obj};
use super::{wrong_state, Args, Ctx, FieldError, Out, State};

pub(crate) const TYPE: super::TypeImpl = super::TypeImpl {
    name: "CacheVolume",
    sdl: r#"
type CacheVolume implements Node {
  id: ID!
}
"#,
    resolve,
    apply,
};

fn resolve(_ctx: &Ctx, _parent: &Obj, field: &str, _args: &Args) -> Result<Out, FieldError> {
    Err(FieldError::new(format!(
        "CacheVolume.{field} is not implemented by the mock engine"
    )))
}

fn apply(_ctx: &Ctx, state: State, call: &Call, _args: &Args) -> Result<State, FieldError> {
    Err(wrong_state(call, &state))
}
