"""Incremental ingestion from the F1 API: find what is missing, fetch only that, write by round.

Request budget (100-row pages): one round costs 1 schedule + results + qualifying + sprint
(sprint weekends only) + 2 standings + ⌈lap timings/100⌉ (from 1996: about 1,100 timings, 12
pages, for a modern race) = 5–6 requests, 17–20 with the laps. From SEASON_PAGES_FROM missing
rounds on, season-wide pages are cheaper: 1 + ⌈results/100⌉ + ⌈qualifying/100⌉ + ⌈sprint/100⌉ +
2 per round; laps are not fetched there (24 rounds × 12 pages would take most of an hour's
budget of 450): a backfill of lap times loads Ergast's lap_times.csv with `f1 ingest snapshot`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, func, select

from pipelines.ingest.jolpica import JolpicaClient
from pipelines.ingest.records import (
    RESULT,
    SPRINT_RESULT,
    EntityBook,
    classification_rows,
    lap_rows,
    qualifying_rows,
    race_row,
    standing_rows,
)
from pipelines.ingest.writer import RoundData, write_entities, write_races, write_round
from pipelines.weekend import PUBLISHED_AFTER, as_moment
from warehouse.calendar import NOON
from warehouse.db import transaction
from warehouse.schema import DriverStanding, Race, RaceResult
from warehouse.upsert import UpsertCounts

log = logging.getLogger(__name__)

SEASON_PAGES_FROM = 4
FIRST_SPRINT_SEASON = 2021
FIRST_LAPS_SEASON = 1996  # the API has lap times from 1996
Progress = Callable[[str, int, int], None]


@dataclass
class IngestReport:
    """What one season's ingestion fetched and wrote."""

    season: int
    rounds: list[int] = field(default_factory=list)  # rounds written
    tables: dict[str, UpsertCounts] = field(default_factory=dict)

    def add(self, counts: dict[str, UpsertCounts]) -> None:
        """Fold one transaction's counts into the report."""
        for name, value in counts.items():
            self.tables[name] = self.tables.get(name, UpsertCounts()) + value

    @property
    def changed(self) -> int:
        """Rows inserted or updated in all tables."""
        return sum(c.changed for c in self.tables.values())


def ingest_season(
    engine: Engine, client: JolpicaClient, season: int, progress: Progress | None = None
) -> IngestReport:
    """Everything the API has for `season` (schedule, results, qualifying, sprints, standings)."""
    return _ingest(engine, client, season, None, progress)


def ingest_round(
    engine: Engine,
    client: JolpicaClient,
    season: int,
    round_: int,
    progress: Progress | None = None,
) -> IngestReport:
    """One round, fetched with per-round endpoints."""
    return _ingest(engine, client, season, [round_], progress)


def ingest_qualifying(
    engine: Engine, client: JolpicaClient, season: int, progress: Progress | None = None
) -> IngestReport:
    """Qualifying of every round of `season` the API has (season-wide pages), round by round."""
    report = IngestReport(season)
    path = f"{season}/qualifying.json"
    rounds: dict[int, RoundData] = {}
    for race in client.qualifying(season):
        data = RoundData(season, int(race.get("round", 0)))
        data.race = race_row(race, data.book, path, sessions=False)
        data.qualifying = qualifying_rows(race, data.book, path)
        rounds[data.round] = data
    for done, (round_, data) in enumerate(sorted(rounds.items()), start=1):
        report.add(write_round(engine, data))
        report.rounds.append(round_)
        if progress:
            progress("write", done, len(rounds))
    return report


def ingest_new(
    engine: Engine,
    client: JolpicaClient,
    as_of: dt.date | dt.datetime,
    progress: Progress | None = None,
) -> list[IngestReport]:
    """Rounds whose results are due by `as_of` (race start + 3 h; a date means its midnight
    UTC) that the warehouse lacks or holds without results or standings."""
    moment = as_moment(as_of)
    reports = []
    for season in seasons_to_check(engine, moment.date()):
        schedule = client.schedule(season)
        due = {int(r["round"]) for r in schedule if _results_due(r, moment)}
        missing = sorted(due - complete_rounds(engine, season))
        log.info("season %d: %d rounds due by %s, missing %s", season, len(due), moment, missing)
        reports.append(_ingest(engine, client, season, missing, progress, schedule))
    return reports


def _results_due(race: dict[str, Any], moment: dt.datetime) -> bool:
    """The race's results are due once it started 3 h ago (noon UTC when its time is
    unknown)."""
    day = dt.date.fromisoformat(str(race.get("date", ""))[:10] or "9999-12-31")
    time = str(race.get("time", "")).rstrip("Z")
    start = dt.datetime.combine(day, dt.time.fromisoformat(time) if time else NOON, tzinfo=dt.UTC)
    return start + PUBLISHED_AFTER["race"] <= moment


def seasons_to_check(engine: Engine, as_of: dt.date) -> list[int]:
    """The season of `as_of`, and the one before while the warehouse has not finished it
    (a finished season is not asked for again: an off-season week costs one request)."""
    with transaction(engine) as session:
        last = session.scalar(select(func.max(Race.season)).join(RaceResult))
    if last is None:
        return [as_of.year]
    if last < as_of.year - 1:
        log.warning(
            "seasons %d–%d are missing: run `f1 ingest season` for them", last + 1, as_of.year - 2
        )
    seasons = list(range(max(last, as_of.year - 1), as_of.year + 1))
    if len(seasons) == 2 and season_finished(engine, seasons[0]):
        seasons = seasons[1:]
    return seasons


def season_finished(engine: Engine, season: int) -> bool:
    """Every stored race of `season` has results and standings."""
    with transaction(engine) as session:
        rounds = set(session.scalars(select(Race.round).where(Race.season == season)))
    return bool(rounds) and rounds <= complete_rounds(engine, season)


def complete_rounds(engine: Engine, season: int) -> set[int]:
    """Rounds of `season` stored with both results and driver standings."""
    with transaction(engine) as session:
        with_results = select(RaceResult.race_id)
        with_standings = select(DriverStanding.race_id)
        rounds = session.scalars(
            select(Race.round).where(
                Race.season == season, Race.id.in_(with_results), Race.id.in_(with_standings)
            )
        )
        return set(rounds)


def _ingest(
    engine: Engine,
    client: JolpicaClient,
    season: int,
    rounds: list[int] | None,
    progress: Progress | None,
    schedule: list[dict[str, Any]] | None = None,
) -> IngestReport:
    """Write the schedule, then fetch `rounds` (None: all the API has) and write each."""
    report = IngestReport(season)
    schedule = client.schedule(season) if schedule is None else schedule
    book = EntityBook()
    endpoint = f"{season}.json"
    races = [race_row(race, book, endpoint, sessions=True) for race in schedule]
    with transaction(engine) as session:
        report.add({**write_entities(session, book), "races": write_races(session, races)})
    if rounds == []:
        return report
    by_round = {int(r["round"]): r for r in schedule}
    fetched = _fetch(client, season, rounds, by_round)
    wanted = sorted(fetched) if rounds is None else [r for r in rounds if r in fetched]
    for done, round_ in enumerate(wanted, start=1):
        data = fetched[round_]
        data.driver_standings = standing_rows(
            client.driver_standings(season, round_),
            data.book,
            f"{season}/{round_}/driverstandings.json",
            drivers=True,
        )
        data.constructor_standings = standing_rows(
            client.constructor_standings(season, round_),
            data.book,
            f"{season}/{round_}/constructorstandings.json",
            drivers=False,
        )
        if progress:
            progress("fetch", done, len(wanted))
    for done, round_ in enumerate(wanted, start=1):
        report.add(write_round(engine, fetched[round_]))
        report.rounds.append(round_)
        if progress:
            progress("write", done, len(wanted))
    skipped = sorted(set(rounds or []) - set(wanted))
    if skipped:
        log.info("season %d: the API has no results yet for rounds %s", season, skipped)
    return report


def _fetch(
    client: JolpicaClient,
    season: int,
    rounds: list[int] | None,
    schedule: dict[int, dict[str, Any]],
) -> dict[int, RoundData]:
    """Results, qualifying and sprints of the rounds that have results, parsed and checked."""
    per_round = rounds is not None and len(rounds) < SEASON_PAGES_FROM
    fetched: dict[int, RoundData] = {}
    if per_round:
        assert rounds is not None
        for round_ in rounds:
            sprint = _has_sprint(season, schedule.get(round_))
            _merge(fetched, season, client.results(season, round_), "results", round_)
            if round_ not in fetched:
                continue  # no results yet: nothing else of this round is fetched
            _merge(fetched, season, client.qualifying(season, round_), "qualifying", round_)
            if sprint:
                _merge(fetched, season, client.sprint(season, round_), "sprint", round_)
            if season >= FIRST_LAPS_SEASON:
                path = f"{season}/{round_}/laps.json"
                data = fetched[round_]
                data.laps = lap_rows(client.laps(season, round_), data.book, path)
    else:
        _merge(fetched, season, client.results(season), "results")
        _merge(fetched, season, client.qualifying(season), "qualifying")
        if season >= FIRST_SPRINT_SEASON:
            _merge(fetched, season, client.sprint(season), "sprint")
    keep = set(fetched) if rounds is None else set(rounds)
    return {r: d for r, d in fetched.items() if r in keep and d.has_results}


def _has_sprint(season: int, race: dict[str, Any] | None) -> bool:
    # Sprints began in 2021; a schedule with session times says which weekends have one.
    if season < FIRST_SPRINT_SEASON:
        return False
    return race is None or "Sprint" in race or "FirstPractice" not in race


def _merge(
    fetched: dict[int, RoundData],
    season: int,
    races: list[dict[str, Any]],
    kind: str,
    round_: int | None = None,
) -> None:
    """Parse each race object of one endpoint into the RoundData of its round."""
    path = f"{season}/{kind}.json" if round_ is None else f"{season}/{round_}/{kind}.json"
    for race in races:
        number = int(race.get("round", 0))
        if kind != "results" and number not in fetched:
            continue  # qualifying or a sprint of a race without results: fetched again later
        data = fetched.setdefault(number, RoundData(season, number))
        if data.race is None:
            data.race = race_row(race, data.book, path, sessions=False)
        if kind == "results":
            data.results = classification_rows(race, "Results", RESULT, data.book, path)
        elif kind == "sprint":
            data.sprint = classification_rows(race, "SprintResults", SPRINT_RESULT, data.book, path)
        else:
            data.qualifying = qualifying_rows(race, data.book, path)
