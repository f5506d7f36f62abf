//! Stage inputs: the `dagger-sdk` objects one stage of a build hands to the next (cache
//! volumes, a source directory, a UI build, a binary), with their IDs looked up in batches.
//!
//! `dagger-sdk` passes an object argument (`with_directory(path, dir)`) as the object's ID,
//! which it looks up with a request of its own each time a chain holding the argument is
//! written out, one object after another. A [`StageInputs`] registry (one per build, shared by
//! the clones of its [`BuildContext`](super::BuildContext)) hands out [`InputId`]s instead.
//! The first time one is written out for real, the registry looks up the ID of *every*
//! registered input whose own chain is ready, in one aliased request, level by level, until
//! the one asked for is known:
//!
//! 1. each unresolved input's chain is written out "dry": an unresolved [`InputId`] in it
//!    writes a marker instead of looking itself up, and the input waits for the next level;
//! 2. the ready chains, identical ones counted once, go in one request
//!    `query{i0:<chain>{id} i1:<chain>{id} ...}`;
//! 3. the IDs are kept: a resolved input costs nothing afterwards.
//!
//! `dagger-sdk` `unwrap`s an ID lookup's result, so a failed lookup is never an `Err` here:
//! the input gets an ID the engine refuses, and the registry keeps the cause
//! ([`StageInputs::failure`]) for the error the user reads.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use dagger_engine::gql::{self, Field};
use dagger_engine::{query_error_from_sdk, QueryError};
use dagger_sdk::core::graphql_client::DynGraphQLClient;
use dagger_sdk::errors::DaggerError;
use dagger_sdk::id::IntoID;
use dagger_sdk::{CacheVolume, Container, Directory, File, Id, Selection};

use dagger_engine::gql::Chain;

/// The ID an input gets when its lookup failed: not an ID, so the engine refuses any request
/// using it (`dagger-sdk` writes IDs between quotes unescaped: no `"` or `\` here).
const REFUSED_ID: &str = "stage-input-lookup-failed";

/// What an unresolved input writes during a dry render (never sent to the engine).
const MARKER: &str = "stage-input-pending";

tokio::task_local! {
    /// Set while a registry writes out its inputs' chains to see which are ready.
    static DRY_RENDER: DryRender;
}

/// The registry doing a dry render, and what the rendered chain holds.
struct DryRender {
    registry: usize,
    holds: Arc<Holds>,
}

/// What a dry render came across.
#[derive(Default)]
struct Holds {
    /// An input of the registry not resolved yet.
    pending: AtomicBool,
    /// An input whose lookup failed.
    failed: AtomicBool,
}

/// A `dagger-sdk` object that can be a stage input: anything with a call chain.
pub trait EngineObject {
    /// The object's call chain.
    fn selection(&self) -> &Selection;
}

macro_rules! engine_objects {
    ($($ty:ty),*) => {$(
        impl EngineObject for $ty {
            fn selection(&self) -> &Selection {
                &self.selection
            }
        }
    )*};
}

engine_objects!(CacheVolume, Container, Directory, File);

/// Why stage inputs have no ID. Any request using them fails; this is the cause to report.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StageInputError {
    /// The engine failed the request looking up a level of inputs' IDs.
    #[error(
        "the engine failed to look up the IDs of {inputs} stage input(s) of the build: {source}"
    )]
    Lookup {
        /// How many distinct chains the request looked up.
        inputs: usize,
        /// The engine's error.
        #[source]
        source: QueryError,
    },
    /// An input's call chain could not be written out.
    #[error("the call chain of a stage input of the build could not be written out: {detail}")]
    Render {
        /// What failed.
        detail: String,
    },
    /// Inputs that wait for inputs no lookup of this registry resolves (an [`InputId`] of
    /// another build context inside a chain that another object argument hides).
    #[error("{inputs} stage input(s) of the build wait for inputs that no lookup resolves")]
    Unresolvable {
        /// How many inputs.
        inputs: usize,
    },
}

/// Where an input is.
#[derive(Debug, Clone)]
enum State {
    Pending,
    Resolved(Id),
    Failed,
}

struct Entry {
    selection: Selection,
    state: State,
}

#[derive(Default)]
struct Book {
    entries: Vec<Entry>,
    failure: Option<StageInputError>,
}

struct Registry {
    client: DynGraphQLClient,
    book: Mutex<Book>,
    /// One resolution at a time: two renders never look the same inputs up twice.
    resolving: tokio::sync::Mutex<()>,
}

/// The stage inputs of one build, their IDs looked up in one request per level of stages
/// instead of one per object argument ([`BuildContext::input`](crate::BuildContext::input)).
/// Cheap to clone: clones share the inputs and their IDs.
#[derive(Clone)]
pub struct StageInputs {
    inner: Arc<Registry>,
}

/// A stage input registered with [`StageInputs::register`] (or
/// [`BuildContext::input`](super::BuildContext::input)): pass it wherever `dagger-sdk` takes
/// the object (`with_directory(path, ctx.input(&dir))`).
#[derive(Clone)]
pub struct InputId {
    inputs: StageInputs,
    index: usize,
}

/// The unresolved inputs sorted by a round of dry renders.
#[derive(Default)]
struct Level {
    /// Inputs whose chains hold no unresolved input, with their chains.
    ready: Vec<(usize, Chain)>,
    /// Inputs whose chains hold an unresolved input.
    waiting: Vec<usize>,
    /// Whether the round failed any input.
    settled_any: bool,
}

/// One dry render's verdict on an input.
enum Rendered {
    Ready(Chain),
    Waiting,
    DependsOnFailed,
    Broken(StageInputError),
}

impl StageInputs {
    /// An empty registry whose lookups go through `client` (the engine's, e.g.
    /// `dag.graphql_client`).
    pub fn new(client: DynGraphQLClient) -> Self {
        Self {
            inner: Arc::new(Registry {
                client,
                book: Mutex::default(),
                resolving: tokio::sync::Mutex::new(()),
            }),
        }
    }

    /// Registers `object` and returns its handle. Nothing is sent: its ID is looked up, with
    /// every other ready input's, when a chain holding a handle is first written out.
    pub fn register(&self, object: &impl EngineObject) -> InputId {
        let mut book = self.book();
        book.entries.push(Entry {
            selection: object.selection().clone(),
            state: State::Pending,
        });
        InputId {
            inputs: self.clone(),
            index: book.entries.len() - 1,
        }
    }

    /// Why inputs have no ID, when a lookup failed (the first failure).
    pub fn failure(&self) -> Option<StageInputError> {
        self.book().failure.clone()
    }

    /// How many inputs are registered.
    pub fn len(&self) -> usize {
        self.book().entries.len()
    }

    /// True when no input is registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many inputs have their ID.
    pub fn resolved(&self) -> usize {
        let book = self.book();
        let entries = book.entries.iter();
        entries
            .filter(|e| matches!(e.state, State::Resolved(_)))
            .count()
    }

    fn book(&self) -> MutexGuard<'_, Book> {
        // Every operation under this lock is a push, a read or a state change, never left
        // half done: a poisoned lock still holds a consistent book.
        self.inner.book.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn state(&self, index: usize) -> State {
        self.book()
            .entries
            .get(index)
            .map_or(State::Failed, |e| e.state.clone())
    }

    fn key(&self) -> usize {
        Arc::as_ptr(&self.inner) as usize
    }

    /// The ID of input `index`: its own once known, a marker in this registry's dry render,
    /// otherwise the result of resolving levels of inputs until it is known.
    async fn id_of(&self, index: usize) -> Id {
        match self.state(index) {
            State::Resolved(id) => return id,
            State::Failed => {
                self.note_in_dry_render(|h| &h.failed);
                return Id(REFUSED_ID.into());
            }
            State::Pending => {
                if self.note_in_dry_render(|h| &h.pending) {
                    return Id(MARKER.into());
                }
            }
        }
        let _turn = self.inner.resolving.lock().await;
        self.resolve(index).await;
        match self.state(index) {
            State::Resolved(id) => id,
            _ => Id(REFUSED_ID.into()),
        }
    }

    /// In a dry render of this registry, sets what `flag` picks and returns true.
    fn note_in_dry_render(&self, flag: impl Fn(&Holds) -> &AtomicBool) -> bool {
        DRY_RENDER
            .try_with(|dry| {
                let ours = dry.registry == self.key();
                if ours {
                    flag(&dry.holds).store(true, Ordering::Relaxed);
                }
                ours
            })
            .unwrap_or(false)
    }

    /// Looks levels of ready inputs up until input `target` is resolved or failed.
    async fn resolve(&self, target: usize) {
        while matches!(self.state(target), State::Pending) {
            let level = self.next_level().await;
            if !level.ready.is_empty() {
                self.look_up(level.ready).await;
            } else if !level.settled_any {
                // Nothing ready and nothing failed: no lookup of this registry can help them.
                let cause = StageInputError::Unresolvable {
                    inputs: level.waiting.len(),
                };
                self.settle(&level.waiting, State::Failed, Some(cause));
            }
        }
    }

    /// Renders every unresolved input dry: the ready ones, the ones still waiting; those that
    /// cannot be rendered or build on a failed input are failed here.
    async fn next_level(&self) -> Level {
        let mut level = Level::default();
        for (index, selection) in self.pending() {
            match self.render_dry(selection).await {
                Rendered::Ready(chain) => level.ready.push((index, chain)),
                Rendered::Waiting => level.waiting.push(index),
                Rendered::DependsOnFailed => {
                    self.settle(&[index], State::Failed, None);
                    level.settled_any = true;
                }
                Rendered::Broken(cause) => {
                    self.settle(&[index], State::Failed, Some(cause));
                    level.settled_any = true;
                }
            }
        }
        level
    }

    /// The unresolved inputs.
    fn pending(&self) -> Vec<(usize, Selection)> {
        let book = self.book();
        let entries = book.entries.iter().enumerate();
        entries
            .filter(|(_, e)| matches!(e.state, State::Pending))
            .map(|(i, e)| (i, e.selection.clone()))
            .collect()
    }

    /// Writes out `selection`'s chain without looking any of this registry's inputs up. In a
    /// task of its own: `dagger-sdk` panics when an ID lookup of another object fails.
    async fn render_dry(&self, selection: Selection) -> Rendered {
        let holds = Arc::new(Holds::default());
        let dry = DryRender {
            registry: self.key(),
            holds: holds.clone(),
        };
        let leaf = selection.select("id");
        let render = DRY_RENDER.scope(dry, async move { leaf.build().await });
        let text = match tokio::spawn(render).await {
            Ok(Ok(text)) => text,
            Ok(Err(e)) => return broken(e.to_string()),
            Err(join) if join.is_panic() => {
                return broken(
                    "the engine failed to look up the ID of an object argument that is not a \
                     stage input"
                        .into(),
                )
            }
            Err(join) => return broken(join.to_string()),
        };
        if holds.failed.load(Ordering::Relaxed) {
            return Rendered::DependsOnFailed;
        }
        if holds.pending.load(Ordering::Relaxed) {
            return Rendered::Waiting;
        }
        match Chain::parse(&text) {
            Ok(chain) => Rendered::Ready(chain),
            Err(e) => broken(e.to_string()),
        }
    }

    /// Looks up the IDs of `ready` in one request, identical chains once, and keeps them.
    async fn look_up(&self, ready: Vec<(usize, Chain)>) {
        let mut keys: Vec<String> = Vec::new();
        let mut fields: Vec<Field> = Vec::new();
        let mut alias_of = Vec::new();
        for (index, chain) in &ready {
            let key = chain.key();
            let alias = match keys.iter().position(|k| *k == key) {
                Some(alias) => alias,
                None => {
                    keys.push(key);
                    fields.push(chain.ending_in(&format!("i{}", fields.len()), Field::new("id")));
                    fields.len() - 1
                }
            };
            alias_of.push((*index, alias));
        }
        let all: Vec<usize> = alias_of.iter().map(|(index, _)| *index).collect();
        let data = match self.inner.client.query(&gql::query(&fields)).await {
            Ok(Some(data)) => data,
            Ok(None) => {
                let source = QueryError::MissingData {
                    what: "data".into(),
                };
                return self.fail_lookup(&all, fields.len(), source);
            }
            Err(e) => {
                let source = query_error_from_sdk(&DaggerError::Query(e));
                return self.fail_lookup(&all, fields.len(), source);
            }
        };
        for (index, alias) in alias_of {
            match fields[alias].answer(&data).and_then(|v| v.as_str()) {
                Some(id) => self.settle(&[index], State::Resolved(Id(id.into())), None),
                None => {
                    let source = QueryError::MissingData {
                        what: format!("ID of stage input i{alias}"),
                    };
                    self.fail_lookup(&[index], 1, source);
                }
            }
        }
    }

    fn fail_lookup(&self, indices: &[usize], inputs: usize, source: QueryError) {
        let cause = StageInputError::Lookup { inputs, source };
        self.settle(indices, State::Failed, Some(cause));
    }

    /// Sets the state of `indices`, keeping `cause` when it is the first failure.
    fn settle(&self, indices: &[usize], state: State, cause: Option<StageInputError>) {
        let mut book = self.book();
        for &index in indices {
            if let Some(entry) = book.entries.get_mut(index) {
                entry.state = state.clone();
            }
        }
        if book.failure.is_none() {
            book.failure = cause;
        }
    }
}

fn broken(detail: String) -> Rendered {
    Rendered::Broken(StageInputError::Render { detail })
}

impl IntoID<Id> for InputId {
    fn into_id(self) -> Pin<Box<dyn Future<Output = Result<Id, DaggerError>> + Send>> {
        // Never an error: dagger-sdk unwraps it (see the module docs).
        Box::pin(async move { Ok(self.inputs.id_of(self.index).await) })
    }
}

impl std::fmt::Debug for StageInputs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StageInputs")
            .field("registered", &self.len())
            .field("resolved", &self.resolved())
            .field("failure", &self.failure())
            .finish()
    }
}

impl std::fmt::Debug for InputId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InputId")
            .field("index", &self.index)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dagger_mock_engine::MockEngine;
    use dagger_sdk::Query;

    fn registry() -> (MockEngine, Query, StageInputs) {
        let engine = MockEngine::new();
        let dag = engine.query();
        let inputs = StageInputs::new(dag.graphql_client.clone());
        (engine, dag, inputs)
    }

    fn lookups(engine: &MockEngine) -> Vec<String> {
        let queries = engine.queries().into_iter();
        queries.filter(|q| q.starts_with("query{i0:")).collect()
    }

    /// Two stages: a cache and a source (registered twice, from two writings of one chain),
    /// then a file built from them.
    fn two_stages(dag: &Query, inputs: &StageInputs) -> Container {
        let source = || dag.directory().with_new_file("main.go", "package main\n");
        let cache = inputs.register(&dag.cache_volume("go-mod"));
        let built = dag
            .container()
            .from("golang:1.25-alpine3.22")
            .with_mounted_cache("/go/pkg/mod", cache)
            .with_directory("/src", inputs.register(&source()))
            .with_exec(vec!["go", "build", "-o", "/out/app", "."])
            .file("/out/app");
        dag.container()
            .from("alpine:3.22")
            .with_directory("/etc/app", inputs.register(&source()))
            .with_file("/usr/bin/app", inputs.register(&built))
    }

    #[tokio::test]
    async fn one_request_per_level_identical_chains_once() {
        let (engine, dag, inputs) = registry();
        let image = two_stages(&dag, &inputs);
        assert!(engine.queries().is_empty(), "registering sends nothing");
        image.id().await.expect("the image's ID");
        let lookups = lookups(&engine);
        assert_eq!(lookups.len(), 2, "{lookups:#?}");
        // Level 1: the cache and the source, once for its two registrations.
        assert_eq!(lookups[0].matches("{id}").count(), 2, "{}", lookups[0]);
        assert!(lookups[0].contains("i0:cacheVolume"), "{}", lookups[0]);
        // Level 2: the binary, its chain holding the first level's IDs.
        assert_eq!(lookups[1].matches("{id}").count(), 1, "{}", lookups[1]);
        assert!(lookups[1].contains("mockid:"), "{}", lookups[1]);
        assert_eq!(engine.round_trips(), 3, "two lookups and the image's own");
        assert_eq!((inputs.len(), inputs.resolved()), (4, 4));
        assert_eq!(inputs.failure(), None);
    }

    #[tokio::test]
    async fn a_resolved_input_sends_nothing() {
        let (engine, dag, inputs) = registry();
        let image = two_stages(&dag, &inputs);
        let first = image.id().await.expect("the image's ID");
        engine.reset_recorder();
        let again = image.id().await.expect("the image's ID");
        assert_eq!(first, again);
        assert_eq!(engine.queries().len(), 1, "{:#?}", engine.queries());
        assert!(lookups(&engine).is_empty());
    }

    #[tokio::test]
    async fn concurrent_renders_look_each_level_up_once() {
        let (engine, dag, inputs) = registry();
        let image = two_stages(&dag, &inputs);
        let other = image.with_env_variable("A", "1");
        let (a, b) = tokio::join!(image.id(), other.id());
        assert!(a.is_ok() && b.is_ok());
        assert_eq!(lookups(&engine).len(), 2, "{:#?}", engine.queries());
    }

    #[tokio::test]
    async fn a_failed_lookup_is_reported_not_a_panic() {
        let (engine, dag, inputs) = registry();
        // The engine refuses this chain: its argument is no ID it issued.
        let broken = dag.directory().with_directory("/x", Id("not-an-id".into()));
        let stage = dag
            .container()
            .from("alpine:3.22")
            .with_directory("/src", inputs.register(&broken))
            .file("/src/a");
        let image = dag
            .container()
            .from("alpine:3.22")
            .with_mounted_cache("/c", inputs.register(&dag.cache_volume("c")))
            .with_file("/a", inputs.register(&stage));
        let err = image.id().await.expect_err("the engine refuses the image");
        assert!(err.to_string().contains(REFUSED_ID), "{err}");
        // One lookup: the stage built on the failed input is failed without a request.
        assert_eq!(lookups(&engine).len(), 1, "{:#?}", engine.queries());
        let Some(StageInputError::Lookup { inputs: 2, source }) = inputs.failure() else {
            panic!("expected a lookup failure, got {:?}", inputs.failure());
        };
        assert!(source.to_string().contains("not-an-id"), "{source}");
        // dagql answers all or nothing: the cache beside it got no ID either.
        assert_eq!(inputs.resolved(), 0);
        // Failed inputs are not looked up again.
        engine.reset_recorder();
        assert!(image.id().await.is_err());
        assert!(lookups(&engine).is_empty());
    }

    #[tokio::test]
    async fn an_input_of_another_registry_resolves_itself() {
        let (engine, dag, inputs) = registry();
        let other = StageInputs::new(dag.graphql_client.clone());
        let stage = dag
            .container()
            .from("alpine:3.22")
            .with_mounted_cache("/c", other.register(&dag.cache_volume("c")))
            .file("/a");
        let image = dag
            .container()
            .from("alpine:3.22")
            .with_file("/a", inputs.register(&stage));
        image.id().await.expect("the image's ID");
        assert_eq!((other.resolved(), inputs.resolved()), (1, 1));
        assert_eq!(lookups(&engine).len(), 2, "{:#?}", engine.queries());
    }
}
