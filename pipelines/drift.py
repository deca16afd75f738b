"""Drift, checked by `f1_score` after each ingestion, for the race about to be predicted:

- features: each feature's values among the race's entrants against the training window (the
  published rows of the `REFERENCE_SEASONS` seasons before the race), by the two-sample
  Kolmogorov–Smirnov test; an alert when p < `P_ALERT`. Features that do not vary among a
  race's entrants (the calendar, the weather) or that restart every season (championship
  points, this season's teammate duels) are not tested: one race cannot be compared with a
  window of them.
- the champion's live log loss over its last `LIVE_RACES` scored races against its
  validation log loss (from its MLflow run); an alert when the gap passes `GAP_ALERT` over at
  least `LIVE_RACES` races.

The figures go to the `drift_checks` table (and from there to /metrics); a new alert is logged
and posted to the webhook (`F1_ALERT_WEBHOOK_URL`).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from typing import Any

import pandas as pd
from sqlalchemy import Engine, Table, select

from feature_store.online import NoEntrants, RaceRef, get_entry_features
from feature_store.store import read_offline
from feature_store.view import SEASON_BEFORE, features
from spec import STAGES
from warehouse.db import session_factory, transaction
from warehouse.schema import DriftCheck
from warehouse.upsert import upsert

log = logging.getLogger(__name__)
P_ALERT = 0.001
GAP_ALERT = 0.3  # nats: the live log loss this much above validation
LIVE_RACES = 5
REFERENCE_SEASONS = 3
MIN_VALUES = 5


def tested_features(stage: str, reference: pd.DataFrame) -> list[str]:
    """The stage's features that vary among a race's entrants and carry across seasons."""
    names = [f.name for f in features(stage) if f.as_of != SEASON_BEFORE]
    varying = reference.groupby("race_id")[names].nunique().max()
    return [name for name in names if varying.get(name, 0) > 1]


def feature_drift(
    reference: pd.DataFrame, current: pd.DataFrame, names: list[str]
) -> list[dict[str, Any]]:
    """One KS test per feature: the race's values against the reference window's."""
    from scipy.stats import ks_2samp

    out = []
    for name in names:
        before = reference[name].dropna().to_numpy(dtype=float)
        now = current[name].dropna().to_numpy(dtype=float)
        if len(before) < MIN_VALUES or len(now) < MIN_VALUES:
            continue
        test = ks_2samp(before, now)
        out.append(
            {
                "kind": "feature",
                "subject": name,
                "statistic": float(test.statistic),
                "p_value": float(test.pvalue),
                "threshold": P_ALERT,
                "alert": bool(test.pvalue < P_ALERT),
            }
        )
    return out


def live_gap(engine: Engine, stage: str) -> dict[str, Any] | None:
    """The champion's live log loss minus its validation log loss, or None before it has a
    scored race or a validation figure."""
    from models.registry import CHAMPION, alias_version, client, model_name
    from warehouse.operations import live_accuracy

    name = model_name(stage)
    version = alias_version(name, CHAMPION)
    if version is None:
        return None
    with session_factory(engine)() as session:
        live = live_accuracy(session, stage, name, version, LIVE_RACES)
    if not live:
        return None
    registry = client()
    run = registry.get_run(registry.get_model_version(name, version).run_id)
    validation = run.data.metrics.get("validation_log_loss")
    if validation is None:
        return None
    gap = float(live["log_loss"]) - float(validation)
    return {
        "kind": "live_log_loss",
        "subject": f"{name}@{version}",
        "statistic": gap,
        "p_value": None,
        "threshold": GAP_ALERT,
        "alert": bool(live["races"] >= LIVE_RACES and gap > GAP_ALERT),
    }


def check_drift(engine: Engine, race: RaceRef, when: dt.datetime) -> dict[str, Any]:
    """Check both stages for `race`, store every figure, announce new alerts;
    `{stage: {"checked": n, "alerts": [subject, …]}}`."""
    found: dict[str, list[dict[str, Any]]] = {}
    for stage in STAGES.names:
        try:
            current = get_entry_features(engine, race.season, race.round, stage)
            window = read_offline(stage, since=race.season - REFERENCE_SEASONS)
        except (NoEntrants, FileNotFoundError):  # nobody entered yet; nothing published yet
            continue
        window = window[
            (window["season"] < race.season)
            | ((window["season"] == race.season) & (window["round"] < race.round))
        ]
        checks = feature_drift(window, current, tested_features(stage, window))
        gap = live_gap(engine, stage)
        found[stage] = checks + ([gap] if gap else [])
    new_alerts = _store(engine, race, found, when)
    for stage, subject, text in new_alerts:
        log.warning("drift: %s %s R%s %s: %s", stage, race.season, race.round, subject, text)
    url = os.environ.get("F1_ALERT_WEBHOOK_URL")
    if new_alerts and url:
        from pipelines.alerts import post_webhook

        lines = "\n".join(f"{stage} {subject}: {text}" for stage, subject, text in new_alerts)
        post_webhook(
            url,
            {
                "text": f":warning: Drift before {race.season} R{race.round} {race.name}:\n{lines}",
                "race": {"season": race.season, "round": race.round, "name": race.name},
                "alerts": [{"stage": s, "subject": j, "detail": t} for s, j, t in new_alerts],
            },
        )
    return {
        stage: {"checked": len(rows), "alerts": [r["subject"] for r in rows if r["alert"]]}
        for stage, rows in found.items()
    }


def _store(
    engine: Engine, race: RaceRef, found: dict[str, list[dict[str, Any]]], when: dt.datetime
) -> list[tuple[str, str, str]]:
    """Upsert the checks; the alerts that were not already raised for this race."""
    table: Table = DriftCheck.__table__  # type: ignore[assignment]
    with transaction(engine) as session:
        raised = set(
            session.execute(
                select(DriftCheck.stage, DriftCheck.subject).where(
                    DriftCheck.race_id == race.race_id, DriftCheck.alert.is_(True)
                )
            ).tuples()
        )
        rows = [
            {"race_id": race.race_id, "stage": stage, **check}
            for stage, checks in found.items()
            for check in checks
        ]
        upsert(
            session,
            table,
            rows,
            ("race_id", "stage", "kind", "subject"),
            scope=table.c.race_id == race.race_id,
            stamp={"checked_at": when},
        )
    return [
        (row["stage"], row["subject"], _describe(row))
        for row in rows
        if row["alert"] and (row["stage"], row["subject"]) not in raised
    ]


def _describe(check: dict[str, Any]) -> str:
    if check["kind"] == "feature":
        return (
            f"the entrants' values differ from the training window "
            f"(KS D {check['statistic']:.2f}, p {check['p_value']:.1e} < {check['threshold']})"
        )
    return (
        f"live log loss is {check['statistic']:+.2f} nats from validation "
        f"(alert above {check['threshold']})"
    )
