//! `container-version-check` and `changed-containers` on the strict mock engine: the five
//! rules (each failing alone), the v-prefix rule, the scopes, and the CI matrix of the detect
//! step.

use blumeops::defaults;
use blumeops::pipeline::containers::{miniflux, navidrome};
use blumeops::pipeline::tasks::nix::NIX_IMAGE;
use blumeops::pipeline::{
    changed_containers, container_version_check, matrix_json, Catalog, CheckScope,
    VersionCheckError, VersionReport, VersionSource,
};
use dagger_mock_engine::{CommandEffect, MockEngine};

const REPO: &str = "/repo";

fn service_versions(overrides: &[(&str, Option<&str>)]) -> String {
    let mut services: Vec<(String, Option<String>)> = vec![
        ("homepage".into(), Some("1.4.2".into())),
        ("tool".into(), Some("2.0.1".into())),
        ("authentik".into(), Some("2025.10.1".into())),
        ("docs".into(), Some("v4.5.2".into())),
        ("miniflux".into(), Some(miniflux::VERSION.into())),
        ("navidrome".into(), Some(navidrome::VERSION.into())),
    ];
    for (name, version) in overrides {
        services.retain(|(n, _)| n != name);
        services.push((name.to_string(), version.map(String::from)));
    }
    let mut yaml = String::from("# deployed versions\nservices:\n");
    for (name, version) in services {
        match version {
            Some(v) => yaml.push_str(&format!("  - name: {name}\n    current-version: \"{v}\"\n")),
            None => yaml.push_str(&format!("  - name: {name}\n    current-version: null\n")),
        }
    }
    yaml
}

/// The repository: every container passes unless a file is overridden (`None` removes it).
fn repo(overrides: &[(&str, Option<String>)]) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = [
        (
            "containers/homepage/Dockerfile",
            "ARG CONTAINER_APP_VERSION=v1.4.2\nFROM alpine\n",
        ),
        (
            "containers/tool/default.nix",
            "{ pkgs }:\nlet\n  version = \"2.0.1\";\nin pkgs.dockerTools.buildImage { }\n",
        ),
        (
            "containers/authentik/default.nix",
            "{ pkgs }: pkgs.authentik\n",
        ),
        (
            "containers/quartz/Dockerfile",
            "ARG CONTAINER_APP_VERSION=4.5.2\nFROM node:22\n",
        ),
        ("containers/kubectl/Dockerfile", "FROM alpine\n"),
        ("containers/miniflux/README.md", "built natively\n"),
        ("README.md", "homelab\n"),
    ]
    .into_iter()
    .map(|(p, c)| (p.to_string(), c.to_string()))
    .collect();
    files.push((
        defaults::SERVICE_VERSIONS_FILE.into(),
        service_versions(&[]),
    ));
    for (path, contents) in overrides {
        files.retain(|(p, _)| p != path);
        if let Some(c) = contents {
            files.push((path.to_string(), c.clone()));
        }
    }
    files
}

fn engine(files: &[(String, String)]) -> MockEngine {
    let engine = MockEngine::new();
    engine.public_image(NIX_IMAGE).unwrap();
    engine.on_exec(
        CommandEffect::containing("eval --raw nixpkgs#authentik.version").prints("2025.10.1"),
    );
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_str()))
        .collect();
    engine.add_host_directory(REPO, &refs);
    engine
}

async fn check(files: &[(String, String)], scope: CheckScope) -> VersionReport {
    try_check(files, scope).await.expect("the check runs")
}

async fn try_check(
    files: &[(String, String)],
    scope: CheckScope,
) -> Result<VersionReport, VersionCheckError> {
    let engine = engine(files);
    let dag = engine.query();
    let src = dag.host().directory(REPO);
    container_version_check(
        &dag,
        &Catalog::standard(),
        &src,
        &defaults::version_rules(),
        &scope,
    )
    .await
}

/// The `<container>: <message>` lines of the report.
fn errors(report: &VersionReport) -> Vec<String> {
    report
        .containers
        .iter()
        .flat_map(|c| c.errors.iter().map(move |e| format!("{}: {e}", c.name)))
        .collect()
}

fn names(report: &VersionReport) -> Vec<&str> {
    report.containers.iter().map(|c| c.name.as_str()).collect()
}

#[tokio::test]
async fn every_rule_holds_and_the_table_shows_each_source() {
    let report = check(&repo(&[]), CheckScope::All).await;
    assert!(report.ok(), "{report}");
    // kubectl is a utility image: skipped although its Dockerfile pins nothing.
    assert_eq!(
        names(&report),
        [
            "authentik",
            "homepage",
            "miniflux",
            "navidrome",
            "quartz",
            "tool"
        ]
    );
    let authentik = &report.containers[0];
    assert_eq!(authentik.build.to_string(), "nix");
    assert_eq!(authentik.versions[&VersionSource::Nixpkgs], "2025.10.1");
    // quartz's service is "docs"; its v-prefixed version matches the Dockerfile's bare one.
    let quartz = &report.containers[4];
    assert_eq!(quartz.versions[&VersionSource::ServiceVersions], "v4.5.2");
    assert_eq!(quartz.versions[&VersionSource::Dockerfile], "4.5.2");
    let table = report.to_string();
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("CONTAINER"), "{table}");
    assert!(
        lines[0].contains("BUILD") && lines[0].contains("VERSIONS") && lines[0].ends_with("STATUS")
    );
    let homepage = lines.iter().find(|l| l.starts_with("homepage")).unwrap();
    assert!(
        homepage.contains("dockerfile=v1.4.2 service-versions=1.4.2") && homepage.ends_with("ok"),
        "{table}"
    );
    assert_eq!(report.to_json()["ok"], true);
    assert!(report.into_result().is_ok());
}

#[tokio::test]
async fn rule_1_a_dockerfile_without_the_version_arg() {
    let files = repo(&[(
        "containers/homepage/Dockerfile",
        Some("FROM alpine\n".into()),
    )]);
    let report = check(&files, CheckScope::All).await;
    assert_eq!(
        errors(&report),
        ["homepage: containers/homepage/Dockerfile: no `ARG CONTAINER_APP_VERSION=<value>` line: \
          the Dockerfile never declares CONTAINER_APP_VERSION (rule 1)"]
    );
    let table = report.to_string();
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("homepage") && l.ends_with("FAIL")),
        "{table}"
    );
    assert!(
        table.ends_with("(rule 1)\n"),
        "the errors follow the table: {table}"
    );
    let json = report.to_json();
    assert_eq!(json["ok"], false);
    assert_eq!(json["containers"][1]["name"], "homepage");
    assert_eq!(json["containers"][1]["status"], "FAIL");
    // As the function's error, the whole report.
    let failed = report.clone().into_result().expect_err("a rule failed");
    assert_eq!(failed.to_string(), table);
}

#[tokio::test]
async fn rule_2_a_nix_file_without_a_version_outside_the_nixpkgs_map() {
    let files = repo(&[(
        "containers/tool/default.nix",
        Some("{ pkgs }: pkgs.hello\n".into()),
    )]);
    let report = check(&files, CheckScope::All).await;
    let errs = errors(&report);
    assert_eq!(errs.len(), 1, "{report}");
    assert!(
        errs[0].starts_with("tool: containers/tool/default.nix has no `version = \"<v>\";`")
            && errs[0].ends_with("(rule 2)"),
        "{errs:?}"
    );
}

#[tokio::test]
async fn rule_2_a_failing_nix_version_is_that_containers_error() {
    let files = repo(&[]);
    let engine = engine(&files);
    engine.override_exec(
        CommandEffect::containing("nixpkgs#authentik.version")
            .fails(1, "error: unable to download nixpkgs"),
    );
    let dag = engine.query();
    let src = dag.host().directory(REPO);
    let report = container_version_check(
        &dag,
        &Catalog::standard(),
        &src,
        &defaults::version_rules(),
        &CheckScope::All,
    )
    .await
    .unwrap();
    let errs = errors(&report);
    assert_eq!(errs.len(), 1, "{report}");
    assert!(
        errs[0]
            .starts_with("authentik: nix-version of nixpkgs package \"authentik\" failed (rule 2)"),
        "{errs:?}"
    );
    assert!(errs[0].contains("unable to download nixpkgs"), "{errs:?}");
}

#[tokio::test]
async fn rule_3_a_container_folder_without_any_build() {
    let files = repo(&[
        ("containers/notes/README.md", Some("just notes\n".into())),
        (
            defaults::SERVICE_VERSIONS_FILE,
            Some(service_versions(&[("notes", Some("1.0"))])),
        ),
    ]);
    let report = check(&files, CheckScope::All).await;
    assert_eq!(
        errors(&report),
        ["notes: no build: neither containers/notes/Dockerfile, containers/notes/default.nix nor a native pipeline (rule 3)"]
    );
    assert!(report
        .to_string()
        .lines()
        .any(|l| l.starts_with("notes") && l.contains(" none ")));
}

#[tokio::test]
async fn rule_4_a_missing_or_null_service_entry() {
    let mut yaml = service_versions(&[]);
    yaml = yaml.replace("  - name: tool\n    current-version: \"2.0.1\"\n", "");
    let report = check(
        &repo(&[(defaults::SERVICE_VERSIONS_FILE, Some(yaml))]),
        CheckScope::All,
    )
    .await;
    assert_eq!(
        errors(&report),
        ["tool: service-versions.yaml: no entry for service \"tool\" (rule 4)"]
    );

    let yaml = service_versions(&[("docs", None)]);
    let report = check(
        &repo(&[(defaults::SERVICE_VERSIONS_FILE, Some(yaml))]),
        CheckScope::All,
    )
    .await;
    assert_eq!(
        errors(&report),
        ["quartz: service-versions.yaml: service \"docs\" (container \"quartz\") has a null current-version (rule 4)"]
    );
}

#[tokio::test]
async fn rule_5_versions_that_disagree() {
    let yaml = service_versions(&[("tool", Some("v2.0.2"))]);
    let report = check(
        &repo(&[(defaults::SERVICE_VERSIONS_FILE, Some(yaml))]),
        CheckScope::All,
    )
    .await;
    assert_eq!(
        errors(&report),
        ["tool: versions disagree: nix=2.0.1, service-versions=v2.0.2 (a leading v before a digit is ignored) (rule 5)"]
    );
    // A native pipeline's pin is one of the versions.
    let yaml = service_versions(&[("miniflux", Some("2.0.0"))]);
    let report = check(
        &repo(&[(defaults::SERVICE_VERSIONS_FILE, Some(yaml))]),
        CheckScope::All,
    )
    .await;
    let errs = errors(&report);
    assert_eq!(errs.len(), 1);
    assert!(
        errs[0].starts_with(&format!(
            "miniflux: versions disagree: native={}",
            miniflux::VERSION
        )),
        "{errs:?}"
    );
}

#[tokio::test]
async fn the_changed_scope_checks_only_the_touched_containers() {
    // homepage is broken, but only tool changed.
    let files = repo(&[(
        "containers/homepage/Dockerfile",
        Some("FROM alpine\n".into()),
    )]);
    let changed = vec![
        "containers/tool/default.nix".to_string(),
        "README.md".to_string(),
    ];
    let report = check(&files, CheckScope::Changed(changed)).await;
    assert_eq!(names(&report), ["tool"]);
    assert!(report.ok(), "{report}");

    // Nothing under containers/ changed: nothing to check.
    let report = check(&files, CheckScope::Changed(vec!["docs/index.md".into()])).await;
    assert!(report.containers.is_empty() && report.ok());
    assert!(report.to_string().contains("(no container in scope)"));

    // A changed utility image is still skipped.
    let report = check(
        &files,
        CheckScope::Changed(vec!["containers/kubectl/Dockerfile".into()]),
    )
    .await;
    assert!(report.containers.is_empty());
}

#[tokio::test]
async fn a_changed_service_versions_file_checks_every_container() {
    let files = repo(&[(
        "containers/homepage/Dockerfile",
        Some("FROM alpine\n".into()),
    )]);
    let changed = vec![defaults::SERVICE_VERSIONS_FILE.to_string()];
    let report = check(&files, CheckScope::Changed(changed)).await;
    assert_eq!(
        names(&report),
        [
            "authentik",
            "homepage",
            "miniflux",
            "navidrome",
            "quartz",
            "tool"
        ]
    );
    assert!(!report.ok());
    assert_eq!(errors(&report).len(), 1);
}

#[tokio::test]
async fn a_missing_or_malformed_service_versions_file_stops_the_check() {
    let err = try_check(
        &repo(&[(defaults::SERVICE_VERSIONS_FILE, None)]),
        CheckScope::All,
    )
    .await
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "service-versions.yaml: not found in the source: rule 4 needs it"
    );
    let err = try_check(
        &repo(&[(
            defaults::SERVICE_VERSIONS_FILE,
            Some("services:\n  - version: 1\n".into()),
        )]),
        CheckScope::All,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, VersionCheckError::ServiceVersions { .. }),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("services[0] has no `name` string"),
        "{err}"
    );
}

// ---------------------------------------------------------------- changed-containers

async fn changed(files: &[(String, String)], paths: &[&str]) -> String {
    let engine = engine(files);
    let dag = engine.query();
    let src = dag.host().directory(REPO);
    let paths: Vec<String> = paths.iter().map(|p| p.to_string()).collect();
    let found = changed_containers(&Catalog::standard(), &src, &paths)
        .await
        .expect("changed containers");
    matrix_json(&found)
}

#[tokio::test]
async fn changed_containers_gives_each_touched_container_and_its_build() {
    let files = repo(&[
        (
            "containers/both/Dockerfile",
            Some("ARG CONTAINER_APP_VERSION=1\n".into()),
        ),
        ("containers/both/default.nix", Some("{}".into())),
    ]);
    let json = changed(
        &files,
        &[
            "containers/homepage/Dockerfile",
            "containers/tool/default.nix",
            "containers/miniflux/README.md",
            "containers/both/default.nix",
            "docs/index.md",
        ],
    )
    .await;
    assert_eq!(
        json,
        r#"[{"name":"both","build":"dockerfile+nix"},{"name":"homepage","build":"dockerfile"},{"name":"miniflux","build":"native"},{"name":"tool","build":"nix"}]"#
    );
}

#[tokio::test]
async fn changes_outside_containers_or_to_deleted_ones_give_an_empty_matrix() {
    let files = repo(&[]);
    assert_eq!(changed(&files, &["README.md", "docs/index.md"]).await, "[]");
    assert_eq!(changed(&files, &[]).await, "[]");
    // A deleted container folder has nothing to build.
    assert_eq!(changed(&files, &["containers/gone/Dockerfile"]).await, "[]");
}
