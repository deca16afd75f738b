"""The championship points of each era, as the sport awarded them (FIA sporting regulations;
checked against the bundled 1950–2024 results in tests/spec/test_points.py).

What is left out, and why: points halved when a race was stopped early (1975 Spain, 1991
Australia, 2009 Malaysia, 2021 Belgium: not knowable before the race), points shared between the
drivers of a shared car (1950s), and the dropped-scores rules before 1991 (only a driver's best
N results counted; it changes who is champion in a handful of pre-1991 seasons, never from 2010,
the window the championship odds are evaluated on).
"""

from __future__ import annotations

from dataclasses import dataclass

_2010 = (25.0, 18.0, 15.0, 12.0, 10.0, 8.0, 6.0, 4.0, 2.0, 1.0)


@dataclass(frozen=True)
class PointsSystem:
    """Points for a classified finish, by position (1st first), and the extras of the era."""

    race: tuple[float, ...]
    fastest_lap: float = 0.0  # for the race's fastest lap
    fastest_lap_top: int | None = None  # …only when finishing in this top N (None: any)
    sprint: tuple[float, ...] = ()  # points by sprint position, in seasons with sprints
    double_last_round: bool = False  # 2014: the season's last race paid double

    @property
    def paying(self) -> int:
        """How many positions score: P(points) is P(finishing in the top `paying`)."""
        return len(self.race)

    def for_position(self, position: int, last_round: bool = False) -> float:
        """Points for finishing `position` (1-based; 0 outside the paying places)."""
        base = self.race[position - 1] if 1 <= position <= self.paying else 0.0
        return base * 2 if last_round and self.double_last_round else base

    def table(self, entrants: int, last_round: bool = False) -> tuple[float, ...]:
        """Points for positions 1…`entrants`, for expected points and simulated seasons."""
        return tuple(self.for_position(k, last_round) for k in range(1, entrants + 1))


def points_system(season: int) -> PointsSystem:
    """The points system of `season` (ValueError before 1950)."""
    if season < 1950:
        raise ValueError(f"no world championship before 1950 (asked for {season})")
    if season <= 1959:
        return PointsSystem((8.0, 6.0, 4.0, 3.0, 2.0), fastest_lap=1.0)
    if season == 1960:
        return PointsSystem((8.0, 6.0, 4.0, 3.0, 2.0, 1.0))
    if season <= 1990:
        return PointsSystem((9.0, 6.0, 4.0, 3.0, 2.0, 1.0))
    if season <= 2002:
        return PointsSystem((10.0, 6.0, 4.0, 3.0, 2.0, 1.0))
    if season <= 2009:
        return PointsSystem((10.0, 8.0, 6.0, 5.0, 4.0, 3.0, 2.0, 1.0))
    if season <= 2018:
        return PointsSystem(_2010, double_last_round=season == 2014)
    sprint: tuple[float, ...] = ()
    if season == 2021:
        sprint = (3.0, 2.0, 1.0)
    elif season >= 2022:
        sprint = (8.0, 7.0, 6.0, 5.0, 4.0, 3.0, 2.0, 1.0)
    if season <= 2024:
        return PointsSystem(_2010, fastest_lap=1.0, fastest_lap_top=10, sprint=sprint)
    return PointsSystem(_2010, sprint=sprint)  # 2025: the fastest-lap point was dropped
