"""Championship odds: the season's remaining races simulated many times over.

Each remaining race is drawn from its finishing-order distribution (models/distribution.py:
its entrants' P(win) before qualifying and P(DNF)), a sprint weekend's sprint as one more draw
from the same distribution paid with the sprint's points, on top of the current standings,
under that season's points system (the last round doubled in 2014). The champion of a
simulated season is the one with the most points, ties broken by wins, then by chance.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from models.distribution import sample
from spec.points import PointsSystem

SEASONS = 10_000
SEED = 1950
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class RemainingRace:
    """One race still to run: its entrants (driver and team refs), their P(win) and P(DNF)."""

    round: int
    drivers: Sequence[str]
    teams: Sequence[str]
    p_win: np.ndarray
    q_dnf: np.ndarray
    sprint: bool = False
    last_round: bool = False


@dataclass(frozen=True)
class Odds:
    """P(title) and expected final points, for drivers and for constructors."""

    drivers: list[str]
    driver_title: np.ndarray
    driver_points: np.ndarray
    teams: list[str]
    team_title: np.ndarray
    team_points: np.ndarray
    seasons: int


def _champion(points: np.ndarray, wins: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Per simulated season (row), the index of the champion."""
    score = points * 1e4 + wins + rng.random(points.shape) * 0.5  # wins, then chance
    return np.argmax(score, axis=1)


def simulate(
    drivers: dict[str, float],
    teams: dict[str, float],
    races: Sequence[RemainingRace],
    system: PointsSystem,
    alpha: float,
    seasons: int = SEASONS,
    seed: int = SEED,
    driver_wins: dict[str, int] | None = None,
    team_wins: dict[str, int] | None = None,
    progress: Progress | None = None,
) -> Odds:
    """The title odds from the standings (`drivers`, `teams`: points so far) and the races
    left. A driver or team that scores nowhere keeps their points and can still be champion
    when nobody can catch them."""
    rng = np.random.default_rng(seed)
    names = sorted(set(drivers) | {d for r in races for d in r.drivers})
    crews = sorted(set(teams) | {t for r in races for t in r.teams})
    di = {d: i for i, d in enumerate(names)}
    ti = {t: i for i, t in enumerate(crews)}
    points = np.tile(np.array([drivers.get(d, 0.0) for d in names]), (seasons, 1))
    team_points = np.tile(np.array([teams.get(t, 0.0) for t in crews]), (seasons, 1))
    wins = np.tile(np.array([(driver_wins or {}).get(d, 0) for d in names], float), (seasons, 1))
    twins = np.tile(np.array([(team_wins or {}).get(t, 0) for t in crews], float), (seasons, 1))
    for done, race in enumerate(races, start=1):
        columns = np.array([di[d] for d in race.drivers])
        crew = np.zeros((len(columns), len(crews)))  # entrant -> team, one-hot
        crew[np.arange(len(columns)), [ti[t] for t in race.teams]] = 1.0
        n = len(columns)
        tables = [(np.array(system.table(n, race.last_round)), True)]
        if race.sprint and system.sprint:
            sprint = np.zeros(n)
            sprint[: min(n, len(system.sprint))] = system.sprint[:n]
            tables.append((sprint, False))
        for table, counts_wins in tables:
            drawn = sample(race.p_win, race.q_dnf, alpha, seasons, rng)
            earned = np.where(drawn.finishes, table[np.minimum(drawn.rank, n - 1)], 0.0)
            points[:, columns] += earned  # each driver once per race
            team_points += earned @ crew
            if counts_wins:
                won = (drawn.finishes & (drawn.rank == 0)).astype(float)
                wins[:, columns] += won
                twins += won @ crew
        if progress:
            progress("races", done, len(races))
    champion = _champion(points, wins, rng)
    constructor = _champion(team_points, twins, rng)
    return Odds(
        drivers=names,
        driver_title=np.bincount(champion, minlength=len(names)) / seasons,
        driver_points=points.mean(axis=0),
        teams=crews,
        team_title=np.bincount(constructor, minlength=len(crews)) / seasons,
        team_points=team_points.mean(axis=0),
        seasons=seasons,
    )
