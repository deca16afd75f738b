"""The backtest's era-openers section: every era's first season forecast by models trained only
on the seasons before it, frozen for the season and refitted after every race, scored over the
first 11 races and the season against the stage's baselines with paired intervals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pipelines.era_openers import (
    FIRST_RACES,
    beats,
    era_openers,
    forecast_opener,
    openers,
    plot,
)
from pipelines.training_data import labelled
from warehouse.db import make_engine

START = 1998  # ten seasons before 2009: a short history keeps the test quick


def test_each_opener_is_forecast_frozen_and_refitted_race_by_race(published: Path) -> None:
    rows = labelled(make_engine(), "post_quali", since=START)
    assert openers(rows, START) == [2009, 2014, 2017, 2022]  # 1998 has no seasons before it
    season = forecast_opener(rows, "post_quali", 2009, START)
    sums = season.groupby("race_id")[["frozen", "online", "grid"]].sum()
    assert np.allclose(sums.to_numpy(), 1.0)
    first = season["round"] == 1
    # nothing of the season is known at its first race; later the refit has learned from it
    assert np.allclose(season.loc[first, "online"], season.loc[first, "frozen"])
    later = season[season["round"] == 8]
    assert not np.allclose(later["online"], later["frozen"])

    section = era_openers(rows, "post_quali", START)
    assert list(section["seasons"]) == ["2009", "2014", "2017", "2022"]
    assert section["baselines"] == ["pole", "grid"] and section["first_races"] == FIRST_RACES
    brawn = section["seasons"]["2009"]
    assert brawn["first_11"]["races"] == 11 and brawn["season"]["races"] == 17
    assert set(brawn["season"]["metrics"]) == {"frozen", "online", "pole", "grid"}
    pairs = {(c["a"], c["b"]) for c in brawn["season"]["comparisons"]}
    assert pairs == {
        ("frozen", "pole"),
        ("frozen", "grid"),
        ("online", "pole"),
        ("online", "grid"),
        ("online", "frozen"),
    }
    for pair in brawn["season"]["comparisons"]:
        for metric in ("log_loss", "brier"):
            cell = pair[metric]
            assert cell["low"] <= cell["diff"] <= cell["high"], (pair["a"], pair["b"], metric)
    frozen = brawn["season"]["metrics"]["frozen"]
    comparison = next(c for c in brawn["season"]["comparisons"] if c["b"] == "grid")
    grid = brawn["season"]["metrics"]["grid"]
    assert comparison["log_loss"]["diff"] == pytest.approx(frozen["log_loss"] - grid["log_loss"])
    # the pole-sitter's flat rate is worse than the frozen model in every opener and window
    assert beats(section, "frozen", "pole")


def test_beating_a_baseline_means_every_opener_and_window_on_both_metrics(tmp_path: Path) -> None:
    def cell(model: float, baseline: float) -> dict[str, object]:
        return {
            "races": 11,
            "metrics": {
                "frozen": {"log_loss": model, "brier": 0.03},
                "grid": {"log_loss": baseline, "brier": 0.031},
            },
            "comparisons": [],
        }

    section = {
        "stage": "post_quali",
        "seasons": {"2009": {"first_11": cell(1.2, 1.4), "season": cell(1.3, 1.5)}},
    }
    assert beats(section, "frozen", "grid")
    section["seasons"]["2014"] = {"first_11": cell(1.2, 1.4), "season": cell(1.6, 1.5)}
    assert not beats(section, "frozen", "grid")  # one window of one opener is enough to fail
    path = plot(section, tmp_path / "era.png")  # no intervals to draw: still a picture
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
