//! The CI workflow example calls functions and flags the module really registers, with every
//! required flag: checked against `blumeops::module::definition()`, not a copy of it.

use blumeops::module::definition;
use dagger_module_runtime::cli_flag;

/// Every `dagger call FUNCTION --flag=value ...` in the workflow, continuation lines joined.
fn dagger_calls(text: &str) -> Vec<(String, Vec<String>)> {
    let joined = text.replace("\\\n", " ");
    joined
        .lines()
        .filter_map(|line| {
            let rest = &line[line.find("dagger call ")? + "dagger call ".len()..];
            let mut words = rest.split_whitespace();
            let function = words.next()?.trim_end_matches(')').to_string();
            // The function's own flags: up to a chained call (`export --path=...`).
            let flags = words
                .take_while(|w| w.starts_with("--"))
                .filter_map(|w| w.strip_prefix("--"))
                .map(|w| {
                    format!(
                        "--{}",
                        w.split('=').next().unwrap_or(w).trim_end_matches(')')
                    )
                })
                .collect();
            Some((function, flags))
        })
        .collect()
}

#[test]
fn the_workflow_uses_registered_functions_and_flags() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/forgejo-ci.yml"
    ))
    .unwrap();
    let calls = dagger_calls(&text);
    let names: Vec<&str> = calls.iter().map(|(f, _)| f.as_str()).collect();
    assert!(
        names.contains(&"publish") && names.contains(&"container-version"),
        "{names:?}"
    );
    // The detect step (issue 23): the version check and the matrix of changed containers.
    for detect in [
        "changed-containers",
        "container-version-check",
        "build-nix",
        "publish-nix",
    ] {
        assert!(names.contains(&detect), "{detect} in {names:?}");
    }
    // The runner's architecture need not be the cluster's: the workflow says which to build.
    let publish = calls
        .iter()
        .find(|(f, _)| f == "publish")
        .expect("a publish");
    assert!(
        publish.1.iter().any(|f| f == "--platforms"),
        "the publish call names its platforms: {:?}",
        publish.1
    );
    let def = definition();
    for (function, flags) in &calls {
        let f = def
            .object
            .functions
            .iter()
            .find(|f| f.name.replace('_', "-") == *function)
            .unwrap_or_else(|| panic!("the module has no function {function}"));
        for flag in flags {
            assert!(
                f.args.iter().any(|a| cli_flag(&a.name) == *flag),
                "{function} has no flag {flag}"
            );
        }
        for arg in f.args.iter().filter(|a| !a.optional && a.default.is_none()) {
            assert!(
                flags.contains(&cli_flag(&arg.name)),
                "{function} needs {} but the workflow omits it",
                cli_flag(&arg.name)
            );
        }
    }
}
