"""The prediction spec: declared once, at the bottom of the import graph, checked by name."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import spec
from spec import UnknownName

ROOT = Path(__file__).resolve().parents[2]
OURS = ("warehouse", "pipelines", "feature_store", "models", "expectations", "serving", "bot",
        "dags", "plugins", "cli", "replay", "spec", "apps", "bench", "tools")  # fmt: skip


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def test_the_spec_imports_nothing_of_ours() -> None:
    for path in _modules("spec"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""] if node.level == 0 else ["spec"]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                assert top == "spec" or top not in OURS, f"{path.name} imports {name}"


def _constants(node: ast.AST) -> set[object]:
    elements = node.keys if isinstance(node, ast.Dict) else getattr(node, "elts", [])
    return {e.value for e in elements if isinstance(e, ast.Constant)}


def test_every_package_is_scanned() -> None:
    """A new top-level package is added to OURS (or this fails): nothing escapes the scans."""
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")}
    scripts = {p.parent.name for p in ROOT.glob("*/*.py") if p.parent.name not in packages}
    assert (packages | scripts) - {"tests", "docs", "docker", "data"} <= set(OURS)


def test_no_other_package_lists_or_branches_on_the_stages_or_markets() -> None:
    """Stages and markets are looped over and asked about (`uses`, `cutoff`, `model`,
    `settles`), never listed, keyed or compared by name outside the spec: their settings are
    the spec's entries (a stage's inputs, baselines, served family and α; a market's column,
    top-N rule and settlement). A `LEGACY_` table is history (what a version registered before
    a change was fitted on, per stage), not a setting, and is left out."""
    stages = set(spec.STAGES.names)
    # "points" is also a feature and a column, "winner" also a target: compared as those
    markets = set(spec.MARKETS.names) - {"points"} - set(spec.TARGETS.names)
    found = []
    for package in OURS:
        if package == "spec":
            continue
        for path in _modules(package):
            where = path.relative_to(ROOT)
            tree = ast.parse(path.read_text())
            history = {
                id(node.value)
                for node in ast.walk(tree)
                if isinstance(node, ast.AnnAssign)
                and isinstance(node.target, ast.Name)
                and node.target.id.startswith("LEGACY_")
            }
            for node in ast.walk(tree):
                if id(node) in history:
                    continue
                if isinstance(node, (ast.Tuple, ast.List, ast.Set, ast.Dict)):
                    values = _constants(node)
                    if stages <= values or (isinstance(node, ast.Dict) and values & stages):
                        found.append(f"{where}:{node.lineno} lists or keys the stages")
                    if len(values & markets) >= 2:
                        found.append(f"{where}:{node.lineno} lists markets")
                if isinstance(node, ast.Compare):
                    sides = [node.left, *node.comparators]
                    if any(isinstance(s, ast.Constant) and s.value in stages for s in sides):
                        found.append(f"{where}:{node.lineno} compares a stage")
                    equal = all(isinstance(op, (ast.Eq, ast.NotEq)) for op in node.ops)
                    named = any(isinstance(s, ast.Constant) and s.value in markets for s in sides)
                    if equal and named:
                        found.append(f"{where}:{node.lineno} compares a market")
    assert found == []


def test_names_are_checked_with_a_message_naming_the_choices() -> None:
    assert spec.stage("post_quali").uses("qualifying")
    assert not spec.stage("pre_quali").uses("qualifying")
    with pytest.raises(
        UnknownName, match=r"unknown stage 'foo': use one of pre_quali, post_practice, post_quali"
    ):
        spec.stage("foo")
    with pytest.raises(UnknownName, match=r"unknown target 'podium': use one of winner, order"):
        spec.target("podium")
    assert isinstance(UnknownName("x"), ValueError)  # a 422 and a CLI error, never a 500


def test_model_names_come_from_the_targets_and_stages() -> None:
    assert spec.WINNER.model_name("post_quali") == "f1_winner_post_quali"
    assert spec.model_names() == [
        "f1_winner_pre_quali",
        "f1_winner_post_practice",
        "f1_winner_post_quali",
        "f1_order_pre_quali",
        "f1_order_post_practice",
        "f1_order_post_quali",
    ]
    assert spec.parse_model_name("f1_winner_pre_quali") == (spec.WINNER, spec.PRE_QUALI)
    with pytest.raises(UnknownName):
        spec.parse_model_name("f1_winner_sprint")


def test_stages_are_ordered_and_each_has_a_baseline_of_its_own() -> None:
    assert [s.order for s in spec.STAGES] == sorted(s.order for s in spec.STAGES)
    assert len({s.baseline.model_name for s in spec.STAGES}) == len(spec.STAGES)
    # a later stage knows at least what an earlier one knows
    for earlier, later in zip(spec.STAGES, spec.STAGES[1:], strict=False):
        assert set(earlier.feature_groups) <= set(later.feature_groups)
