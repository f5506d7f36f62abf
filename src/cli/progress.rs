//! Progress in a real session: the phases of a call as they start and end, one plain line each
//! on standard error, with durations.
//!
//! The build runs lazily inside one engine request, so single build steps cannot be seen from
//! the client (under `dagger run` the engine's own view shows them). What can be seen is each
//! engine request and each existing-tag check: [`CountingTransport`] names the requests that
//! build, run or push (from the engine fields they select: `publish`, `sync`, `stdout`, ...),
//! and the existing-tag checks (`from(address:){imageRef}`); it reports to one [`Reporter`], which `--quiet` (and the
//! recording engine) silences. The transport also counts the round trips, for `--json`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use graphql_parser::query::{
    Definition, OperationDefinition, Selection, SelectionSet, Value as GqlValue,
};
use serde_json::Value;

use super::json::EngineCost;
use super::output;
use dagger_engine::{Response, RoundTripMeter, Transport, TransportError};

/// Writes the phase lines, or nothing when silenced.
#[derive(Debug, Clone, Copy)]
pub struct Reporter {
    enabled: bool,
}

impl Reporter {
    /// A reporter that writes when `enabled`.
    pub fn new(enabled: bool) -> Self {
        Self { enabled }
    }

    /// Starts a phase: `blumeops: <what> ...` now, its end line when [`Phase::end`] is called.
    pub fn start(&self, what: impl Into<String>) -> Phase {
        let what = what.into();
        self.line(&format!("{what} ..."));
        Phase {
            reporter: *self,
            what,
            started: Instant::now(),
        }
    }

    /// A phase that has already ended (started at `started`).
    pub fn ended(&self, what: &str, outcome: &str, started: Instant) {
        self.line(&format!("{what}: {outcome} ({})", seconds(started)));
    }

    /// One line of its own: `blumeops: <text>`.
    pub fn line(&self, text: &str) {
        if self.enabled {
            output::info(&format!("blumeops: {text}"));
        }
    }
}

fn seconds(started: Instant) -> String {
    format!("{:.1} s", started.elapsed().as_secs_f64())
}

/// A phase under way.
#[must_use = "a phase reports its end with end()"]
#[derive(Debug)]
pub struct Phase {
    reporter: Reporter,
    what: String,
    started: Instant,
}

impl Phase {
    /// `blumeops: <what>: <outcome> (<seconds> s)`.
    pub fn end(self, outcome: &str) {
        self.reporter.ended(&self.what, outcome, self.started);
    }
}

/// What an engine request asks for, as far as progress goes.
#[derive(Debug, Default, PartialEq, Eq)]
struct Request {
    /// The addresses of its `publish` fields.
    pushes: Vec<String>,
    /// Whether it evaluates a container (`sync`, `stdout`, `stderr`, `exitCode`).
    evaluates: bool,
    /// The last command it runs (`withExec(args:)`), if any.
    exec: Option<Vec<String>>,
    /// The references it resolves to learn their digests (`from(address:){imageRef}`): the
    /// existing-tag check.
    checks: Vec<String>,
}

impl Request {
    fn read(query: &str) -> Self {
        let mut request = Request::default();
        if let Ok(doc) = graphql_parser::parse_query::<String>(query) {
            for definition in &doc.definitions {
                match definition {
                    Definition::Operation(OperationDefinition::Query(q)) => {
                        request.walk(&q.selection_set)
                    }
                    Definition::Operation(OperationDefinition::SelectionSet(s)) => request.walk(s),
                    _ => {}
                }
            }
        }
        request
    }

    fn walk(&mut self, set: &SelectionSet<'_, String>) {
        for selection in &set.items {
            match selection {
                Selection::Field(field) => {
                    let arg = |name: &str| {
                        field
                            .arguments
                            .iter()
                            .find(|(n, _)| n == name)
                            .map(|(_, v)| v)
                    };
                    match field.name.as_str() {
                        "publish" => {
                            if let Some(GqlValue::String(address)) = arg("address") {
                                self.pushes.push(address.clone());
                            }
                        }
                        "from" => {
                            let reads_ref =
                                field.selection_set.items.iter().any(
                                    |s| matches!(s, Selection::Field(f) if f.name == "imageRef"),
                                );
                            if let (true, Some(GqlValue::String(address))) =
                                (reads_ref, arg("address"))
                            {
                                self.checks.push(address.clone());
                            }
                        }
                        "sync" | "stdout" | "stderr" | "exitCode" => self.evaluates = true,
                        "withExec" => {
                            if let Some(GqlValue::List(items)) = arg("args") {
                                self.exec = Some(
                                    items
                                        .iter()
                                        .filter_map(|v| match v {
                                            GqlValue::String(s) => Some(s.clone()),
                                            _ => None,
                                        })
                                        .collect(),
                                );
                            }
                        }
                        _ => {}
                    }
                    self.walk(&field.selection_set);
                }
                Selection::InlineFragment(fragment) => self.walk(&fragment.selection_set),
                Selection::FragmentSpread(_) => {}
            }
        }
    }

    /// The phase's name, or `None` for a request that neither builds, runs nor pushes (IDs,
    /// registration, a password read): those take no time worth a line.
    fn phase(&self, built: bool) -> Option<String> {
        let build = if built { "" } else { "build and " };
        if !self.pushes.is_empty() {
            return Some(format!("{build}push of {}", self.pushes.join(", ")));
        }
        if !self.checks.is_empty() {
            return Some(format!("existing-tag check of {}", self.checks.join(", ")));
        }
        if !self.evaluates {
            return None;
        }
        Some(match &self.exec {
            Some(args) => format!(
                "{build}run `{}`",
                dagger_engine::command::display_command(args)
            ),
            None if built => "evaluation".into(),
            None => "build".into(),
        })
    }
}

/// Every `<address>@sha256:...` string in an answer, as (address, digest): what `publish` and
/// `imageRef` answer.
fn digest_refs<'a>(data: &'a Value, out: &mut Vec<(&'a str, &'a str)>) {
    match data {
        Value::String(s) => {
            if let Some((address, digest)) = s.split_once('@') {
                if digest.starts_with("sha256:") {
                    out.push((address, digest));
                }
            }
        }
        Value::Object(map) => map.values().for_each(|v| digest_refs(v, out)),
        Value::Array(items) => items.iter().for_each(|v| digest_refs(v, out)),
        _ => {}
    }
}

/// The references with digests in a push's answer, for the addresses the request's `publish`
/// fields name. Nothing else in an answer is a push.
fn pushed(data: &Value, addresses: &[String], out: &mut Vec<String>) {
    let mut found = Vec::new();
    digest_refs(data, &mut found);
    out.extend(
        found
            .into_iter()
            .filter(|(address, _)| addresses.iter().any(|a| a == address))
            .map(|(address, digest)| format!("{address}@{digest}")),
    );
}

/// The digest an existing-tag check's answer gives `address` (`imageRef`:
/// `<address>@sha256:...`), if any.
fn checked_digest<'a>(data: &'a Value, address: &str) -> Option<&'a str> {
    let mut found = Vec::new();
    digest_refs(data, &mut found);
    found
        .into_iter()
        .find(|(a, _)| *a == address)
        .map(|(_, digest)| digest)
}

/// One line per tag an existing-tag check's answer settles: "exists at sha256:...", "not there
/// yet", or "could not be checked: <the engine's words>". A tag no error names in an answer
/// that has errors gets no line: the engine dropped its answer (dagql answers all or nothing)
/// and the publisher asks again.
fn check_lines(addresses: &[String], response: &dagger_engine::Response) -> Vec<String> {
    let mut lines = Vec::new();
    for address in addresses {
        if response.errors.is_empty() {
            let found = response
                .data
                .as_ref()
                .and_then(|data| checked_digest(data, address));
            lines.push(match found {
                Some(digest) => format!("existing-tag check: {address} exists at {digest}"),
                None => format!("existing-tag check: {address}: no digest in the answer"),
            });
            continue;
        }
        let named = response.errors.iter().find(|e| {
            e.message.contains(&format!("{address}: "))
                || e.message.contains(&format!("\"{address}\""))
        });
        if let Some(error) = named {
            if error.message.contains(&format!("{address}: not found")) {
                lines.push(format!("existing-tag check: {address} not there yet"));
            } else {
                let first = error.message.lines().next().unwrap_or_default();
                lines.push(format!(
                    "existing-tag check: {address} could not be checked: {first}"
                ));
            }
        }
    }
    lines
}

/// A transport that counts requests and round trips and reports the requests that build, run
/// or push.
pub struct CountingTransport {
    inner: Arc<dyn Transport>,
    reporter: Reporter,
    meter: RoundTripMeter,
    built: AtomicBool,
}

impl CountingTransport {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn Transport>, reporter: Reporter) -> Self {
        Self {
            inner,
            reporter,
            meter: RoundTripMeter::default(),
            built: AtomicBool::new(false),
        }
    }

    /// The round trips waited for so far, one after another (requests in flight together count
    /// once; [`RoundTripMeter::sequential`]).
    pub fn round_trips(&self) -> usize {
        self.meter.sequential()
    }

    /// The requests sent so far.
    pub fn requests(&self) -> usize {
        self.meter.requests()
    }

    /// Both counts, for `--json`.
    pub fn cost(&self) -> EngineCost {
        EngineCost {
            round_trips: self.round_trips(),
            requests: self.requests(),
        }
    }
}

#[async_trait]
impl Transport for CountingTransport {
    async fn execute(&self, query: &str) -> Result<Response, TransportError> {
        let request = Request::read(query);
        let phase = request
            .phase(self.built.load(Ordering::Relaxed))
            .map(|what| self.reporter.start(what));
        let ticket = self.meter.start();
        let answer = self.inner.execute(query).await;
        self.meter.end(ticket);
        let Some(phase) = phase else {
            return answer;
        };
        match &answer {
            // The existing-tag check: what it learnt of each tag, never "pushed".
            Ok(response) if request.pushes.is_empty() && !request.checks.is_empty() => {
                for line in check_lines(&request.checks, response) {
                    self.reporter.line(&line);
                }
                phase.end(if response.errors.is_empty() {
                    "done"
                } else if response
                    .errors
                    .iter()
                    .all(|e| e.message.ends_with(": not found"))
                {
                    "answered"
                } else {
                    "failed"
                })
            }
            Ok(response) if response.errors.is_empty() => {
                self.built.store(true, Ordering::Relaxed);
                let mut refs = Vec::new();
                if let Some(data) = &response.data {
                    pushed(data, &request.pushes, &mut refs);
                }
                for reference in refs {
                    self.reporter.line(&format!("pushed {reference}"));
                }
                phase.end("done");
            }
            Ok(response) => phase.end(&format!(
                "failed ({} error(s) from the engine)",
                response.errors.len()
            )),
            Err(_) => phase.end("failed (no answer from the engine)"),
        }
        answer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_named_by_what_they_build_run_or_push() {
        let push = Request::read(
            r#"query{t0:loadContainerFromID(id:"x"){publish(address:"r/a:v1")} t1:loadContainerFromID(id:"x"){publish(address:"r/a:v2")}}"#,
        );
        assert_eq!(
            push.phase(false).as_deref(),
            Some("build and push of r/a:v1, r/a:v2")
        );
        assert_eq!(push.phase(true).as_deref(), Some("push of r/a:v1, r/a:v2"));
        let check = Request::read(
            r#"query{container{from(address:"alpine"){withExec(args:["app","--version"]){stdout}}}}"#,
        );
        assert_eq!(
            check.phase(false).as_deref(),
            Some("build and run `app --version`")
        );
        let ids = Request::read(r#"query{a0:address(value:"."){directory{id}}}"#);
        assert_eq!(ids.phase(false), None);
    }

    #[test]
    fn pushed_references_are_read_from_the_answer() {
        let mut refs = Vec::new();
        pushed(
            &serde_json::json!({"t0": {"publish": "r/a:v1@sha256:00"}, "t1": null, "t2": "r/b:v1@sha256:11"}),
            &["r/a:v1".to_string()],
            &mut refs,
        );
        assert_eq!(refs, ["r/a:v1@sha256:00"]);
    }

    fn entry(message: &str) -> dagger_engine::GraphQLErrorEntry {
        serde_json::from_value(serde_json::json!({ "message": message })).unwrap()
    }

    #[test]
    fn a_check_is_logged_per_tag_as_what_it_found_never_as_a_push() {
        let addresses = ["r/a:v1".to_string(), "r/a:latest".to_string()];
        // Both answered: each exists, with its digest.
        let both = dagger_engine::Response {
            data: Some(serde_json::json!({
                "t0": {"from": {"imageRef": "r/a:v1@sha256:00"}},
                "t1": {"from": {"imageRef": "r/a:latest@sha256:11"}},
            })),
            errors: vec![],
        };
        assert_eq!(
            check_lines(&addresses, &both),
            [
                "existing-tag check: r/a:v1 exists at sha256:00",
                "existing-tag check: r/a:latest exists at sha256:11"
            ]
        );
        // One absent: dagql drops the other's answer, so only the absent one is logged.
        let one = dagger_engine::Response {
            data: None,
            errors: vec![entry(
                "failed to resolve image \"r/a:latest\" (platform: \"linux/amd64\"): r/a:latest: not found",
            )],
        };
        assert_eq!(
            check_lines(&addresses, &one),
            ["existing-tag check: r/a:latest not there yet"]
        );
        // A lookup that failed says so.
        let failed = dagger_engine::Response {
            data: None,
            errors: vec![entry(
                "failed to resolve image \"r/a:v1\" (platform: \"linux/amd64\"): unexpected status from HEAD request to https://r/v2/a/manifests/v1: 503 Service Unavailable",
            )],
        };
        let lines = check_lines(&addresses, &failed);
        assert_eq!(lines.len(), 1);
        assert!(
            lines[0].starts_with(
                "existing-tag check: r/a:v1 could not be checked: failed to resolve image"
            ),
            "{lines:?}"
        );
    }
}
