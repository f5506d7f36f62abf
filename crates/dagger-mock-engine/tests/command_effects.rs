//! Declared command effects on the strict mock: what commands write and print, the files base
//! images bring, and the error for a path nothing put there.

use dagger_mock_engine::dagger_sdk::{ContainerWithExecOptsBuilder, ReturnType};
use dagger_mock_engine::{
    BuildStep, CommandEffect, CommandMatch, ExecFailure, ImageFiles, MockEngine,
};

fn go_build() -> Vec<&'static str> {
    vec!["go", "build", "-o", "/out/app", "."]
}

#[tokio::test]
async fn a_declared_file_is_copied_into_the_runtime_image_and_published() {
    let engine = MockEngine::new();
    engine.on_exec(CommandEffect::argv(go_build()).writes_file("/out/app", "ELF-app"));
    let dag = engine.query();
    let builder = dag
        .container()
        .from("golang:1.24-alpine")
        .with_workdir("/src")
        .with_exec(go_build());
    let runtime = dag
        .container()
        .from("alpine:3.22")
        .with_file("/usr/bin/app", builder.file("/out/app"));
    assert_eq!(
        runtime.file("/usr/bin/app").contents().await.unwrap(),
        "ELF-app"
    );
    runtime
        .publish("registry.example.org/team/app:v1")
        .await
        .unwrap();
    let record = &engine.published()[0];
    assert_eq!(record.container.stages.len(), 1);
    assert_eq!(record.container.stages[0].output, "/out/app");
    assert_eq!(record.container.stages[0].used_at, "/usr/bin/app");
}

#[tokio::test]
async fn relative_writes_land_in_the_workdir_and_directories_copy_whole() {
    let engine = MockEngine::new();
    engine.on_exec(
        CommandEffect::containing("npm run build")
            .writes_directory("dist", &[("index.html", "<html>"), ("js/app.js", "x()")]),
    );
    let dag = engine.query();
    let ui = dag
        .container()
        .from("node:22-alpine")
        .with_workdir("/ui")
        .with_exec(vec!["npm", "run", "build"])
        .directory("/ui/dist");
    assert_eq!(ui.entries().await.unwrap(), ["index.html", "js/"]);
    let site = dag.container().with_directory("/srv", ui);
    assert_eq!(site.file("/srv/js/app.js").contents().await.unwrap(), "x()");
}

#[tokio::test]
async fn the_first_matching_declaration_wins_whatever_its_kind() {
    let engine = MockEngine::new();
    engine.on_exec(
        CommandEffect::matching(|argv| argv.len() == 3 && argv[0] == "git").prints("first\n"),
    );
    engine.on_exec(CommandEffect::containing("git describe").prints("second\n"));
    engine.set_exec_stdout(&["git"], "third\n");
    let dag = engine.query();
    let out = |args: Vec<&str>| dag.container().with_exec(args);
    assert_eq!(
        out(vec!["git", "describe", "--tags"])
            .stdout()
            .await
            .unwrap(),
        "first\n"
    );
    assert_eq!(
        out(vec!["git", "describe"]).stdout().await.unwrap(),
        "second\n"
    );
    assert_eq!(out(vec!["git", "log"]).stdout().await.unwrap(), "third\n");
    // Undeclared: echo prints, anything else is silent.
    assert_eq!(out(vec!["echo", "a", "b"]).stdout().await.unwrap(), "a b\n");
    assert_eq!(out(vec!["true"]).stdout().await.unwrap(), "");

    // fail_exec goes to the same list: declared after a matching effect, it is not reached.
    let engine = MockEngine::new();
    engine.on_exec(CommandEffect::argv(["make", "test"]).prints("ok\n"));
    engine.fail_exec(ExecFailure {
        args_contains: vec!["make".into()],
        exit_code: 2,
        stdout: String::new(),
        stderr: "boom".into(),
    });
    let dag = engine.query();
    assert_eq!(
        dag.container()
            .with_exec(vec!["make", "test"])
            .stdout()
            .await
            .unwrap(),
        "ok\n"
    );
    let err = dag
        .container()
        .with_exec(vec!["make", "lint"])
        .stdout()
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(r#"process "make lint" did not complete successfully: exit code: 2"#),
        "{err}"
    );
}

#[tokio::test]
async fn a_failing_effect_fails_the_exec_and_writes_nothing_unless_expected() {
    let engine = MockEngine::new();
    engine.on_exec(
        CommandEffect::new(CommandMatch::Contains("go vet".into()))
            .writes_file("/report.txt", "vet report")
            .prints("partial\n")
            .fails(3, "main.go:3:1: unreachable code\n"),
    );
    let dag = engine.query();
    let vet = vec!["go", "vet", "./..."];
    let err = engine
        .client()
        .query(r#"{container{withExec(args:["go","vet","./..."]){file(path:"/report.txt"){contents}}}}"#)
        .await
        .unwrap_err();
    let exec = err.exec_error().expect("an exec error");
    assert_eq!(exec.exit_code, 3);
    assert_eq!(exec.stdout, "partial\n");
    assert_eq!(exec.stderr, "main.go:3:1: unreachable code\n");

    // With expect: ANY the exec is accepted: its output and its files are there.
    let any = ContainerWithExecOptsBuilder::default()
        .expect(ReturnType::Any)
        .build()
        .unwrap();
    let accepted = dag.container().with_exec_opts(vet, any);
    assert_eq!(accepted.exit_code().await.unwrap(), 3);
    assert_eq!(
        accepted.file("/report.txt").contents().await.unwrap(),
        "vet report"
    );
}

#[tokio::test]
async fn an_undeclared_output_fails_with_the_engines_words_the_commands_and_the_fix() {
    let engine = MockEngine::new();
    let dag = engine.query();
    let builder = dag
        .container()
        .from("golang:1.24-alpine")
        .with_exec(vec!["go", "mod", "download"])
        .with_exec(go_build())
        .with_exec(vec!["ls", "-l"]);
    let err = builder
        .file("/out/app")
        .contents()
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("lstat /out/app: no such file or directory (the mock engine runs no command"),
        "{err}"
    );
    assert!(
        err.contains("ran in this container: `go mod download`, `go build -o /out/app .`, `ls -l`"),
        "{err}"
    );
    // The command naming the path is the one suggested, not merely the last one.
    assert!(
        err.contains(
            r#"engine.on_exec(CommandEffect::containing("go build").writes_file("/out/app", "contents"))"#
        ),
        "{err}"
    );

    let err = builder
        .directory("/out")
        .entries()
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("lstat /out: no such file or directory ("),
        "{err}"
    );
    assert!(
        err.contains(r#".writes_directory("/out", &[("name", "contents")])"#),
        "{err}"
    );

    // Copied into another container, the read fails at the copy, with the same words.
    let err = dag
        .container()
        .from("alpine:3.22")
        .with_file("/usr/bin/app", builder.file("/out/app"))
        .file("/usr/bin/app")
        .contents()
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("lstat /out/app: no such file or directory"),
        "{err}"
    );
    assert!(err.contains("CommandEffect::containing"), "{err}");
}

#[tokio::test]
async fn files_a_base_image_brings_are_declared_per_image() {
    let engine = MockEngine::new();
    engine.on_from(
        ImageFiles::address("alpine:3.22")
            .with_file("/etc/alpine-release", "3.22.0\n")
            .with_directory("/etc/ssl/certs", &[("ca-certificates.crt", "PEM")]),
    );
    engine
        .on_from(ImageFiles::containing("golang").with_file("/usr/local/go/VERSION", "go1.24.4\n"));
    let dag = engine.query();
    let alpine = dag.container().from("docker.io/library/alpine:3.22");
    assert_eq!(
        alpine.file("/etc/alpine-release").contents().await.unwrap(),
        "3.22.0\n"
    );
    assert_eq!(
        alpine.directory("/etc/ssl/certs").entries().await.unwrap(),
        ["ca-certificates.crt"]
    );
    assert_eq!(
        dag.container()
            .from("golang:1.24-alpine")
            .file("/usr/local/go/VERSION")
            .contents()
            .await
            .unwrap(),
        "go1.24.4\n"
    );
    // Another tag is another image; the error says how to declare its files.
    let err = dag
        .container()
        .from("alpine:3.21")
        .file("/etc/alpine-release")
        .contents()
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(
            r#"engine.on_from(ImageFiles::address("alpine:3.21").with_file("/etc/alpine-release", "contents"))"#
        ),
        "{err}"
    );
    // `from` replaces the container: files of an earlier image or command are gone.
    let replaced = dag.container().from("alpine:3.22").from("busybox:1.37");
    assert!(replaced
        .file("/etc/alpine-release")
        .contents()
        .await
        .is_err());
    let description = engine
        .describe_container(&replaced.id().await.unwrap().0)
        .unwrap();
    assert_eq!(
        description.steps,
        [BuildStep::From {
            address: "busybox:1.37".into()
        }]
    );
}

#[tokio::test]
async fn the_recording_engine_stays_lenient() {
    let engine = MockEngine::recording();
    let contents = engine
        .query()
        .container()
        .from("golang:1.24-alpine")
        .with_exec(go_build())
        .file("/out/app")
        .contents()
        .await
        .unwrap();
    assert_eq!(contents, "");
}
