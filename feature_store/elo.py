"""Our multi-competitor ELO: a race is every pair of its starters playing one duel.

For starters i and j with ratings R, i's expected score is E = 1 / (1 + 10^((Rj − Ri)/400));
the one placed ahead scores 1. Each rating moves by K/(n−1) × Σ_j (S_ij − E_ij), so a race
moves at most K points and the updates of a race sum to zero. Between seasons a rating is
pulled toward the start value: R ← 1500 + carry × (R − 1500) (cars change each winter).
Newcomers start at 1500.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class EloConfig:
    """The rater's constants."""

    k: float = 32.0
    scale: float = 400.0
    initial: float = 1500.0
    carry: float = 0.8


def carried(rating: float, last_season: int, season: int, config: EloConfig) -> float:
    """A rating last updated in `last_season`, as it stands at the start of `season`."""
    if season > last_season:
        return config.initial + config.carry ** (season - last_season) * (rating - config.initial)
    return rating


def update(ratings: np.ndarray, config: EloConfig) -> np.ndarray:
    """New ratings of one race's starters, given in finishing order."""
    n = len(ratings)
    if n < 2:
        return ratings.copy()
    expected = 1.0 / (1.0 + 10.0 ** ((ratings[None, :] - ratings[:, None]) / config.scale))
    won = np.triu(np.ones((n, n)), k=1)  # row i placed ahead of every later column j
    score = won - expected
    np.fill_diagonal(score, 0.0)
    return ratings + config.k / (n - 1) * score.sum(axis=1)


def rate(
    races: Iterable[tuple[int, int, Sequence[Hashable]]], config: EloConfig | None = None
) -> list[tuple[int, Hashable, float]]:
    """Rate a chronological series of (race index, season, competitors in finishing order).

    Returns (race index, competitor, rating after that race) for every competitor of every race.
    """
    config = config or EloConfig()
    state: dict[Hashable, tuple[float, int]] = {}
    log: list[tuple[int, Hashable, float]] = []
    for index, season, order in races:
        before = np.array(
            [carried(*state[c], season, config) if c in state else config.initial for c in order]
        )
        after = update(before, config)
        for competitor, value in zip(order, after, strict=True):
            state[competitor] = (float(value), season)
            log.append((index, competitor, float(value)))
    return log
