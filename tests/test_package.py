"""What the installed package holds: the library, without the generators tests use."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import medscrub

_IMPORT_ALL = """
import importlib, pkgutil, sys
import medscrub
for module in pkgutil.walk_packages(medscrub.__path__, "medscrub."):
    if module.name != "medscrub.__main__":  # runs the command line
        importlib.import_module(module.name)
print(" ".join(sorted(name for name in sys.modules
                      if name.split(".")[0] in ("medscrub_testing", "skimage", "pytest"))))
"""


def test_the_package_ships_no_generator_and_imports_none() -> None:
    package = Path(medscrub.__file__).parent
    names = {p.stem for p in package.rglob("*.py")}
    assert not names & {"samples", "textset", "faceset", "photoset"}
    done = subprocess.run([sys.executable, "-c", _IMPORT_ALL], capture_output=True, text=True,
                          timeout=120, check=True)
    assert done.stdout.strip() == ""


def _import_graph() -> dict[str, set[str]]:
    """Module -> the medscrub modules it imports, at any depth of its code."""
    package = Path(medscrub.__file__).parent
    files = {}
    for path in package.rglob("*.py"):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        files[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph: dict[str, set[str]] = {name: set() for name in files}
    for name, path in files.items():
        here = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                parts = here.split(".")
                base = parts[: len(parts) - node.level + 1] if node.level else []
                module = ".".join([*base, node.module] if node.module else base)
                # `from package import submodule` imports the submodule, not a cycle via the package
                targets = [f"{module}.{a.name}" if f"{module}.{a.name}" in files else module
                           for a in node.names]
            else:
                continue
            graph[name] |= {t for t in targets if t in files and t != name}
    return graph


def test_no_module_imports_itself_through_others() -> None:
    graph = _import_graph()
    assert graph["medscrub.pipeline"] and graph["medscrub.run"]  # the walk found imports

    def reaches(start: str) -> set[str]:
        seen: set[str] = set()
        todo = list(graph[start])
        while todo:
            module = todo.pop()
            if module not in seen:
                seen.add(module)
                todo += graph[module]
        return seen

    cycles = sorted(name for name in graph if name in reaches(name))
    assert cycles == []
