"""uv.lock pins what the engine installs for this SDK module.

The engine's Python SDK runtime (sdk/python/runtime in dagger/dagger) vendors its
dagger-io source into ./sdk, then, because uv.lock exists, runs `uv lock` and
`uv sync --no-dev`. These checks read the lock as TOML; they need no uv and no
network. How the lock is made: README.md, "The SDK module's own dependencies".
"""

from __future__ import annotations

import importlib.metadata
import json
import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

SDK_DIR = Path(__file__).resolve().parents[1]
LOCK = SDK_DIR / "uv.lock"
PYPI = "https://pypi.org/simple"

# A release version with nothing floating in it (no `*`, no range operator).
EXACT_VERSION_RE = re.compile(r"\d+(\.\d+)*((a|b|rc)\d+)?(\.post\d+)?(\.dev\d+)?")
SHA256_RE = re.compile(r"sha256:[0-9a-f]{64}")


@pytest.fixture(scope="module")
def lock() -> dict:
    assert LOCK.is_file(), "sdk/uv.lock is missing; README.md says how to make it"
    return tomllib.loads(LOCK.read_text())


@pytest.fixture(scope="module")
def pyproject() -> dict:
    return tomllib.loads((SDK_DIR / "pyproject.toml").read_text())


@pytest.fixture(scope="module")
def packages(lock) -> dict[str, dict]:
    by_name: dict[str, dict] = {}
    for pkg in lock["package"]:
        # One version per package: nothing left for the installer to choose.
        assert pkg["name"] not in by_name, f"{pkg['name']} is locked more than once"
        by_name[pkg["name"]] = pkg
    return by_name


def engine_dagger_io_version() -> str:
    cfg = json.loads((SDK_DIR / "dagger.json").read_text())
    return cfg["engineVersion"].removeprefix("v")


class TestLockMatchesPyproject:
    def test_lock_format_and_python(self, lock, pyproject):
        assert lock["version"] == 1
        assert lock["requires-python"] == pyproject["project"]["requires-python"]

    def test_this_module_is_the_editable_root(self, packages, pyproject):
        project = pyproject["project"]
        root = packages[project["name"]]
        assert root["source"] == {"editable": "."}
        assert root["version"] == project["version"]
        # What uv recorded from pyproject.toml; a change there needs a new lock.
        assert root["metadata"]["requires-dist"] == [
            {"name": "dagger-io", "editable": "sdk"}
        ]
        assert project["dependencies"] == ["dagger-io"]
        assert [d["name"] for d in root["dependencies"]] == ["dagger-io"]

    def test_dagger_io_comes_from_the_vendor_path(self, packages, pyproject):
        # discovery.go reads the vendor path from [tool.uv.sources] when uv.lock exists.
        source = pyproject["tool"]["uv"]["sources"]["dagger-io"]
        assert source == {"path": "sdk", "editable": True}
        assert packages["dagger-io"]["source"] == {"editable": source["path"]}


class TestDaggerIoPin:
    def test_is_the_engine_copy_of_the_source(self, packages):
        # The engine vendors dagger/dagger's sdk/python, whose pyproject.toml says
        # 0.0.0; the release is fixed by the engine version, the dependencies below.
        assert packages["dagger-io"]["version"] == "0.0.0"

    def test_local_tests_use_the_engines_release(self):
        assert importlib.metadata.version("dagger-io") == engine_dagger_io_version()

    def test_dependencies_are_those_of_the_engines_release(self, packages):
        # The lock was made from dagger-io at the engine's version: its recorded
        # requirements are the installed 0.21.11's (requirements-test.txt).
        locked = {
            (
                canonicalize_name(r["name"]),
                SpecifierSet(r.get("specifier", "")),
                frozenset(r.get("extras", [])),
            )
            for r in packages["dagger-io"]["metadata"]["requires-dist"]
        }
        released = {
            (canonicalize_name(req.name), req.specifier, frozenset(req.extras))
            for req in map(Requirement, importlib.metadata.requires("dagger-io") or [])
            # Requirements behind an extra are not installed, so not locked.
            if req.marker is None
        }
        assert locked == released


class TestEveryPackageIsPinned:
    def test_every_other_package_is_one_exact_release_from_pypi(self, packages):
        local = {"blumeops-sdk", "dagger-io"}
        for name, pkg in packages.items():
            if name in local:
                continue
            assert pkg["source"] == {"registry": PYPI}, name
            assert EXACT_VERSION_RE.fullmatch(pkg["version"]), (name, pkg["version"])

    def test_every_download_has_a_hash(self, packages):
        for name, pkg in packages.items():
            if "editable" in pkg["source"]:
                continue
            files = pkg.get("wheels", []) + ([pkg["sdist"]] if "sdist" in pkg else [])
            assert files, f"{name}: nothing to download"
            for f in files:
                assert f["url"].startswith("https://files.pythonhosted.org/"), f["url"]
                assert SHA256_RE.fullmatch(f["hash"]), (name, f["url"])

    def test_every_dependency_is_locked(self, packages):
        # The closure: sync installs nothing the lock does not name.
        for name, pkg in packages.items():
            deps = list(pkg.get("dependencies", []))
            for extra_deps in pkg.get("optional-dependencies", {}).values():
                deps += extra_deps
            for dep in deps:
                assert dep["name"] in packages, f"{name} needs unlocked {dep['name']}"
                assert "version" not in dep or dep["version"] == (
                    packages[dep["name"]]["version"]
                )

    def test_includes_dagger_ios_runtime_dependencies(self, packages):
        for name in ("anyio", "gql", "httpx", "cattrs", "beartype", "opentelemetry-sdk"):
            assert name in packages, name


class TestBuildBackend:
    def test_the_build_backend_is_pinned(self, pyproject):
        # uv builds this module (the editable root) during `uv sync` with the backend named
        # here, fetched then; uv.lock does not record it, so the pin is here.
        requires = pyproject["build-system"]["requires"]
        assert requires, "no build backend"
        for requirement in map(Requirement, requires):
            specs = list(requirement.specifier)
            assert len(specs) == 1 and specs[0].operator == "==", requirement
            assert EXACT_VERSION_RE.fullmatch(specs[0].version), requirement
        assert pyproject["build-system"]["build-backend"] == "hatchling.build"
