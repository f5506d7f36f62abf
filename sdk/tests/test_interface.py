"""The SDK functions as the engine sees them, and what they do with their arguments."""

from __future__ import annotations

import json
import re
from pathlib import Path
from unittest import mock

import anyio
import dagger
import pytest
from dagger import dag
from dagger.mod import default_module

from blumeops_sdk import BlumeopsSdk
from blumeops_sdk.main import module_info
from blumeops_sdk.recipe import RecipeError

from .chain import chain, only

SDK_DIR = Path(__file__).resolve().parents[1]

# The functions a custom SDK module may implement (upstream core/sdk/consts.go,
# sdkFunctions); the engine ignores any other function of the main object.
SDK_FUNCTIONS = {
    "withConfig",
    "codegen",
    "moduleRuntime",
    "moduleTypes",
    "requiredClientGenerationFiles",
    "generateClient",
}


def lower_camel(name: str) -> str:
    """The engine's name for a Python snake_case name (strcase.ToLowerCamel)."""
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def pascal(name: str) -> str:
    """The Python SDK's main object name for a module name."""
    return "".join(p[:1].upper() + p[1:] for p in re.split(r"[-_ ]+", name) if p)


def main_object():
    name = json.loads((SDK_DIR / "dagger.json").read_text())["name"]
    return default_module().get_object(pascal(name))


def signature(fn) -> tuple[dict[str, tuple[type, bool]], type]:
    params = {
        lower_camel(p.name): (p.resolved_type, p.is_nullable)
        for p in fn.parameters.values()
    }
    return params, fn.return_type


class TestWhatTheEngineSees:
    def test_main_object_is_named_after_the_sdk_module(self):
        # core/sdk/module.go listImplementedFunctions only reads the main object.
        assert main_object().cls is BlumeopsSdk

    def test_functions_are_exactly_module_runtime_and_codegen(self):
        names = {lower_camel(n) for n in main_object().functions}
        assert names == {"moduleRuntime", "codegen"}
        assert names <= SDK_FUNCTIONS
        # No moduleTypes: the engine then asks the runtime container itself
        # (empty parent name) for the type definitions.
        assert "moduleTypes" not in names

    def test_module_runtime_signature(self):
        params, ret = signature(main_object().functions["module_runtime"])
        # core/sdk/module_runtime.go passes exactly these two, both non-null.
        assert params == {
            "modSource": (dagger.ModuleSource, False),
            "introspectionJson": (dagger.File, False),
        }
        assert ret is dagger.Container

    def test_codegen_signature(self):
        params, ret = signature(main_object().functions["codegen"])
        assert params == {
            "modSource": (dagger.ModuleSource, False),
            "introspectionJson": (dagger.File, False),
        }
        assert ret is dagger.GeneratedCode

    def test_no_constructor_arguments(self):
        # The engine passes sdkSourceDir only to built-in SDKs (core/sdk/module.go).
        ctor = main_object().get_constructor()
        assert list(ctor.parameters) == []


ROOT = SDK_DIR.parent


def fake_source(
    name: str,
    subpath: str,
    entries: list[str] | None = None,
    manifest: str | None = None,
    sdk_source: str = "./sdk",
    root: str = ".",
):
    """A lazy ModuleSource whose scalar reads answer without an engine: its name,
    subpath and root, its SDK's source, the entries of a directory and the text of a
    file (by default the root module's Cargo.toml, beside a Cargo.lock)."""
    src = dag.module_source(".")
    if manifest is None:
        manifest = (ROOT / "Cargo.toml").read_text()
    if entries is None:
        entries = ["Cargo.lock", "Cargo.toml", "src/"]
    patches = [
        mock.patch.object(
            dagger.Directory, "entries", mock.AsyncMock(return_value=entries)
        ),
        mock.patch.object(
            dagger.File, "contents", mock.AsyncMock(return_value=manifest)
        ),
        mock.patch.object(
            dagger.SDKConfig, "source", mock.AsyncMock(return_value=sdk_source)
        ),
        mock.patch.object(
            dagger.ModuleSource,
            "source_root_subpath",
            mock.AsyncMock(return_value=root),
        ),
        mock.patch.object(
            dagger.ModuleSource,
            "module_original_name",
            mock.AsyncMock(return_value=name),
        ),
        mock.patch.object(
            dagger.ModuleSource, "source_subpath", mock.AsyncMock(return_value=subpath)
        ),
    ]
    return src, patches


def run_with(patches, fn):
    for p in patches:
        p.start()
    try:
        return anyio.run(fn)
    finally:
        for p in reversed(patches):
            p.stop()


class TestFunctions:
    def test_module_runtime_builds_from_the_given_source(self):
        src, patches = fake_source("blumeops", ".")
        schema = dag.directory().file("schema.json")

        async def call():
            return await BlumeopsSdk().module_runtime(src, schema)

        ctr = run_with(patches, call)
        calls = chain(ctr)
        assert only(calls, "withEntrypoint").args == {
            "args": ["/usr/local/bin/dagger-module"]
        }
        binary = next(
            c.args["source"]
            for c in calls
            if c.field == "withFile"
            and c.args["path"] == "/usr/local/bin/dagger-module"
        )
        mount = only(binary, "withMountedDirectory")
        assert [c.field for c in mount.args["source"]] == [
            "moduleSource",
            "contextDirectory",
        ]
        target = next(
            c for c in binary
            if c.field == "withMountedCache" and c.args["path"] == "/cargo-target"
        )
        assert target.args["cache"][0].args["key"] == "blumeops-sdk-target-blumeops"

    def test_module_runtime_reads_name_and_subpath(self):
        src, patches = fake_source("blumeops", "nested/")

        async def call():
            return await module_info(src)

        info = run_with(patches, call)
        assert (info.name, info.source_subpath) == ("blumeops", "nested")

    def test_module_runtime_refuses_a_source_outside_its_context(self):
        src, patches = fake_source("blumeops", "../elsewhere")
        schema = dag.directory().file("schema.json")

        async def call():
            return await BlumeopsSdk().module_runtime(src, schema)

        with pytest.raises(RecipeError, match="inside the context directory"):
            run_with(patches, call)

    def test_codegen_returns_the_context_directory(self):
        src, patches = fake_source("blumeops", ".")
        schema = dag.directory().file("schema.json")

        async def call():
            return await BlumeopsSdk().codegen(src, schema)

        code = run_with(patches, call)
        (call,) = chain(code)
        assert call.field == "generatedCode"
        assert [c.field for c in call.args["code"]] == [
            "moduleSource",
            "contextDirectory",
        ]
