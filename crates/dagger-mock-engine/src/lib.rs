//! A mock Dagger engine that behaves like the real one, for tests.
//!
//! [`MockEngine`] answers the engine's GraphQL API in-process ([`MockEngine::client`],
//! [`MockEngine::query`]) or over the session protocol ([`MockEngine::serve_http`]), with the
//! same evaluator and recorder behind both. Queries are parsed with `graphql-parser` and
//! evaluated against a schema whose names come from the engine's (`schema/`); objects are lazy
//! call chains with opaque IDs (`ids.rs`); `publish` goes through a registry model with accounts,
//! create-only rights, transient faults and unreachable hosts, worded as the engine words them.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let engine = dagger_mock_engine::MockEngine::new();
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

mod describe;
mod exec;
mod ids;
pub mod local_registry;
mod plan;
mod registry_model;
pub(crate) mod schema;
mod server;
mod state;

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;

pub use describe::{BuildStep, ContainerDescription, Stage};
pub use local_registry::LocalRegistry;
pub use plan::Plan;
pub use registry_model::{AccountRights, PushFailure, RegistryModel};
pub use schema::module::{
    FunctionCallSpec, RegisteredArg, RegisteredFunction, RegisteredModule, RegisteredObject,
    RegisteredType,
};
pub use server::SessionServer;

use dagger_engine::{EngineClient, Response, Transport, TransportError};
use state::{Shared, StdoutRule};

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

/// A command that fails: any `withExec` whose command line (arguments joined by spaces)
/// contains every string of `args_contains`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecFailure {
    /// Strings the command line must contain.
    pub args_contains: Vec<String>,
    /// The exit code reported.
    pub exit_code: i32,
    /// What the command printed on standard output.
    pub stdout: String,
    /// What the command printed on standard error.
    pub stderr: String,
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

/// The in-process transport: every query goes straight to the evaluator.
struct InProcess {
    shared: Arc<Shared>,
}

#[async_trait]
impl Transport for InProcess {
    async fn execute(&self, query: &str) -> Result<Response, TransportError> {
        Ok(exec::run(self.shared.clone(), query, None).await.response)
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
    /// declared, is taken as empty instead of failing, so a whole pipeline can be recorded.
    pub fn recording() -> Self {
        let engine = Self::new();
        engine.shared.lock().recording = true;
        engine
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

    /// Serves the session protocol on 127.0.0.1 (random port, random token) until the returned
    /// server is dropped.
    pub async fn serve_http(&self) -> std::io::Result<SessionServer> {
        SessionServer::start(self.shared.clone()).await
    }

    /// The model of a registry host (the address is reduced to its host as the engine does; an
    /// address that does not parse is used as given).
    pub fn registry(&self, host: &str) -> RegistryModel {
        let host = registry_model::auth_host(host).unwrap_or_else(|_| host.to_string());
        RegistryModel {
            shared: self.shared.clone(),
            host,
        }
    }

    /// Makes matching commands fail (the first matching rule wins).
    pub fn fail_exec(&self, rule: ExecFailure) {
        self.shared.lock().exec_failures.push(rule);
    }

    /// Sets what matching commands print (the latest matching rule wins).
    pub fn set_exec_stdout(&self, args_contains: &[&str], stdout: &str) {
        self.shared.lock().exec_stdout.push(StdoutRule {
            args_contains: args_contains.iter().map(|s| s.to_string()).collect(),
            stdout: stdout.to_string(),
        });
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

    /// Every query text received, in order.
    pub fn queries(&self) -> Vec<String> {
        self.shared.lock().queries.clone()
    }

    /// The number of queries received (one per round trip).
    pub fn round_trips(&self) -> usize {
        self.shared.lock().queries.len()
    }

    /// Ends the session and starts another on the same engine: the registry credentials given
    /// with `withRegistryAuth` and the tags resolved by `from` are forgotten (both belong to a
    /// session upstream); registries, secrets and the recorder stay.
    pub fn new_session(&self) {
        let mut s = self.shared.lock();
        s.auth.clear();
        s.resolved.clear();
    }

    /// Forgets the recorded queries, publishes and plaintext reads.
    pub fn reset_recorder(&self) {
        let mut s = self.shared.lock();
        s.queries.clear();
        s.published.clear();
        s.plaintext_reads.clear();
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

fn tree(files: &[(&str, &str)]) -> BTreeMap<String, String> {
    files
        .iter()
        .map(|(p, c)| (schema::directory::join("", p), c.to_string()))
        .collect()
}
