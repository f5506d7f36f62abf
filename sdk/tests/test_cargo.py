"""What cargo builds for a module, read from the module's own files, and the starter
crate ``codegen`` writes into an empty module source."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from dagger import dag

from blumeops_sdk import BlumeopsSdk, recipe
from blumeops_sdk.main import sdk_dir_from_crate
from blumeops_sdk.recipe import CargoPlan, RecipeError

from .chain import chain
from .test_interface import fake_source, run_with

SDK_DIR = Path(__file__).resolve().parents[1]
ROOT = SDK_DIR.parent
HELLO = ROOT / "examples" / "hello-module"


def plan_of(crate: Path) -> CargoPlan:
    return recipe.cargo_plan(
        (crate / "Cargo.toml").read_text(), (crate / "Cargo.lock").is_file()
    )


class TestPlans:
    def test_the_root_module_names_package_binary_and_features_in_its_manifest(self):
        plan = plan_of(ROOT)
        assert plan == CargoPlan(
            package="blumeops",
            bin="blumeops-module",
            default_features=False,
            profile="module",
            locked=True,
        )
        assert recipe.cargo_command(plan) == (
            "cargo build --profile module --locked -p blumeops --bin blumeops-module"
            " --no-default-features"
        )
        assert recipe.build_command(plan)[2].endswith(
            "/cargo-target/module/blumeops-module /out/dagger-module"
        )

    def test_the_example_module_builds_its_only_binary_by_default(self):
        plan = plan_of(HELLO)
        assert plan == CargoPlan(
            package="hello-module", bin="hello-module", profile="module", locked=True
        )
        assert recipe.cargo_command(plan) == (
            "cargo build --profile module --locked -p hello-module --bin hello-module"
        )
        # The example points at this SDK, so `dagger call` there uses this recipe.
        cfg = (HELLO / "dagger.json").read_text()
        assert (HELLO / "../../sdk").resolve() == SDK_DIR, cfg

    def test_locked_only_with_a_lock_features_and_profile_from_the_metadata(self):
        manifest = """
[package]
name = "m"
[package.metadata.dagger]
features = ["a", "b"]
profile = "dev"
"""
        plan = recipe.cargo_plan(manifest, has_lock=False)
        assert recipe.cargo_command(plan) == (
            "cargo build --profile dev -p m --bin m --features a,b"
        )
        assert "/cargo-target/debug/m " in recipe.build_command(plan)[2]
        plain = recipe.cargo_plan('[package]\nname = "m"\n', has_lock=False)
        assert plain.profile == "release"

    @pytest.mark.parametrize(
        ("manifest", "rule"),
        [
            ("[workspace]\n", "no \\[package\\]"),
            ('[package]\nname = "m"\n[[bin]]\nname = "a"\n[[bin]]\nname = "b"\n', "several binaries"),
            ('[package]\nname = "m"\n[package.metadata.dagger]\npackage = "other"\n', "name its binary"),
            ('[package]\nname = "m"\n[package.metadata.dagger]\nfeatures = "a"\n', "list of non-empty strings"),
            ('[package]\nname = "m"\n[package.metadata.dagger]\nbinary = "a"\n', "unknown keys"),
            ('[package]\nname = "m"\n[package.metadata.dagger]\ndefault-features = "no"\n', "true or false"),
            ("[package\n", "not valid TOML"),
        ],
    )
    def test_a_manifest_the_recipe_cannot_use_names_the_rule(self, manifest, rule):
        with pytest.raises(RecipeError, match=rule):
            recipe.cargo_plan(manifest, has_lock=True)


class TestRuntimeDependency:
    def test_a_local_sdk_gives_a_path_to_the_runtime_crate(self):
        here = sdk_dir_from_crate("../../sdk", "examples/new", "examples/new")
        assert here == "../../sdk"
        dep = recipe.runtime_dependency("../../sdk", here)
        assert dep == '{ path = "../../crates/dagger-module-runtime" }'
        assert (ROOT / "examples/new" / "../../crates/dagger-module-runtime").resolve() == (
            ROOT / "crates" / "dagger-module-runtime"
        )

    @pytest.mark.parametrize(
        ("source", "dep"),
        [
            ("github.com/o/r/sdk@v1.2.0", '{ git = "https://github.com/o/r", tag = "v1.2.0" }'),
            ("github.com/o/r/sdk@main", '{ git = "https://github.com/o/r", branch = "main" }'),
            ("github.com/o/r/sdk@0123abc", '{ git = "https://github.com/o/r", rev = "0123abc" }'),
            ("github.com/o/r/sdk", '{ git = "https://github.com/o/r" }'),
        ],
    )
    def test_a_remote_sdk_gives_its_repository(self, source, dep):
        assert sdk_dir_from_crate(source, ".", ".") is None
        assert recipe.runtime_dependency(source, None) == dep

    def test_an_unreadable_source_is_an_error(self):
        with pytest.raises(RecipeError, match="neither a local path"):
            recipe.runtime_dependency("python", None)


class TestCodegen:
    def test_an_empty_source_gets_a_starter_crate(self):
        src, patches = fake_source(
            "my-greeter", "mods/greet", entries=[], sdk_source="../../sdk", root="mods/greet"
        )
        schema = dag.directory().file("schema.json")

        async def call():
            return await BlumeopsSdk().codegen(src, schema)

        (generated,) = chain(run_with(patches, call))
        files = {
            c.args["path"]: c.args["contents"]
            for c in generated.args["code"]
            if c.field == "withNewFile"
        }
        assert set(files) == {"mods/greet/Cargo.toml", "mods/greet/src/main.rs"}
        cargo = tomllib.loads(files["mods/greet/Cargo.toml"])
        assert cargo["package"]["name"] == "my-greeter"
        assert cargo["dependencies"]["dagger-module-runtime"] == {
            "path": "../../crates/dagger-module-runtime"
        }
        assert cargo["profile"]["module"]["opt-level"] == 0
        assert "workspace" in cargo
        main = files["mods/greet/src/main.rs"]
        assert '#[object(name = "my-greeter")]' in main
        assert "struct MyGreeter;" in main
        assert "pub fn hello(" in main
        assert "dagger_module_runtime::run(MyGreeter)" in main
        # The SDK builds what it wrote: its only binary, in the module profile,
        # not locked (no Cargo.lock yet).
        plan = recipe.cargo_plan(files["mods/greet/Cargo.toml"], has_lock=False)
        assert recipe.cargo_command(plan) == (
            "cargo build --profile module -p my-greeter --bin my-greeter"
        )

    def test_a_source_with_a_crate_is_left_unchanged(self):
        src, patches = fake_source("blumeops", ".")
        schema = dag.directory().file("schema.json")

        async def call():
            return await BlumeopsSdk().codegen(src, schema)

        (generated,) = chain(run_with(patches, call))
        assert [c.field for c in generated.args["code"]] == [
            "moduleSource",
            "contextDirectory",
        ]

    def test_module_runtime_refuses_a_source_without_a_crate(self):
        src, patches = fake_source("m", ".", entries=["README.md"])
        schema = dag.directory().file("schema.json")

        async def call():
            return await BlumeopsSdk().module_runtime(src, schema)

        with pytest.raises(RecipeError, match="no Cargo.toml"):
            run_with(patches, call)
