//! The call chain of a `dagger-sdk` object, reused in aliased queries: the engine crate's
//! [`Chain`](dagger_engine::gql::Chain), shared with `dagger-pipeline`.

pub(crate) use dagger_engine::gql::Chain;
