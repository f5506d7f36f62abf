//! `--json`: the result as one JSON object on standard output.
//!
//! ```text
//! {"function": "publish", "engine": "recording", "result": "<reference>@sha256:...",
//!  "references": [{"reference": "...", "tag": "...", "digest": "sha256:...",
//!                  "outcome": "pushed", "digest_is_stand_in": true}],
//!  "platforms": ["linux/amd64"], "labels": {"org.opencontainers.image.version": "..."},
//!  "engine_round_trips": 7, "engine_requests": 9}
//! ```
//! `engine_requests` counts the call's requests (not the one or two `--json` itself asks to
//! read the platforms and labels), `engine_round_trips` the round trips it waited for one after
//! another (requests in flight together count once). On the recording engine every digest is a
//! stand-in.

use serde_json::{json, Map, Value};

use crate::module::Published;
use dagger_engine::gql::{self, Field};
use dagger_engine::EngineClient;
use dagger_publish::TagOutcome;

/// What a call cost the engine: round trips waited for one after another, and requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineCost {
    /// Round trips waited for one after another (requests in flight together count once).
    pub round_trips: usize,
    /// Requests sent.
    pub requests: usize,
}

/// Which engine ran the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// The built-in recording engine (plans).
    Recording,
    /// The Dagger engine of the current session.
    Session,
}

impl Engine {
    fn name(self) -> &'static str {
        match self {
            Engine::Recording => "recording",
            Engine::Session => "session",
        }
    }
}

/// The object for a function that does not publish: its result as text.
pub fn plain(function: &str, result: &str, engine: Engine, cost: EngineCost) -> Value {
    json!({
        "function": function,
        "engine": engine.name(),
        "result": result,
        "engine_round_trips": cost.round_trips,
        "engine_requests": cost.requests,
    })
}

/// The object for a publishing function: every tag with its digest, and the platforms and
/// labels of the images published (read from the engine in two more requests).
pub async fn published(
    function: &str,
    published: &Published,
    client: &EngineClient,
    engine: Engine,
    cost: EngineCost,
) -> Result<Value, String> {
    let stand_in = engine == Engine::Recording;
    let references: Vec<Value> = published
        .report
        .tags
        .iter()
        .map(|t| {
            json!({
                "reference": t.reference.to_string(),
                "tag": t.tag.as_str(),
                "digest": t.reference.digest.to_string(),
                "outcome": match t.outcome {
                    TagOutcome::Pushed => "pushed",
                    TagOutcome::AlreadyPresent => "already-present",
                    TagOutcome::PointedAtExisting => "pointed-at-existing",
                },
                "digest_is_stand_in": stand_in,
            })
        })
        .collect();
    let (platforms, labels) = images(published, client).await?;
    Ok(json!({
        "function": function,
        "engine": engine.name(),
        "result": published.report.primary().to_string(),
        "references": references,
        "platforms": platforms,
        "labels": labels,
        "engine_round_trips": cost.round_trips,
        "engine_requests": cost.requests,
    }))
}

/// The platform of each image published, and the labels of the first.
async fn images(
    published: &Published,
    client: &EngineClient,
) -> Result<(Vec<Value>, Value), String> {
    let mut fields = Vec::new();
    for (i, image) in std::iter::once(&published.image)
        .chain(&published.variants)
        .enumerate()
    {
        let id = image
            .id()
            .await
            .map_err(|e| format!("reading the published image's ID failed: {e}"))?;
        let mut node = Field::node(&id.0, "Container")
            .alias(format!("i{i}"))
            .select(Field::new("platform"));
        if i == 0 {
            node = node.select(
                Field::new("labels")
                    .select(Field::new("name"))
                    .select(Field::new("value")),
            );
        }
        fields.push(node);
    }
    let data = client
        .query(&gql::query(&fields))
        .await
        .map_err(|e| format!("reading the published images' platforms and labels failed: {e}"))?;
    let platforms = (0..fields.len())
        .map(|i| data[format!("i{i}")]["platform"].clone())
        .collect();
    let mut labels = Map::new();
    if let Some(items) = data["i0"]["labels"].as_array() {
        for item in items {
            if let (Some(name), Some(value)) = (item["name"].as_str(), item["value"].as_str()) {
                labels.insert(name.to_string(), Value::from(value));
            }
        }
    }
    Ok((platforms, Value::Object(labels)))
}
