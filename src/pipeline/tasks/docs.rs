//! `build-docs`: the documentation site, built with Quartz, as a tarball.

use dagger_sdk::{Directory, File, Query};

use super::{file_name_part, Steps, TaskError};

/// The Node image Quartz runs in, pinned by tag as the Python module pinned it.
pub const DOCS_IMAGE: &str = "node:22-slim";

/// Quartz's repository.
pub const QUARTZ_REPO: &str = "https://github.com/jackyzha0/quartz.git";

/// The Quartz release, pinned: v5 changed its layout (the files copied below moved).
pub const QUARTZ_TAG: &str = "v4.5.2";

/// Where Quartz is cloned.
const QUARTZ_CLONE: &str = "/quartz";

/// Where the site is assembled: Quartz's files beside `docs/`.
pub const SITE_DIR: &str = "/site";

/// The cache policy of [`build_docs`].
pub const BUILD_DOCS_CACHE: super::CachePolicy = super::CachePolicy::Default;

/// Builds the documentation in `src/docs` with Quartz [`QUARTZ_TAG`] and returns the site as
/// `docs-<version>.tar.gz`.
///
/// Steps, in [`DOCS_IMAGE`]: install git (`apt-get update`, `apt-get install`), clone Quartz at
/// its tag, copy its `quartz/`, `package.json`, `package-lock.json` and `tsconfig.json` beside
/// `docs/`, `npm ci`, put `docs/quartz.config.ts`, `docs/quartz.layout.ts` at the site's root
/// and `CHANGELOG.md` into `docs/`, `npx quartz build -d docs`, then tar `public/`.
///
/// Cache policy: [`Default`](super::CachePolicy::Default): the site follows from the source,
/// the version and the pinned Quartz release.
pub async fn build_docs(dag: &Query, src: &Directory, version: &str) -> Result<File, TaskError> {
    file_name_part("version", version)?;
    let steps = Steps::new("build-docs");
    let node = dag.container().from(DOCS_IMAGE);
    let node = steps.exec(&node, "apt-get update", &["apt-get", "update"]);
    let node = steps.exec(
        &node,
        "install git",
        &[
            "apt-get",
            "install",
            "-y",
            "--no-install-recommends",
            "git",
            "ca-certificates",
        ],
    );
    let cloned = steps.exec(
        &node,
        "clone quartz",
        &[
            "git",
            "clone",
            "--depth",
            "1",
            "--branch",
            QUARTZ_TAG,
            QUARTZ_REPO,
            QUARTZ_CLONE,
        ],
    );
    let quartz = |path: &str| format!("{QUARTZ_CLONE}/{path}");
    let site = cloned
        .with_directory(format!("{SITE_DIR}/docs"), src.directory("docs"))
        .with_directory(
            format!("{SITE_DIR}/quartz"),
            cloned.directory(quartz("quartz")),
        )
        .with_file(
            format!("{SITE_DIR}/package.json"),
            cloned.file(quartz("package.json")),
        )
        .with_file(
            format!("{SITE_DIR}/package-lock.json"),
            cloned.file(quartz("package-lock.json")),
        )
        .with_file(
            format!("{SITE_DIR}/tsconfig.json"),
            cloned.file(quartz("tsconfig.json")),
        )
        .with_workdir(SITE_DIR);
    let site = steps.exec(&site, "npm ci", &["npm", "ci"]);
    let site = site
        .with_file(
            format!("{SITE_DIR}/quartz.config.ts"),
            src.file("docs/quartz.config.ts"),
        )
        .with_file(
            format!("{SITE_DIR}/quartz.layout.ts"),
            src.file("docs/quartz.layout.ts"),
        )
        .with_file(
            format!("{SITE_DIR}/docs/CHANGELOG.md"),
            src.file("CHANGELOG.md"),
        );
    let site = steps.exec(
        &site,
        "quartz build",
        &["npx", "quartz", "build", "-d", "docs"],
    );
    let tarball = format!("/docs-{version}.tar.gz");
    let packed = steps.exec(
        &site,
        "tar",
        &["tar", "-czf", tarball.as_str(), "-C", "public", "."],
    );
    steps.evaluated(packed.file(tarball)).await
}
