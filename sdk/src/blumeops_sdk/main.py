"""The SDK interface the engine calls (upstream dagger/dagger ``core/sdk/``).

The main object's name must be the PascalCase of this module's name
(``blumeops-sdk`` -> ``BlumeopsSdk``): the engine only looks for SDK functions on
the main object (``listImplementedFunctions`` in ``core/sdk/module.go``), and only
for the names in ``sdkFunctions`` (``core/sdk/consts.go``).

Implemented: ``moduleRuntime`` (builds the crate the module's Cargo.toml names,
``[package.metadata.dagger]``) and ``codegen`` (a starter crate in an empty
module source, as ``dagger init --sdk=python`` writes one). Deliberately not implemented:
``moduleTypes`` (without it the engine asks the runtime container for the type
definitions with an empty parent name, which the Rust runtime answers: see
``runModuleDefInSDK`` in ``core/schema/modulesource.go``), ``withConfig``
(there is no ``sdk.config`` to read), and the client generator functions.
"""

from __future__ import annotations

import posixpath
from typing import Annotated

import dagger
from dagger import Doc, dag, function, object_type

from .recipe import (
    CargoPlan,
    ModuleInfo,
    RecipeError,
    cargo_plan,
    generated_code,
    runtime_container,
    runtime_dependency,
    starter_files,
    validate,
)


async def module_info(mod_source: dagger.ModuleSource) -> ModuleInfo:
    """Read (two engine round trips) and check what the recipe needs to know."""
    name = await mod_source.module_original_name()
    subpath = await mod_source.source_subpath()
    return validate(ModuleInfo(name=name, source_subpath=subpath))


async def module_plan(context: dagger.Directory, info: ModuleInfo) -> CargoPlan:
    """Read the module's Cargo.toml (and whether it has a Cargo.lock): what to build."""
    source = context.directory(info.source_subpath)
    entries = await source.entries()
    if "Cargo.toml" not in entries:
        msg = (
            f"the module's source ({info.source_subpath}) has no Cargo.toml: run "
            "`dagger develop` to get a starter crate, or add the module's crate there"
        )
        raise RecipeError(msg)
    manifest = await source.file("Cargo.toml").contents()
    return cargo_plan(manifest, has_lock="Cargo.lock" in entries)


def sdk_dir_from_crate(sdk_source: str, source_root: str, source_subpath: str) -> str | None:
    """A local SDK's folder relative to the module's crate; None for a remote SDK.

    ``sdk_source`` is relative to the module's root (where dagger.json is),
    ``source_root`` and ``source_subpath`` to the context directory.
    """
    if not (sdk_source.startswith(".") or sdk_source.startswith("/")):
        return None
    sdk = posixpath.normpath(posixpath.join(source_root, sdk_source))
    return posixpath.relpath(sdk, source_subpath)


@object_type
class BlumeopsSdk:
    """Builds a Rust Dagger module with cargo and runs its binary for every call."""

    @function
    async def module_runtime(
        self,
        mod_source: Annotated[dagger.ModuleSource, Doc("The module being loaded")],
        introspection_json: Annotated[
            dagger.File,
            Doc("The engine's schema; unused: the Rust module needs no generated code"),
        ],
    ) -> dagger.Container:
        """Container whose entrypoint is the module's compiled Rust binary."""
        info = await module_info(mod_source)
        context = mod_source.context_directory()
        plan = await module_plan(context, info)
        return runtime_container(dag, context, info, plan)

    @function
    async def codegen(
        self,
        mod_source: Annotated[dagger.ModuleSource, Doc("The module being developed")],
        introspection_json: Annotated[
            dagger.File,
            Doc("The engine's schema; unused: the Rust module needs no generated code"),
        ],
    ) -> dagger.GeneratedCode:
        """A starter crate in an empty module source; otherwise nothing generated."""
        info = await module_info(mod_source)
        context = mod_source.context_directory()
        entries = await context.directory(info.source_subpath).entries()
        if "Cargo.toml" in entries:
            return generated_code(dag, context)
        sdk_source = await mod_source.sdk().source()
        root = await mod_source.source_root_subpath()
        local = sdk_dir_from_crate(sdk_source, root, info.source_subpath)
        files = starter_files(info.name, runtime_dependency(sdk_source, local))
        prefix = "" if info.source_subpath == "." else info.source_subpath + "/"
        return generated_code(
            dag, context, {prefix + path: text for path, text in files.items()}
        )
