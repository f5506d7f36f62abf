//! The main job (`blumeops` binary) in plan mode on the recording engine, as the README runs it.
#![cfg(feature = "cli")]

use std::process::Command;

fn blumeops(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_blumeops"))
        .args(args)
        .env_remove("DAGGER_SESSION_PORT")
        .env_remove("DAGGER_SESSION_TOKEN")
        .env("ZOT_CI_API_KEY", "zak_must-never-be-printed")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn publish_plan_shows_steps_caches_targets_and_auth_without_the_secret() {
    let (code, stdout, stderr) = blumeops(&[
        "publish",
        "--container-name=navidrome",
        "--version=v0.61.1",
        "--commit-sha=c86b5d7",
        "--extra-tags=v0.61.1",
        "--registry-password=env:ZOT_CI_API_KEY",
    ]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    for expected in [
        "FROM golang:alpine",
        "go build -tags netgo,sqlite_fts5",
        "consts.gitTag=v0.61.1",
        "RUN npm ci",
        "FROM alpine:3.22",
        "EXPOSE 4533/TCP",
        "go-mod at /go/pkg/mod",
        "npm at /root/.npm",
        "registry.ops.eblu.me/blumeops/navidrome:v0.61.1-c86b5d7",
        "registry.ops.eblu.me/blumeops/navidrome:v0.61.1\n",
        // The secret as `address(value:).secret` names it: the provider URI.
        "registry.ops.eblu.me: user zot-ci, password [REDACTED] (secret env://ZOT_CI_API_KEY)",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in\n{stdout}"
        );
    }
    assert!(!stdout.contains("zak_must-never-be-printed"));
    assert!(!stderr.contains("zak_must-never-be-printed"));
}

#[test]
fn plan_without_a_password_is_anonymous() {
    let (code, stdout, _) = blumeops(&[
        "publish",
        "--container-name",
        "miniflux",
        "--version",
        "2.2.19",
        "--commit-sha",
        "c86b5d7",
    ]);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(stdout.contains("anonymous (no password given)"), "{stdout}");
    assert!(stdout.contains("-buildmode=pie"), "{stdout}");
}

#[test]
fn bad_input_is_a_clear_error_with_exit_code_2() {
    let (code, _, stderr) = blumeops(&["publish", "--container-name=navidrome", "--version=v1"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("--commit-sha"), "{stderr}");
    let (code, _, stderr) = blumeops(&["publish", "--no-such-flag=1"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("--no-such-flag"), "{stderr}");
    let (code, _, stderr) = blumeops(&["nope"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("unknown function"), "{stderr}");
    let (code, _, stderr) = blumeops(&[
        "publish",
        "--container-name=navidrome",
        "--version=v1",
        "--commit-sha=c86b5d7",
        "--registry-password=foo:ZOT_CI_API_KEY",
    ]);
    // The engine's own words for a provider it does not know (address(value:).secret).
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains(r#"unsupported secret provider: "foo""#),
        "{stderr}"
    );
}

#[test]
fn a_bare_variable_name_is_a_secret_as_in_the_dagger_cli() {
    let (code, stdout, stderr) = blumeops(&[
        "publish",
        "--container-name=navidrome",
        "--version=v0.61.1",
        "--commit-sha=c86b5d7",
        "--registry-password=ZOT_CI_API_KEY",
    ]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("(secret env://ZOT_CI_API_KEY)"), "{stdout}");
}

#[test]
fn container_version_in_plan_mode() {
    let (code, stdout, _) = blumeops(&["container-version", "--container-name=navidrome"]);
    assert_eq!(code, Some(0));
    assert!(stdout.contains("v0.61.1"), "{stdout}");
}
