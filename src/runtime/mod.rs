//! A Rust Dagger module runtime: registration of type definitions and dispatch of function calls.
