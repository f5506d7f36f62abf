"""dagger.json, the SDK's dagger.json, Cargo files and the CI example agree."""

from __future__ import annotations

import importlib
import json
import re
import shlex
import tomllib
from pathlib import Path

import pytest
import yaml

from blumeops_sdk import recipe

SDK_DIR = Path(__file__).resolve().parents[1]
ROOT = SDK_DIR.parent
WORKFLOW = ROOT / "examples" / "forgejo-ci.yml"

# The module's functions as issue 5 specifies them (Rust snake_case names and
# arguments); the CLI shows them in kebab-case.
MODULE_FUNCTIONS = {
    "publish": {
        "required": {"src", "container_name", "version", "commit_sha"},
        "optional": {
            "registry",
            "registry_username",
            "registry_password",
            "namespace",
            "extra_tags",
            "existing_tag_policy",
            "platforms",
            "created",
        },
    },
    "container_version": {"required": {"container_name"}, "optional": {"src"}},
    "container_version_check": {"required": {"src"}, "optional": {"changed", "all_files"}},
    "changed_containers": {"required": {"src", "changed"}, "optional": set()},
    "build_nix": {"required": {"src", "container_name"}, "optional": set()},
    "publish_nix": {
        "required": {"archive", "container_name", "version", "commit_sha"},
        "optional": {
            "registry",
            "registry_username",
            "registry_password",
            "namespace",
            "extra_tags",
            "existing_tag_policy",
        },
    },
}


def kebab(name: str) -> str:
    return name.replace("_", "-")


def load_json(path: Path) -> dict:
    return json.loads(path.read_text())


@pytest.fixture(scope="module")
def root_cfg() -> dict:
    return load_json(ROOT / "dagger.json")


@pytest.fixture(scope="module")
def sdk_cfg() -> dict:
    return load_json(SDK_DIR / "dagger.json")


@pytest.fixture(scope="module")
def readme() -> str:
    return (SDK_DIR / "README.md").read_text()


@pytest.fixture(scope="module")
def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def cargo_package(root: Path, name: str) -> dict:
    """The manifest of package `name` in the cargo workspace at `root` (what `-p` selects)."""
    manifest = tomllib.loads((root / "Cargo.toml").read_text())
    dirs = {root.resolve()}
    for pattern in manifest.get("workspace", {}).get("members", []):
        # Members are paths, or globs like `crates/*`; "." is the root package.
        matches = root.glob(pattern) if any(c in pattern for c in "*?[") else [root / pattern]
        dirs.update(m.resolve() for m in matches)
    found = []
    for d in sorted(dirs):
        if (d / "Cargo.toml").is_file():
            m = tomllib.loads((d / "Cargo.toml").read_text())
            if m.get("package", {}).get("name") == name:
                found.append(m)
    assert len(found) == 1, f"expected one package {name!r} in {root}, found {len(found)}"
    return found[0]


def dagger_sdk_version() -> str:
    lock = tomllib.loads((ROOT / "Cargo.lock").read_text())
    (pkg,) = [p for p in lock["package"] if p["name"] == "dagger-sdk"]
    return pkg["version"]


class TestDaggerJson:
    def test_module_name_and_engine_version(self, root_cfg):
        assert root_cfg["name"] == "blumeops"
        # The engine the crate's dagger-sdk was generated against.
        assert root_cfg["engineVersion"] == "v" + dagger_sdk_version()

    def test_sdk_source_is_this_sdk_module(self, root_cfg, sdk_cfg):
        source = root_cfg["sdk"]["source"]
        assert (ROOT / source).resolve() == SDK_DIR
        assert (ROOT / source / "dagger.json").is_file()
        assert sdk_cfg["sdk"] == {"source": "python"}
        assert sdk_cfg["engineVersion"] == root_cfg["engineVersion"]

    def test_module_source_holds_the_cargo_project_with_the_module_binary(
        self, root_cfg
    ):
        src = ROOT / root_cfg.get("source", ".")
        plan = recipe.cargo_plan((src / "Cargo.toml").read_text(), has_lock=True)
        cargo = cargo_package(src, plan.package)
        bins = {b["name"]: b for b in cargo.get("bin", [])}
        assert plan.bin in bins
        # Built with --no-default-features: a required feature would make cargo
        # skip the binary ("target ... requires the features ...").
        assert not plan.default_features
        assert not bins[plan.bin].get("required-features")
        # --locked needs the lock file in the build context (the workspace root).
        assert (src / "Cargo.lock").is_file()

    def test_include_only_excludes_and_never_the_build_inputs(self, root_cfg):
        patterns = root_cfg.get("include", [])
        assert patterns, "expected excludes that keep the build context small"
        for p in patterns:
            assert p.startswith("!"), f"{p!r}: only exclusions are wanted here"
        excluded = {p[1:] for p in patterns}
        for needed in ("Cargo.toml", "Cargo.lock", "src", "sdk"):
            assert needed not in excluded
        # The module's `src` arguments ignore the same (src/module/definition.rs, SRC_IGNORE).
        assert "**/target" in excluded

    def test_sdk_package_matches_the_python_sdk_naming(self, sdk_cfg):
        # sdk/python/runtime/discovery.go: project name from pyproject.toml,
        # import package = project name with '-' -> '_'.
        project = tomllib.loads((SDK_DIR / "pyproject.toml").read_text())["project"]
        assert project["name"] == sdk_cfg["name"]
        package = project["name"].replace("-", "_")
        assert (SDK_DIR / "src" / package / "__init__.py").is_file()
        assert (SDK_DIR / "src" / package / "main.py").is_file()

    def test_entry_point_names_the_main_object(self, sdk_cfg):
        # dagger/mod/cli.py loads the "main_object" entry point of group
        # "dagger.mod" and reads its __dagger_module__.
        project = tomllib.loads((SDK_DIR / "pyproject.toml").read_text())["project"]
        value = project["entry-points"]["dagger.mod"]["main_object"]
        module_name, _, attr = value.partition(":")
        cls = getattr(importlib.import_module(module_name), attr)
        assert cls.__dagger_module__.get_object(cls.__name__).cls is cls
        expected = "".join(p.capitalize() for p in sdk_cfg["name"].split("-"))
        assert attr == expected


CALL_RE = re.compile(r"\bdagger\s+call\s+([a-z0-9-]+)((?:\s+--[a-z0-9-]+=(?:\"[^\"]*\"|[^\s)]+))*)")


def dagger_calls(workflow: dict) -> list[tuple[dict, str, dict[str, str]]]:
    """Every `dagger call` in the workflow: (step, function, {flag: value})."""
    found = []
    for job in workflow["jobs"].values():
        for step in job["steps"]:
            # Join shell line continuations so one command is one line.
            script = step.get("run", "").replace("\\\n", " ")
            for m in CALL_RE.finditer(script):
                flags = {}
                for word in shlex.split(m.group(2)):
                    name, _, value = word[2:].partition("=")
                    assert name not in flags, f"flag --{name} given twice"
                    flags[name] = value
                found.append((step, m.group(1), flags))
    return found


class TestWorkflow:
    def test_detects_then_publishes_each_container(self, workflow):
        functions = [f for _, f, _ in dagger_calls(workflow)]
        assert functions == [
            "container-version-check",
            "changed-containers",
            "container-version",
            "publish",
            "build-nix",
            "publish-nix",
        ]
        publish = workflow["jobs"]["publish"]
        assert publish["needs"] == "detect"
        assert publish["strategy"]["matrix"]["container"] == (
            "${{ fromJSON(needs.detect.outputs.containers) }}"
        )
        assert publish["env"]["CONTAINER"] == "${{ matrix.container.name }}"

    def test_functions_and_flags_are_the_modules(self, workflow):
        by_kebab = {kebab(n): spec for n, spec in MODULE_FUNCTIONS.items()}
        for _, function, flags in dagger_calls(workflow):
            assert function in by_kebab, f"{function} is not a module function"
            spec = by_kebab[function]
            known = {kebab(a) for a in spec["required"] | spec["optional"]}
            required = {kebab(a) for a in spec["required"]}
            assert set(flags) <= known, f"{function}: unknown {set(flags) - known}"
            assert required <= set(flags), f"{function}: missing {required - set(flags)}"

    def test_publish_flags(self, workflow):
        calls = {f: (step, flags) for step, f, flags in dagger_calls(workflow)}
        step, flags = calls["publish"]
        assert flags["src"] == "."
        assert flags["container-name"] == "$CONTAINER"
        assert flags["version"] == "$VERSION"
        assert flags["commit-sha"] == "${GITHUB_SHA::7}"
        assert flags["registry-password"] == "env:ZOT_CI_API_KEY"
        env = step["env"]
        assert env["ZOT_CI_API_KEY"] == "${{ secrets.ZOT_CI_API_KEY }}"
        assert env["VERSION"] == "${{ steps.version.outputs.version }}"

    def test_version_comes_from_container_version(self, workflow):
        calls = {f: (step, flags) for step, f, flags in dagger_calls(workflow)}
        step, flags = calls["container-version"]
        assert flags == {"container-name": "$CONTAINER"}
        assert step["id"] == "version"
        assert '"version=$VERSION" >> "$GITHUB_OUTPUT"' in step["run"]

    def test_detect_passes_the_changed_paths(self, workflow):
        calls = {f: (step, flags) for step, f, flags in dagger_calls(workflow)}
        for function in ["container-version-check", "changed-containers"]:
            step, flags = calls[function]
            assert flags == {"src": ".", "changed": "$CHANGED"}, function
        assert "git diff --name-only" in calls["changed-containers"][0]["run"]

    def test_secret_is_never_on_a_command_line(self, workflow):
        for job in workflow["jobs"].values():
            for step in job["steps"]:
                assert "secrets." not in step.get("run", "")

    def test_cli_version_matches_the_engine_version(self, workflow, root_cfg):
        assert "v" + workflow["env"]["DAGGER_VERSION"] == root_cfg["engineVersion"]
        for job in workflow["jobs"].values():
            install = next(s for s in job["steps"] if "install.sh" in s.get("run", ""))
            assert 'DAGGER_VERSION="$DAGGER_VERSION"' in install["run"]

    def test_runs_in_bash_for_the_sha_substring(self, workflow):
        assert workflow["defaults"]["run"]["shell"] == "bash"

    def test_triggers(self, workflow):
        # PyYAML reads the bare key `on` as the boolean True (YAML 1.1).
        triggers = workflow.get("on", workflow.get(True))
        assert "push" in triggers
        assert "workflow_dispatch" in triggers


class TestReadme:
    """sdk/README.md describes the recipe as recipe.py has it."""

    def test_names_the_pinned_images(self, readme):
        assert f"`{recipe.BUILD_IMAGE}`" in readme
        assert f"`{recipe.RUNTIME_IMAGE}`" in readme

    def test_names_the_build_command(self, readme):
        # Markdown reads a line break inside a code span as a space.
        plan = recipe.cargo_plan((ROOT / "Cargo.toml").read_text(), has_lock=True)
        assert f"`{recipe.cargo_command(plan)}`" in " ".join(readme.split())

    @pytest.mark.parametrize("old", ["rust:1-bookworm", "debian:bookworm-slim"])
    def test_no_longer_names_the_floating_images(self, readme, old):
        assert old not in readme
