"""The SDK interface the engine calls (upstream dagger/dagger ``core/sdk/``).

The main object's name must be the PascalCase of this module's name
(``blumeops-sdk`` -> ``BlumeopsSdk``): the engine only looks for SDK functions on
the main object (``listImplementedFunctions`` in ``core/sdk/module.go``), and only
for the names in ``sdkFunctions`` (``core/sdk/consts.go``).

Implemented: ``moduleRuntime`` and ``codegen``. Deliberately not implemented:
``moduleTypes`` (without it the engine asks the runtime container for the type
definitions with an empty parent name, which the Rust runtime answers: see
``runModuleDefInSDK`` in ``core/schema/modulesource.go``), ``withConfig``
(there is no ``sdk.config`` to read), and the client generator functions.
"""

from __future__ import annotations

from typing import Annotated

import dagger
from dagger import Doc, dag, function, object_type

from .recipe import ModuleInfo, generated_code, runtime_container, validate


async def module_info(mod_source: dagger.ModuleSource) -> ModuleInfo:
    """Read (two engine round trips) and check what the recipe needs to know."""
    name = await mod_source.module_original_name()
    subpath = await mod_source.source_subpath()
    return validate(ModuleInfo(name=name, source_subpath=subpath))


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
        return runtime_container(dag, mod_source.context_directory(), info)

    @function
    async def codegen(
        self,
        mod_source: Annotated[dagger.ModuleSource, Doc("The module being developed")],
        introspection_json: Annotated[
            dagger.File,
            Doc("The engine's schema; unused: the Rust module needs no generated code"),
        ],
    ) -> dagger.GeneratedCode:
        """No generated code: the module's context directory, unchanged."""
        return generated_code(dag, mod_source.context_directory())
