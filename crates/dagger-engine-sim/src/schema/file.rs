//! `File` (upstream `core/schema/file.go`).

use serde_json::Value;
use sha2::{Digest as _, Sha256};

use super::super::ids::{Call, Obj};
use super::directory::{content_label, StandIn};
use super::{Args, Ctx, FieldError, Out, State};

pub(crate) const TYPE: super::TypeImpl = super::TypeImpl {
    name: "File",
    sdl: r#"
type File implements Node & Syncer {
  id: ID!
  contents(offsetLines: Int, limitLines: Int): String!
  name: String!
  sync: ID! @expectedType(name: "File")
}
"#,
    resolve,
    apply,
};

/// A file: its base name and text contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileState {
    pub name: String,
    pub contents: String,
    /// Set on the recording engine when the contents are unknown (see [`DirState`]).
    ///
    /// [`DirState`]: super::directory::DirState
    pub stand_in: Option<StandIn>,
}

impl FileState {
    /// A file of known contents.
    pub fn new(name: impl Into<String>, contents: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            contents: contents.into(),
            stand_in: None,
        }
    }

    /// An empty file standing in for unknown contents (recording engine only).
    pub fn standing_in(name: impl Into<String>, stand_in: StandIn) -> Self {
        Self {
            name: name.into(),
            contents: String::new(),
            stand_in: Some(stand_in),
        }
    }

    /// The digest of the contents; for a stand-in, of what it stands for.
    pub fn digest(&self) -> String {
        if let Some(s) = &self.stand_in {
            return s.digest();
        }
        format!(
            "sha256:{}",
            hex::encode(Sha256::digest(self.contents.as_bytes()))
        )
    }

    /// `file <name> <digest>`, marked when it is a stand-in.
    pub fn label(&self) -> String {
        content_label(
            &format!("file {}", self.name),
            &self.digest(),
            self.stand_in.as_ref(),
        )
    }
}

fn resolve(ctx: &Ctx, parent: &Obj, field: &str, args: &Args) -> Result<Out, FieldError> {
    let State::File(file) = ctx.eval(parent)? else {
        return Err(FieldError::new("invalid ID: not a File"));
    };
    match field {
        "name" => Ok(Out::Value(Value::from(file.name))),
        "sync" => Ok(Out::Value(Value::from(parent.id()))),
        "contents" => {
            let offset = args.int("offsetLines").unwrap_or(0).max(0) as usize;
            let limit = args.int("limitLines").map(|l| l.max(0) as usize);
            if offset == 0 && limit.is_none() {
                return Ok(Out::Value(Value::from(file.contents)));
            }
            let lines = file.contents.split_inclusive('\n').skip(offset);
            let text: String = match limit {
                Some(l) => lines.take(l).collect(),
                None => lines.collect(),
            };
            Ok(Out::Value(Value::from(text)))
        }
        _ => super::file_fields::resolve(ctx, parent, field, args),
    }
}

fn apply(ctx: &Ctx, state: State, call: &Call, args: &Args) -> Result<State, FieldError> {
    super::file_fields::apply(ctx, state, call, args)
}
