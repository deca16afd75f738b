"""The points system of each era, checked against the bundled 1950–2024 results."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from spec.points import points_system

DATA = Path(__file__).resolve().parents[2] / "data" / "f1"


@pytest.fixture(scope="module")
def results() -> pd.DataFrame:
    rows = pd.read_csv(DATA / "results.csv", na_values="\\N")
    races = pd.read_csv(DATA / "races.csv", na_values="\\N")
    rows = rows.merge(races[["raceId", "year", "round"]], on="raceId")
    return rows[~rows.duplicated(["raceId", "number"], keep=False)]  # shared cars split points


def test_every_season_pays_what_the_bundled_results_paid(results: pd.DataFrame) -> None:
    """Per season and position, the points most often paid are the system's (plus the
    fastest-lap point where it was most often the winner's, as in the 1950s)."""
    wrong = []
    for season, rows in results.groupby("year"):
        system = points_system(int(season))
        for position in range(1, system.paying + 2):  # one past the paying places: 0
            paid = rows.loc[rows["position"] == position, "points"].mode().iloc[0]
            expected = system.for_position(position)
            if paid not in (expected, expected + system.fastest_lap):
                wrong.append((season, position, paid, expected))
    assert wrong == []


@pytest.mark.parametrize(
    ("season", "first", "paying", "fastest_lap", "sprint_first"),
    [
        (1950, 8, 5, 1, None),
        (1991, 10, 6, 0, None),
        (2003, 10, 8, 0, None),
        (2010, 25, 10, 0, None),
        (2019, 25, 10, 1, None),
        (2021, 25, 10, 1, 3),
        (2023, 25, 10, 1, 8),
        (2025, 25, 10, 0, 8),
    ],
)
def test_the_eras(
    season: int, first: float, paying: int, fastest_lap: float, sprint_first: float | None
) -> None:
    system = points_system(season)
    assert (system.race[0], system.paying, system.fastest_lap) == (first, paying, fastest_lap)
    assert (system.sprint[0] if system.sprint else None) == sprint_first
    assert system.for_position(paying + 1) == 0
    if fastest_lap and season >= 2019:
        assert system.fastest_lap_top == 10  # only for a top-10 finish


def test_the_fastest_lap_point_2019_to_2024_and_double_points_in_2014(
    results: pd.DataFrame,
) -> None:
    modern = results[(results["year"] >= 2019) & results["position"].notna()]
    base = [points_system(int(y)).for_position(int(p)) for y, p in
            zip(modern["year"], modern["position"], strict=True)]  # fmt: skip
    bonus = (modern["points"] - base).groupby(modern["raceId"]).apply(lambda d: (d == 1).sum())
    assert bonus.isin([0, 1]).all() and bonus.mean() > 0.85  # at most one, nearly every race
    final = results[(results["year"] == 2014) & (results["position"] == 1)]
    last = final["round"].max()
    system = points_system(2014)
    assert final.set_index("round")["points"][last] == system.for_position(1, last_round=True) == 50
    assert points_system(2015).for_position(1, last_round=True) == 25
    with pytest.raises(ValueError, match="before 1950"):
        points_system(1949)
