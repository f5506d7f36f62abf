//! The connection to a Dagger engine: a small [`Transport`] trait, the typed answers and errors
//! of the engine's GraphQL API, and [`EngineClient`], which sends raw queries (with aliases, which
//! `dagger-sdk`'s query builder cannot express) and hands out a `dagger_sdk::Query` that runs on the
//! same transport.
//!
//! Two transports exist: [`HttpTransport`] talks to a real engine session (or to the mock engine's
//! HTTP session server) through `DAGGER_SESSION_PORT` / `DAGGER_SESSION_TOKEN`; the mock engine in
//! the `dagger-mock-engine` crate answers in-process.
//!
//! The rules the engine applies and every other crate needs live here, once:
//! [`registry::RegistryHost::parse`] (the host a registry credential is keyed by),
//! the OCI reference grammar ([`registry::ImageRef`], [`registry::Tag`], ...), Dagger's names
//! ([`naming`]) and GraphQL string quoting ([`gql`]).
//!
//! ```
//! use dagger_engine::registry::{ImageRef, RegistryHost};
//! use dagger_engine::naming::cli_flag;
//!
//! // The engine keys `withRegistryAuth` by host: scheme, path, tag and digest are dropped.
//! let host = RegistryHost::parse("https://registry.example.org/team/app:v1").unwrap();
//! assert_eq!(host.as_str(), "registry.example.org");
//!
//! let image = ImageRef::parse("registry.example.org/team/app:v1").unwrap();
//! assert_eq!(image.repository.as_str(), "team/app");
//! assert!(ImageRef::parse("registry.example.org/Team/app:v1").is_err());
//!
//! assert_eq!(cli_flag("container_name"), "--container-name");
//! ```

pub mod civil;
mod client;
pub mod command;
mod error;
pub mod gql;
mod http;
/// Dagger's name rule (the `dagger-naming` crate, shared with the module macros).
pub use dagger_naming as naming;
mod newtype;
pub mod registry;
mod round_trips;
pub mod text;
mod transport;

pub use client::{query_error_from_sdk, EngineClient, SdkAdapter};
pub use error::{ExecError, GraphQLErrorEntry, PathSegment, QueryError};
pub use http::{HttpTransport, HttpTransportConfig, SessionEnvError, SessionParams};
pub use round_trips::{RequestTicket, RoundTripMeter};
pub use transport::{Response, Transport, TransportError};

/// The `dagger-sdk` this crate speaks (`dagger-sdk = "=0.21.11"`), so a user needs no version
/// of their own.
pub use dagger_sdk;

/// What the exported macros name (not part of the API).
#[doc(hidden)]
pub mod __private {
    pub use serde;
}

/// The README's example, compiled and run as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
