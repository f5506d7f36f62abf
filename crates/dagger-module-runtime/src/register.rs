//! Registration: the module's type definitions sent to the engine in one aliased query per level
//! of the type tree, so the number of round trips depends on the tree's depth only.
//!
//! The levels, bottom up (upstream `core/schema/module.go` for the fields; the Go SDK's
//! generated `register` builds the same chain one call at a time):
//! 1. leaf types: `typeDef{withKind(kind: STRING_KIND)...}`, `typeDef{withObject(name: "Secret")}`;
//!    `withOptional(optional: true)` is chained in the same field;
//! 2. list types, one level per nesting: `typeDef{withListOf(elementType: <ID>)}`;
//! 3. functions: `function(name:, returnType: <ID>){withDescription withArg(...)...
//!    withCachePolicy(...)}` (an argument's `ignore` patterns and default value go in its
//!    `withArg`);
//! 4. the object: `typeDef{withObject(name: "Blumeops"){withFunction(function: <ID>)...}}`;
//! 5. the module: `module{withDescription(...){withObject(object: <ID>){id}}}`.
//!
//! Identical types (same kind, element and optionality) are defined once and shared. Each level
//! is written with the engine crate's query builder (`dagger_engine::gql`), the IDs of the
//! levels below filled in as string arguments.

use std::collections::BTreeMap;

use serde_json::Value;

use dagger_engine::gql::{self, Arg, Field};

use super::def::{DefinitionError, ModuleDef, TypeRef};

/// A registration answer that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the engine's answer to registration level {level} has no ID at {alias}: {detail}")]
pub struct PlanAnswerError {
    /// The level (0-based).
    pub level: usize,
    /// The alias whose ID is missing.
    pub alias: String,
    /// What was wrong.
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct TypeKey {
    type_ref: TypeRef,
    optional: bool,
}

/// One call in a chain: a field name and its arguments, where an argument may refer to the ID
/// of another node.
#[derive(Debug, Clone)]
struct Call {
    field: &'static str,
    args: Vec<(&'static str, ArgValue)>,
}

#[derive(Debug, Clone)]
enum ArgValue {
    /// A value known when planning.
    Value(Arg),
    /// The ID of another node.
    Node(usize),
}

#[derive(Debug, Clone)]
struct Node {
    depth: usize,
    chain: Vec<Call>,
}

/// The registration of one module: nodes grouped in levels, each level one aliased query whose
/// arguments are the IDs answered by the levels below.
#[derive(Debug, Clone)]
pub struct RegistrationPlan {
    nodes: Vec<Node>,
    levels: Vec<Vec<usize>>,
    module_node: usize,
}

fn call(field: &'static str, args: Vec<(&'static str, ArgValue)>) -> Call {
    Call { field, args }
}

fn lit(value: impl Into<Arg>) -> ArgValue {
    ArgValue::Value(value.into())
}

impl RegistrationPlan {
    /// Plans the registration of `module`, after checking its definition.
    pub fn new(module: &ModuleDef) -> Result<Self, DefinitionError> {
        module.validate()?;
        let mut plan = Builder::default();
        let mut function_nodes = Vec::new();
        for function in &module.object.functions {
            let return_optional = function.return_type == TypeRef::Void;
            let ret = plan.type_node(&function.return_type, return_optional);
            let mut chain = vec![call(
                "function",
                vec![
                    ("name", lit(function.engine_name())),
                    ("returnType", ArgValue::Node(ret)),
                ],
            )];
            let mut depth = plan.nodes[ret].depth + 1;
            if !function.description.is_empty() {
                chain.push(call(
                    "withDescription",
                    vec![("description", lit(&function.description))],
                ));
            }
            for arg in &function.args {
                let ty = plan.type_node(&arg.type_ref, arg.optional);
                depth = depth.max(plan.nodes[ty].depth + 1);
                let mut args = vec![
                    ("name", lit(arg.engine_name())),
                    ("typeDef", ArgValue::Node(ty)),
                ];
                if !arg.description.is_empty() {
                    args.push(("description", lit(&arg.description)));
                }
                if let Some(path) = &arg.default_path {
                    args.push(("defaultPath", lit(path)));
                }
                if let Some(default) = &arg.default {
                    // The JSON scalar travels as a string holding JSON text.
                    args.push(("defaultValue", lit(default.to_string())));
                }
                if !arg.ignore.is_empty() {
                    args.push(("ignore", lit(Arg::strings(&arg.ignore))));
                }
                chain.push(call("withArg", args));
            }
            if let Some(policy) = &function.cache_policy {
                let mut args = vec![("policy", lit(Arg::Enum(policy.engine_name().to_string())))];
                if let Some(ttl) = policy.time_to_live_arg() {
                    args.push(("timeToLive", lit(ttl)));
                }
                chain.push(call("withCachePolicy", args));
            }
            if let Some(reason) = &function.deprecated {
                // upstream core/schema/module.go: `Function.withDeprecated(reason:)`.
                chain.push(call("withDeprecated", vec![("reason", lit(reason))]));
            }
            function_nodes.push(plan.push(depth, chain));
        }
        let object_depth = function_nodes
            .iter()
            .map(|&n| plan.nodes[n].depth + 1)
            .max()
            .unwrap_or(0);
        let mut object_args = vec![("name", lit(&module.object.name))];
        if !module.object.description.is_empty() {
            object_args.push(("description", lit(&module.object.description)));
        }
        let mut chain = vec![call("typeDef", vec![]), call("withObject", object_args)];
        for &f in &function_nodes {
            chain.push(call("withFunction", vec![("function", ArgValue::Node(f))]));
        }
        let object = plan.push(object_depth, chain);
        let mut chain = vec![call("module", vec![])];
        if !module.description.is_empty() {
            chain.push(call(
                "withDescription",
                vec![("description", lit(&module.description))],
            ));
        }
        chain.push(call("withObject", vec![("object", ArgValue::Node(object))]));
        let module_node = plan.push(object_depth + 1, chain);
        let mut levels = vec![Vec::new(); object_depth + 2];
        for (i, node) in plan.nodes.iter().enumerate() {
            levels[node.depth].push(i);
        }
        Ok(Self {
            nodes: plan.nodes,
            levels,
            module_node,
        })
    }

    /// How many queries the registration needs (one per level).
    pub fn level_count(&self) -> usize {
        self.levels.len()
    }

    /// How many definitions the plan holds (types, functions, object, module).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// The query of level `level`, using the IDs answered so far: each node's chain under its
    /// alias, ending in `id`.
    pub fn level_query(&self, level: usize, ids: &Ids) -> Result<String, PlanAnswerError> {
        let mut fields = Vec::new();
        for &n in self.levels.get(level).map(Vec::as_slice).unwrap_or(&[]) {
            let mut chain: Option<Field> = None;
            for c in &self.nodes[n].chain {
                let mut field = Field::new(c.field);
                for (name, value) in &c.args {
                    let value = match value {
                        ArgValue::Value(value) => value.clone(),
                        ArgValue::Node(dep) => Arg::String(
                            ids.0
                                .get(dep)
                                .ok_or_else(|| PlanAnswerError {
                                    level,
                                    alias: alias(*dep),
                                    detail: "a lower level's ID is not known yet".into(),
                                })?
                                .clone(),
                        ),
                    };
                    field = field.arg(*name, value);
                }
                chain = Some(match chain {
                    None => field.alias(alias(n)),
                    Some(above) => above.then(field),
                });
            }
            if let Some(chain) = chain {
                fields.push(chain.then(Field::new("id")));
            }
        }
        Ok(gql::query(&fields))
    }

    /// Reads the IDs of level `level` from the engine's `data`.
    pub fn record(&self, level: usize, data: &Value, ids: &mut Ids) -> Result<(), PlanAnswerError> {
        for &n in self.levels.get(level).map(Vec::as_slice).unwrap_or(&[]) {
            let a = alias(n);
            // The alias stands for the chain's first field: `n0:typeDef{withKind{id}}` answers
            // `{"n0": {"withKind": {"id": ...}}}`.
            let mut value = data.get(&a);
            for c in self.nodes[n].chain.iter().skip(1) {
                value = value.and_then(|v| v.get(c.field));
            }
            let id = value
                .and_then(|v| v.get("id"))
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .ok_or_else(|| PlanAnswerError {
                    level,
                    alias: a.clone(),
                    detail: "missing or not a string".into(),
                })?;
            ids.0.insert(n, id.to_string());
        }
        Ok(())
    }

    /// The module's ID, once every level is recorded.
    pub fn module_id<'a>(&self, ids: &'a Ids) -> Option<&'a str> {
        ids.0.get(&self.module_node).map(String::as_str)
    }
}

/// The IDs answered so far, by node.
#[derive(Debug, Default, Clone)]
pub struct Ids(BTreeMap<usize, String>);

fn alias(node: usize) -> String {
    format!("n{node}")
}

#[derive(Default)]
struct Builder {
    nodes: Vec<Node>,
    types: BTreeMap<TypeKey, usize>,
}

impl Builder {
    fn push(&mut self, depth: usize, chain: Vec<Call>) -> usize {
        self.nodes.push(Node { depth, chain });
        self.nodes.len() - 1
    }

    fn type_node(&mut self, type_ref: &TypeRef, optional: bool) -> usize {
        let key = TypeKey {
            type_ref: type_ref.clone(),
            optional,
        };
        if let Some(&n) = self.types.get(&key) {
            return n;
        }
        let (depth, mut chain) = match type_ref {
            TypeRef::List(element) => {
                let e = self.type_node(element, false);
                (
                    self.nodes[e].depth + 1,
                    vec![
                        call("typeDef", vec![]),
                        call("withListOf", vec![("elementType", ArgValue::Node(e))]),
                    ],
                )
            }
            TypeRef::Object(name) => (
                0,
                vec![
                    call("typeDef", vec![]),
                    call("withObject", vec![("name", lit(name))]),
                ],
            ),
            scalar => (
                0,
                vec![
                    call("typeDef", vec![]),
                    call(
                        "withKind",
                        vec![("kind", lit(Arg::Enum(scalar.kind().to_string())))],
                    ),
                ],
            ),
        };
        if optional {
            chain.push(call("withOptional", vec![("optional", lit(true))]));
        }
        let n = self.push(depth, chain);
        self.types.insert(key, n);
        n
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::def::{ArgDef, FunctionDef};
    use super::*;

    fn module() -> ModuleDef {
        ModuleDef::new("blumeops", "Containers")
            .unwrap()
            .function(
                FunctionDef::new("publish", TypeRef::String, "Publish \"it\"")
                    .arg(ArgDef::required("container_name", TypeRef::String, "Name"))
                    .arg(ArgDef::optional(
                        "registry_password",
                        TypeRef::object("Secret"),
                        "",
                    ))
                    .arg(ArgDef::with_default(
                        "registry",
                        TypeRef::String,
                        json!("registry.example.org"),
                        "",
                    ))
                    .arg(ArgDef::optional("tags", TypeRef::list(TypeRef::String), "")),
            )
            .function(
                FunctionDef::new("build", TypeRef::object("Container"), "").arg(ArgDef::required(
                    "container_name",
                    TypeRef::String,
                    "Name",
                )),
            )
    }

    #[test]
    fn cache_policies_and_ignore_patterns_go_in_the_function_chain() {
        let def = module().function(
            FunctionDef::new("push", TypeRef::String, "")
                .arg(
                    ArgDef::required("src", TypeRef::object("Directory"), "")
                        .ignore(["**/target", "a\"b"]),
                )
                .cache_policy(crate::CachePolicy::Never),
        );
        let def = def.function(FunctionDef::new("ver", TypeRef::String, "").cache_policy(
            crate::CachePolicy::Default {
                time_to_live: Some(std::time::Duration::from_secs(3600)),
            },
        ));
        let def =
            def.function(FunctionDef::new("old", TypeRef::Float, "").deprecated("use \"ver\""));
        let plan = RegistrationPlan::new(&def).unwrap();
        assert_eq!(plan.level_count(), 5, "no extra level");
        let mut ids = Ids::default();
        let mut functions = String::new();
        for level in 0..plan.level_count() {
            functions.push_str(&plan.level_query(level, &ids).unwrap());
            let mut data = serde_json::Map::new();
            for &n in &plan.levels[level] {
                let mut v = json!({"id": format!("id-of-n{n}")});
                for c in plan.nodes[n].chain.iter().skip(1).rev() {
                    v = json!({ c.field: v });
                }
                data.insert(alias(n), v);
            }
            plan.record(level, &Value::Object(data), &mut ids).unwrap();
        }
        assert!(
            functions
                .contains(r#"ignore:["**/target","a\"b"]){withCachePolicy(policy:Never){id}}"#),
            "{functions}"
        );
        assert!(
            functions.contains(r#"withCachePolicy(policy:Default,timeToLive:"3600s"){id}"#),
            "{functions}"
        );
        // A function without a policy registers none: the engine's default applies.
        let build = functions
            .split(" n")
            .find(|f| f.contains("function(name:\"build\""))
            .unwrap();
        assert!(!build.contains("withCachePolicy"), "{build}");
        assert!(!build.contains("withDeprecated"), "{build}");
        assert!(
            functions.contains(r#"withDeprecated(reason:"use \"ver\""){id}"#),
            "{functions}"
        );
        assert!(
            functions.contains("withKind(kind:FLOAT_KIND)"),
            "{functions}"
        );
    }

    #[test]
    fn levels_follow_the_depth_of_the_tree() {
        let plan = RegistrationPlan::new(&module()).unwrap();
        // leaf types, [String], functions, object, module
        assert_eq!(plan.level_count(), 5);
        // String (container_name, registry: non-null with a default, and the list's element),
        // Secret?, [String]?, Container: 4 types + 2 functions + object + module.
        assert_eq!(plan.node_count(), 8);
        let q0 = plan.level_query(0, &Ids::default()).unwrap();
        assert!(
            q0.contains("typeDef{withKind(kind:STRING_KIND){id}}"),
            "{q0}"
        );
        assert!(
            q0.contains("typeDef{withObject(name:\"Secret\"){withOptional(optional:true){id}}}"),
            "{q0}"
        );
        // Level 1 needs level 0's IDs.
        assert!(plan.level_query(1, &Ids::default()).is_err());
    }

    #[test]
    fn level_count_does_not_grow_with_functions_or_args() {
        let mut def = module();
        for i in 0..40 {
            let mut f = FunctionDef::new(format!("f{i}"), TypeRef::String, "");
            for j in 0..10 {
                f = f.arg(ArgDef::optional(format!("a{j}"), TypeRef::Integer, ""));
            }
            def = def.function(f);
        }
        assert_eq!(RegistrationPlan::new(&def).unwrap().level_count(), 5);
    }

    /// Plays the engine: answers each alias with a fake ID naming the alias, and checks the
    /// arguments of the higher levels carry the IDs of the lower ones.
    #[test]
    fn ids_flow_from_level_to_level() {
        let plan = RegistrationPlan::new(&module()).unwrap();
        let mut ids = Ids::default();
        for level in 0..plan.level_count() {
            let q = plan.level_query(level, &ids).unwrap();
            if level > 0 {
                assert!(q.contains("\"id-of-n"), "level {level}: {q}");
            }
            let mut data = serde_json::Map::new();
            for &n in &plan.levels[level] {
                let mut v = json!({"id": format!("id-of-n{n}")});
                for c in plan.nodes[n].chain.iter().skip(1).rev() {
                    v = json!({ c.field: v });
                }
                data.insert(alias(n), v);
            }
            plan.record(level, &Value::Object(data), &mut ids).unwrap();
        }
        let module_id = plan.module_id(&ids).unwrap();
        assert_eq!(module_id, format!("id-of-n{}", plan.module_node));
        let last = plan.level_query(plan.level_count() - 1, &ids).unwrap();
        assert!(last.starts_with("query{n7:module{withDescription(description:\"Containers\"){withObject(object:\"id-of-n6\"){id}}}"), "{last}");
        let functions = plan.level_query(2, &ids).unwrap();
        assert!(
            functions.contains("function(name:\"publish\""),
            "{functions}"
        );
        assert!(
            functions.contains("withDescription(description:\"Publish \\\"it\\\"\")"),
            "{functions}"
        );
        assert!(
            functions.contains("withArg(name:\"containerName\""),
            "{functions}"
        );
        assert!(
            functions.contains("defaultValue:\"\\\"registry.example.org\\\"\""),
            "{functions}"
        );
    }

    #[test]
    fn a_missing_id_is_an_error() {
        let plan = RegistrationPlan::new(&module()).unwrap();
        let mut ids = Ids::default();
        let err = plan
            .record(0, &json!({"n0": {"typeDef": {}}}), &mut ids)
            .unwrap_err();
        assert_eq!(err.level, 0);
        assert!(err.to_string().contains("no ID"), "{err}");
    }

    #[test]
    fn invalid_definitions_are_not_planned() {
        let def = module().function(FunctionDef::new("Bad", TypeRef::String, ""));
        assert!(RegistrationPlan::new(&def).is_err());
    }

    #[test]
    fn a_module_without_functions_still_registers() {
        let def = ModuleDef::new("empty", "").unwrap();
        let plan = RegistrationPlan::new(&def).unwrap();
        assert_eq!(plan.level_count(), 2);
        let q = plan.level_query(0, &Ids::default()).unwrap();
        assert_eq!(q, "query{n0:typeDef{withObject(name:\"Empty\"){id}}}");
    }
}
