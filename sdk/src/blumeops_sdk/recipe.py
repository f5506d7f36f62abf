"""How the Rust module binary is built and run, as plain functions.

Every function here takes the Dagger client objects it works on (the ``dag``
client, a ``Directory``) and only *describes* containers: nothing in this file
talks to the engine. That keeps the recipe testable without an engine (the
Python client builds its queries lazily, so tests read the recorded call chain).

Contract followed (upstream dagger/dagger):
- ``core/sdk/module_runtime.go``: the engine calls the SDK module's
  ``moduleRuntime(modSource, introspectionJson)`` and then selects
  ``withWorkdir("/scratch")`` on the returned container before running its
  entrypoint, so the entrypoint must be an absolute path.
- ``core/schema/modulesource.go`` (``runModuleDefInSDK``): an SDK without
  ``moduleTypes`` gets its type definitions by running that same runtime
  container for a call with an empty parent name; the Rust runtime answers it.
- ``core/schema/modulesource.go`` (``runCodegen`` /
  ``moduleSourceGeneratedContextDirectory``): the directory returned by
  ``codegen`` *replaces* the module's context directory and is then diffed
  against the original one, so "no generated code" means returning the context
  directory unchanged, not an empty directory.
- ``sdk/python/runtime/main.go`` (the Python SDK's own runtime): mounts the
  context directory and works in its source subpath; we do the same.
"""

from __future__ import annotations

import posixpath
import re
import tomllib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import dagger

if TYPE_CHECKING:
    from dagger import Client, Container, Directory, GeneratedCode

#: Build image, pinned to the Rust release the project is tested with (1.95.0),
#: so a cold build compiles with the same compiler on every engine. Debian
#: bookworm, to match the runtime image's glibc. Not a digest: see sdk/README.md,
#: "Pinned images", for why and how to add one.
BUILD_IMAGE = "rust:1.95.0-bookworm"

#: Runtime image: the same Debian release as the build image (12 = bookworm),
#: at a point-release tag instead of the floating ``bookworm-slim``, and without
#: a toolchain.
RUNTIME_IMAGE = "debian:12.12-slim"

#: The cargo profile the module binary is built with when its manifest defines
#: it (``[profile.module]``: release without optimisation, stripped; the binary
#: waits on the engine and computes little, so a build costs half the CPU of
#: ``release``; BENCHMARKS.md, "Module build cost"). Otherwise ``release``.
MODULE_PROFILE = "module"

#: Where the module's build settings are read: ``[package.metadata.dagger]`` of
#: the Cargo.toml at the module's source (``package``, ``bin``, ``features``,
#: ``default-features``, ``profile``).
METADATA_TABLE = "[package.metadata.dagger]"

#: Where the module's context directory is mounted in the build container.
SOURCE_MOUNT = "/src"

#: Cargo's home in the official rust images (``CARGO_HOME``).
CARGO_HOME = "/usr/local/cargo"

#: Target directory, kept on a cache volume outside the source tree.
TARGET_DIR = "/cargo-target"

#: Where the build step leaves the binary inside the build container's own
#: filesystem (a cache volume's contents are not part of a container snapshot).
BUILD_OUTPUT = "/out/dagger-module"

#: Where the binary lives in the runtime container; the entrypoint.
ENTRYPOINT = "/usr/local/bin/dagger-module"

#: CA bundle path in Debian; copied from the build image into the runtime image
#: (rustls-native-certs reads it when the module talks to a registry over TLS).
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"

#: Cache volume keys. The registry caches are shared by every module built with
#: this SDK (cargo locks them itself); the target cache is per module name.
REGISTRY_CACHE_KEY = "blumeops-sdk-cargo-registry"
GIT_CACHE_KEY = "blumeops-sdk-cargo-git"
TARGET_CACHE_PREFIX = "blumeops-sdk-target-"

_MODULE_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


class RecipeError(ValueError):
    """The module source cannot be built with this SDK; the message names the rule."""


@dataclass(frozen=True)
class ModuleInfo:
    """What the recipe needs to know about the module being built."""

    #: The module's name from its dagger.json (keys its target cache).
    name: str
    #: Path of the module's implementation source (where Cargo.toml lives),
    #: relative to the context directory.
    source_subpath: str


def validate(info: ModuleInfo) -> ModuleInfo:
    """Check the module name and subpath; return them normalised.

    The engine normally hands us sane values; this is the one place that says
    what "sane" means, so a bad value fails here with the rule it broke.
    """
    if not _MODULE_NAME_RE.fullmatch(info.name):
        msg = (
            f"module name {info.name!r} is not usable as a cache key: it must be 1 to "
            "128 characters of letters, digits, '_', '.' or '-', starting with a "
            "letter or digit"
        )
        raise RecipeError(msg)
    sub = info.source_subpath.strip()
    if sub in ("", "/"):
        sub = "."
    if sub.startswith("/"):
        msg = (
            f"module source subpath {info.source_subpath!r} must be relative to the "
            "context directory"
        )
        raise RecipeError(msg)
    norm = posixpath.normpath(sub)
    if norm == ".." or norm.startswith("../"):
        msg = (
            f"module source subpath {info.source_subpath!r} must stay inside the "
            "context directory"
        )
        raise RecipeError(msg)
    return ModuleInfo(name=info.name, source_subpath=norm)


def source_workdir(info: ModuleInfo) -> str:
    """Absolute path of the module's source (its Cargo.toml) in the build container."""
    if info.source_subpath == ".":
        return SOURCE_MOUNT
    return posixpath.join(SOURCE_MOUNT, info.source_subpath)


def target_cache_key(info: ModuleInfo) -> str:
    """Cache volume key for the module's cargo target directory."""
    return TARGET_CACHE_PREFIX + info.name


@dataclass(frozen=True)
class CargoPlan:
    """What cargo builds for the module: read from the module's own Cargo.toml."""

    #: The cargo package (``-p``).
    package: str
    #: The binary target that implements the module protocol (``--bin``).
    bin: str
    #: Features to enable (``--features``).
    features: tuple[str, ...] = ()
    #: False for ``--no-default-features``.
    default_features: bool = True
    #: The cargo profile (``--profile``).
    profile: str = "release"
    #: True when the module has a Cargo.lock: then cargo builds exactly it.
    locked: bool = False


def _strings(value: object, what: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        msg = f"{METADATA_TABLE} {what} must be a list of non-empty strings"
        raise RecipeError(msg)
    return tuple(value)


def cargo_plan(manifest_text: str, has_lock: bool) -> CargoPlan:
    """The build of the module binary, from its Cargo.toml text.

    ``[package.metadata.dagger]`` may name ``package``, ``bin``, ``features``,
    ``default-features`` and ``profile``; without them the package is the
    manifest's own and the binary its only one.
    """
    try:
        manifest = tomllib.loads(manifest_text)
    except tomllib.TOMLDecodeError as e:
        msg = f"the module's Cargo.toml is not valid TOML: {e}"
        raise RecipeError(msg) from e
    package_table = manifest.get("package")
    if not isinstance(package_table, dict):
        msg = (
            "the module's Cargo.toml has no [package]: the module's source must be "
            "the crate that holds the module binary"
        )
        raise RecipeError(msg)
    meta = package_table.get("metadata", {}).get("dagger", {})
    if not isinstance(meta, dict):
        msg = f"{METADATA_TABLE} must be a table"
        raise RecipeError(msg)
    known = {"package", "bin", "features", "default-features", "profile"}
    unknown = sorted(set(meta) - known)
    if unknown:
        msg = (
            f"{METADATA_TABLE} has unknown keys {unknown}; it takes "
            f"{sorted(known)}"
        )
        raise RecipeError(msg)
    package = meta.get("package", package_table.get("name"))
    if not isinstance(package, str) or not package:
        msg = f"the module's package has no name: set name in [package] or package in {METADATA_TABLE}"
        raise RecipeError(msg)
    bins = [b.get("name") for b in manifest.get("bin", []) if isinstance(b, dict)]
    if "bin" in meta:
        bin_name = meta["bin"]
        if not isinstance(bin_name, str) or not bin_name:
            msg = f"{METADATA_TABLE} bin must be a binary target's name"
            raise RecipeError(msg)
    elif package != package_table.get("name"):
        msg = (
            f"{METADATA_TABLE} names package {package!r}, another crate of the "
            "workspace: name its binary too (bin = \"...\")"
        )
        raise RecipeError(msg)
    elif len(bins) > 1:
        msg = (
            f"package {package!r} has several binaries ({', '.join(map(str, bins))}); "
            f"name the module's with bin = \"...\" in {METADATA_TABLE}"
        )
        raise RecipeError(msg)
    elif bins:
        bin_name = bins[0]
    else:
        # src/main.rs: cargo names the binary after the package.
        bin_name = package
    default_features = meta.get("default-features", True)
    if not isinstance(default_features, bool):
        msg = f"{METADATA_TABLE} default-features must be true or false"
        raise RecipeError(msg)
    profiles = manifest.get("profile", {})
    profile = meta.get(
        "profile", MODULE_PROFILE if MODULE_PROFILE in profiles else "release"
    )
    if not isinstance(profile, str) or not re.fullmatch(r"[a-z][a-z0-9_-]*", profile):
        msg = f"{METADATA_TABLE} profile must be a cargo profile name"
        raise RecipeError(msg)
    return CargoPlan(
        package=package,
        bin=bin_name,
        features=_strings(meta.get("features", []), "features"),
        default_features=default_features,
        profile=profile,
        locked=has_lock,
    )


def cargo_command(plan: CargoPlan) -> str:
    """The cargo invocation that compiles the module binary."""
    parts = ["cargo", "build", "--profile", plan.profile]
    if plan.locked:
        parts.append("--locked")
    parts += ["-p", plan.package, "--bin", plan.bin]
    if not plan.default_features:
        parts.append("--no-default-features")
    if plan.features:
        parts += ["--features", ",".join(plan.features)]
    return " ".join(parts)


def profile_dir(profile: str) -> str:
    """The folder under the target directory where a profile's outputs go."""
    return {"dev": "debug", "test": "debug", "bench": "release"}.get(profile, profile)


def build_command(plan: CargoPlan) -> list[str]:
    """The one exec of the build step: compile, then copy the binary out of the cache.

    Both happen in one exec so no other build sharing the target cache can swap
    the binary between the build and the copy (the cache is also LOCKED).
    """
    built = f"{TARGET_DIR}/{profile_dir(plan.profile)}/{plan.bin}"
    script = f"{cargo_command(plan)} && install -D -m 0755 {built} {BUILD_OUTPUT}"
    return ["sh", "-euc", script]


def builder(
    client: Client, context_dir: Directory, info: ModuleInfo, plan: CargoPlan
) -> Container:
    """The build container: Rust image, caches, the module's source, one build exec."""
    info = validate(info)
    return (
        client.container()
        .from_(BUILD_IMAGE)
        .with_env_variable("CARGO_TERM_COLOR", "never")
        .with_env_variable("CARGO_TARGET_DIR", TARGET_DIR)
        .with_mounted_cache(
            f"{CARGO_HOME}/registry", client.cache_volume(REGISTRY_CACHE_KEY)
        )
        .with_mounted_cache(f"{CARGO_HOME}/git", client.cache_volume(GIT_CACHE_KEY))
        .with_mounted_cache(
            TARGET_DIR,
            client.cache_volume(target_cache_key(info)),
            sharing=dagger.CacheSharingMode.LOCKED,
        )
        .with_mounted_directory(SOURCE_MOUNT, context_dir)
        .with_workdir(source_workdir(info))
        .with_exec(build_command(plan))
    )


def runtime_container(
    client: Client, context_dir: Directory, info: ModuleInfo, plan: CargoPlan
) -> Container:
    """The container the engine runs for every call of the module.

    A slim Debian image with only the binary and a CA bundle: the engine keeps
    this image as the module's runtime, so leaving the toolchain and sources out
    keeps what it snapshots and starts small.
    """
    info = validate(info)
    build = builder(client, context_dir, info, plan)
    return (
        client.container()
        .from_(RUNTIME_IMAGE)
        .with_file(CA_BUNDLE, build.file(CA_BUNDLE))
        .with_env_variable("SSL_CERT_FILE", CA_BUNDLE)
        .with_file(ENTRYPOINT, build.file(BUILD_OUTPUT), permissions=0o755)
        .with_env_variable("DAGGER_MODULE", info.name)
        .with_entrypoint([ENTRYPOINT])
    )


def generated_code(
    client: Client, context_dir: Directory, files: dict[str, str] | None = None
) -> GeneratedCode:
    """Codegen result for a Rust module: the context directory, plus ``files``.

    The engine replaces the context directory with this one and exports the
    difference, so the unchanged context directory means "no changes"; a new
    module gets its starter crate this way (``files``, paths relative to the
    context directory).
    """
    for path, contents in sorted((files or {}).items()):
        context_dir = context_dir.with_new_file(path, contents)
    return client.generated_code(context_dir)


#: The runtime crate's folder, relative to this SDK module's own folder (the
#: repository layout: sdk/ beside crates/).
RUNTIME_CRATE_FROM_SDK = "../crates/dagger-module-runtime"

_REMOTE_RE = re.compile(
    r"^(?P<host>[a-z0-9.-]+\.[a-z]+)/(?P<owner>[A-Za-z0-9_.-]+)/(?P<repo>[A-Za-z0-9_.-]+)"
    r"(?:/[^@]*)?(?:@(?P<ref>[^@\s]+))?$"
)


def runtime_dependency(sdk_source: str, sdk_dir_from_crate: str | None) -> str:
    """The starter crate's dependency on the runtime: where this SDK came from.

    A local SDK (``sdk_dir_from_crate``: the SDK's folder relative to the new
    crate) gives a path; a remote one (``github.com/owner/repo/sdk@ref``) the
    repository's git URL at that ref.
    """
    if sdk_dir_from_crate is not None:
        path = posixpath.normpath(posixpath.join(sdk_dir_from_crate, RUNTIME_CRATE_FROM_SDK))
        return f'{{ path = "{path}" }}'
    m = _REMOTE_RE.fullmatch(sdk_source.strip())
    if not m:
        msg = (
            f"SDK source {sdk_source!r} is neither a local path nor a "
            "host/owner/repo[/path][@ref] reference: the starter crate cannot name "
            "the runtime crate's source"
        )
        raise RecipeError(msg)
    git = f'git = "https://{m["host"]}/{m["owner"]}/{m["repo"]}"'
    ref = m["ref"]
    if ref is None:
        return f"{{ {git} }}"
    if re.fullmatch(r"[0-9a-f]{7,40}", ref):
        return f'{{ {git}, rev = "{ref}" }}'
    if re.fullmatch(r"v\d.*", ref):
        return f'{{ {git}, tag = "{ref}" }}'
    return f'{{ {git}, branch = "{ref}" }}'


def starter_files(module_name: str, runtime_dep: str) -> dict[str, str]:
    """The starter crate of a new module: Cargo.toml and src/main.rs with ``hello``."""
    package = re.sub(r"[^a-z0-9_-]", "-", module_name.lower()).strip("-") or "module"
    struct = "".join(w[:1].upper() + w[1:] for w in re.split(r"[-_.]", module_name) if w)
    cargo = f"""[package]
name = "{package}"
version = "0.1.0"
edition = "2021"
publish = false

# A crate of its own (a Dagger module is built alone).
[workspace]

[dependencies]
# The Rust SDK: attribute macros, runtime, and dagger-sdk re-exported.
dagger-module-runtime = {runtime_dep}
tokio = {{ version = "1", features = ["macros", "rt-multi-thread"] }}

# The profile the SDK builds the module binary with: it waits on the engine and
# computes little, so no optimisation (half the build's CPU), symbols stripped.
[profile.module]
inherits = "release"
opt-level = 0
strip = true
incremental = true
"""
    main = f"""//! The `{module_name}` Dagger module.

use dagger_module_runtime::{{functions, object}};

/// A Dagger module written in Rust.
#[object(name = "{module_name}")]
struct {struct};

#[functions]
impl {struct} {{
    /// Say hello.
    pub fn hello(&self, #[arg(default = "world", doc = "Who to greet")] name: String) -> String {{
        format!("hello, {{name}}!")
    }}
}}

#[tokio::main]
async fn main() -> std::process::ExitCode {{
    dagger_module_runtime::run({struct}).await
}}
"""
    return {"Cargo.toml": cargo, "src/main.rs": main}
