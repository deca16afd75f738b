"""The prediction spec: declared once, at the bottom of the import graph, checked by name."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import spec
from spec import STAGES, UnknownName

ROOT = Path(__file__).resolve().parents[2]
OURS = ("warehouse", "pipelines", "feature_store", "models", "expectations", "serving", "bot",
        "dags", "plugins", "cli", "replay", "spec")  # fmt: skip


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


def test_no_other_package_lists_or_branches_on_the_stages() -> None:
    """Stages are looped over and asked about (`uses`, `cutoff`), never listed or compared by
    name outside the spec. Per-stage model settings (a dict keyed by stage) are allowed: they
    are the stage's model, which adding a stage adds."""
    found = []
    for package in OURS:
        if package == "spec":
            continue
        for path in _modules(package):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
                    values = {e.value for e in node.elts if isinstance(e, ast.Constant)}
                    if set(STAGES.names) <= values:
                        found.append(f"{path.relative_to(ROOT)}:{node.lineno} lists the stages")
                if isinstance(node, ast.Compare):
                    sides = [node.left, *node.comparators]
                    if any(isinstance(s, ast.Constant) and s.value in STAGES.names for s in sides):
                        found.append(f"{path.relative_to(ROOT)}:{node.lineno} compares a stage")
    assert found == []


def test_names_are_checked_with_a_message_naming_the_choices() -> None:
    assert spec.stage("post_quali").uses("qualifying")
    assert not spec.stage("pre_quali").uses("qualifying")
    with pytest.raises(UnknownName, match=r"unknown stage 'foo': use one of pre_quali, post_quali"):
        spec.stage("foo")
    with pytest.raises(UnknownName, match=r"unknown target 'podium': use one of winner, order"):
        spec.target("podium")
    assert isinstance(UnknownName("x"), ValueError)  # a 422 and a CLI error, never a 500


def test_model_names_come_from_the_targets_and_stages() -> None:
    assert spec.WINNER.model_name("post_quali") == "f1_winner_post_quali"
    assert spec.model_names() == [
        "f1_winner_pre_quali",
        "f1_winner_post_quali",
        "f1_order_pre_quali",
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
