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
    "expectations": {"spec", "warehouse.artifacts"},
    "feature_store": {"spec", "warehouse"},
    "models": {"spec", "feature_store", "warehouse.settings"},
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
