//! Splicing a `dagger-sdk` object's call chain into raw, aliased queries.
//!
//! `dagger-sdk` builds one query per awaited leaf and cannot alias, so publishing N tags its way
//! costs N requests. Here the object's chain is built once (resolving its lazy ID arguments once),
//! located with a real GraphQL parser, and its text reused under one alias per tag with another
//! leaf. The text of the chain is kept byte for byte as `dagger-sdk` wrote it: only the alias is
//! inserted and the placeholder leaf replaced.

use dagger_sdk::Selection;
use graphql_parser::query::{
    Definition, OperationDefinition, Selection as GqlSelection, SelectionSet,
};

use dagger_engine::QueryError;

/// The text of one object's call chain, ready to receive an alias and a leaf selection.
#[derive(Debug, Clone)]
pub(crate) struct Chain {
    /// The top-level field, up to (not including) the placeholder leaf.
    head: String,
    /// What follows the placeholder leaf (closing braces).
    tail: String,
}

const PLACEHOLDER: &str = "id";

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

    /// Locates the top-level field and the placeholder leaf in a query built by `dagger-sdk`.
    pub(crate) fn parse(text: &str) -> Result<Chain, QueryError> {
        let malformed = |why: &str| QueryError::MissingData {
            what: format!("well-formed chain in the query dagger-sdk built ({why})"),
        };
        let doc =
            graphql_parser::parse_query::<&str>(text).map_err(|e| malformed(&e.to_string()))?;
        let set = match doc.definitions.as_slice() {
            [Definition::Operation(OperationDefinition::Query(q))] => &q.selection_set,
            [Definition::Operation(OperationDefinition::SelectionSet(s))] => s,
            _ => return Err(malformed("not a single query")),
        };
        let top = match set.items.as_slice() {
            [GqlSelection::Field(f)] => f,
            _ => return Err(malformed("not a single top-level field")),
        };
        let leaf_pos = find_leaf(&top.selection_set).ok_or_else(|| malformed("no leaf"))?;
        let top_at = byte_offset(text, top.position.line, top.position.column)
            .ok_or_else(|| malformed("position"))?;
        let leaf_at = byte_offset(text, leaf_pos.line, leaf_pos.column)
            .ok_or_else(|| malformed("position"))?;
        let after_leaf = leaf_at + PLACEHOLDER.len();
        // The operation's own closing brace is the last character.
        let end = text
            .trim_end()
            .len()
            .checked_sub(1)
            .ok_or_else(|| malformed("empty"))?;
        if text.get(leaf_at..after_leaf) != Some(PLACEHOLDER) || after_leaf > end {
            return Err(malformed("leaf not where the parser put it"));
        }
        Ok(Chain {
            head: text[top_at..leaf_at].to_string(),
            tail: text[after_leaf..end].to_string(),
        })
    }

    /// The chain as one aliased top-level field ending in `leaf` (a selection, e.g.
    /// `publish(address: "...")` or `id`).
    pub(crate) fn render(&self, alias: &str, leaf: &str) -> String {
        format!("{alias}:{}{leaf}{}", self.head, self.tail)
    }
}

fn find_leaf<'a>(set: &SelectionSet<'a, &'a str>) -> Option<graphql_parser::Pos> {
    match set.items.as_slice() {
        [GqlSelection::Field(f)] if f.name == PLACEHOLDER && f.selection_set.items.is_empty() => {
            Some(f.position)
        }
        [GqlSelection::Field(f)] => find_leaf(&f.selection_set),
        [GqlSelection::InlineFragment(fr)] => find_leaf(&fr.selection_set),
        _ => None,
    }
}

/// The byte offset of a 1-based (line, column-in-characters) position.
fn byte_offset(text: &str, line: usize, column: usize) -> Option<usize> {
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            return l
                .char_indices()
                .nth(column.checked_sub(1)?)
                .map(|(b, _)| offset + b);
        }
        offset += l.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splices_alias_and_leaf_keeping_the_chain_text() {
        let text =
            r#"query{container{from(address:"alpine"){withExec(args:["echo", "{id}", "ü"]){id}}}}"#;
        let chain = Chain::parse(text).unwrap();
        assert_eq!(
            chain.render("t0", "publish(address:\"r/x:1\")"),
            r#"t0:container{from(address:"alpine"){withExec(args:["echo", "{id}", "ü"]){publish(address:"r/x:1")}}}"#
        );
    }

    #[test]
    fn splices_through_inline_fragments() {
        let text = r#"query{node(id:"abc"){... on Container{withUser(name:"1"){id}}}}"#;
        let chain = Chain::parse(text).unwrap();
        assert_eq!(
            chain.render("c", "sync"),
            r#"c:node(id:"abc"){... on Container{withUser(name:"1"){sync}}}"#
        );
    }

    #[test]
    fn rejects_what_it_cannot_place() {
        assert!(Chain::parse("query{a{b}}").is_err());
        assert!(Chain::parse("query{a{id} b{id}}").is_err());
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
            chain.render("a", "sync"),
            r#"a:container{from(address:"alpine:3.20"){sync}}"#
        );
    }
}
