//! Field coverage against the engine's schema: every field of the ten types a build or
//! publish pipeline uses (Container, Directory, File, Secret, CacheVolume, GitRepository,
//! GitRef, Host, Address, Query) is declared by the mock, and is either simulated or on the
//! documented list of fields it does not simulate (`dagger_mock_engine::unsimulated_fields`,
//! at most 40), each with its reason; such a field answers that reason, never "Cannot query
//! field".

use std::collections::BTreeSet;

use dagger_mock_engine::MockEngine;
use graphql_parser::schema::{Definition, Document, Type, TypeDefinition, TypeExtension};

const TYPES: &[&str] = &[
    "Container",
    "Directory",
    "File",
    "Secret",
    "CacheVolume",
    "GitRepository",
    "GitRef",
    "Host",
    "Address",
    "Query",
];

/// The engine's schema (dagger/dagger v0.21.8 `docs/docs-graphql/schema.graphqls`): the file
/// named by `DAGGER_SCHEMA`, by default `../shared/dagger/schema.graphqls` beside the workspace.
fn engine_schema() -> String {
    let path = match std::env::var_os("DAGGER_SCHEMA") {
        Some(path) => std::path::PathBuf::from(path),
        None => std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/dagger/schema.graphqls"),
    };
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read the engine's schema at {}: {e}; set DAGGER_SCHEMA to dagger/dagger's \
             docs/docs-graphql/schema.graphqls (v0.21.8)",
            path.display()
        )
    })
}

/// `(type, field)` of every field of `TYPES` in a schema, with the field's arguments.
fn fields<'a>(
    doc: &'a Document<'a, String>,
) -> Vec<(String, &'a graphql_parser::schema::Field<'a, String>)> {
    let mut out = Vec::new();
    for def in &doc.definitions {
        let (name, fs) = match def {
            Definition::TypeDefinition(TypeDefinition::Object(o)) => (&o.name, &o.fields),
            Definition::TypeExtension(TypeExtension::Object(o)) => (&o.name, &o.fields),
            _ => continue,
        };
        if TYPES.contains(&name.as_str()) {
            out.extend(fs.iter().map(|f| (name.clone(), f)));
        }
    }
    out
}

/// A literal for a required argument of type `ty` (enough for the field to be selected).
fn literal(ty: &Type<'_, String>) -> Option<String> {
    match ty {
        Type::NonNullType(inner) => literal(inner),
        Type::ListType(_) => Some("[]".into()),
        Type::NamedType(n) => match n.as_str() {
            "String" => Some("\"x\"".into()),
            "Int" => Some("1".into()),
            "Boolean" => Some("false".into()),
            _ => None,
        },
    }
}

/// The object an exempt field is selected on, as a query prefix and suffix.
fn parent(ty: &str) -> Option<(&'static str, &'static str)> {
    Some(match ty {
        "Query" => ("", ""),
        "Container" => ("container { ", " }"),
        "Directory" => ("directory { ", " }"),
        "File" => ("file(name: \"f\", contents: \"c\") { ", " }"),
        "GitRepository" => ("git(url: \"https://example.org/r.git\") { ", " }"),
        "Host" => ("host { ", " }"),
        "Address" => ("address(value: \"alpine\") { ", " }"),
        _ => return None,
    })
}

#[tokio::test]
#[ignore = "needs the engine's schema: DAGGER_SCHEMA=<schema.graphqls> (default ../shared/dagger/schema.graphqls)"]
async fn every_field_of_the_build_types_is_simulated_or_listed_with_its_reason() {
    let engine_sdl = engine_schema();
    let engine = graphql_parser::parse_schema::<String>(&engine_sdl).expect("engine schema parses");
    let mock_sdl = dagger_mock_engine::schema_sdl();
    let mock = graphql_parser::parse_schema::<String>(&mock_sdl).expect("mock schema parses");
    let declared: BTreeSet<(String, String)> = fields(&mock)
        .into_iter()
        .map(|(t, f)| (t, f.name.clone()))
        .collect();
    let exempt = dagger_mock_engine::unsimulated_fields();
    assert!(
        exempt.len() <= 40,
        "{} fields are not simulated",
        exempt.len()
    );

    let mut missing = Vec::new();
    let mut simulated = 0;
    let mut total = 0;
    for (ty, f) in fields(&engine) {
        total += 1;
        let key = (ty.clone(), f.name.clone());
        let reason = exempt
            .iter()
            .find(|(t, n, _)| *t == ty && *n == f.name)
            .map(|(_, _, why)| *why);
        if !declared.contains(&key) {
            missing.push(format!("{ty}.{} is not declared by the mock", f.name));
            continue;
        }
        match reason {
            None => simulated += 1,
            Some(why) if why.trim().is_empty() => {
                missing.push(format!("{ty}.{} is exempt without a reason", f.name))
            }
            Some(_) => {}
        }
    }
    for (ty, field, _) in exempt {
        if !TYPES.contains(ty) {
            missing.push(format!(
                "{ty}.{field} is exempt but not one of the ten types"
            ));
        }
    }
    assert!(
        missing.is_empty(),
        "{} fields neither simulated nor exempt:\n{}",
        missing.len(),
        missing.join("\n")
    );
    eprintln!(
        "{} of {total} fields declared; {simulated} simulated, {} not simulated (listed)",
        total - missing.len(),
        exempt.len()
    );
    assert_eq!(simulated + exempt.len(), total);

    // Each exempt field selectable without an object ID answers its reason.
    let engine_api = MockEngine::new();
    let client = engine_api.client();
    let mut checked = 0;
    for (ty, f) in fields(&engine) {
        let Some((_, _, why)) = exempt.iter().find(|(t, n, _)| *t == ty && *n == f.name) else {
            continue;
        };
        let Some((open, close)) = parent(&ty) else {
            continue;
        };
        let args: Option<Vec<String>> = f
            .arguments
            .iter()
            .filter(|a| matches!(a.value_type, Type::NonNullType(_)) && a.default_value.is_none())
            .map(|a| literal(&a.value_type).map(|v| format!("{}: {v}", a.name)))
            .collect();
        let Some(args) = args else { continue };
        let args = if args.is_empty() {
            String::new()
        } else {
            format!("({})", args.join(", "))
        };
        let leaf = matches!(
            f.field_type.to_string().trim_end_matches('!'),
            "String" | "Void" | "Boolean" | "Int" | "[String!]"
        );
        let selection = if leaf { "" } else { " { id }" };
        let query = format!("{{ {open}{}{args}{selection}{close} }}", f.name);
        let answer = client.execute(&query).await.expect("the mock answers");
        let message = answer
            .errors
            .first()
            .map(|e| e.message.clone())
            .unwrap_or_default();
        assert_eq!(
            message,
            format!("{ty}.{} is not simulated by the mock engine: {why}", f.name),
            "{query}"
        );
        checked += 1;
    }
    assert!(checked >= 30, "only {checked} exempt fields selected");
}
