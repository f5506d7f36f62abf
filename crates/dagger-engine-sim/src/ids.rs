//! Object IDs: an opaque string encoding the call chain that built an object, as the real engine's
//! IDs do (upstream `dagql/call/id.go`: an ID is the chain of field selections with their
//! arguments, from the root `Query`). Here the chain is canonical JSON
//! `{"type": ..., "calls": [{"field": ..., "args": {...}}]}` (object keys sorted, arguments equal
//! to their default left out), encoded as unpadded URL-safe base64 behind a short prefix, so an ID
//! never holds `"` or `\` (`dagger-sdk` quotes IDs without escaping them) and the same chain always
//! gives the same ID. A secret's plaintext never enters a chain (see `schema/secret.rs`).

use base64::Engine as _;
use serde::{Deserialize, Serialize};

/// The prefix of every mock ID, so a garbled or foreign ID is recognised early.
const PREFIX: &str = "mockid:";

/// One field selection in a chain: the field's name and the arguments given explicitly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Call {
    /// The field's name (never an alias).
    pub field: String,
    /// The arguments, without those equal to the schema's default.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub args: serde_json::Map<String, serde_json::Value>,
}

/// An object of the engine's API: its type and the chain of calls that built it from `Query`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Obj {
    /// The object's GraphQL type name (`Container`, `Secret`, ...).
    #[serde(rename = "type")]
    pub ty: String,
    /// The calls from the root `Query`.
    pub calls: Vec<Call>,
}

/// Why an ID could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum IdError {
    /// Not an ID this engine made.
    #[error("failed to decode ID {shown}: not an ID issued by this engine")]
    Foreign { shown: String },
    /// The encoding is damaged.
    #[error("failed to decode ID {shown}: {detail}")]
    Garbled { shown: String, detail: String },
}

impl Obj {
    /// The root object.
    pub(crate) fn root() -> Self {
        Self {
            ty: "Query".into(),
            calls: Vec::new(),
        }
    }

    /// This object's chain followed by `call`, giving an object of type `ty`.
    pub(crate) fn then(&self, call: Call, ty: &str) -> Self {
        let mut calls = self.calls.clone();
        calls.push(call);
        Self {
            ty: ty.to_string(),
            calls,
        }
    }

    /// The object's ID.
    pub(crate) fn id(&self) -> String {
        // Serialising plain strings, maps and vectors cannot fail.
        let json = serde_json::to_vec(self).unwrap_or_default();
        format!(
            "{PREFIX}{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
        )
    }

    /// Reads an ID made by [`Obj::id`].
    pub(crate) fn decode(id: &str) -> Result<Self, IdError> {
        let shown = shorten(id);
        let body = id.strip_prefix(PREFIX).ok_or_else(|| IdError::Foreign {
            shown: shown.clone(),
        })?;
        let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|e| IdError::Garbled {
                shown: shown.clone(),
                detail: format!("not base64url: {e}"),
            })?;
        serde_json::from_slice(&json).map_err(|e| IdError::Garbled {
            shown,
            detail: format!("not a call chain: {e}"),
        })
    }
}

/// An ID shortened for messages (IDs can be long; the start is enough to recognise one).
fn shorten(id: &str) -> String {
    const MAX: usize = 40;
    match id.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{:?}…", &id[..cut]),
        None => format!("{id:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Obj {
        let mut args = serde_json::Map::new();
        args.insert("address".into(), "alpine\"\\".into());
        Obj::root()
            .then(
                Call {
                    field: "container".into(),
                    args: serde_json::Map::new(),
                },
                "Container",
            )
            .then(
                Call {
                    field: "from".into(),
                    args,
                },
                "Container",
            )
    }

    #[test]
    fn ids_round_trip_and_have_no_quotes() {
        let obj = sample();
        let id = obj.id();
        assert!(!id.contains('"') && !id.contains('\\'), "{id}");
        assert_eq!(Obj::decode(&id).unwrap(), obj);
        assert_eq!(sample().id(), id, "same chain, same ID");
    }

    #[test]
    fn garbled_and_foreign_ids_are_errors() {
        assert!(matches!(Obj::decode("abc"), Err(IdError::Foreign { .. })));
        assert!(matches!(
            Obj::decode("mockid:!!!"),
            Err(IdError::Garbled { .. })
        ));
        let id = sample().id();
        let cut = &id[..id.len() - 5];
        assert!(matches!(Obj::decode(cut), Err(IdError::Garbled { .. })));
    }
}
