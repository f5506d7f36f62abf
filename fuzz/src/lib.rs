//! Properties checked on arbitrary input by every fuzz target, shared with the stable-Rust
//! smoke in `tests/proptest_fuzz_smoke.rs` (which includes this file with `#[path]`), so the
//! same checks run with or without cargo-fuzz.
//!
//! Each function takes raw bytes, never panics on its own account, and panics (a finding) only
//! when a parser panics or breaks a property: a rejected input's error must name the rule it
//! broke, and an accepted one must survive a round trip.

use blumeops::pipeline::dockerfile::{arg_declarations, arg_default, ArgError as DockerfileError};
use blumeops::release::{release_tag, CommitSha, ReleaseTagError, VPrefix, Version};
use dagger_engine::registry::{
    AddressError, Digest, ImageRef, PublishedRef, ReferenceError, RegistryHost, RepositoryName, Tag,
};
use dagger_module_runtime::{ArgError, Args};

/// The names of the fuzz targets, one per parser (also the corpus directories).
pub const TARGETS: &[&str] = &[
    "address",
    "reference",
    "version_sha",
    "dockerfile",
    "module_args",
];

/// Runs the target named `name` on `data`.
pub fn run(name: &str, data: &[u8]) {
    match name {
        "address" => address(data),
        "reference" => reference(data),
        "version_sha" => version_sha(data),
        "dockerfile" => dockerfile(data),
        "module_args" => module_args(data),
        other => panic!("no fuzz target {other:?}"),
    }
}

fn text(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

/// The phrase of each address rule that its message must carry.
fn address_rule(err: &AddressError) -> String {
    match err {
        AddressError::Empty { .. } => "is empty".into(),
        AddressError::InvalidCharacter { .. } => {
            "whitespace and control characters are not allowed".into()
        }
        AddressError::Credentials => "not followed by a sha256/sha512 digest".into(),
        AddressError::NotARegistryDomain { .. } => "is not a registry host".into(),
        AddressError::Ipv6 { .. } => "IPv6 literals are not supported".into(),
        AddressError::InvalidHost { .. } => "must be DNS labels".into(),
        AddressError::InvalidPort { .. } => "must be a number from 1 to 65535".into(),
        AddressError::Reference { source, .. } => reference_rule(source),
        #[allow(unreachable_patterns)]
        _ => String::new(),
    }
}

/// `RegistryHost::parse`: accepted hosts are fixed points; errors name their rule.
pub fn address(data: &[u8]) {
    let s = text(data);
    match RegistryHost::parse(&s) {
        Ok(host) => {
            let again = RegistryHost::parse(host.as_str())
                .unwrap_or_else(|e| panic!("{host} re-parses to an error: {e}"));
            assert_eq!(again, host, "normalisation is idempotent");
            assert!(!host.as_str().is_empty());
        }
        Err(err) => {
            let msg = err.to_string();
            let rule = address_rule(&err);
            assert!(!rule.is_empty(), "an error without a rule: {msg:?}");
            assert!(
                msg.contains(&rule),
                "{msg:?} does not name its rule {rule:?}"
            );
        }
    }
}

/// The phrase of each reference rule that its message must carry.
fn reference_rule(err: &ReferenceError) -> String {
    match err {
        ReferenceError::EmptyRepositoryComponent { .. }
        | ReferenceError::RepositoryComponent { .. } => "[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*".into(),
        ReferenceError::NameTooLong { .. } => "must be at most".into(),
        ReferenceError::Tag { .. } => "[A-Za-z0-9_][A-Za-z0-9._-]{0,127}".into(),
        ReferenceError::Digest { rule, .. } | ReferenceError::ImageRef { rule, .. } => {
            rule.to_string()
        }
        ReferenceError::Host { source, .. } => address_rule(source),
        #[allow(unreachable_patterns)]
        _ => String::new(),
    }
}

fn check_reference_error(err: &ReferenceError) {
    let msg = err.to_string();
    let rule = reference_rule(err);
    assert!(!rule.is_empty(), "an error without a rule: {msg:?}");
    assert!(
        msg.contains(&rule),
        "{msg:?} does not name its rule {rule:?}"
    );
}

/// The phrase of each release-tag rule that its message must carry.
fn release_rule(err: &ReleaseTagError) -> &'static str {
    match err {
        ReleaseTagError::Version { rule, .. } => rule,
        ReleaseTagError::CommitSha { .. } => "7 to 40 hexadecimal characters",
    }
}

fn check_release_error(err: &ReleaseTagError) {
    let msg = err.to_string();
    let rule = release_rule(err);
    assert!(
        msg.contains(rule),
        "{msg:?} does not name its rule {rule:?}"
    );
}

/// Image references, repository names, tags and digests: round trips and rule-naming errors.
pub fn reference(data: &[u8]) {
    let s = text(data);
    match ImageRef::parse(&s) {
        Ok(r) => {
            assert_eq!(ImageRef::parse(&r.to_string()).as_ref(), Ok(&r));
            r.check_length()
                .unwrap_or_else(|e| panic!("parsed but too long: {e}"));
        }
        Err(e) => check_reference_error(&e),
    }
    match PublishedRef::parse(&s) {
        Ok(p) => assert_eq!(PublishedRef::parse(&p.to_string()).as_ref(), Ok(&p)),
        Err(e) => check_reference_error(&e),
    }
    match RepositoryName::parse(&s) {
        Ok(n) => assert_eq!(n.as_str(), s),
        Err(e) => check_reference_error(&e),
    }
    match Tag::parse(&s) {
        Ok(t) => {
            assert_eq!(t.as_str(), s);
            assert!(!t.as_str().is_empty() && t.as_str().len() <= 128);
        }
        Err(e) => check_reference_error(&e),
    }
    match Digest::parse(&s) {
        Ok(d) => assert_eq!(d.to_string(), s),
        Err(e) => check_reference_error(&e),
    }
}

/// Versions and commit shas: a release tag made of any accepted pair is a valid tag.
pub fn version_sha(data: &[u8]) {
    let s = text(data);
    let (v, sha) = s.split_once('\n').unwrap_or((&s, ""));
    for prefix in [VPrefix::Add, VPrefix::Keep] {
        match Version::parse(v, prefix) {
            Ok(version) => {
                assert_eq!(
                    Version::parse(version.as_str(), VPrefix::Keep).as_ref(),
                    Ok(&version)
                );
                if prefix == VPrefix::Add && v.starts_with(|c: char| c.is_ascii_digit()) {
                    assert_eq!(version.as_str(), format!("v{v}"));
                }
                if let Ok(sha) = CommitSha::parse(sha) {
                    let tag = release_tag(&version, &sha);
                    let parsed = Tag::parse(tag.as_str())
                        .unwrap_or_else(|e| panic!("release tag {tag} is not a tag: {e}"));
                    assert_eq!(parsed, tag);
                    assert!(tag.as_str().ends_with(&format!("-{}", sha.short())));
                }
            }
            Err(e) => check_release_error(&e),
        }
    }
    match CommitSha::parse(sha) {
        Ok(c) => {
            assert_eq!(c.as_str(), sha.to_ascii_lowercase());
            assert_eq!(c.short().len(), 7);
        }
        Err(e) => check_release_error(&e),
    }
}

/// The phrase of each Dockerfile ARG rule that its message must carry.
fn dockerfile_rule(err: &DockerfileError) -> &'static str {
    match err {
        DockerfileError::NotDeclared { .. } => "never declares",
        DockerfileError::NoValue { .. } => "has no value",
        DockerfileError::EmptyValue { .. } => "has an empty value",
        DockerfileError::Conflicting { .. } => "has two different values",
        DockerfileError::Expansion { .. } => "uses variable expansion",
        DockerfileError::UnterminatedQuote { .. } => "quote is never closed",
        #[allow(unreachable_patterns)]
        _ => "ARG",
    }
}

/// The Dockerfile `ARG` reader: line numbers inside the file, values without `$` expansion,
/// errors naming their rule.
pub fn dockerfile(data: &[u8]) {
    let s = text(data);
    let lines = s.lines().count().max(1);
    match arg_declarations(&s) {
        Ok(decls) => {
            for d in &decls {
                assert!(d.line >= 1 && d.line <= lines, "line {} of {lines}", d.line);
                // A quoted name may hold spaces (`ARG "a b"=1`): the reader does not judge names,
                // it only finds the one asked for.
                assert!(d.value.is_some() || !d.expands, "{d:?}");
            }
            let name = decls
                .iter()
                .find(|d| !d.name.is_empty())
                .map(|d| d.name.clone())
                .unwrap_or_else(|| "CONTAINER_APP_VERSION".into());
            match arg_default(&s, &name) {
                Ok(value) => assert!(!value.is_empty()),
                Err(e) => {
                    let msg = e.to_string();
                    let rule = dockerfile_rule(&e);
                    assert!(msg.contains(rule), "{msg:?} does not name {rule:?}");
                    assert!(msg.contains(&name), "{msg:?} does not name {name:?}");
                }
            }
        }
        Err(e) => {
            let msg = e.to_string();
            let rule = dockerfile_rule(&e);
            assert!(msg.contains(rule), "{msg:?} does not name {rule:?}");
        }
    }
}

/// The phrase of each argument-decoding rule that its message must carry.
fn arg_rule(err: &ArgError) -> &'static str {
    match err {
        ArgError::Missing { .. } => "needs argument --",
        ArgError::WrongType { .. } => "must be",
        ArgError::NotJson { .. } => "is not JSON text",
        ArgError::Unknown { .. } => "has no argument",
        ArgError::Repeated { .. } => "was given twice",
        ArgError::Misuse { .. } => "reads argument",
        #[allow(unreachable_patterns)]
        _ => "argument",
    }
}

/// The module's argument decoding: `data` picks a function of the Blumeops module and is read
/// as `inputArgs` (JSON `[[name, value], ...]`, or raw text as one argument's value).
pub fn module_args(data: &[u8]) {
    let def = blumeops::module::definition();
    let functions = &def.object.functions;
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let function = &functions[usize::from(pick) % functions.len()];
    let s = text(rest);
    let input: Vec<(String, serde_json::Value)> =
        match serde_json::from_str::<Vec<(String, serde_json::Value)>>(&s) {
            Ok(list) => list,
            Err(_) => {
                // Raw text as the JSON text of the first argument (what the engine sends is
                // a JSON string holding JSON text).
                let name = function
                    .args
                    .first()
                    .map(|a| a.engine_name())
                    .unwrap_or_default();
                vec![(name, serde_json::Value::String(s.clone()))]
            }
        };
    match Args::decode(function, &input) {
        Ok(args) => {
            for a in &function.args {
                // A decoded argument is readable with its declared type.
                let _ = args.is_set(&a.name);
            }
        }
        Err(e) => {
            let msg = e.to_string();
            let rule = arg_rule(&e);
            assert!(msg.contains(rule), "{msg:?} does not name {rule:?}");
            assert!(
                msg.contains(&function.name),
                "{msg:?} does not name the function"
            );
        }
    }
}
