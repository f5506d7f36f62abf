//! [`RuntimeError`]: what can go wrong between the module process and the engine.

use dagger_engine::QueryError;

use crate::def::DefinitionError;
use crate::register::PlanAnswerError;

/// The runtime's own failures (not a function's).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RuntimeError {
    /// The process is not inside a Dagger session, or the session variables are unusable.
    #[error("not inside a Dagger session: {0}")]
    NoSession(String),
    /// The module's definition breaks a rule.
    #[error("the module's definition is invalid: {0}")]
    Definition(#[from] DefinitionError),
    /// A query failed.
    #[error("{what} failed: {source}")]
    Query {
        /// Which step.
        what: &'static str,
        /// The engine's error.
        source: QueryError,
    },
    /// A registration answer was unusable.
    #[error(transparent)]
    Registration(#[from] PlanAnswerError),
    /// The call read from the engine has an unexpected shape.
    #[error("the engine's current function call is unusable: {0}")]
    BadCall(String),
    /// The engine asked for an object this module does not have.
    #[error("module {module:?} has no object {parent:?} (its object is {object:?})")]
    UnknownObject {
        /// The module.
        module: String,
        /// The name asked for.
        parent: String,
        /// The module's object.
        object: String,
    },
    /// The engine asked for a function this module does not have.
    #[error("object {object:?} has no function {function:?}")]
    UnknownFunction {
        /// The object.
        object: String,
        /// The name asked for.
        function: String,
    },
    /// A failure could not be returned to the engine either (the engine is gone).
    #[error("{message} (and the error could not be returned to the engine: {source})")]
    Unreported {
        /// The failure that was to be returned.
        message: String,
        /// Why returning it failed.
        source: Box<RuntimeError>,
    },
    /// A function's result does not have its declared type.
    #[error("function {function:?} returned {found} but declares {declared}")]
    ResultType {
        /// The function.
        function: String,
        /// The declared type, described.
        declared: String,
        /// What it returned.
        found: String,
    },
}

impl RuntimeError {
    pub(crate) fn query(what: &'static str) -> impl FnOnce(QueryError) -> Self {
        move |source| RuntimeError::Query { what, source }
    }
}
