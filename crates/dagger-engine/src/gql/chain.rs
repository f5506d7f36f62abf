//! A `dagger-sdk` object's call chain as a [`Field`] of the query builder, to reuse in raw,
//! aliased queries.
//!
//! `dagger-sdk` builds one query per awaited leaf and cannot alias, so publishing N tags its way
//! costs N requests. Here the object's query is built once (resolving its lazy ID arguments
//! once), read back with the reader of that builder's text ([`read_chain`])
//! and kept as a [`Field`] chain, which each alias then extends with its own leaf
//! ([`Field::then`]).

use std::fmt::Display;

use dagger_sdk::Selection;

use super::{read_chain, Arg, Field};
use crate::QueryError;

/// The leaf `dagger-sdk` is asked to select so that it writes the chain out; it is left out of
/// the [`Chain`].
const PLACEHOLDER: &str = "id";

/// One object's call chain, from the root down to the object (no leaf).
#[derive(Debug, Clone, PartialEq)]
pub struct Chain {
    field: Field,
}

impl Chain {
    /// Builds the chain of `selection` once.
    ///
    /// `dagger-sdk`'s lazy ID arguments `unwrap` the answer of their ID query, so a failing ID
    /// query panics inside `build`; the build runs in its own task and such a panic becomes an
    /// error here ([`QueryError::ObjectArgument`], told apart from a build that failed).
    pub async fn of(selection: &Selection) -> Result<Chain, QueryError> {
        let leaf = selection.select(PLACEHOLDER);
        let built = tokio::spawn(async move { leaf.build().await }).await;
        Self::parse(&built_text(built)?)
    }

    /// Reads a query built by `dagger-sdk`: one top-level field, each level selecting one field
    /// (possibly inside `... on Type`), down to the placeholder leaf.
    pub fn parse(text: &str) -> Result<Chain, QueryError> {
        let field = read_chain(text, PLACEHOLDER).map_err(|e| malformed(&e.to_string()))?;
        Ok(Chain { field })
    }

    /// A text naming what the chain builds, the same for two writings of one chain whatever
    /// order `dagger-sdk` wrote their arguments in: for telling identical chains apart.
    pub fn key(&self) -> String {
        self.field.canonical().to_string()
    }

    /// The ID the chain loads, when it is nothing else: `node(id: "...")` (what
    /// `dagger_sdk::Query::r#ref` writes). Its ID is that one: no request needed to learn it.
    pub fn loaded_id(&self) -> Option<&str> {
        match (self.field.name(), self.field.args(), self.field.selection()) {
            ("node", [(name, Arg::String(id))], []) if name == "id" => Some(id),
            _ => None,
        }
    }

    /// The chain as one top-level field under `alias`, extended with `leaf` (a field, or a
    /// chain of them built with [`Field::then`]).
    pub fn ending_in(&self, alias: &str, leaf: Field) -> Field {
        self.field.clone().alias(alias).then(leaf)
    }
}

/// The query text of a build that ran in its own task: a build error, or a panic of a lazy
/// object argument whose ID query failed (told apart: the second is the engine refusing an
/// object the chain uses), or the text.
fn built_text<E: Display>(
    built: Result<Result<String, E>, tokio::task::JoinError>,
) -> Result<String, QueryError> {
    match built {
        Ok(Ok(text)) => Ok(text),
        Ok(Err(e)) => Err(QueryError::MissingData {
            what: format!("buildable query ({e})"),
        }),
        Err(join) if join.is_panic() => {
            let payload = join.into_panic();
            let detail = payload
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| payload.downcast_ref::<&str>().copied())
                .unwrap_or("no message")
                .to_string();
            Err(QueryError::ObjectArgument { detail })
        }
        Err(join) => Err(QueryError::MissingData {
            what: format!("query ({join})"),
        }),
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
    async fn a_panicking_argument_is_told_apart_from_a_failed_build() {
        let panicked = tokio::spawn(async {
            if true {
                panic!("called `Result::unwrap()` on an `Err` value: no such container");
            }
            Ok::<String, String>(String::new())
        })
        .await;
        let err = built_text(panicked).unwrap_err();
        assert!(
            matches!(&err, QueryError::ObjectArgument { detail } if detail.contains("no such container")),
            "{err:?}"
        );
        let failed = built_text(Ok(Err::<String, _>("bad selection"))).unwrap_err();
        assert!(
            matches!(&failed, QueryError::MissingData { what } if what.contains("bad selection")),
            "{failed:?}"
        );
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
