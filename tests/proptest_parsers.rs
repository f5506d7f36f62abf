//! Property tests of every parser, beyond the round trips already in `src/registry`:
//! every rejected input's error names the rule it broke (address, reference, tag, version,
//! sha, Dockerfile `ARG`, the module's argument decoding), release tags are always valid,
//! generated Dockerfiles give back the value written, valid module arguments decode.
//!
//! The fuzz targets' properties (`fuzz/src/lib.rs`, included here) also run on stable Rust:
//! on proptest-generated input and on the seed corpus `fuzz/seeds/<target>/`.

#[path = "../fuzz/src/lib.rs"]
#[allow(dead_code, unreachable_pub, missing_docs)] // the fuzz crate's API, a private module here
mod harness;

use blumeops::pipeline::dockerfile::{arg_default, ArgError as DockerfileError};
use blumeops::release::{release_tag, CommitSha, VPrefix, Version};
use dagger_engine::registry::Tag;
use dagger_module_runtime::{ArgError, Args};
use proptest::prelude::*;
use serde_json::{json, Value};

/// Text likely to hit the parsers' edges: registry punctuation, quotes, escapes, newlines,
/// non-ASCII, and any printable character.
fn edgy(max: usize) -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::string::string_regex(&format!("\\PC{{0,{max}}}")).unwrap(),
        proptest::string::string_regex(&format!("[a-zA-Z0-9./:@_+=$\"'`\\\\ \\n#-]{{0,{max}}}"))
            .unwrap(),
        proptest::string::string_regex(&format!("[0-9a-fA-FgG]{{0,{max}}}")).unwrap(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn fuzz_properties_hold_for_the_address_normaliser(s in edgy(80)) {
        harness::address(s.as_bytes());
    }

    #[test]
    fn fuzz_properties_hold_for_references_and_tags(s in edgy(120)) {
        harness::reference(s.as_bytes());
    }

    #[test]
    fn fuzz_properties_hold_for_versions_and_shas(v in edgy(40), sha in edgy(44)) {
        harness::version_sha(format!("{v}\n{sha}").as_bytes());
    }

    #[test]
    fn fuzz_properties_hold_for_dockerfiles(s in edgy(200)) {
        harness::dockerfile(s.as_bytes());
    }

    #[test]
    fn fuzz_properties_hold_for_module_arguments(pick in any::<u8>(), s in edgy(120)) {
        let mut data = vec![pick];
        data.extend_from_slice(s.as_bytes());
        harness::module_args(&data);
    }

    /// Any valid version with any valid sha makes a valid tag ending in the 7-character sha.
    #[test]
    fn release_tags_are_always_valid_tags(
        version in "[A-Za-z0-9_][A-Za-z0-9._-]{0,119}",
        sha in "[0-9a-fA-F]{7,40}",
    ) {
        let v = Version::parse(&version, VPrefix::Keep).unwrap();
        let c = CommitSha::parse(&sha).unwrap();
        let tag = release_tag(&v, &c);
        prop_assert_eq!(Tag::parse(tag.as_str()).unwrap(), tag.clone());
        prop_assert_eq!(tag.as_str(), format!("{version}-{}", sha[..7].to_ascii_lowercase()));
    }

    /// A version of 121+ characters is rejected for the tag length, by name.
    #[test]
    fn overlong_versions_name_the_length_rule(version in "v[a-z0-9]{120,200}") {
        let err = Version::parse(&version, VPrefix::Keep).unwrap_err();
        prop_assert!(err.to_string().contains("at most 120 characters"), "{}", err);
    }

    /// A sha of the wrong length or with a non-hex character names the rule.
    #[test]
    fn bad_shas_name_the_rule(sha in "[0-9a-f]{0,6}|[0-9a-f]{41,60}|[0-9a-f]{3}[g-z][0-9a-f]{5}") {
        let err = CommitSha::parse(&sha).unwrap_err();
        prop_assert!(err.to_string().contains("7 to 40 hexadecimal characters"), "{}", err);
    }

    /// `ARG NAME=<value>` written in any of BuildKit's forms (plain, double-quoted with
    /// escapes, single-quoted, continued over lines, among other declarations and comments)
    /// gives back the value.
    #[test]
    fn generated_arg_lines_give_back_their_value(
        value in "[A-Za-z0-9._+-][A-Za-z0-9._+ -]{0,30}[A-Za-z0-9._+-]|[A-Za-z0-9._+-]",
        form in 0usize..5,
        keyword in prop_oneof![Just("ARG"), Just("arg"), Just("Arg")],
    ) {
        let name = "CONTAINER_APP_VERSION";
        let quoted_double = format!("\"{}\"", value.replace('"', "\\\""));
        let quoted_single = format!("'{value}'");
        let plain_ok = !value.contains(' ');
        let line = match form {
            0 if plain_ok => format!("{keyword} {name}={value}"),
            0 | 1 => format!("{keyword} {name}={quoted_double}"),
            2 => format!("{keyword} {name}={quoted_single}"),
            3 => format!("{keyword} OTHER=1 \\\n    {name}={quoted_double} \\\n    LAST"),
            _ => format!("# {name}=not-this\n{keyword} {name}={quoted_single} # trailing"),
        };
        let dockerfile = format!("# syntax=docker/dockerfile:1\nFROM alpine\n{line}\nRUN true\n");
        let got = arg_default(&dockerfile, name);
        // Form 4: the commented-out line is skipped and the `# trailing` after the value is a
        // separate word (BuildKit keeps it), so the value is still the quoted one.
        prop_assert_eq!(got.unwrap(), value);
    }

    /// A value using `$` expansion is refused by name, never guessed.
    #[test]
    fn expansion_is_refused_by_name(var in "[A-Z][A-Z_]{0,10}", braces in any::<bool>()) {
        let value = if braces { format!("${{{var}}}") } else { format!("${var}") };
        let dockerfile = format!("FROM alpine\nARG CONTAINER_APP_VERSION={value}\n");
        let err = arg_default(&dockerfile, "CONTAINER_APP_VERSION").unwrap_err();
        let is_expansion = matches!(err, DockerfileError::Expansion { line: 2, .. });
        prop_assert!(is_expansion, "{:?}", err);
        prop_assert!(err.to_string().contains("uses variable expansion"), "{}", err);
    }

    /// Valid `publish` arguments, in the engine's form (JSON text in a JSON string, camelCase
    /// names, any order), decode; each then read back equals what was sent.
    #[test]
    fn valid_publish_arguments_decode(
        name in "[a-z][a-z0-9-]{0,20}",
        version in "v[0-9]{1,3}\\.[0-9]{1,3}",
        extra in proptest::collection::vec("[a-z0-9.]{1,8}", 0..4),
        reverse in any::<bool>(),
    ) {
        let def = blumeops::module::definition();
        let publish = def.object.find_function("publish").unwrap();
        let mut input: Vec<(String, Value)> = vec![
            ("src".into(), Value::String(json!("mockid:dir").to_string())),
            ("containerName".into(), Value::String(json!(name).to_string())),
            ("version".into(), Value::String(json!(version).to_string())),
            ("commitSha".into(), Value::String(json!("c86b5d7").to_string())),
            ("extraTags".into(), Value::String(json!(extra).to_string())),
        ];
        if reverse {
            input.reverse();
        }
        let args = Args::decode(publish, &input).unwrap();
        prop_assert_eq!(args.string("container_name").unwrap(), name);
        prop_assert_eq!(args.string("version").unwrap(), version);
        prop_assert_eq!(args.string_list("extra_tags").unwrap(), extra);
        // Defaults fill what was not sent.
        prop_assert_eq!(args.string("registry").unwrap(), "registry.ops.eblu.me");
        prop_assert_eq!(args.optional_id("registry_password").unwrap(), None);
    }

    /// A value of the wrong JSON type is refused naming the flag and the type, and never
    /// repeats the value (it may be an ID or something private).
    #[test]
    fn wrong_types_name_the_flag_and_not_the_value(n in 1_000_000i64..i64::MAX, flag in 0usize..3) {
        let def = blumeops::module::definition();
        let publish = def.object.find_function("publish").unwrap();
        let (engine_name, cli) = [
            ("containerName", "--container-name"),
            ("version", "--version"),
            ("registry", "--registry"),
        ][flag];
        let input = vec![(engine_name.to_string(), Value::String(n.to_string()))];
        let err = Args::decode(publish, &input).unwrap_err();
        let msg = err.to_string();
        let is_wrong_type = matches!(err, ArgError::WrongType { .. } | ArgError::Missing { .. });
        prop_assert!(is_wrong_type, "{:?}", err);
        prop_assert!(!msg.contains(&n.to_string()), "{}", msg);
        if matches!(err, ArgError::WrongType { .. }) {
            prop_assert!(msg.contains(cli) && msg.contains("must be a string"), "{}", msg);
        }
    }
}

/// The seed corpus of every fuzz target (`fuzz/seeds/<target>/*`), and every file under
/// `fuzz/corpus/<target>/` and `fuzz/artifacts/<target>/` when a local fuzzing run left some,
/// run through the same properties on stable Rust.
#[test]
fn fuzz_seed_corpus_passes_on_stable() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut ran = 0;
    for target in harness::TARGETS {
        for dir in ["seeds", "corpus", "artifacts"] {
            let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) else {
                continue;
            };
            for entry in entries.flatten() {
                let data = std::fs::read(entry.path()).unwrap();
                harness::run(target, &data);
                ran += 1;
            }
        }
    }
    assert!(
        ran >= harness::TARGETS.len(),
        "the seed corpus is missing ({ran} files)"
    );
}
