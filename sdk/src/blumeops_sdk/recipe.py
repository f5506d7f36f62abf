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

#: The cargo package (in the workspace at the module's source) that has the binary.
CARGO_PACKAGE = "blumeops"

#: The cargo binary target that implements the module protocol.
MODULE_BIN = "blumeops-module"

#: The cargo invocation that compiles the module binary. ``-p`` names the package
#: in the cargo workspace; ``--no-default-features`` leaves out the default ``cli``
#: feature, which only the ``blumeops`` binary needs; ``--locked`` builds exactly
#: the committed Cargo.lock.
CARGO_BUILD = (
    f"cargo build --release --locked -p {CARGO_PACKAGE} --no-default-features"
    f" --bin {MODULE_BIN}"
)

#: Where the module's context directory is mounted in the build container.
SOURCE_MOUNT = "/src"

#: Cargo's home in the official rust images (``CARGO_HOME``).
CARGO_HOME = "/usr/local/cargo"

#: Target directory, kept on a cache volume outside the source tree.
TARGET_DIR = "/cargo-target"

#: Where the build step leaves the binary inside the build container's own
#: filesystem (a cache volume's contents are not part of a container snapshot).
BUILD_OUTPUT = "/out/" + MODULE_BIN

#: Where the binary lives in the runtime container; the entrypoint.
ENTRYPOINT = "/usr/local/bin/" + MODULE_BIN

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


def build_command() -> list[str]:
    """The one exec of the build step: compile, then copy the binary out of the cache.

    Both happen in one exec so no other build sharing the target cache can swap
    the binary between the build and the copy (the cache is also LOCKED).
    """
    script = (
        f"{CARGO_BUILD}"
        f" && install -D -m 0755 {TARGET_DIR}/release/{MODULE_BIN} {BUILD_OUTPUT}"
    )
    return ["sh", "-euc", script]


def builder(client: Client, context_dir: Directory, info: ModuleInfo) -> Container:
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
        .with_exec(build_command())
    )


def runtime_container(
    client: Client, context_dir: Directory, info: ModuleInfo
) -> Container:
    """The container the engine runs for every call of the module.

    A slim Debian image with only the binary and a CA bundle: the engine keeps
    this image as the module's runtime, so leaving the toolchain and sources out
    keeps what it snapshots and starts small.
    """
    info = validate(info)
    build = builder(client, context_dir, info)
    return (
        client.container()
        .from_(RUNTIME_IMAGE)
        .with_file(CA_BUNDLE, build.file(CA_BUNDLE))
        .with_env_variable("SSL_CERT_FILE", CA_BUNDLE)
        .with_file(ENTRYPOINT, build.file(BUILD_OUTPUT), permissions=0o755)
        .with_env_variable("DAGGER_MODULE", info.name)
        .with_entrypoint([ENTRYPOINT])
    )


def generated_code(client: Client, context_dir: Directory) -> GeneratedCode:
    """Codegen result for a Rust module: nothing is generated.

    The engine replaces the context directory with this one and exports the
    difference, so the unchanged context directory means "no changes".
    """
    return client.generated_code(context_dir)
