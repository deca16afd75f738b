"""Entry points of the f1_ingest DAG's tasks (also what `f1 ingest new` runs).

A run works on its own time `as_of` (the calendar action it was scheduled for, or when it
was triggered), never on the clock: replaying a run gives the same answer.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import Engine

from pipelines.ingest.http import ApiError
from pipelines.ingest.jolpica import JolpicaClient
from pipelines.ingest.live import IngestReport, ingest_new, ingest_season
from pipelines.ingest.openf1 import OpenF1Client
from pipelines.ingest.practice import ingest_practice
from pipelines.ingest.sessions import ingest_sessions
from pipelines.ingest.settings import IngestSettings
from pipelines.ingest.weather import OpenMeteo, ingest_weather
from pipelines.snapshot import snapshot_task
from pipelines.weekend import action_at, as_moment
from warehouse.calendar import weekends
from warehouse.db import make_engine
from warehouse.migrate import require_head

log = logging.getLogger(__name__)


def plan_task(as_of: dt.datetime, mode: str = "live", season: int | None = None) -> dict[str, Any]:
    """What this run is for: the calendar action at `as_of` (`after_quali` of 2024 R18…), or
    the backstop or a manual run; and the data it must wait for (no API request)."""
    moment = as_moment(as_of)
    plan: dict[str, Any] = {"as_of": moment.isoformat(), "action": mode, "awaits": None}
    if mode != "live" or season is not None:
        return plan
    engine = make_engine()
    try:
        stored = weekends(engine, since=moment.date() - dt.timedelta(days=7))
    finally:
        engine.dispose()
    action = action_at(stored, moment)
    if action is None:  # the Monday backstop, or a run triggered by hand
        plan["action"] = "backstop or manual"
        return plan
    plan.update(action=action.kind, season=action.season, round=action.round)
    plan["awaits"] = action.awaits
    log.info("run for %s at %s, waits for %s", action.describe(), moment, action.awaits)
    return plan


def published_task(plan: dict[str, Any], base_url: str | None = None) -> bool:
    """Whether the data the run waits for is published (True at once when it waits for
    nothing, with no request)."""
    if plan["awaits"] is None:
        return True
    if plan["awaits"] == "practice":  # OpenF1's, not the F1 API's
        if not IngestSettings().practice:
            return True  # switched off: nothing to wait for
        ready = _practice_published(plan["season"], plan["round"])
    else:
        client = JolpicaClient.from_settings(base_url=base_url)
        try:
            ready = client.published(plan["season"], plan["round"], plan["awaits"])
        finally:
            client.http.close()
    log.info(
        "%s of %d R%d %s",
        plan["awaits"],
        plan["season"],
        plan["round"],
        "is published" if ready else "is not published yet",
    )
    return ready


def _practice_published(season: int, round_: int) -> bool:
    """Whether OpenF1 has the last practice session before the round's qualifying."""
    engine = make_engine()
    try:
        weekend = next(w for w in weekends(engine) if (w.season, w.round) == (season, round_))
    finally:
        engine.dispose()
    client = OpenF1Client.from_settings()
    try:
        return client.published(weekend)
    finally:
        client.http.close()


def ingest_task(
    mode: str,
    as_of: dt.date | dt.datetime,
    season: int | None = None,
    snapshot_dir: str | None = None,
    base_url: str | None = None,
) -> dict[str, Any]:
    """Load what is due by `as_of` from the API (mode `live`: results of finished races,
    then qualifying and sprints of the next) or a CSV snapshot; a JSON-able summary."""
    if mode == "snapshot":
        return snapshot_task(snapshot_dir)
    if mode != "live":
        raise ValueError(f"unknown mode {mode!r}: use 'live' or 'snapshot'")
    moment = as_moment(as_of)
    engine = make_engine()
    client = JolpicaClient.from_settings(base_url=base_url)
    try:
        require_head(engine)
        if season is not None:
            reports = [ingest_season(engine, client, season)]
        else:
            reports = ingest_new(engine, client, moment) + ingest_sessions(engine, client, moment)
            if IngestSettings().practice:
                reports += _ingest_practice(engine, moment)
    finally:
        log.info("F1 API %s: %s", client.http.base_url, client.http.stats.summary())
        client.http.close()
        engine.dispose()
    stats = client.http.stats
    return {
        "mode": "live",
        "as_of": moment.isoformat(),
        "changes": [
            {"season": r.season, "rounds": r.rounds, "rows_changed": r.changed} for r in reports
        ],
        "requests": stats.requests,
        "retries": dict(stats.retries),
        "rate_limited_s": round(stats.rate_limited_s, 1),
        "backoff_s": round(stats.backoff_s, 1),
    }


def _ingest_practice(engine: Engine, moment: dt.datetime) -> list[IngestReport]:
    """The practice of the weekends under way, from OpenF1. A failure (OpenF1 down, a weekend
    refused) is logged and leaves the F1 API's data, already written, to flow on: the
    post_practice stage waits, qualifying and results do not; the next run tries again."""
    client = OpenF1Client.from_settings()
    try:
        return ingest_practice(engine, client, moment)
    except ApiError as error:
        log.error("practice not ingested (the next run tries again): %s", error)
        return []
    finally:
        log.info("OpenF1 %s: %s", client.http.base_url, client.http.stats.summary())
        client.http.close()


def weather_task(summary: dict[str, Any], as_of: dt.date | dt.datetime) -> dict[str, Any]:
    """Weather of the seasons the ingest touched (and the next race's forecast); nothing
    when weather is switched off (`F1_WEATHER=false`)."""
    if summary.get("mode") != "live" or not IngestSettings().weather:
        return {"weather_rows_changed": 0, "weather_seasons": []}
    now = as_moment(as_of)
    seasons = sorted({c["season"] for c in summary["changes"]} | {now.year})
    engine = make_engine()
    meteo = OpenMeteo.from_settings()
    changed: dict[int, int] = {}
    try:
        for season in seasons:
            report = ingest_weather(engine, meteo, season, now, only_missing=True)
            changed[season] = report.counts.changed
    finally:
        engine.dispose()
    return {
        "weather_rows_changed": sum(changed.values()),
        "weather_seasons": sorted(s for s, n in changed.items() if n),
    }


def asset_extra(summary: dict[str, Any], weather: dict[str, Any]) -> dict[str, Any] | None:
    """The `f1/warehouse` event's extra, or None when nothing changed (no event then)."""
    if summary.get("mode") == "snapshot":
        return summary if summary["rows_changed"] else None
    written = [c for c in summary["changes"] if c["rounds"] or c["rows_changed"]]
    if not written and not weather["weather_rows_changed"]:
        return None
    season = max(c["season"] for c in summary["changes"])
    rounds = {r for c in summary["changes"] if c["season"] == season for r in c["rounds"]}
    return {
        "season": season,
        "rounds": sorted(rounds),
        "changes": summary["changes"],
        "as_of": summary["as_of"],
        **weather,
    }
