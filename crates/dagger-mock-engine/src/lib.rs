//! A mock Dagger engine for tests, on the engine simulator ([`dagger_engine_sim`]).

pub use dagger_engine_sim::*;
