"""Packaging: every dependency in pyproject.toml is pinned in the lock file (constraints.txt) at a
version its requirement admits; the engine libraries are capped below their next major version;
installs go through the lock file."""

from __future__ import annotations

import tomllib

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from conftest import REPO_ROOT

PYPROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PROJECT = PYPROJECT["project"]
REQUIREMENTS = [Requirement(r) for r in PROJECT["dependencies"] + PROJECT["optional-dependencies"]["dev"]]


def pins() -> dict[str, Version]:
    """constraints.txt as name -> pinned version (every line ``name==version``)."""
    out: dict[str, Version] = {}
    for raw in (REPO_ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        assert sep, f"constraints.txt: {raw!r} is not pinned with =="
        out[canonicalize_name(name)] = Version(version.strip())
    return out


@pytest.mark.parametrize("requirement", REQUIREMENTS, ids=str)
def test_every_dependency_is_pinned_in_the_lock_file(requirement):
    pinned = pins()
    name = canonicalize_name(requirement.name)
    assert name in pinned, f"{requirement.name} is not in constraints.txt: run `make lock`"
    assert requirement.specifier.contains(pinned[name], prereleases=True), (
        f"constraints.txt pins {requirement.name}=={pinned[name]}, outside {requirement}: run `make lock`")


def test_the_project_itself_is_not_in_the_lock_file():
    assert canonicalize_name(PROJECT["name"]) not in pins()


@pytest.mark.parametrize(("name", "next_major"), [("duckdb", "3"), ("ibis-framework", "13")])
def test_engine_libraries_are_capped_below_their_next_major(name, next_major):
    (req,) = [r for r in REQUIREMENTS if canonicalize_name(r.name) == name]
    assert not req.specifier.contains(next_major), f"{req} admits {name} {next_major}"
    assert pins()[name] < Version(next_major)


def test_installs_use_the_lock_file():
    makefile = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    installs = [line for line in makefile.splitlines() if "pip install" in line and "-e " in line
                and ".venv-lock" not in line]
    assert installs, "no pip install of the project in the Makefile"
    assert all("-c $(CONSTRAINTS)" in line for line in installs), installs
    assert "CONSTRAINTS := constraints.txt" in makefile


def test_ci_requires_the_real_data_and_runs_the_readme_test_command():
    ci = (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "export RECONTACT_REAL_DATA=required" in ci
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert "make test" in readme and "\nmake test\n" in ci
