//! The mock engine's shared state: configuration set by tests, the session's registry
//! credentials and secrets, the registry models and the recorder.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use dagger_engine::RoundTripMeter;

use super::effects::{CommandEffect, ImageFiles};
use super::registry_model::RegistryState;
use super::{CommandOutputRead, PublishRecord};

/// The state behind a [`super::MockEngine`] and its session servers.
pub(crate) struct Shared {
    state: Mutex<EngineState>,
}

impl Shared {
    /// A fresh engine state.
    pub(crate) fn new() -> Self {
        Self {
            state: Mutex::new(EngineState::new()),
        }
    }

    /// Locks the state. A panic while it was held (in a test) leaves it usable, so the lock is
    /// recovered rather than propagated.
    pub(crate) fn lock(&self) -> MutexGuard<'_, EngineState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A registry credential of the session (upstream `auth/registry.go`: the session's auth
/// provider keeps one credential per host).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SessionCredential {
    pub username: String,
    /// The ID of the Secret holding the password (its plaintext stays in [`EngineState::secrets`]).
    pub secret_id: String,
    pub secret_name: String,
}

/// Everything the engine knows.
pub(crate) struct EngineState {
    /// The module protocol: the call a module process reads, and what it returned.
    pub protocol: crate::schema::module::ProtocolState,
    /// Random per engine: keys the digests that name stored secrets, so a digest reveals
    /// nothing about a plaintext, not even that two engines saw the same one.
    pub secret_salt: [u8; 32],
    /// Plaintexts of `setSecret`, keyed by their salted digest.
    pub secrets: HashMap<String, String>,
    /// Environment for `secret(uri: "env://NAME")` (and `address(value: "NAME").secret`).
    pub env: HashMap<String, String>,
    /// `host.directory(path)` contents by path.
    pub host_dirs: HashMap<String, BTreeMap<String, String>>,
    /// Git trees by (url, ref).
    pub git: HashMap<(String, String), BTreeMap<String, String>>,
    /// What commands do, as the test declared it (the first match wins).
    pub commands: Vec<CommandEffect>,
    /// The files base images bring, as the test declared them (the first match wins).
    pub images: Vec<ImageFiles>,
    /// Labels of image archives' configs, by the archive file's contents.
    pub archive_labels: HashMap<String, BTreeMap<String, String>>,
    /// Registry credentials of the session, by normalised host.
    pub auth: HashMap<String, SessionCredential>,
    /// Tags the session resolved with `from`, `host/repository:tag` to digest (upstream
    /// `core/schema/container.go`, `fromSessionScopeInput`: once per session).
    pub resolved: HashMap<String, String>,
    /// The image config and annotations of each image pushed to a registry model, by digest
    /// (what `from` of a pushed tag reads back).
    pub image_configs: HashMap<String, crate::schema::image_config::ImageConfig>,
    /// Files `Query.http` downloads, by URL, as the test declared them
    /// (`MockEngine::add_http_file`).
    pub http: HashMap<String, String>,
    /// Registry models by normalised host.
    pub registries: HashMap<String, RegistryState>,
    /// The recording engine's leniency: nothing runs, so what a command would have written is
    /// unknown; a path read from a container, or a git tree nobody declared, is taken as empty
    /// instead of failing (see `MockEngine::recording`).
    pub recording: bool,
    // Recorder.
    pub queries: Vec<String>,
    /// When each query arrived and was answered.
    pub meter: Arc<RoundTripMeter>,
    /// The wait before each in-process answer (`MockEngine::set_latency`).
    pub latency: Option<std::time::Duration>,
    pub published: Vec<PublishRecord>,
    pub output_reads: Vec<CommandOutputRead>,
    pub plaintext_reads: Vec<String>,
}

impl EngineState {
    fn new() -> Self {
        Self {
            secret_salt: rand::random(),
            secrets: HashMap::new(),
            env: HashMap::new(),
            host_dirs: HashMap::new(),
            git: HashMap::new(),
            commands: Vec::new(),
            images: Vec::new(),
            archive_labels: HashMap::new(),
            protocol: Default::default(),
            auth: HashMap::new(),
            resolved: HashMap::new(),
            registries: HashMap::new(),
            image_configs: HashMap::new(),
            http: HashMap::new(),
            recording: false,
            queries: Vec::new(),
            meter: Arc::default(),
            latency: None,
            published: Vec::new(),
            output_reads: Vec::new(),
            plaintext_reads: Vec::new(),
        }
    }

    /// The registry model of a (normalised) host, created with the defaults on first use.
    pub(crate) fn registry(&mut self, host: &str) -> &mut RegistryState {
        self.registries.entry(host.to_string()).or_default()
    }
}
