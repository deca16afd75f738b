"""Compares a season in the warehouse with the API: rounds, result counts, winners, leaders."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import Engine, func, select

from pipelines.ingest.jolpica import JolpicaClient
from warehouse.db import transaction
from warehouse.schema import ConstructorStanding, Driver, DriverStanding, Race, RaceResult, Team


def compare_season(engine: Engine, client: JolpicaClient, season: int) -> list[str]:
    """Readable differences between the warehouse and the API for `season` (empty: they agree)."""
    api_rounds = {int(r["round"]) for r in client.schedule(season)}
    api_results = {int(r["round"]): r["Results"] for r in client.results(season)}
    api_counts = {n: len(rows) for n, rows in api_results.items()}
    api_winners = {n: _winners(rows) for n, rows in api_results.items()}
    with transaction(engine) as session:
        wh_rounds = set(session.scalars(select(Race.round).where(Race.season == season)))
        wh_counts = dict(
            session.execute(
                select(Race.round, func.count())
                .join(RaceResult)
                .where(Race.season == season)
                .group_by(Race.round)
            )
            .tuples()
            .all()
        )
        wh_winners: dict[int, list[str]] = {}
        for round_, ref in session.execute(
            select(Race.round, Driver.ref)
            .join(RaceResult, RaceResult.race_id == Race.id)
            .join(Driver, Driver.id == RaceResult.driver_id)
            .where(Race.season == season, RaceResult.position == 1)
        ):
            wh_winners.setdefault(round_, []).append(ref)
    lines = _set_diff("rounds", api_rounds, wh_rounds)
    lines += _set_diff("rounds with results", set(api_counts), set(wh_counts))
    for round_ in sorted(set(api_counts) & set(wh_counts)):
        if api_counts[round_] != wh_counts[round_]:
            lines.append(
                f"round {round_}: {api_counts[round_]} results in the API, "
                f"{wh_counts[round_]} in the warehouse"
            )
        if api_winners[round_] != sorted(wh_winners.get(round_, [])):
            lines.append(
                f"round {round_}: winner {api_winners[round_]} in the API, "
                f"{sorted(wh_winners.get(round_, []))} in the warehouse"
            )
    if api_counts:
        lines += _leaders(engine, client, season, max(api_counts))
    return lines


def _winners(rows: list[dict[str, Any]]) -> list[str]:
    return sorted(str(r["Driver"]["driverId"]) for r in rows if r.get("positionText") == "1")


def _set_diff(what: str, api: set[int], warehouse: set[int]) -> list[str]:
    lines = []
    if api - warehouse:
        lines.append(f"{what}: missing in the warehouse: {sorted(api - warehouse)}")
    if warehouse - api:
        lines.append(f"{what}: in the warehouse but not the API: {sorted(warehouse - api)}")
    return lines


def _leaders(engine: Engine, client: JolpicaClient, season: int, round_: int) -> list[str]:
    api_driver = Counter(
        str(r["Driver"]["driverId"])
        for r in client.driver_standings(season, round_)
        if r.get("position") == "1"
    )
    api_team = Counter(
        str(r["Constructor"]["constructorId"])
        for r in client.constructor_standings(season, round_)
        if r.get("position") == "1"
    )
    with transaction(engine) as session:
        race = select(Race.id).where(Race.season == season, Race.round == round_).scalar_subquery()
        wh_driver = Counter(
            session.scalars(
                select(Driver.ref)
                .join(DriverStanding)
                .where(DriverStanding.race_id == race, DriverStanding.position == 1)
            )
        )
        wh_team = Counter(
            session.scalars(
                select(Team.ref)
                .join(ConstructorStanding)
                .where(ConstructorStanding.race_id == race, ConstructorStanding.position == 1)
            )
        )
    lines = []
    for what, api, wh in (
        ("drivers'", api_driver, wh_driver),
        ("constructors'", api_team, wh_team),
    ):
        if api != wh:
            lines.append(
                f"{what} leader after round {round_}: {sorted(api)} in the API, "
                f"{sorted(wh)} in the warehouse"
            )
    return lines
