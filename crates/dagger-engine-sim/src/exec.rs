//! Parsing, validation and execution of one GraphQL query, shared by both transports.
//!
//! Validation follows the GraphQL spec as the engine's parser applies it (upstream dagql uses
//! `vektah/gqlparser`, whose messages are reproduced: `validator/rules/fields_on_correct_type.go`,
//! `known_argument_names.go`, `provided_required_arguments.go`, `scalar_leafs.go`). Execution
//! follows dagql rather than the GraphQL spec's null propagation (upstream `dagql/server.go`):
//! every field runs, and when any failed the answer has no data at all, only one error per
//! failing field, whose `path` is the failing object's call chain (field names, not aliases)
//! followed by the failing selection's name or alias.

use std::sync::Arc;

use futures::future::BoxFuture;
use futures::FutureExt;
use graphql_parser::query::{
    Definition, Document, OperationDefinition, Selection, SelectionSet, Value as Ast,
};
use serde_json::{Map, Value};

use super::ids::{Call, Obj};
use super::schema::{self, Args, Ctx, FieldDef, FieldError, Kind, Out, Schema, TypeRef};
use super::state::Shared;
use dagger_engine::{GraphQLErrorEntry, PathSegment, Response};

/// The outcome of one query.
pub(crate) struct Outcome {
    /// The GraphQL answer.
    pub response: Response,
    /// True when the query did not parse or validate (HTTP 422, no data).
    pub invalid: bool,
}

/// Runs one query document against the engine state, recording it and when it was in flight.
///
/// With a `latency` (the session server's, or the in-process one of `MockEngine::set_latency`),
/// the query waits it after it is recorded as arrived, as a network round trip would: requests
/// a client sends together (`tokio::join!`) then reach the engine before the first is answered,
/// and the recorder sees them in flight together, as the real engine serves them (each request
/// is its own HTTP request on the session's server). Without one the answer is immediate.
pub(crate) async fn run(
    shared: Arc<Shared>,
    query: &str,
    variables: Option<&Value>,
    latency: Option<std::time::Duration>,
) -> Outcome {
    let (meter, ticket) = {
        let mut s = shared.lock();
        s.queries.push(query.to_string());
        (s.meter.clone(), s.meter.start())
    };
    if let Some(latency) = latency {
        tokio::time::sleep(latency).await;
    }
    let outcome = evaluate(shared, query, variables).await;
    meter.end(ticket);
    outcome
}

/// Parses, validates and evaluates one query document.
async fn evaluate(shared: Arc<Shared>, query: &str, variables: Option<&Value>) -> Outcome {
    let invalid = |messages: Vec<String>| Outcome {
        response: Response::errors(
            messages
                .into_iter()
                .map(GraphQLErrorEntry::message)
                .collect(),
        ),
        invalid: true,
    };
    let schema = match schema::schema_result() {
        Ok(s) => s,
        Err(e) => return invalid(vec![format!("mock engine schema is broken: {e}")]),
    };
    let doc = match graphql_parser::parse_query::<String>(query) {
        Ok(doc) => doc,
        Err(e) => return invalid(vec![format!("syntax error: {}", e.to_string().trim())]),
    };
    let empty = Map::new();
    let vars = variables.and_then(Value::as_object).unwrap_or(&empty);
    let set = match operation(&doc) {
        Ok(set) => set,
        Err(e) => return invalid(vec![e]),
    };
    let mut errors = Vec::new();
    validate_set(schema, "Query", set, vars, &mut errors);
    if !errors.is_empty() {
        return invalid(errors);
    }
    let mut exec = Executor {
        ctx: Ctx { shared },
        schema,
        vars,
        errors: Vec::new(),
    };
    // dagql answers all or nothing: when any field failed, the answer carries the errors only
    // and `"data": null`, whatever succeeded beside them (upstream `dagql/server.go`, `Resolve`
    // returns `nil, errs` and `Exec` builds a response without data).
    let data = exec
        .selection_set(&Obj::root(), set)
        .await
        .ok()
        .filter(|_| exec.errors.is_empty())
        .map(Value::Object);
    Outcome {
        response: Response {
            data,
            errors: exec.errors,
        },
        invalid: false,
    }
}

/// The selection set of the document's only operation (queries only: the engine has no
/// mutations or subscriptions).
fn operation<'d>(doc: &'d Document<'d, String>) -> Result<&'d SelectionSet<'d, String>, String> {
    let mut ops = doc.definitions.iter().filter_map(|d| match d {
        Definition::Operation(op) => Some(op),
        Definition::Fragment(_) => None,
    });
    let first = ops.next().ok_or("the document has no operation")?;
    if ops.next().is_some() {
        return Err("the document has several operations; send one per request".into());
    }
    match first {
        OperationDefinition::SelectionSet(set) => Ok(set),
        OperationDefinition::Query(q) => Ok(&q.selection_set),
        OperationDefinition::Mutation(_) => Err("Schema is not configured for mutations.".into()),
        OperationDefinition::Subscription(_) => {
            Err("Schema is not configured for subscriptions.".into())
        }
    }
}

fn validate_set(
    schema: &Schema,
    ty: &str,
    set: &SelectionSet<'_, String>,
    vars: &Map<String, Value>,
    errors: &mut Vec<String>,
) {
    for sel in &set.items {
        match sel {
            Selection::Field(f) => {
                if f.name == "__typename" {
                    continue;
                }
                let Some(def) = schema.field(ty, &f.name) else {
                    // Only exempt fields return this type: the exempt field answers why it
                    // is not simulated before any field of its result is read.
                    if crate::schema::exempt::only_from_exempt_fields(ty) {
                        continue;
                    }
                    errors.push(format!(
                        "Cannot query field \"{}\" on type \"{ty}\".",
                        f.name
                    ));
                    continue;
                };
                for (name, value) in &f.arguments {
                    match def.args.iter().find(|a| &a.name == name) {
                        None => errors.push(format!(
                            "Unknown argument \"{name}\" on field \"{ty}.{}\".",
                            f.name
                        )),
                        Some(arg) => {
                            if let Err(e) = coerce(schema, &arg.ty, value, vars) {
                                errors.push(format!(
                                    "Argument \"{name}\" of field \"{ty}.{}\" has an invalid value: {e}",
                                    f.name
                                ));
                            }
                        }
                    }
                }
                for arg in &def.args {
                    let given = f.arguments.iter().any(|(n, _)| n == &arg.name);
                    if !arg.ty.nullable() && arg.default.is_none() && !given {
                        errors.push(format!(
                            "Field \"{}\" argument \"{}\" of type \"{}\" is required, but it was not provided.",
                            f.name, arg.name, arg.ty
                        ));
                    }
                }
                let leaf = is_leaf(schema, def.ty.named());
                if leaf && !f.selection_set.items.is_empty() {
                    errors.push(format!(
                        "Field \"{}\" must not have a selection since type \"{}\" has no subfields.",
                        f.name, def.ty
                    ));
                } else if !leaf && f.selection_set.items.is_empty() {
                    errors.push(format!(
                        "Field \"{}\" of type \"{}\" must have a selection of subfields. Did you mean \"{} {{ ... }}\"?",
                        f.name, def.ty, f.name
                    ));
                } else if !leaf {
                    validate_set(schema, def.ty.named(), &f.selection_set, vars, errors);
                }
            }
            Selection::InlineFragment(frag) => {
                let inner = match &frag.type_condition {
                    Some(graphql_parser::query::TypeCondition::On(name)) => {
                        match schema.types.get(name) {
                            Some(t) if matches!(t.kind, Kind::Object | Kind::Interface) => {
                                name.as_str()
                            }
                            _ => {
                                errors.push(format!("Unknown type \"{name}\"."));
                                continue;
                            }
                        }
                    }
                    None => ty,
                };
                validate_set(schema, inner, &frag.selection_set, vars, errors);
            }
            Selection::FragmentSpread(spread) => errors.push(format!(
                "Unknown fragment \"{}\": named fragments are not supported by the mock engine.",
                spread.fragment_name
            )),
        }
    }
}

fn is_leaf(schema: &Schema, named: &str) -> bool {
    schema
        .types
        .get(named)
        .is_none_or(|t| matches!(t.kind, Kind::Scalar | Kind::Enum(_)))
}

/// Coerces an argument's literal (or variable) to JSON, checking it against the argument's type
/// (GraphQL spec §3.11 "Input Coercion"; enum values become strings).
fn coerce(
    schema: &Schema,
    ty: &TypeRef,
    value: &Ast<'_, String>,
    vars: &Map<String, Value>,
) -> Result<Value, String> {
    if let Ast::Variable(name) = value {
        let v = vars.get(name).cloned().unwrap_or(Value::Null);
        if v.is_null() && !ty.nullable() {
            return Err(format!("variable ${name} must be a non-null {ty}"));
        }
        return Ok(v);
    }
    match ty {
        TypeRef::NonNull(inner) => {
            if matches!(value, Ast::Null) {
                return Err(format!("Expected value of type \"{ty}\", found null."));
            }
            coerce(schema, inner, value, vars)
        }
        _ if matches!(value, Ast::Null) => Ok(Value::Null),
        TypeRef::List(inner) => match value {
            Ast::List(items) => items
                .iter()
                .map(|i| coerce(schema, inner, i, vars))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            single => Ok(Value::Array(vec![coerce(schema, inner, single, vars)?])),
        },
        TypeRef::Named(name) => {
            let kind = schema
                .types
                .get(name)
                .map(|t| &t.kind)
                .ok_or_else(|| format!("unknown type {name}"))?;
            let wrong = || format!("Expected value of type \"{name}\", found {}.", show(value));
            match (name.as_str(), kind, value) {
                ("Int", _, Ast::Int(n)) => n.as_i64().map(Value::from).ok_or_else(wrong),
                ("Float", _, Ast::Int(n)) => n.as_i64().map(Value::from).ok_or_else(wrong),
                ("Float", _, Ast::Float(f)) => Ok(Value::from(*f)),
                ("Boolean", _, Ast::Boolean(b)) => Ok(Value::from(*b)),
                ("Int" | "Float" | "Boolean", _, _) => Err(wrong()),
                (_, Kind::Scalar, Ast::String(s)) => Ok(Value::from(s.clone())),
                (_, Kind::Enum(values), Ast::Enum(e)) if values.contains(e) => {
                    Ok(Value::from(e.clone()))
                }
                (_, Kind::Input(fields), Ast::Object(given)) => {
                    let mut out = Map::new();
                    for (k, v) in given {
                        let field = fields
                            .iter()
                            .find(|f| &f.name == k)
                            .ok_or_else(|| format!("unknown field \"{k}\" of input {name}"))?;
                        out.insert(k.clone(), coerce(schema, &field.ty, v, vars)?);
                    }
                    for field in fields {
                        if !out.contains_key(&field.name) && !field.ty.nullable() {
                            return Err(format!(
                                "field \"{}\" of input {name} is required",
                                field.name
                            ));
                        }
                    }
                    Ok(Value::Object(out))
                }
                _ => Err(wrong()),
            }
        }
    }
}

fn show(value: &Ast<'_, String>) -> String {
    value.to_string()
}

struct Executor<'q> {
    ctx: Ctx,
    schema: &'static Schema,
    vars: &'q Map<String, Value>,
    errors: Vec<GraphQLErrorEntry>,
}

/// Where an error of field `key` selected on `obj` is reported: the names of the fields of the
/// object's call chain, then the selection's key (upstream `dagql/server.go`, `resolvePath`:
/// `append(idToPath(recipeID), sel.Name())`). Only the last element is the selection's alias;
/// the ones before are field names from the object's ID, so aliases there are lost. (Upstream
/// also numbers an element of a list after its list field, `idToPath`'s `nth`; the mock's list
/// elements carry no position, so their errors name the list field alone.)
fn error_path(obj: &Obj, key: &str) -> Vec<PathSegment> {
    obj.calls
        .iter()
        .map(|c| PathSegment::Field(c.field.clone()))
        .chain(std::iter::once(PathSegment::Field(key.to_string())))
        .collect()
}

impl<'q> Executor<'q> {
    /// Resolves a selection set on `obj`; `Err(())` when any field in it failed (the errors are
    /// recorded). Every field runs even when a sibling failed, as dagql resolves the siblings
    /// concurrently without cancelling them (upstream `dagql/server.go`, `Resolve`).
    fn selection_set<'a>(
        &'a mut self,
        obj: &'a Obj,
        set: &'a SelectionSet<'q, String>,
    ) -> BoxFuture<'a, Result<Map<String, Value>, ()>>
    where
        'q: 'a,
    {
        async move {
            let mut out = Map::new();
            let mut failed = false;
            self.collect(obj, set, &mut out, &mut failed).await;
            if failed {
                Err(())
            } else {
                Ok(out)
            }
        }
        .boxed()
    }

    fn collect<'a>(
        &'a mut self,
        obj: &'a Obj,
        set: &'a SelectionSet<'q, String>,
        out: &'a mut Map<String, Value>,
        failed: &'a mut bool,
    ) -> BoxFuture<'a, ()>
    where
        'q: 'a,
    {
        async move {
            for sel in &set.items {
                match sel {
                    Selection::Field(f) => {
                        let key = f.alias.clone().unwrap_or_else(|| f.name.clone());
                        if f.name == "__typename" {
                            out.insert(key, Value::from(obj.ty.clone()));
                            continue;
                        }
                        match self.field(obj, f, &key).await {
                            Ok(v) => {
                                out.insert(key, v);
                            }
                            Err(()) => *failed = true,
                        }
                    }
                    Selection::InlineFragment(frag) => {
                        let applies = match &frag.type_condition {
                            Some(graphql_parser::query::TypeCondition::On(name)) => {
                                self.schema.matches(&obj.ty, name)
                            }
                            None => true,
                        };
                        if applies {
                            self.collect(obj, &frag.selection_set, out, failed).await;
                        }
                    }
                    Selection::FragmentSpread(_) => {}
                }
            }
        }
        .boxed()
    }

    /// Resolves one field and what is selected below it; `Err(())` when it or anything below
    /// it failed.
    async fn field(
        &mut self,
        obj: &Obj,
        f: &graphql_parser::query::Field<'q, String>,
        key: &str,
    ) -> Result<Value, ()> {
        let Some(def) = self.schema.field(&obj.ty, &f.name) else {
            // A field of an interface selected on an object of another type cannot happen
            // after validation; report rather than panic.
            return self.fail(
                FieldError::new(format!(
                    "Cannot query field \"{}\" on type \"{}\".",
                    f.name, obj.ty
                )),
                obj,
                key,
            );
        };
        let result = self.resolve(obj, f, def).await;
        match result {
            Err(e) => self.fail(e, obj, key),
            Ok(Out::Value(Value::Null)) if !def.ty.nullable() => self.fail(
                FieldError::new(format!(
                    "Cannot return null for non-nullable field {}.{}.",
                    obj.ty, f.name
                )),
                obj,
                key,
            ),
            Ok(Out::Value(v)) => Ok(v),
            Ok(Out::Chain) => {
                let call = Call {
                    field: f.name.clone(),
                    args: self.explicit_args(def, f),
                };
                let next = obj.then(call, def.ty.named());
                self.selection_set(&next, &f.selection_set)
                    .await
                    .map(Value::Object)
            }
            Ok(Out::Object(next)) => self
                .selection_set(&next, &f.selection_set)
                .await
                .map(Value::Object),
            Ok(Out::Objects(items)) => {
                let mut list = Vec::with_capacity(items.len());
                let mut failed = false;
                for item in &items {
                    match self.selection_set(item, &f.selection_set).await {
                        Ok(v) => list.push(Value::Object(v)),
                        Err(()) => failed = true,
                    }
                }
                if failed {
                    Err(())
                } else {
                    Ok(Value::Array(list))
                }
            }
            Ok(Out::Later(_)) => self.fail(
                FieldError::new("mock engine bug: a deferred result resolved to another deferral"),
                obj,
                key,
            ),
        }
    }

    fn fail(&mut self, e: FieldError, obj: &Obj, key: &str) -> Result<Value, ()> {
        self.errors.push(GraphQLErrorEntry {
            message: e.message,
            path: error_path(obj, key),
            extensions: e.extensions,
        });
        Err(())
    }

    async fn resolve(
        &mut self,
        obj: &Obj,
        f: &graphql_parser::query::Field<'q, String>,
        def: &FieldDef,
    ) -> Result<Out, FieldError> {
        if f.name == "id" && def.ty.named() == "ID" && def.args.is_empty() {
            return Ok(Out::Value(Value::from(obj.id())));
        }
        let mut args = Map::new();
        for (name, value) in &f.arguments {
            if let Some(arg) = def.args.iter().find(|a| &a.name == name) {
                let v = coerce(self.schema, &arg.ty, value, self.vars).map_err(FieldError::new)?;
                args.insert(name.clone(), v);
            }
        }
        let args = self.schema.fill_defaults(def, &args);
        // Load every ID argument first, as dagql does before calling a resolver: a wrong or
        // garbled ID fails the field, and the ID's chain is replayed.
        for arg in &def.args {
            if let Some(expected) = &arg.expected_type {
                for id in schema::id_values(args.get(&arg.name)) {
                    self.ctx.load(id, Some(expected))?;
                }
            }
        }
        let out = schema::resolve(&self.ctx, obj, &f.name, &Args(args))?;
        match out {
            Out::Later(fut) => fut.await,
            other => Ok(other),
        }
    }

    /// The arguments written in the query, minus those equal to the schema's default: what an
    /// ID records (so `withExec(args: [..], expand: false)` and `withExec(args: [..])` name the
    /// same object).
    fn explicit_args(
        &self,
        def: &FieldDef,
        f: &graphql_parser::query::Field<'q, String>,
    ) -> Map<String, Value> {
        let mut out = Map::new();
        for (name, value) in &f.arguments {
            let Some(arg) = def.args.iter().find(|a| &a.name == name) else {
                continue;
            };
            let Ok(v) = coerce(self.schema, &arg.ty, value, self.vars) else {
                continue;
            };
            let is_default = match &arg.default {
                Some(d) => d == &v,
                None => v.is_null(),
            };
            if !is_default {
                out.insert(name.clone(), v);
            }
        }
        out
    }
}
