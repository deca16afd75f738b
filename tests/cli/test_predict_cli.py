"""`f1 predict` against the session registry's real models and published features."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from cli.main import app


def test_predict_json_shape_sum_and_errors(aliases) -> None:  # type: ignore[no-untyped-def]
    aliases(champion="2", challenger="1")
    runner = CliRunner()
    done = runner.invoke(app, ["predict", "2024", "24", "--stage", "post_quali", "--json"])
    assert done.exit_code == 0, done.output
    answer = json.loads(done.stdout)
    assert answer["race"] == {"season": 2024, "round": 24, "name": "Abu Dhabi Grand Prix"}
    assert answer["model"] == {"name": "f1_winner_post_quali", "version": "2", "alias": "champion"}
    probs = [p["probability"] for p in answer["predictions"]]
    assert abs(sum(probs) - 1) < 1e-6 and probs == sorted(probs, reverse=True)
    assert {"driver_id", "driver_name", "team_id", "probability"} == set(answer["predictions"][0])
    other = runner.invoke(
        app,
        ["predict", "2024", "24", "--stage", "post_quali", "--model-alias", "challenger", "--json"],
    )
    assert json.loads(other.stdout)["model"]["version"] == "1"

    explained = runner.invoke(
        app, ["predict", "2024", "24", "--stage", "post_quali", "--explain", "--json"]
    )
    favourites = json.loads(explained.stdout)["predictions"][:3]
    assert [p["probability"] for p in favourites] == probs[:3]
    for entry in favourites:
        assert len(entry["explanation"]) == 3 and all(r["words"] for r in entry["explanation"])
    pole = next(
        p for p in json.loads(explained.stdout)["predictions"] if p["driver_id"] == "norris"
    )
    grid = next(r for r in pole["explanation"] if r["feature"] == "neg_log_grid")
    assert grid["value"] == 1.0 and grid["contribution"] > 0  # from pole: the largest push
    text = runner.invoke(app, ["predict", "2024", "24", "--stage", "post_quali", "--explain"])
    assert "grid position (1)" in text.stdout

    unknown = runner.invoke(app, ["predict", "2024", "30", "--stage", "post_quali"])
    assert unknown.exit_code == 1 and "2024 round 30" in unknown.output
    no_alias = runner.invoke(app, ["predict", "2024", "24", "--model-alias", "nobody"])
    assert no_alias.exit_code == 1 and "@nobody" in no_alias.output
