//! Mock-engine fixtures: a legacy (Dockerfile) container in a source directory, a registry with a
//! `zot-ci` account, and the module calls measured.

use dagger_mock_engine::{AccountRights, FunctionCallSpec, MockEngine};
use serde_json::json;

/// The registry the module publishes to by default.
pub(crate) const REGISTRY: &str = "registry.ops.eblu.me";
/// The `zot-ci` account's password (the mock's registry model checks it).
pub(crate) const PASSWORD: &str = "zak_bench";

/// A fresh engine whose registry refuses anonymous pushes and knows `zot-ci`.
pub(crate) fn engine() -> MockEngine {
    let engine = MockEngine::new();
    engine
        .registry(REGISTRY)
        .allow_anonymous_push(false)
        .account("zot-ci", PASSWORD, AccountRights::ReadWrite);
    engine
}

async fn id_of(engine: &MockEngine, query: &str, path: &[&str]) -> Result<String, String> {
    let data = engine
        .client()
        .query(query)
        .await
        .map_err(|e| e.to_string())?;
    let mut v = &data;
    for p in path {
        v = &v[p];
    }
    v.as_str()
        .map(str::to_string)
        .ok_or_else(|| format!("no ID at {path:?}"))
}

/// The ID of a source directory holding `containers/homepage/Dockerfile` (a legacy container).
pub(crate) async fn legacy_src(engine: &MockEngine) -> Result<String, String> {
    let dockerfile = "FROM alpine:3.20\\nARG CONTAINER_APP_VERSION=v1.4.0\\n";
    id_of(
        engine,
        &format!(
            "query{{directory{{withNewFile(path:\"containers/homepage/Dockerfile\",contents:\"{dockerfile}\"){{id}}}}}}"
        ),
        &["directory", "withNewFile", "id"],
    )
    .await
}

/// The ID of a Secret holding the `zot-ci` password.
pub(crate) async fn password(engine: &MockEngine) -> Result<String, String> {
    id_of(
        engine,
        &format!("query{{setSecret(name:\"zot\",plaintext:\"{PASSWORD}\"){{id}}}}"),
        &["setSecret", "id"],
    )
    .await
}

/// `publish` of the legacy container (version v1.4.0, the one its Dockerfile pins) with `tags`
/// tags in all (the release tag and `tags - 1` extra ones), with the password; `check` keeps
/// the default policy (`fail`, which checks existing tags), otherwise `overwrite` (no check).
/// `run` makes the tags unique per run (the commit's short sha is the run), so a checked
/// publish never finds its own earlier pushes.
pub(crate) fn publish_call(
    src: &str,
    password: &str,
    tags: usize,
    check: bool,
    run: u64,
) -> FunctionCallSpec {
    let extra: Vec<String> = (1..tags).map(|k| format!("r{run}-extra{k}")).collect();
    let mut spec = FunctionCallSpec::call("Blumeops", "publish")
        .arg("src", json!(src))
        .arg("containerName", json!("homepage"))
        .arg("version", json!("v1.4.0"))
        .arg("commitSha", json!(format!("{run:07x}aa1")))
        .arg("registryPassword", json!(password))
        .arg("extraTags", json!(extra));
    if !check {
        spec = spec.arg("existingTagPolicy", json!("overwrite"));
    }
    spec
}

/// `container-version` of the native `navidrome` pipeline (no source needed).
pub(crate) fn version_native() -> FunctionCallSpec {
    FunctionCallSpec::call("Blumeops", "containerVersion").arg("containerName", json!("navidrome"))
}

/// `container-version` of the legacy container (its Dockerfile is read).
pub(crate) fn version_legacy(src: &str) -> FunctionCallSpec {
    FunctionCallSpec::call("Blumeops", "containerVersion")
        .arg("src", json!(src))
        .arg("containerName", json!("homepage"))
}

/// `publish` of the native `navidrome` pipeline (its pinned v0.61.1) with the password and the
/// default policy (the existing-tag check), from an empty source (natives clone upstream).
pub(crate) fn publish_native(src: &str, password: &str) -> FunctionCallSpec {
    FunctionCallSpec::call("Blumeops", "publish")
        .arg("src", json!(src))
        .arg("containerName", json!("navidrome"))
        .arg("version", json!("v0.61.1"))
        .arg("commitSha", json!("c86b5d7aa1"))
        .arg("registryPassword", json!(password))
}

/// The ID of an empty directory.
pub(crate) async fn empty_src(engine: &MockEngine) -> Result<String, String> {
    id_of(engine, "query{directory{id}}", &["directory", "id"]).await
}
