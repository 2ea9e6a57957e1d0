"""The package layout follows the data flow: no import cycles, imports one way down."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "qa_service"
# The stages, in data-flow order: a module imports from its own stage or earlier ones.
STAGES = ["qa_service", "errors", "progress", "config", "response", "text", "ingest",
          "encoders", "store", "indexing", "writes", "search", "service", "collections",
          "evaluate", "learn", "http",
          "cli", "__main__"]
MAX_LINES = 400


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Every project module `name` imports; `from pkg import x` imports pkg as well."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name in modules}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            found |= {base} & modules.keys()
            found |= {f"{base}.{a.name}" for a in node.names} & modules.keys()
    return found - {name}


def _stage(name: str) -> int:
    parts = name.split(".")
    return STAGES.index(parts[1] if len(parts) > 1 else parts[0])


MODULES = _modules()
GRAPH = {name: _imports(name, path, MODULES) for name, path in MODULES.items()}


def _cycle_from(start: str, graph: dict[str, set[str]]) -> list[str] | None:
    """Return a path of imports that leads from `start` back to it, if there is one."""
    stack, seen = [(start, [start])], set()
    while stack:
        name, trail = stack.pop()
        for target in graph[name]:
            if target == start:
                return trail + [start]
            if target not in seen:
                seen.add(target)
                stack.append((target, trail + [target]))
    return None


def test_the_checker_sees_a_package_imported_by_its_own_submodule(tmp_path):
    # The cycles the layout removed were of this shape: pkg/__init__ imports pkg.a, and
    # pkg.a says `from pkg import b`.
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("from pkg.a import f\n")
    (tmp_path / "pkg" / "a.py").write_text("from pkg import b\n")
    (tmp_path / "pkg" / "b.py").write_text("")
    modules = {"pkg": tmp_path / "pkg" / "__init__.py", "pkg.a": tmp_path / "pkg" / "a.py",
               "pkg.b": tmp_path / "pkg" / "b.py"}
    assert _imports("pkg.a", modules["pkg.a"], modules) == {"pkg", "pkg.b"}
    assert _imports("pkg", modules["pkg"], modules) == {"pkg.a"}
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}
    assert _cycle_from("pkg.a", graph) == ["pkg.a", "pkg", "pkg.a"]
    assert _cycle_from("pkg.b", graph) is None


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_imports_itself_back(name):
    assert _cycle_from(name, GRAPH) is None


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_go_one_way_down_the_data_flow(name):
    later = sorted(t for t in GRAPH[name] if _stage(t) > _stage(name))
    assert not later, f"{name} (stage {STAGES[_stage(name)]}) imports later stages: {later}"


def test_no_module_is_past_the_size_limit():
    sizes = {name: len(path.read_text("utf-8").splitlines()) for name, path in MODULES.items()}
    assert {n: s for n, s in sizes.items() if s > MAX_LINES} == {}


@pytest.mark.parametrize("name", sorted(n for n, p in MODULES.items() if p.name == "__init__.py"))
def test_a_package_init_only_re_exports(name):
    tree = ast.parse(MODULES[name].read_text("utf-8"))
    for node in tree.body:
        docstring = isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        exports = isinstance(node, ast.Assign) and [
            t.id for t in node.targets if isinstance(t, ast.Name)] == ["__all__"]
        version = name == "qa_service" and isinstance(node, ast.Assign)
        assert docstring or exports or version or isinstance(node, ast.Import | ast.ImportFrom)


def test_importing_the_package_changes_no_environment_variable():
    code = ("import os; before = dict(os.environ); "
            "import qa_service.encoders, qa_service.indexing, qa_service.search, "
            "qa_service.service, qa_service.http, qa_service.cli; "
            "print(sorted(set(os.environ.items()) ^ set(before.items())))")
    env = {k: v for k, v in os.environ.items()
           if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "TOKENIZERS_PARALLELISM")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "[]"
