#![doc = include_str!("../README.md")]
//!
//! ## How the runtime works
//!
//! A module implements [`Module`] (its [`ModuleDef`] and an async `call`), and its binary's
//! `main` calls [`run`]. The runtime reads the current call in one query; when the engine asks
//! for the definition it registers the types level by level ([`RegistrationPlan`], at most 8
//! round trips whatever the number of functions); otherwise it decodes the arguments
//! ([`Args`]), runs the function and returns its value or error, raw, so that `dagger-sdk`'s
//! Void answers never trip it (`dagger-sdk` 0.21.11 fails to deserialize the engine's `null`
//! answer to `returnValue`/`returnError`).
//!
//! Names are snake_case in Rust and camelCase for the engine ([`camel_case`]); the main object
//! is the module name in PascalCase ([`pascal_case`]).
//!
//! A module written by hand, without the macros:
//!
//! ```no_run
//! use dagger_module_runtime::{Args, ArgDef, CallContext, FunctionDef, FunctionError,
//!     FunctionResult, Module, ModuleDef, TypeRef};
//!
//! struct Hello;
//!
//! #[async_trait::async_trait]
//! impl Module for Hello {
//!     fn definition(&self) -> ModuleDef {
//!         ModuleDef::new("hello", "Greetings")
//!             .expect("a valid module name")
//!             .function(
//!                 FunctionDef::new("greet", TypeRef::String, "Say hello")
//!                     .arg(ArgDef::required("name", TypeRef::String, "Who")),
//!             )
//!     }
//!
//!     async fn call(&self, _ctx: &CallContext, function: &str, args: &Args)
//!         -> Result<FunctionResult, FunctionError> {
//!         match function {
//!             "greet" => Ok(FunctionResult::string(format!("hello, {}", args.string("name")?))),
//!             other => Err(FunctionError::Failed(format!("no function {other}"))),
//!         }
//!     }
//! }
//!
//! #[tokio::main]
//! async fn main() -> std::process::ExitCode {
//!     dagger_module_runtime::run(Hello).await
//! }
//! ```

mod args;
mod call;
mod def;
mod error;
mod function;
mod module;
mod protocol;
mod register;
mod serve;

pub use args::{decode_json_scalar, ArgError, Args};
pub use call::{FunctionCall, READ_CALL_QUERY};
pub use dagger_engine::naming::{
    camel_case, check_snake_case, cli_flag, engine_lower_camel, pascal_case, NameError,
};
pub use def::{
    ArgDef, CachePolicy, DefinitionError, FunctionDef, ModuleDef, ObjectDef, TypeRef,
    MAX_LIST_NESTING,
};
pub use error::RuntimeError;
#[doc(hidden)]
pub use function::__private;
pub use function::{DecodeError, FunctionArg, FunctionReturn, IdOf, Parsed, Unwrap};

/// The attribute macros that turn a struct and its `impl` block into a module: see the crate's
/// documentation.
pub use dagger_module_macros::{functions, object};

/// The `dagger-sdk` this runtime is built with: a module's functions call the engine through it
/// (`dagger_module_runtime::dagger_sdk::Directory`), so the module need not pin it again.
pub use dagger_sdk;

/// `eyre`, whose `Result` a function may return (`?` on `dagger-sdk` calls).
pub use eyre;

/// `async-trait`, for modules that implement [`Module`] by hand.
pub use async_trait;
pub use module::{CallContext, FunctionError, FunctionResult, Module};
pub use protocol::{register, return_error, return_value};
pub use register::{Ids, PlanAnswerError, RegistrationPlan};
pub use serve::{run, serve, Outcome};
