"""The container recipe: build image, caches, exec, runtime image, entrypoint."""

from __future__ import annotations

import pytest
from dagger import dag

from blumeops_sdk import recipe
from blumeops_sdk.recipe import ModuleInfo, RecipeError

from .chain import chain, fields, only

INFO = ModuleInfo(name="blumeops", source_subpath=".")


def context_dir():
    return dag.module_source(".").context_directory()


def build_calls(info: ModuleInfo = INFO):
    return chain(recipe.builder(dag, context_dir(), info))


def mounted_caches(calls) -> dict[str, dict]:
    return {
        c.args["path"]: c.args for c in calls if c.field == "withMountedCache"
    }


def cache_key(cache_chain) -> str:
    (call,) = cache_chain
    assert call.field == "cacheVolume"
    return call.args["key"]


class TestBuilder:
    def test_starts_from_a_rust_bookworm_image(self):
        calls = build_calls()
        assert calls[0].field == "container"
        assert only(calls, "from").args == {"address": "rust:1-bookworm"}

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
        assert script.startswith(
            "cargo build --release --locked --bin blumeops-module && "
        )
        assert script.endswith(
            "install -D -m 0755 /cargo-target/release/blumeops-module "
            "/out/blumeops-module"
        )

    def test_caches_source_and_workdir_come_before_the_exec(self):
        names = fields(recipe.builder(dag, context_dir(), INFO))
        exec_at = names.index("withExec")
        assert exec_at == len(names) - 1
        for before in ("withMountedCache", "withMountedDirectory", "withWorkdir"):
            assert max(i for i, n in enumerate(names) if n == before) < exec_at


class TestRuntimeContainer:
    def calls(self, info: ModuleInfo = INFO):
        return chain(recipe.runtime_container(dag, context_dir(), info))

    def test_is_a_slim_debian_of_the_same_release_as_the_build_image(self):
        calls = self.calls()
        assert only(calls, "from").args == {"address": "debian:bookworm-slim"}
        assert recipe.BUILD_IMAGE.endswith("-bookworm")

    def test_copies_the_binary_from_the_build_and_makes_it_the_entrypoint(self):
        calls = self.calls()
        files = {c.args["path"]: c.args for c in calls if c.field == "withFile"}
        binary = files["/usr/local/bin/blumeops-module"]
        assert binary["permissions"] == 0o755
        src = binary["source"]
        assert src[-1].field == "file"
        assert src[-1].args == {"path": "/out/blumeops-module"}
        # The file comes out of the build container, after its one exec.
        assert [c.field for c in src].count("withExec") == 1
        assert src[-2].field == "withExec"
        assert only(calls, "withEntrypoint").args == {
            "args": ["/usr/local/bin/blumeops-module"]
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
        assert {"address": "rust:1-bookworm"} in [c.args for c in bundle]
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
            recipe.builder(dag, context_dir(), ModuleInfo("m", "../escape"))
