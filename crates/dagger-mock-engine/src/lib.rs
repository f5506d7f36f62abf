//! A mock Dagger engine for tests: the engine simulator ([`dagger_engine_sim`], re-exported
//! whole, so `dagger_mock_engine::MockEngine` is the simulator's) and what a test needs around
//! it: a server of the session protocol ([`SessionServer`]) for clients and module processes,
//! an HTTP server whose answers a test writes ([`StubServer`]), a real OCI registry on loopback
//! ([`LocalRegistry`]) and a simulated host whose pushes reach a real registry
//! ([`OciBackend`]).
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use std::sync::Arc;
//! use dagger_mock_engine::dagger_engine::{EngineClient, HttpTransport, HttpTransportConfig};
//! use dagger_mock_engine::{MockEngine, SessionServer};
//!
//! let engine = MockEngine::new();
//! let server = SessionServer::start(&engine).await.unwrap();
//! let transport = HttpTransport::new(&server.session_params(), HttpTransportConfig::default());
//! let dag = EngineClient::new(Arc::new(transport)).dagger();
//! let out = dag.container().from("alpine").with_exec(vec!["echo", "hi"]).stdout().await;
//! assert_eq!(out.unwrap(), "hi\n");
//! # });
//! ```
//!
//! This crate is for tests (a dev-dependency): it starts servers and processes. A program that
//! checks or plans its engine calls links `dagger-engine-sim` alone.

pub mod local_registry;
mod oci_backend;
mod server;
mod stub_http;

pub use dagger_engine_sim::*;
pub use local_registry::LocalRegistry;
pub use oci_backend::OciBackend;
pub use server::SessionServer;
pub use stub_http::{StubAnswer, StubRequest, StubServer};

/// The README's example, compiled and run as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
