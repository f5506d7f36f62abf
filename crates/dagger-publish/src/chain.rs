//! A `dagger-sdk` object's call chain as a [`Field`] of the query builder, to reuse in raw,
//! aliased queries.
//!
//! `dagger-sdk` builds one query per awaited leaf and cannot alias, so publishing N tags its way
//! costs N requests. Here the object's query is built once (resolving its lazy ID arguments
//! once), read back with the engine crate's reader of that builder's text ([`gql::read_chain`])
//! and kept as a [`Field`] chain, which each alias then extends with its own leaf
//! ([`Field::then`]).

use dagger_engine::gql::{self, Arg, Field};
use dagger_engine::QueryError;
use dagger_sdk::Selection;

/// The leaf `dagger-sdk` is asked to select so that it writes the chain out; it is left out of
/// the [`Chain`].
const PLACEHOLDER: &str = "id";

/// One object's call chain, from the root down to the object (no leaf).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Chain {
    field: Field,
}

impl Chain {
    /// Builds the chain of `selection` once.
    ///
    /// `dagger-sdk`'s lazy ID arguments `unwrap` the answer of their ID query, so a failing ID
    /// query panics inside `build`; the build runs in its own task and such a panic becomes an
    /// error here.
    pub(crate) async fn of(selection: &Selection) -> Result<Chain, QueryError> {
        let leaf = selection.select(PLACEHOLDER);
        let built = tokio::spawn(async move { leaf.build().await }).await;
        let text = match built {
            Ok(Ok(text)) => text,
            Ok(Err(e)) => {
                return Err(QueryError::MissingData {
                    what: format!("buildable query ({e})"),
                })
            }
            Err(join) if join.is_panic() => return Err(QueryError::MissingData {
                what:
                    "ID for an object argument of the container (the engine failed to resolve it)"
                        .into(),
            }),
            Err(join) => {
                return Err(QueryError::MissingData {
                    what: format!("query ({join})"),
                })
            }
        };
        Self::parse(&text)
    }

    /// Reads a query built by `dagger-sdk`: one top-level field, each level selecting one field
    /// (possibly inside `... on Type`), down to the placeholder leaf.
    pub(crate) fn parse(text: &str) -> Result<Chain, QueryError> {
        let field = gql::read_chain(text, PLACEHOLDER).map_err(|e| malformed(&e.to_string()))?;
        Ok(Chain { field })
    }

    /// A text naming what the chain builds, the same for two writings of one chain whatever
    /// order `dagger-sdk` wrote their arguments in: for telling identical chains apart.
    pub(crate) fn key(&self) -> String {
        self.field.canonical().to_string()
    }

    /// The ID the chain loads, when it is nothing else: `node(id: "...")` (what
    /// `dagger_sdk::Query::r#ref` writes). Its ID is that one: no request needed to learn it.
    pub(crate) fn loaded_id(&self) -> Option<&str> {
        match (self.field.name(), self.field.args(), self.field.selection()) {
            ("node", [(name, Arg::String(id))], []) if name == "id" => Some(id),
            _ => None,
        }
    }

    /// The chain as one top-level field under `alias`, extended with `leaf` (a field, or a
    /// chain of them built with [`Field::then`]).
    pub(crate) fn ending_in(&self, alias: &str, leaf: Field) -> Field {
        self.field.clone().alias(alias).then(leaf)
    }
}

fn malformed(why: &str) -> QueryError {
    QueryError::MissingData {
        what: format!("well-formed chain in the query dagger-sdk built ({why})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extends_the_chain_with_an_alias_and_a_leaf() {
        let text = r#"query{container{from(address:"alpine"){withExec(args:["echo", "{id}", "ü\"q"]){id}}}}"#;
        let chain = Chain::parse(text).unwrap();
        let f = chain.ending_in("t0", Field::new("publish").arg("address", "r/x:1"));
        assert_eq!(
            f.to_string(),
            r#"t0:container{from(address:"alpine"){withExec(args:["echo","{id}","ü\"q"]){publish(address:"r/x:1")}}}"#
        );
        assert_eq!(f.leaf_path(), ["t0", "from", "withExec", "publish"]);
    }

    #[test]
    fn extends_through_inline_fragments() {
        let text = r#"query{node(id:"abc"){... on Container{withUser(name:"1"){id}}}}"#;
        let chain = Chain::parse(text).unwrap();
        assert_eq!(
            chain.ending_in("c", Field::new("sync")).to_string(),
            r#"c:node(id:"abc"){... on Container{withUser(name:"1"){sync}}}"#
        );
    }

    #[test]
    fn every_argument_kind_survives() {
        let text = r#"query{directory{dockerBuild(buildArgs:[{name:"A",value:"1"}],noInit:true,x:1,y:1.5,z:null,e:ANY){id}}}"#;
        let chain = Chain::parse(text).unwrap();
        assert_eq!(
            chain.ending_in("d", Field::new("sync")).to_string(),
            r#"d:directory{dockerBuild(buildArgs:[{name:"A",value:"1"}],noInit:true,x:1,y:1.5,z:null,e:ANY){sync}}"#
        );
    }

    #[test]
    fn rejects_what_it_cannot_place() {
        assert!(Chain::parse("query{a{b}}").is_err());
        assert!(Chain::parse("query{a{id} b{id}}").is_err());
        assert!(Chain::parse("query{a{b c}}").is_err());
        assert!(Chain::parse("query{id}").is_err());
        assert!(Chain::parse("not graphql").is_err());
    }

    #[tokio::test]
    async fn builds_from_a_dagger_sdk_selection() {
        let sel = dagger_sdk::Selection::default()
            .select("container")
            .select("from")
            .arg("address", "alpine:3.20");
        let chain = Chain::of(&sel).await.unwrap();
        assert_eq!(
            chain.ending_in("a", Field::new("sync")).to_string(),
            r#"a:container{from(address:"alpine:3.20"){sync}}"#
        );
    }
}
