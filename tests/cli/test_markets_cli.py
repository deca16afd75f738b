"""`f1 predict --markets` and `f1 championship` against the session registry's real models."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cli.main import app


def test_every_market_of_a_race_is_consistent(aliases) -> None:  # type: ignore[no-untyped-def]
    aliases(champion="2", challenger="1")
    runner = CliRunner()
    args = ["predict", "2024", "24", "--stage", "post_quali", "--markets", "--json"]
    done = runner.invoke(app, args)
    assert done.exit_code == 0, done.output
    answer = json.loads(done.stdout)
    assert answer["order_model"] == {"name": "f1_order_post_quali", "version": "1",
                                     "alias": "champion"}  # fmt: skip
    entries = answer["predictions"]
    n = len(entries)
    for entry in entries:
        m = entry["markets"]
        assert len(m["positions"]) == n
        assert sum(m["positions"]) + m["dnf"] == pytest.approx(1.0, abs=1e-9)
        assert entry["probability"] - 0.01 <= m["podium"] <= m["top6"] <= m["points"] + 1e-12
        assert m["positions"][0] == pytest.approx(entry["probability"], abs=0.01)
        assert 0 <= m["expected_points"] <= 25
    # teammates: one of the two finishes ahead
    by_team: dict[str, list[float]] = {}
    for entry in entries:
        by_team.setdefault(entry["team_id"], []).append(entry["markets"]["teammate_ahead"])
    pairs = [v for v in by_team.values() if len(v) == 2]
    assert len(pairs) == 10 and all(a + b == pytest.approx(1.0) for a, b in pairs)
    # Norris started from pole in Abu Dhabi 2024: the likeliest podium
    assert max(entries, key=lambda e: e["markets"]["podium"])["driver_id"] == "norris"
    # position k is classified no more often than position k - 1
    classified = [sum(e["markets"]["positions"][k] for e in entries) for k in range(n)]
    assert all(a >= b - 1e-12 for a, b in zip(classified, classified[1:], strict=False))
    wrong = runner.invoke(app, ["predict", "2024", "24", "--stage", "sprint", "--markets"])
    assert wrong.exit_code == 1 and "unknown stage 'sprint'" in wrong.output


def test_title_odds_of_a_decided_and_of_an_open_season(aliases) -> None:  # type: ignore[no-untyped-def]
    runner = CliRunner()
    # 2023: Verstappen was champion after the Qatar sprint, round 17
    decided = runner.invoke(app, ["championship", "2023", "--after", "17", "--json"])
    assert decided.exit_code == 0, decided.output
    odds = json.loads(decided.stdout)
    assert odds["drivers"][0] == {**odds["drivers"][0], "id": "max_verstappen", "p_title": 1.0}
    assert odds["constructors"][0]["id"] == "red_bull" and odds["seasons"] == 10_000
    # 2024 after round 20: Verstappen 47 points ahead of Norris with 4 races and 2 sprints left
    open_ = json.loads(runner.invoke(app, ["championship", "2024", "--after", "20",
                                           "--json"]).stdout)  # fmt: skip
    title = {d["id"]: d["p_title"] for d in open_["drivers"]}
    assert sum(title.values()) == pytest.approx(1.0)
    assert 0.8 < title["max_verstappen"] < 1.0 and title["norris"] > 0
    points = {d["id"]: d["expected_points"] for d in open_["drivers"]}
    assert points["max_verstappen"] > 362  # his points after round 20, plus what is to come
    over = runner.invoke(app, ["championship", "2024", "--after", "24"])
    assert over.exit_code == 1 and "no race after round 24" in over.output
