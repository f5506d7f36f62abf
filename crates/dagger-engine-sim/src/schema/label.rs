//! `Label` (upstream `core/schema/container.go`, `labels`): one label of a container's image
//! config, as `Container.labels` lists them.
//!
//! An element of the list is the container's chain followed by `labels` with the label's name
//! (upstream names list elements by position; here the name tells them apart, as for
//! `FunctionCall.inputArgs`).

use serde_json::{Map, Value};

use super::super::ids::{Call, Obj};
use super::{wrong_state, Args, Ctx, FieldError, Out, State};

pub(crate) const TYPE: super::TypeImpl = super::TypeImpl {
    name: "Label",
    sdl: r#"
type Label implements Node {
  id: ID!
  name: String!
  value: String!
}
"#,
    resolve,
    apply,
};

/// `Container.labels`: one `Label` per label the chain set, in order (a later `withLabel` of
/// the same name replaces the earlier one and takes its place last).
pub(crate) fn list(container: &Obj, labels: &[(String, String)]) -> Out {
    Out::Objects(
        labels
            .iter()
            .map(|(name, _)| {
                let mut args = Map::new();
                args.insert("name".into(), Value::from(name.clone()));
                container.then(
                    Call {
                        field: "labels".into(),
                        args,
                    },
                    "Label",
                )
            })
            .collect(),
    )
}

fn resolve(ctx: &Ctx, parent: &Obj, field: &str, _args: &Args) -> Result<Out, FieldError> {
    let bad = || FieldError::new("invalid ID: not a label of a container");
    let (last, chain) = parent.calls.split_last().ok_or_else(bad)?;
    let name = last
        .args
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(bad)?;
    let container = Obj {
        ty: "Container".into(),
        calls: chain.to_vec(),
    };
    let State::Container(c) = ctx.eval(&container)? else {
        return Err(bad());
    };
    let value = super::image_config::ImageConfig::of(&c)
        .labels
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v)
        .ok_or_else(|| FieldError::new(format!("the container has no label {name:?}")))?;
    match field {
        "name" => Ok(Out::Value(Value::from(name))),
        "value" => Ok(Out::Value(Value::from(value))),
        other => Err(FieldError::new(format!(
            "Label.{other} is not implemented by the mock engine"
        ))),
    }
}

fn apply(_ctx: &Ctx, state: State, call: &Call, _args: &Args) -> Result<State, FieldError> {
    Err(wrong_state(call, &state))
}
