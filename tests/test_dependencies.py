"""Every package qa_service imports is declared in pyproject.toml and pinned in the lock."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions

from tests.conftest import REPO


def _name(requirement: str) -> str:
    """Return a requirement's distribution name, normalised (PEP 503)."""
    return re.sub(r"[-_.]+", "-", re.match(r"[A-Za-z0-9_.-]+", requirement)[0]).lower()


def _imported() -> set[str]:
    found = set()
    for path in (REPO / "qa_service").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                found.add(node.module.split(".")[0])
    return found - set(sys.stdlib_module_names) - {"qa_service", "__future__"}


def test_every_imported_package_is_declared_and_locked():
    project = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["project"]
    declared = {_name(r) for r in project["dependencies"]}
    declared |= {_name(r) for extra in project.get("optional-dependencies", {}).values()
                 for r in extra}
    locked = {_name(line) for line in (REPO / "requirements.lock").read_text(
        "utf-8").splitlines() if line and not line.startswith("#")}
    # Optional extras need not be installed to run the tests: named here.
    by_module = {"ray": ["ray"], **packages_distributions()}
    missing, unlocked = {}, {}
    for module in sorted(_imported()):
        dists = {_name(d) for d in by_module.get(module, [])}
        assert dists, f"{module} is imported but no installed distribution provides it"
        if not dists & declared:
            missing[module] = sorted(dists)
        if not dists & locked and module != "ray":  # an extra, not in the lock
            unlocked[module] = sorted(dists)
    assert not missing, f"imported, not declared in pyproject.toml: {missing}"
    assert not unlocked, f"imported, not pinned in requirements.lock: {unlocked}"
