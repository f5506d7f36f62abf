//! A simulated Dagger engine: it answers the engine's GraphQL API in-process, with the engine's
//! rules and wording, and runs nothing.
//!
//! [`MockEngine`] answers in-process ([`MockEngine::client`], [`MockEngine::query`]); a server
//! of the session protocol answers through [`MockEngine::execute`] (`dagger-mock-engine`'s
//! `SessionServer`), with the same evaluator and recorder behind both. Queries are parsed with
//! `graphql-parser` and evaluated against a schema whose names come from the engine's
//! (`schema/`); objects are lazy call chains with opaque IDs (`ids.rs`); `publish` goes through
//! a registry model with accounts, create-only rights, transient faults and unreachable hosts,
//! worded as the engine words them. The recording engine ([`MockEngine::recording`]) records a
//! whole pipeline as a [`Plan`] without running it.
//!
//! This crate has no server, no process, no HTTP client: a program may link it to check or
//! plan its engine calls. The test kit, `dagger-mock-engine`, adds the session server, a stub
//! HTTP server, a local OCI registry and simulated registries backed by a real one
//! ([`RegistryBackend`]).
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let engine = dagger_engine_sim::MockEngine::new();
//! let out = engine
//!     .query()
//!     .container()
//!     .from("alpine")
//!     .with_exec(vec!["echo", "hi"])
//!     .stdout()
//!     .await
//!     .unwrap();
//! assert_eq!(out, "hi\n");
//! # });
//! ```
//!
//! # Build-then-copy pipelines
//!
//! The mock runs no command, so what a command writes exists only when the test declares it:
//! one [`CommandEffect`] per command ([`MockEngine::on_exec`]), matched by exact arguments, by a
//! part of the command line, or by a predicate; the first match wins
//! ([`MockEngine::override_exec`] puts a declaration ahead of a fixture's defaults), and
//! [`CommandEffect::requires`] makes one depend on what the container holds. Files a base image
//! brings are declared the same way with [`ImageFiles`] ([`MockEngine::on_from`]). A path
//! nothing put there fails as on the engine (`lstat /out/app: no such file or directory`),
//! followed by the commands that ran and the declaration that would put it there.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use dagger_engine_sim::{BuildStep, CommandEffect, MockEngine};
//!
//! /// A Go builder stage, its binary copied into a runtime image.
//! fn pipeline(dag: &dagger_engine_sim::dagger_sdk::Query) -> dagger_engine_sim::dagger_sdk::Container {
//!     let src = dag.directory().with_new_file("main.go", "package main\nfunc main() {}\n");
//!     let binary = dag
//!         .container()
//!         .from("golang:1.24-alpine")
//!         .with_directory("/src", src)
//!         .with_workdir("/src")
//!         .with_exec(vec!["go", "build", "-o", "/out/app", "."])
//!         .file("/out/app");
//!     dag.container()
//!         .from("alpine:3.22")
//!         .with_file("/usr/local/bin/app", binary)
//!         .with_entrypoint(vec!["/usr/local/bin/app"])
//! }
//!
//! let engine = MockEngine::new();
//! engine.on_exec(CommandEffect::containing("go build").writes_file("/out/app", "\x7fELF app"));
//! let reference = pipeline(&engine.query())
//!     .publish("registry.example.org/team/app:v1")
//!     .await
//!     .unwrap();
//! assert!(reference.starts_with("registry.example.org/team/app:v1@sha256:"));
//!
//! // What was built: the runtime image, and the builder stage its binary comes from.
//! let published = &engine.published()[0].container;
//! assert_eq!(published.stages[0].output, "/out/app");
//! assert!(published.stages[0].container.steps.contains(&BuildStep::Exec {
//!     args: ["go", "build", "-o", "/out/app", "."].map(String::from).to_vec(),
//!     expect: "SUCCESS".into(),
//! }));
//!
//! // Without the declaration, the copy fails with the engine's words and a hint.
//! let strict = MockEngine::new();
//! let err = pipeline(&strict.query())
//!     .publish("registry.example.org/team/app:v1")
//!     .await
//!     .unwrap_err()
//!     .to_string();
//! assert!(err.contains("lstat /out/app: no such file or directory"), "{err}");
//! assert!(err.contains("`go build -o /out/app .`"), "{err}");
//! assert!(err.contains(r#"CommandEffect::containing("go build").writes_file("/out/app""#), "{err}");
//! # });
//! ```
//!
//! [`MockEngine::recording`] is the lenient engine for plans: there a path a command would have
//! written reads as empty (a directory whose every file is known still lacks a missing one).
//!
//! # Registry clients inside the engine
//!
//! A command the test did not declare may still be one the registry model answers: `skopeo
//! list-tags docker://<repository>`, run directly or through `sh -c` with the password in a
//! secret variable (`withSecretVariable`), lists the model's tags with the model's accounts
//! (or the real registry's, for a model [`RegistryModel::backed_by`] one), worded as skopeo
//! words its answers and failures.

mod describe;
mod effects;
mod exec;
mod ids;
mod image_address;
mod needs;
mod paths;
mod plan;
mod registry_backend;
mod registry_client;
mod registry_model;
// The schema's types and resolvers are crate-internal, their items `pub` within it: a schema
// file is written like every other (`schema/mod.rs` says how), without visibility noise.
#[allow(unreachable_pub)]
pub(crate) mod schema;
mod state;

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;

pub use describe::{BuildStep, ContainerDescription, Stage};
pub use effects::{
    AddressPredicate, ArgvPredicate, CommandEffect, CommandMatch, ExecFailure, ImageFiles,
    ImageMatch,
};
pub use plan::Plan;
pub use registry_backend::{BackendCredentials, BackendError, RegistryBackend};
pub use registry_model::{AccountRights, PushFailure, RegistryModel};
pub use schema::module::{
    FunctionCallSpec, RegisteredArg, RegisteredFunction, RegisteredModule, RegisteredObject,
    RegisteredType,
};
pub use schema::query::DEFAULT_PLATFORM;
pub use schema::secret::RECORDING_SECRET_STAND_IN;

/// The engine seam the mock is a transport of.
pub use dagger_engine::{self, EngineClient};
/// The `dagger-sdk` this engine speaks (so a test needs no version of its own).
pub use dagger_sdk;

use dagger_engine::{Response, Transport, TransportError};
use state::Shared;

/// The mock engine. Cloning gives another handle on the same state.
#[derive(Clone)]
pub struct MockEngine {
    shared: Arc<Shared>,
}

impl Default for MockEngine {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for MockEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockEngine").finish_non_exhaustive()
    }
}

/// One successful `publish`, as the engine performed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishRecord {
    /// The address as given to `publish`.
    pub address: String,
    /// What `publish` answered: the address with `@sha256:<digest>`.
    pub reference: String,
    /// The normalised registry host.
    pub host: String,
    /// The session credential used, if any.
    pub auth: Option<AuthUse>,
    /// The published container.
    pub container: ContainerDescription,
    /// How many platform variants were published with it.
    pub platform_variants: usize,
    /// The platform variants' builds, in order (`publish(platformVariants:)`).
    pub variants: Vec<ContainerDescription>,
}

/// A read of a command's output (`stdout`, `stderr` or `exitCode` of a container whose last
/// step is an exec): a check a client ran before deciding something, such as a smoke check
/// before a push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandOutputRead {
    /// The platform of the container the command ran in (`None`: the engine's).
    pub platform: Option<String>,
    /// The command.
    pub command: Vec<String>,
    /// The field read: `stdout`, `stderr` or `exitCode`.
    pub field: String,
    /// What the engine answered.
    pub value: String,
}

/// A registry credential used by a publish (never the password).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthUse {
    /// The normalised host the credential was stored for.
    pub host: String,
    /// The user name.
    pub username: String,
    /// The name of the Secret holding the password.
    pub secret_name: String,
}

/// One request of the session protocol, evaluated ([`MockEngine::execute`]).
#[derive(Debug, Clone)]
pub struct Execution {
    /// The answer: data and errors.
    pub response: Response,
    /// Whether the request was refused before evaluation (it does not parse, or does not
    /// validate against the schema): the engine then answers `422` with errors and no data.
    pub invalid: bool,
}

/// The in-process transport: every query goes straight to the evaluator.
struct InProcess {
    shared: Arc<Shared>,
}

#[async_trait]
impl Transport for InProcess {
    async fn execute(&self, query: &str) -> Result<Response, TransportError> {
        let latency = self.shared.lock().latency;
        Ok(exec::run(self.shared.clone(), query, None, latency)
            .await
            .response)
    }
}

impl MockEngine {
    /// A fresh engine: no registries configured (any host accepts anonymous pushes), no
    /// failures injected, an empty recorder.
    pub fn new() -> Self {
        Self {
            shared: Arc::new(Shared::new()),
        }
    }

    /// The recording engine: a mock engine for plans (the `blumeops` binary's plan mode). Like
    /// [`MockEngine::new`], but since nothing runs, what a command would have written is
    /// unknown: a path read from a container that no test declared, or a git tree nobody
    /// declared, is taken as empty instead of failing, so a whole pipeline can be recorded. A
    /// directory whose every file is known (not one a command may have written to) lacks a
    /// missing file as on the engine.
    pub fn recording() -> Self {
        let engine = Self::new();
        engine.shared.lock().recording = true;
        engine
    }

    /// A wait before each in-process answer, as a network round trip's: requests a client sends
    /// together are then in flight together whatever the scheduling, and
    /// [`MockEngine::sequential_round_trips`] counts them once. Under a paused tokio clock
    /// (`start_paused`) the wait takes no time and the count is exact. Zero, the default: the
    /// answer is immediate, and requests sent together are mostly seen one after another. The
    /// session server of `dagger-mock-engine` has its own.
    pub fn set_latency(&self, latency: std::time::Duration) {
        self.shared.lock().latency = (!latency.is_zero()).then_some(latency);
    }

    /// The in-process transport.
    pub fn transport(&self) -> Arc<dyn Transport> {
        Arc::new(InProcess {
            shared: self.shared.clone(),
        })
    }

    /// A client on the in-process transport.
    pub fn client(&self) -> EngineClient {
        EngineClient::new(self.transport())
    }

    /// A `dagger_sdk::Query` on the in-process transport (`self.client().dagger()`).
    pub fn query(&self) -> dagger_sdk::Query {
        self.client().dagger()
    }

    /// Evaluates one request of the session protocol (`query` and its `variables`, after a
    /// wait of `latency` once the request is recorded as arrived), as a server of that protocol
    /// answers it: `dagger-mock-engine`'s session server is this behind HTTP.
    pub async fn execute(
        &self,
        query: &str,
        variables: Option<&serde_json::Value>,
        latency: Option<std::time::Duration>,
    ) -> Execution {
        let outcome = exec::run(self.shared.clone(), query, variables, latency).await;
        Execution {
            response: outcome.response,
            invalid: outcome.invalid,
        }
    }

    /// The model of a registry host (the address is reduced to its host as the engine does; an
    /// address that does not parse is used as given).
    pub fn registry(&self, host: &str) -> RegistryModel {
        let host = dagger_engine::registry::RegistryHost::parse(host)
            .map(|h| h.as_str().to_string())
            .unwrap_or_else(|_| host.to_string());
        RegistryModel {
            shared: self.shared.clone(),
            host,
        }
    }

    /// Declares a public image (`quay.io/skopeo/stable:v1.16.1`): its tag exists in its
    /// registry's model and anyone may pull it, as for Docker Hub's official images. Returns
    /// its digest. An address that is not a tagged image reference is an error naming the rule.
    ///
    /// ```
    /// let engine = dagger_engine_sim::MockEngine::new();
    /// let digest = engine.public_image("quay.io/skopeo/stable:v1.16.1").unwrap();
    /// assert!(digest.starts_with("sha256:"));
    /// assert!(engine.public_image("quay.io/skopeo/stable").is_err());
    /// ```
    pub fn public_image(&self, address: &str) -> Result<String, String> {
        let image = image_address::parse_address(address).map_err(|e| e.to_string())?;
        let tag = image.tag.ok_or_else(|| {
            format!("{address:?} names no tag: a public image is declared by tag")
        })?;
        let registry = self.registry(&image.host);
        registry.allow_anonymous_pull(true);
        Ok(registry.existing_tag(&image.repository, &tag))
    }

    /// Declares what matching commands do: the files and directories they write, what they
    /// print, their exit code (see [`CommandEffect`]). Declarations are tried in the order they
    /// were made; the first that matches a command wins.
    pub fn on_exec(&self, effect: impl Into<CommandEffect>) {
        self.shared.lock().commands.push(effect.into());
    }

    /// Declares what matching commands do, ahead of every declaration made before: the first
    /// match wins, so this one wins over a fixture's defaults for the commands it matches
    /// (later overrides win over earlier ones).
    pub fn override_exec(&self, effect: impl Into<CommandEffect>) {
        self.shared.lock().commands.insert(0, effect.into());
    }

    /// Declares the files an image brings (see [`ImageFiles`]); the first declaration that
    /// matches a `from` wins.
    pub fn on_from(&self, image: ImageFiles) {
        self.shared.lock().images.push(image);
    }

    /// Makes matching commands fail: the shorthand of [`MockEngine::on_exec`] for an
    /// [`ExecFailure`] (same list, so the first matching declaration wins).
    pub fn fail_exec(&self, rule: ExecFailure) {
        self.on_exec(rule);
    }

    /// Sets what the commands containing every string of `args_contains` print: the shorthand
    /// of [`MockEngine::on_exec`] with [`CommandMatch::ContainsAll`] (same list, so the first
    /// matching declaration wins).
    pub fn set_exec_stdout(&self, args_contains: &[&str], stdout: &str) {
        self.on_exec(
            CommandEffect::new(CommandMatch::ContainsAll(
                args_contains.iter().map(|s| s.to_string()).collect(),
            ))
            .prints(stdout),
        );
    }

    /// Declares the labels in the image configuration of an image archive (`container.import`)
    /// whose file holds `archive_contents`: the mock keeps files as text and cannot read a
    /// tarball, so a test states what the archive's config says. An archive nobody declared has
    /// no labels.
    pub fn set_archive_labels(&self, archive_contents: &str, labels: &[(&str, &str)]) {
        self.shared.lock().archive_labels.insert(
            archive_contents.to_string(),
            labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        );
    }

    /// Sets a variable of the session's environment, what the `env` secret provider reads
    /// (`secret(uri: "env://NAME")`, `address(value: "NAME").secret`).
    pub fn set_env(&self, name: &str, value: &str) {
        self.shared
            .lock()
            .env
            .insert(name.to_string(), value.to_string());
    }

    /// Declares what `host.directory(path)` holds: `(relative path, contents)` pairs.
    pub fn add_host_directory(&self, path: &str, files: &[(&str, &str)]) {
        let key = schema::host::normalise_host_path(path);
        self.shared.lock().host_dirs.insert(key, tree(files));
    }

    /// Declares the tree of `git(url).tag(tag).tree` (also reachable as `ref(tag)`).
    pub fn add_git_repository(&self, url: &str, tag: &str, files: &[(&str, &str)]) {
        self.shared
            .lock()
            .git
            .insert((url.to_string(), tag.to_string()), tree(files));
    }

    /// Declares what `Query.http(url:)` downloads from `url` (the mock has no network: an
    /// undeclared URL fails as a download from an unknown host fails).
    pub fn add_http_file(&self, url: &str, contents: &str) {
        self.shared
            .lock()
            .http
            .insert(url.to_string(), contents.to_string());
    }

    /// Every query text received, in order.
    pub fn queries(&self) -> Vec<String> {
        self.shared.lock().queries.clone()
    }

    /// The number of queries received: one request each, whether or not the client sent some
    /// together (see [`MockEngine::sequential_round_trips`]).
    pub fn round_trips(&self) -> usize {
        self.shared.lock().queries.len()
    }

    /// The round trips a client waited for one after another: the longest chain of queries
    /// each sent after the one before it was answered. Queries in flight together (a client's
    /// `tokio::join!`) count once, as a client pays one round trip's wait for them.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let engine = dagger_engine_sim::MockEngine::new();
    /// // A network's wait on each answer: requests sent together are then in flight together.
    /// engine.set_latency(std::time::Duration::from_millis(10));
    /// let directory = engine.query().directory();
    /// let (a, b) = tokio::join!(directory.entries(), directory.entries());
    /// assert!(a.is_ok() && b.is_ok());
    /// directory.entries().await.unwrap();
    /// assert_eq!(engine.round_trips(), 3);
    /// assert_eq!(engine.sequential_round_trips(), 2);
    /// # });
    /// ```
    pub fn sequential_round_trips(&self) -> usize {
        let meter = self.shared.lock().meter.clone();
        meter.sequential()
    }

    /// Ends the session and starts another on the same engine: the registry credentials given
    /// with `withRegistryAuth` and the tags resolved by `from` are forgotten (both belong to a
    /// session upstream); registries, secrets and the recorder stay.
    pub fn new_session(&self) {
        let mut s = self.shared.lock();
        s.auth.clear();
        s.resolved.clear();
    }

    /// Forgets the recorded queries, publishes, output reads and plaintext reads.
    pub fn reset_recorder(&self) {
        let mut s = self.shared.lock();
        s.queries.clear();
        s.meter.reset();
        s.published.clear();
        s.output_reads.clear();
        s.plaintext_reads.clear();
    }

    /// Every read of a command's output (`stdout`, `stderr`, `exitCode`), in order.
    pub fn output_reads(&self) -> Vec<CommandOutputRead> {
        self.shared.lock().output_reads.clone()
    }

    /// Every successful publish, in order.
    pub fn published(&self) -> Vec<PublishRecord> {
        self.shared.lock().published.clone()
    }

    /// Panics (a test assertion) when any received query contains `plaintext`, naming the
    /// query's index but not the query.
    pub fn assert_never_sent(&self, plaintext: &str) {
        assert!(
            !plaintext.is_empty(),
            "assert_never_sent needs a non-empty plaintext"
        );
        let queries = self.queries();
        if let Some(i) = queries.iter().position(|q| q.contains(plaintext)) {
            panic!(
                "a secret's plaintext was sent to the engine in query #{i} (of {})",
                queries.len()
            );
        }
    }

    /// The platform and build steps of the container named by `id`.
    pub fn describe_container(&self, id: &str) -> Result<ContainerDescription, String> {
        let ctx = schema::Ctx {
            shared: self.shared.clone(),
        };
        let obj = ids::Obj::decode(id).map_err(|e| e.to_string())?;
        schema::container::eval_container(&ctx, &obj)
            .map(|c| c.description())
            .map_err(|e| e.message)
    }

    /// The container a file was taken from (`Container.file(path)`), by the file's ID: that
    /// container's platform and build steps, and the path. The file may have been changed
    /// since (`withName`, `withReplaced`): the last `file` call on a container counts.
    pub fn describe_file_source(&self, id: &str) -> Result<(ContainerDescription, String), String> {
        let ctx = schema::Ctx {
            shared: self.shared.clone(),
        };
        let obj = ids::Obj::decode(id).map_err(|e| e.to_string())?;
        if obj.ty != "File" {
            return Err(format!("{id} is the ID of a {}, not of a File", obj.ty));
        }
        for (i, call) in obj.calls.iter().enumerate().rev() {
            if call.field != "file" || i == 0 {
                continue;
            }
            let parent = ids::Obj {
                ty: "Container".into(),
                calls: obj.calls[..i].to_vec(),
            };
            if let Ok(container) = schema::container::eval_container(&ctx, &parent) {
                let path = call
                    .args
                    .get("path")
                    .and_then(|p| p.as_str())
                    .unwrap_or_default()
                    .to_string();
                return Ok((container.description(), path));
            }
        }
        Err("the file was not taken from a container (no `Container.file` in its chain)".into())
    }

    /// Names of the secrets whose plaintext a client read (`Secret.plaintext`), in order.
    pub fn plaintext_reads(&self) -> Vec<String> {
        self.shared.lock().plaintext_reads.clone()
    }
}

/// The mock's schema as GraphQL SDL: every type and field it implements, with names,
/// arguments and defaults taken from the engine's schema.
pub fn schema_sdl() -> String {
    schema::sdl()
}

/// The fields the mock declares but does not simulate, as `(type, field, reason)`: selecting
/// one answers a GraphQL error naming the field and the reason. Every other field of the
/// mock's schema is simulated.
pub fn unsimulated_fields() -> &'static [(&'static str, &'static str, &'static str)] {
    schema::exempt::EXEMPT
}

fn tree(files: &[(&str, &str)]) -> BTreeMap<String, String> {
    files
        .iter()
        .map(|(p, c)| (paths::join("", p), c.to_string()))
        .collect()
}

/// The README's example, compiled and run as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
