"""The packages import only what docs/ARCHITECTURE.md's table allows (every import, including
those inside functions): serving/ stays HTTP, the apps' domain stays out of it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OURS = {
    "spec", "warehouse", "expectations", "feature_store", "models", "apps", "bot", "pipelines",
    "serving", "plugins", "dags", "cli", "replay",
}  # fmt: skip
ALLOWED: dict[str, set[str]] = {
    "spec": set(),
    "warehouse": {"spec"},
    "expectations": {"spec"},
    "feature_store": {"spec", "warehouse"},
    "models": {"spec", "feature_store"},
    "apps": {"spec", "warehouse"},
    "bot": {"spec", "warehouse", "models"},
    "pipelines": {"spec", "warehouse", "expectations", "feature_store", "models"},
    "serving": {"spec", "warehouse", "feature_store", "models", "apps", "bot"},
}


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


def _allowed(package: str, module: str) -> bool:
    top = module.split(".")[0]
    if top not in OURS or top == package:
        return True
    return any(module == rule or module.startswith(f"{rule}.") for rule in ALLOWED[package])


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_a_package_imports_only_what_the_architecture_allows(package: str) -> None:
    wrong = sorted(
        f"{path.relative_to(ROOT)}: {module}"
        for path in (ROOT / package).rglob("*.py")
        for module in _imports(path)
        if not _allowed(package, module)
    )
    assert wrong == []


def test_the_apps_domain_is_not_in_serving() -> None:
    assert not (ROOT / "serving" / "recipes.py").exists()
    assert not (ROOT / "serving" / "voting.py").exists()
    assert {p.name for p in (ROOT / "apps").iterdir() if p.is_dir() and p.name[0] != "_"} >= {
        "recipes",
        "voting",
    }


def _module_graph() -> dict[str, set[str]]:
    """Our modules (migrations aside) and those each imports, at the top or inside a function
    (`from a.b import c` imports a.b.c when that is a module, else a.b)."""
    paths = {}
    for package in sorted(OURS):
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" not in path.parts:
                name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
                paths[name.removesuffix(".__init__")] = path

    def resolve(name: str) -> str | None:
        while name and name not in paths:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {name: set() for name in paths}
    for name, path in paths.items():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                targets = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            else:
                continue
            for target in targets:
                found = resolve(target)
                # a package's own __init__ is not a circle with its modules
                if found and found != name and not name.startswith(f"{found}."):
                    graph[name].add(found)
    return graph


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                circles.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return circles


def test_no_module_imports_itself_through_others() -> None:
    assert _circles(_module_graph()) == []
    # the check sees a circle when there is one
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
