"""The container recipe: build image, caches, exec, runtime image, entrypoint."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from dagger import dag

from blumeops_sdk import recipe
from blumeops_sdk.recipe import ModuleInfo, RecipeError

from .chain import chain, fields, only

INFO = ModuleInfo(name="blumeops", source_subpath=".")

SDK_DIR = Path(__file__).resolve().parents[1]
ROOT = SDK_DIR.parent

#: The root module's build, as its Cargo.toml names it.
PLAN = recipe.cargo_plan((ROOT / "Cargo.toml").read_text(), has_lock=True)

# Debian release numbers and codenames, for the "same release" check.
DEBIAN_CODENAMES = {"11": "bullseye", "12": "bookworm", "13": "trixie"}

# Explicit tags only: the full Rust version, and a Debian point release
# (`12.12-slim`) or dated snapshot (`bookworm-20250908-slim`); an optional
# `@sha256:` digest after either.
_DIGEST = r"(?:@sha256:[0-9a-f]{64})?"
BUILD_TAG_RE = re.compile(
    r"rust:(?P<rust>\d+\.\d+\.\d+)-(?P<codename>[a-z]+)" + _DIGEST
)
RUNTIME_TAG_RES = (
    re.compile(r"debian:(?P<release>\d+)\.\d+-slim" + _DIGEST),
    re.compile(r"debian:(?P<codename>[a-z]+)-\d{8}-slim" + _DIGEST),
)


def build_image_release(image: str) -> tuple[tuple[int, ...], str]:
    """(Rust version, Debian codename) of a pinned rust image; ValueError if floating."""
    m = BUILD_TAG_RE.fullmatch(image)
    if not m:
        raise ValueError(f"{image!r} is not pinned to rust:X.Y.Z-<debian codename>")
    rust = tuple(int(n) for n in m["rust"].split("."))
    return rust, m["codename"]


def runtime_image_release(image: str) -> str:
    """Debian codename of a pinned slim debian image; ValueError if floating."""
    for tag_re in RUNTIME_TAG_RES:
        m = tag_re.fullmatch(image)
        if m and "release" in tag_re.groupindex:
            return DEBIAN_CODENAMES.get(m["release"], "unknown " + m["release"])
        if m:
            return m["codename"]
    raise ValueError(
        f"{image!r} is not pinned to debian:<N.M>-slim or debian:<codename>-<date>-slim"
    )


def context_dir():
    return dag.module_source(".").context_directory()


def build_calls(info: ModuleInfo = INFO):
    return chain(recipe.builder(dag, context_dir(), info, PLAN))


def mounted_caches(calls) -> dict[str, dict]:
    return {
        c.args["path"]: c.args for c in calls if c.field == "withMountedCache"
    }


def cache_key(cache_chain) -> str:
    (call,) = cache_chain
    assert call.field == "cacheVolume"
    return call.args["key"]


class TestBuilder:
    def test_starts_from_the_pinned_rust_image(self):
        calls = build_calls()
        assert calls[0].field == "container"
        assert only(calls, "from").args == {"address": recipe.BUILD_IMAGE}

    def test_mounts_registry_git_and_target_caches(self):
        caches = mounted_caches(build_calls())
        assert set(caches) == {
            "/usr/local/cargo/registry",
            "/usr/local/cargo/git",
            "/cargo-target",
        }
        assert cache_key(caches["/usr/local/cargo/registry"]["cache"]) == (
            "blumeops-sdk-cargo-registry"
        )
        assert cache_key(caches["/usr/local/cargo/git"]["cache"]) == (
            "blumeops-sdk-cargo-git"
        )
        assert cache_key(caches["/cargo-target"]["cache"]) == (
            "blumeops-sdk-target-blumeops"
        )

    def test_target_cache_is_locked_registry_caches_use_the_default(self):
        caches = mounted_caches(build_calls())
        assert caches["/cargo-target"]["sharing"] == "LOCKED"
        # The client leaves an argument out when it has its default (SHARED).
        assert "sharing" not in caches["/usr/local/cargo/registry"]
        assert "sharing" not in caches["/usr/local/cargo/git"]

    def test_target_dir_env_points_at_the_target_cache(self):
        envs = {
            c.args["name"]: c.args["value"]
            for c in build_calls()
            if c.field == "withEnvVariable"
        }
        assert envs["CARGO_TARGET_DIR"] == "/cargo-target"

    def test_target_cache_is_per_module_and_registry_cache_is_shared(self):
        a = mounted_caches(build_calls(ModuleInfo("one", ".")))
        b = mounted_caches(build_calls(ModuleInfo("two", ".")))
        assert cache_key(a["/cargo-target"]["cache"]) != cache_key(
            b["/cargo-target"]["cache"]
        )
        reg = "/usr/local/cargo/registry"
        assert cache_key(a[reg]["cache"]) == cache_key(b[reg]["cache"])

    def test_mounts_the_context_directory_and_works_in_the_source(self):
        calls = build_calls()
        mount = only(calls, "withMountedDirectory")
        assert mount.args["path"] == "/src"
        assert [c.field for c in mount.args["source"]] == [
            "moduleSource",
            "contextDirectory",
        ]
        assert only(calls, "withWorkdir").args == {"path": "/src"}

    def test_workdir_follows_the_source_subpath(self):
        calls = build_calls(ModuleInfo("blumeops", "rust/mod/"))
        assert only(calls, "withWorkdir").args == {"path": "/src/rust/mod"}

    def test_one_exec_builds_the_module_binary_locked_and_copies_it_out(self):
        calls = build_calls()
        exec_ = only(calls, "withExec")
        args = exec_.args["args"]
        assert args[:2] == ["sh", "-euc"]
        script = args[2]
        # The exact command: the module binary of the `blumeops` package in the
        # workspace, without the default `cli` feature, in the `module` profile,
        # from the committed lock (all of it from the root's Cargo.toml).
        assert script.startswith(
            "cargo build --profile module --locked -p blumeops --bin blumeops-module"
            " --no-default-features && "
        )
        assert script.endswith(
            "install -D -m 0755 /cargo-target/module/blumeops-module "
            "/out/dagger-module"
        )

    def test_caches_source_and_workdir_come_before_the_exec(self):
        names = fields(recipe.builder(dag, context_dir(), INFO, PLAN))
        exec_at = names.index("withExec")
        assert exec_at == len(names) - 1
        for before in ("withMountedCache", "withMountedDirectory", "withWorkdir"):
            assert max(i for i, n in enumerate(names) if n == before) < exec_at


class TestRuntimeContainer:
    def calls(self, info: ModuleInfo = INFO):
        return chain(recipe.runtime_container(dag, context_dir(), info, PLAN))

    def test_starts_from_the_pinned_debian_image(self):
        calls = self.calls()
        assert only(calls, "from").args == {"address": recipe.RUNTIME_IMAGE}

    def test_copies_the_binary_from_the_build_and_makes_it_the_entrypoint(self):
        calls = self.calls()
        files = {c.args["path"]: c.args for c in calls if c.field == "withFile"}
        binary = files["/usr/local/bin/dagger-module"]
        assert binary["permissions"] == 0o755
        src = binary["source"]
        assert src[-1].field == "file"
        assert src[-1].args == {"path": "/out/dagger-module"}
        # The file comes out of the build container, after its one exec.
        assert [c.field for c in src].count("withExec") == 1
        assert src[-2].field == "withExec"
        assert only(calls, "withEntrypoint").args == {
            "args": ["/usr/local/bin/dagger-module"]
        }

    def test_entrypoint_is_absolute_because_the_engine_changes_the_workdir(self):
        # core/sdk/module_runtime.go selects withWorkdir("/scratch") afterwards.
        (entry,) = only(self.calls(), "withEntrypoint").args["args"]
        assert entry.startswith("/")

    def test_carries_a_ca_bundle_for_registry_tls(self):
        calls = self.calls()
        files = {c.args["path"]: c.args for c in calls if c.field == "withFile"}
        bundle = files["/etc/ssl/certs/ca-certificates.crt"]["source"]
        assert bundle[0].field == "container"
        assert {"address": recipe.BUILD_IMAGE} in [c.args for c in bundle]
        envs = {
            c.args["name"]: c.args["value"]
            for c in calls
            if c.field == "withEnvVariable"
        }
        assert envs["SSL_CERT_FILE"] == "/etc/ssl/certs/ca-certificates.crt"
        assert envs["DAGGER_MODULE"] == "blumeops"

    def test_has_no_toolchain_source_or_cache_of_its_own(self):
        calls = self.calls()
        top = [c.field for c in calls]
        assert "withMountedCache" not in top
        assert "withMountedDirectory" not in top
        assert "withExec" not in top


class TestPinnedImages:
    def test_build_image_is_an_explicit_rust_release(self):
        rust, _ = build_image_release(recipe.BUILD_IMAGE)
        assert rust == (1, 95, 0), "the Rust release the project is tested with"

    def test_build_image_satisfies_the_crates_rust_version(self):
        cargo = tomllib.loads((ROOT / "Cargo.toml").read_text())
        declared = cargo.get("package", {}).get("rust-version")
        if declared is None or isinstance(declared, dict):
            # A virtual manifest, or `rust-version.workspace = true`.
            declared = cargo["workspace"]["package"]["rust-version"]
        minimum = tuple(int(n) for n in declared.split("."))
        rust, _ = build_image_release(recipe.BUILD_IMAGE)
        assert rust[: len(minimum)] >= minimum

    def test_build_and_runtime_images_are_the_same_debian_release(self):
        # Same release, same glibc: the binary is linked in one and run in the other.
        _, build = build_image_release(recipe.BUILD_IMAGE)
        assert runtime_image_release(recipe.RUNTIME_IMAGE) == build == "bookworm"

    @pytest.mark.parametrize(
        "floating",
        [
            "rust:1-bookworm",
            "rust:1.95-bookworm",
            "rust:latest",
            "rust:bookworm",
            "rust",
            "rust:1.95.0",
        ],
    )
    def test_floating_rust_tags_are_refused(self, floating):
        with pytest.raises(ValueError, match="not pinned"):
            build_image_release(floating)

    @pytest.mark.parametrize(
        "floating",
        [
            "debian:bookworm-slim",
            "debian:12-slim",
            "debian:latest",
            "debian:stable-slim",
            "debian:bookworm",
            "debian",
        ],
    )
    def test_floating_debian_tags_are_refused(self, floating):
        with pytest.raises(ValueError, match="not pinned"):
            runtime_image_release(floating)

    @pytest.mark.parametrize(
        ("image", "codename"),
        [
            ("debian:12.12-slim", "bookworm"),
            ("debian:bookworm-20250908-slim", "bookworm"),
            ("debian:13.1-slim@sha256:" + "0" * 64, "trixie"),
        ],
    )
    def test_pinned_debian_tag_formats(self, image, codename):
        assert runtime_image_release(image) == codename

    def test_each_image_is_written_once(self):
        # One constant per image: no second copy of the tag to fall out of step.
        sources = "".join(
            p.read_text() for p in (SDK_DIR / "src").rglob("*.py")
        )
        for image in (recipe.BUILD_IMAGE, recipe.RUNTIME_IMAGE):
            assert sources.count(image) == 1, image


class TestGeneratedCode:
    def test_is_the_context_directory_unchanged_not_an_empty_directory(self):
        # core/schema/modulesource.go: the engine replaces the context directory
        # with GeneratedCode.code and exports the diff; an empty directory would
        # not mean "nothing generated".
        calls = chain(recipe.generated_code(dag, context_dir()))
        assert [c.field for c in calls] == ["generatedCode"]
        assert [c.field for c in calls[0].args["code"]] == [
            "moduleSource",
            "contextDirectory",
        ]


class TestValidate:
    @pytest.mark.parametrize(
        ("given", "expected"),
        [(".", "."), ("", "."), ("/", "."), ("./", "."), ("a/b/", "a/b"), ("a/./b", "a/b")],
    )
    def test_normalises_the_subpath(self, given, expected):
        assert recipe.validate(ModuleInfo("m", given)).source_subpath == expected

    @pytest.mark.parametrize("bad", ["/abs/path", "..", "../up", "a/../../up"])
    def test_rejects_a_subpath_outside_the_context(self, bad):
        with pytest.raises(RecipeError, match="module source subpath"):
            recipe.validate(ModuleInfo("m", bad))

    @pytest.mark.parametrize("bad", ["", "-lead", "has space", "a/b", "x" * 129])
    def test_rejects_a_name_that_cannot_key_a_cache(self, bad):
        with pytest.raises(RecipeError, match="module name"):
            recipe.validate(ModuleInfo(bad, "."))

    def test_builder_refuses_a_bad_subpath_before_building_anything(self):
        with pytest.raises(RecipeError, match="inside the context directory"):
            recipe.builder(dag, context_dir(), ModuleInfo("m", "../escape"), PLAN)
