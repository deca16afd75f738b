"""Championship odds from simulated seasons."""

from __future__ import annotations

import numpy as np
import pytest

from models.championship import RemainingRace, simulate
from spec.points import points_system

DRIVERS = ["ver", "per", "ham", "rus", "lec", "sai"]
TEAMS = ["red_bull", "red_bull", "mercedes", "mercedes", "ferrari", "ferrari"]


def _race(round_: int, p: list[float], sprint: bool = False, last: bool = False) -> RemainingRace:
    return RemainingRace(round_, DRIVERS, TEAMS, np.array(p), np.full(6, 0.05), sprint, last)


def test_a_season_decided_before_its_last_round_gives_the_leader_the_title() -> None:
    standings = {"ver": 400.0, "per": 200.0, "ham": 150.0, "rus": 120.0, "lec": 110.0, "sai": 90}
    teams = {"red_bull": 600.0, "mercedes": 270.0, "ferrari": 200.0}
    # one race left: 25 (+ nothing else) cannot close a 200-point gap
    odds = simulate(standings, teams, [_race(22, [0.1, 0.3, 0.2, 0.2, 0.1, 0.1], last=True)],
                    points_system(2023), alpha=0.8, seasons=2000)  # fmt: skip
    title = dict(zip(odds.drivers, odds.driver_title, strict=True))
    assert title["ver"] == 1.0 and sum(title.values()) == pytest.approx(1.0)
    assert dict(zip(odds.teams, odds.team_title, strict=True))["red_bull"] == 1.0
    # expected final points: the standings plus each driver's expected race points
    final = dict(zip(odds.drivers, odds.driver_points, strict=True))
    assert 400 < final["ver"] < 425 and 200 < final["per"] < 225


def test_an_open_season_follows_the_strengths_and_counts_sprints() -> None:
    standings = dict.fromkeys(DRIVERS, 0.0)
    teams = {"red_bull": 0.0, "mercedes": 0.0, "ferrari": 0.0}
    races = [_race(r, [0.4, 0.1, 0.2, 0.1, 0.15, 0.05], sprint=r % 4 == 0) for r in range(1, 25)]
    odds = simulate(standings, teams, races, points_system(2024), alpha=0.8, seasons=10_000)
    title = dict(zip(odds.drivers, odds.driver_title, strict=True))
    assert max(title, key=title.get) == "ver" and title["ver"] > 0.6
    assert sum(title.values()) == pytest.approx(1.0)
    # 24 races × (25+18+15+12+10+8 paid to six cars, less retirements) + 6 sprints' 8…3
    total = odds.driver_points.sum()
    assert 0.9 * 24 * 88 + 0.9 * 6 * 33 < total < 24 * 88 + 6 * 33
    assert odds.team_points.sum() == pytest.approx(total)
    again = simulate(standings, teams, races, points_system(2024), alpha=0.8, seasons=10_000)
    assert np.array_equal(again.driver_title, odds.driver_title)  # seeded


def test_double_points_in_2014s_last_round() -> None:
    standings = {"ver": 50.0, "per": 40.0, "ham": 0.0, "rus": 0.0, "lec": 0.0, "sai": 0.0}
    teams = {"red_bull": 90.0, "mercedes": 0.0, "ferrari": 0.0}
    certain = [1.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    race = RemainingRace(19, DRIVERS, TEAMS, np.array(certain), np.zeros(6), last_round=True)
    odds = simulate(standings, teams, [race], points_system(2014), alpha=1.0, seasons=500)
    assert dict(zip(odds.drivers, odds.driver_points, strict=True))["ver"] == 100.0
