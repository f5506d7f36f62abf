//! The connection to a Dagger engine: a small [`Transport`] trait, the typed answers and errors
//! of the engine's GraphQL API, and [`EngineClient`], which sends raw queries (with aliases, which
//! `dagger-sdk`'s query builder cannot express) and hands out a `dagger_sdk::Query` that runs on the
//! same transport.
//!
//! Two transports exist: [`HttpTransport`] talks to a real engine session (or to the mock engine's
//! HTTP session server) through `DAGGER_SESSION_PORT` / `DAGGER_SESSION_TOKEN`; the mock engine in
//! in the `dagger-mock-engine` crate answers in-process.

mod client;
mod error;
pub mod gql;
mod http;
pub mod naming;
pub mod registry;
mod transport;

pub use client::{query_error_from_sdk, EngineClient, SdkAdapter};
pub use error::{ExecError, GraphQLErrorEntry, PathSegment, QueryError};
pub use http::{HttpTransport, HttpTransportConfig, SessionEnvError, SessionParams};
pub use transport::{Response, Transport, TransportError};

/// The `dagger-sdk` this crate speaks (`dagger-sdk = "=0.21.11"`), so a user needs no version
/// of their own.
pub use dagger_sdk;
