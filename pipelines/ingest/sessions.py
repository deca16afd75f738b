"""Ingestion during a weekend: a race's qualifying and sprint as soon as the API has them,
before its results (one request each), and the check a sensor pokes with."""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import Engine, func, select

from pipelines.ingest.jolpica import JolpicaClient
from pipelines.ingest.live import IngestReport
from pipelines.ingest.records import SPRINT_RESULT, classification_rows, qualifying_rows, race_row
from pipelines.ingest.writer import RoundData, write_round
from pipelines.weekend import as_moment, published_at
from warehouse.calendar import Weekend, weekends
from warehouse.db import transaction
from warehouse.schema import QualifyingResult, Race, RaceResult, SprintResult

log = logging.getLogger(__name__)
LOOK_BACK = dt.timedelta(days=7)


def ingest_sessions(
    engine: Engine, client: JolpicaClient, as_of: dt.date | dt.datetime
) -> list[IngestReport]:
    """Qualifying and sprints of races still without results, once published by `as_of`,
    that the warehouse does not hold yet: one request each."""
    moment = as_moment(as_of)
    reports: dict[int, IngestReport] = {}
    for weekend in weekends_without_results(engine, moment):
        with transaction(engine) as session:
            stored = {
                kind
                for kind, table in (("quali", QualifyingResult), ("sprint", SprintResult))
                if session.scalar(select(func.count()).where(table.race_id == weekend.race_id))
            }
        for kind, endpoint in (("sprint", "sprint"), ("quali", "qualifying")):
            published = published_at(weekend, kind)
            if kind in stored or published is None or published > moment:
                continue
            report = reports.setdefault(weekend.season, IngestReport(weekend.season))
            for data in _session_rounds(client, weekend, endpoint):
                report.add(write_round(engine, data))
                report.rounds.append(weekend.round)
    return [r for r in reports.values() if r.rounds]


def _session_rounds(client: JolpicaClient, weekend: Weekend, endpoint: str) -> list[RoundData]:
    """One round's qualifying or sprint as the API has it now (empty: not published yet)."""
    path = f"{weekend.season}/{weekend.round}/{endpoint}.json"
    fetched = getattr(client, endpoint)(weekend.season, weekend.round)
    if not fetched:
        log.info("%s of %d R%d is not published yet", endpoint, weekend.season, weekend.round)
    rounds = []
    for race in fetched:
        data = RoundData(weekend.season, weekend.round)
        data.race = race_row(race, data.book, path, sessions=False)
        if endpoint == "qualifying":
            data.qualifying = qualifying_rows(race, data.book, path)
        else:
            data.sprint = classification_rows(race, "SprintResults", SPRINT_RESULT, data.book, path)
        rounds.append(data)
    return rounds


def weekends_without_results(engine: Engine, moment: dt.datetime) -> list[Weekend]:
    """Stored weekends of the last week and after whose race has no results yet."""
    since = moment.date() - LOOK_BACK
    with transaction(engine) as session:
        pending = set(
            session.scalars(
                select(Race.id).where(Race.date >= since, ~Race.id.in_(select(RaceResult.race_id)))
            )
        )
    return [w for w in weekends(engine, since=since) if w.race_id in pending]
