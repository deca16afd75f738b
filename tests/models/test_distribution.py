"""The finishing-order distribution: consistent by construction, faithful to P(win), and
priced under each season's points."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import text

from models.distribution import Distribution, distribution
from models.dnf import DnfModel
from models.ensemble import Ensemble, Recipe
from pipelines.training_data import labelled
from spec import STAGES
from spec.points import points_system
from warehouse.db import make_engine


def assert_consistent(d: Distribution) -> None:
    """The issue's rules, for one race."""
    n = d.win.size
    assert np.allclose(d.position.sum(axis=1) + d.dnf, 1.0)  # each driver: positions + DNF
    assert d.win.sum() == pytest.approx(1.0)  # exactly one winner
    assert np.allclose(d.position.sum(axis=0), d.classified)  # Σ_d P(d k-th) = P(k classified)
    assert np.all(np.diff(d.classified) <= 1e-12)  # a later position is classified less often
    eps = 1e-12
    assert np.all(d.win <= d.podium + eps) and np.all(d.podium <= d.top6 + eps)
    assert np.all(d.top6 <= d.points + eps) if d.paying >= 6 else np.all(d.points <= d.top6 + eps)
    off = ~np.eye(n, dtype=bool)
    assert np.allclose((d.ahead + d.ahead.T)[off], 1.0)  # A ahead of B or B ahead of A
    assert np.all(d.position >= 0) and np.all(d.dnf >= 0)


def test_one_certain_winner() -> None:
    p = np.array([1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    d = distribution(p, np.full(7, 0.3), points_system(2024), alpha=0.8, draws=5000)
    assert d.win[0] == 1.0 and d.dnf[0] == 0.0 and np.all(d.win[1:] == 0)
    assert np.all(d.ahead[0, 1:] == 1.0)
    assert d.expected_points[0] == 25.0
    assert_consistent(d)


def test_p_win_is_the_winner_models_and_the_rest_follows() -> None:
    rng = np.random.default_rng(3)
    p = rng.dirichlet(np.full(20, 0.6))
    q = rng.uniform(0.02, 0.3, 20)
    d = distribution(p, q, points_system(2024), alpha=0.8)
    assert np.abs(d.win - p).max() < 0.01  # Monte Carlo error of 20,000 draws
    assert np.abs(d.dnf - np.minimum(q, 1 - p)).max() < 0.01
    assert_consistent(d)
    # stronger drivers score more, and the expected points are the table under P(position)
    favourite, outsider = int(np.argmax(p)), int(np.argmin(p))
    assert d.expected_points[favourite] > d.expected_points[outsider]
    assert d.expected_points.sum() == pytest.approx(d.classified @ d.points_table)
    again = distribution(p, q, points_system(2024), alpha=0.8)
    assert np.array_equal(again.position, d.position)  # seeded: the same answer every time


def test_alpha_flattens_the_places_behind_the_winner() -> None:
    p = np.array([0.5, 0.25, 0.12, 0.08, 0.05])
    q = np.zeros(5)
    sharp = distribution(p, q, points_system(2010), alpha=1.0, draws=40_000)
    flat = distribution(p, q, points_system(2010), alpha=0.3, draws=40_000)
    assert np.abs(sharp.win - flat.win).max() < 0.01  # who wins does not move
    assert flat.position[4, 1] > sharp.position[4, 1]  # the outsider is second more often


ERAS = [(1950, 5, 8), (1991, 6, 10), (2003, 8, 10), (2010, 10, 25), (2019, 10, 25), (2025, 10, 25)]


@pytest.mark.parametrize(("season", "paying", "first"), ERAS)
def test_points_markets_follow_the_season(season: int, paying: int, first: float) -> None:
    p = np.linspace(1, 2, 22)[::-1]
    d = distribution(p / p.sum(), np.full(22, 0.1), points_system(season), draws=4000)
    assert d.paying == paying and d.points_table[0] == first
    assert np.allclose(d.points, d.position[:, :paying].sum(axis=1))
    assert_consistent(d)


@pytest.mark.slow
def test_every_race_2014_to_2024_is_consistent(published: Path) -> None:
    """Both stages, every race of the test window, from models fitted on 2004–2013."""
    checked = 0
    for stage in STAGES.names:
        rows = labelled(make_engine(), stage, since=2004)
        train, test = rows[rows["season"] < 2014], rows[rows["season"] >= 2014].copy()
        test["p_win"] = Ensemble(Recipe(stage)).fit(train).predict(test)["ensemble"].to_numpy()
        test["q"] = DnfModel(stage).fit(train[train["season"] >= 2004]).predict(test)
        for (season, _), race in test.groupby(["season", "race_id"]):
            d = distribution(race["p_win"].to_numpy(), race["q"].to_numpy(),
                             points_system(int(season)), alpha=0.8, draws=2000)  # fmt: skip
            assert_consistent(d)
            checked += 1
    with make_engine().connect() as connection:
        races = connection.execute(
            text(
                "SELECT count(DISTINCT r.id) FROM races r JOIN race_results x ON x.race_id = r.id"
                " WHERE r.season BETWEEN 2014 AND 2024"
            )
        ).scalar_one()
    assert races > 200 and checked == len(STAGES.names) * races  # every race, every stage
