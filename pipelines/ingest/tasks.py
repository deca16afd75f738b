"""Entry points of the f1_ingest DAG's tasks (also what `f1 ingest new` runs)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from pipelines.ingest.jolpica import JolpicaClient
from pipelines.ingest.live import ingest_new, ingest_season
from pipelines.ingest.weather import OpenMeteo, ingest_weather
from pipelines.snapshot import snapshot_task
from warehouse.db import make_engine
from warehouse.migrate import require_head

log = logging.getLogger(__name__)


def ingest_task(
    mode: str,
    as_of: dt.date,
    season: int | None = None,
    snapshot_dir: str | None = None,
    base_url: str | None = None,
) -> dict[str, Any]:
    """Load new rounds from the API (mode `live`) or a CSV snapshot; a JSON-able summary."""
    if mode == "snapshot":
        return snapshot_task(snapshot_dir)
    if mode != "live":
        raise ValueError(f"unknown mode {mode!r}: use 'live' or 'snapshot'")
    engine = make_engine()
    client = JolpicaClient.from_settings(base_url=base_url)
    try:
        require_head(engine)
        if season is not None:
            reports = [ingest_season(engine, client, season)]
        else:
            reports = ingest_new(engine, client, as_of)
    finally:
        log.info("F1 API %s: %s", client.http.base_url, client.http.stats.summary())
        client.http.close()
        engine.dispose()
    stats = client.http.stats
    return {
        "mode": "live",
        "as_of": as_of.isoformat(),
        "changes": [
            {"season": r.season, "rounds": r.rounds, "rows_changed": r.changed} for r in reports
        ],
        "requests": stats.requests,
        "retries": dict(stats.retries),
        "rate_limited_s": round(stats.rate_limited_s, 1),
        "backoff_s": round(stats.backoff_s, 1),
    }


def weather_task(summary: dict[str, Any], as_of: dt.date) -> dict[str, Any]:
    """Weather of the seasons the ingest touched (and the next race's forecast)."""
    if summary.get("mode") != "live":
        return {"weather_rows_changed": 0}
    seasons = sorted({c["season"] for c in summary["changes"]} | {as_of.year})
    engine = make_engine()
    meteo = OpenMeteo.from_settings()
    changed = 0
    try:
        for season in seasons:
            report = ingest_weather(engine, meteo, season, as_of, only_missing=True)
            changed += report.counts.changed
    finally:
        engine.dispose()
    return {"weather_rows_changed": changed}


def asset_extra(summary: dict[str, Any], weather: dict[str, Any]) -> dict[str, Any] | None:
    """The `f1/warehouse` event's extra, or None when nothing changed (no event then)."""
    if summary.get("mode") == "snapshot":
        return summary if summary["rows_changed"] else None
    written = [c for c in summary["changes"] if c["rounds"] or c["rows_changed"]]
    if not written and not weather["weather_rows_changed"]:
        return None
    latest = max(summary["changes"], key=lambda c: c["season"])
    return {
        "season": latest["season"],
        "rounds": latest["rounds"],
        "changes": summary["changes"],
        **weather,
    }
