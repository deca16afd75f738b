"""Our multi-competitor ELO: a race is every pair of its starters playing one duel.

For starters i and j with ratings R, i's expected score is E = 1 / (1 + 10^((Rj − Ri)/400));
the one placed ahead scores 1. Each rating moves by K/(n−1) × Σ_j (S_ij − E_ij), so a race
moves at most K points and the updates of a race sum to zero. Between seasons a rating is
pulled toward the start value: R ← 1500 + carry × (R − 1500) (cars change each winter); into
a season that opens a new technical era by `era_carry` instead (0: everyone starts level).
Newcomers start at 1500, or, with `newcomer_prior`, at the mean rating earlier newcomers had
at the end of their first season (a new team is rarely an average one).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np

NEWCOMERS_NEEDED = 3  # earlier newcomers before their mean replaces the start value


@dataclass(frozen=True)
class EloConfig:
    """The rater's constants."""

    k: float = 32.0
    scale: float = 400.0
    initial: float = 1500.0
    carry: float = 0.8
    era_carry: float | None = None  # carry into a season of `era_starts` (None: `carry`)
    era_starts: frozenset[int] = frozenset()
    newcomer_prior: bool = False


def carried(rating: float, last_season: int, season: int, config: EloConfig) -> float:
    """A rating last updated in `last_season`, as it stands at the start of `season`."""
    for year in range(last_season + 1, season + 1):
        era = config.era_carry is not None and year in config.era_starts
        factor = config.era_carry if era and config.era_carry is not None else config.carry
        rating = config.initial + factor * (rating - config.initial)
    return rating


def update(ratings: np.ndarray, config: EloConfig) -> np.ndarray:
    """New ratings of one race's starters, given in finishing order."""
    n = len(ratings)
    if n < 2:
        return ratings.copy()
    expected = 1.0 / (1.0 + 10.0 ** ((ratings[None, :] - ratings[:, None]) / config.scale))
    score = _ahead(n) - expected
    np.fill_diagonal(score, 0.0)
    return ratings + config.k / (n - 1) * score.sum(axis=1)


@cache
def _ahead(n: int) -> np.ndarray:
    """1 where row i is placed ahead of column j (every later one), read-only."""
    ahead = np.triu(np.ones((n, n)), k=1)
    ahead.flags.writeable = False
    return ahead


def carry_factor(last_season: int, season: int, config: EloConfig) -> float:
    """How much of a rating's distance from the start value is left from `last_season` to
    `season` (`carried` is initial + factor × (rating − initial))."""
    return carried(config.initial + 1.0, last_season, season, config) - config.initial


class Newcomers:
    """The start value of a newcomer in a season: the mean end-of-first-season rating of the
    newcomers whose first season came before it (the start value until NEWCOMERS_NEEDED of
    them have one)."""

    def __init__(self, config: EloConfig) -> None:
        self.config = config
        self.debuts: dict[Hashable, int] = {}  # first season still running, by competitor
        self.history: list[tuple[int, float]] = []  # (first season, rating at its end)

    def start_for(self, season: int) -> float:
        """What a competitor seen for the first time in `season` is rated."""
        if not self.config.newcomer_prior:
            return self.config.initial
        earlier = [rating for debut, rating in self.history if debut < season]
        if len(earlier) < NEWCOMERS_NEEDED:
            return self.config.initial
        return float(np.mean(earlier))

    def season_begins(self, season: int, state: dict[Hashable, tuple[float, int]]) -> None:
        """Close the first seasons that ended before `season`."""
        for who, debut in list(self.debuts.items()):
            if debut < season:
                self.history.append((debut, state[who][0]))
                del self.debuts[who]


class Rater:
    """Rates a chronological series of races; keeps every rating after every race (`log`) and
    the newcomers' start values (`newcomers.start_for`)."""

    def __init__(self, config: EloConfig | None = None) -> None:
        self.config = config or EloConfig()
        self.state: dict[Hashable, tuple[float, int]] = {}  # rating, season last rated
        self.newcomers = Newcomers(self.config)
        self.log: list[tuple[int, Hashable, float]] = []
        self.seasons: dict[int, int] = {}  # race index -> season
        self._season: int | None = None

    def race(self, index: int, season: int, order: Sequence[Hashable]) -> None:
        """Rate one race: its competitors in finishing order."""
        if season != self._season:
            self.newcomers.season_begins(season, self.state)
            self._season = season
        before: list[float] = []
        start = None
        for c in order:
            if c in self.state:
                before.append(carried(*self.state[c], season, self.config))
            else:
                if start is None:
                    start = self.newcomers.start_for(season)
                before.append(start)
                self.newcomers.debuts[c] = season
        after = update(np.array(before), self.config)
        self.seasons[index] = season
        for competitor, value in zip(order, after, strict=True):
            self.state[competitor] = (float(value), season)
            self.log.append((index, competitor, float(value)))

    def finish(self) -> Rater:
        """Close every first season (so `start_for` a later season counts them)."""
        self.newcomers.season_begins(10**6, self.state)
        return self


def rate(
    races: Iterable[tuple[int, int, Sequence[Hashable]]], config: EloConfig | None = None
) -> list[tuple[int, Hashable, float]]:
    """Rate a chronological series of (race index, season, competitors in finishing order).

    Returns (race index, competitor, rating after that race) for every competitor of every race.
    """
    rater = Rater(config)
    for index, season, order in races:
        rater.race(index, season, order)
    return rater.log
