"""The platform's operational state, read by monitoring: how each scheduled task last ended,
and whether the latest race weekend's results are in."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from spec import stage as spec_stage
from warehouse.schema import (
    TASK_STATES,
    DriftCheck,
    PipelineStatus,
    PredictionAccuracy,
    Race,
    RaceResult,
)


def record_task(
    session: Session,
    dag_id: str,
    task_id: str,
    run_id: str,
    state: str,
    error: str | None = None,
    at: dt.datetime | None = None,
) -> PipelineStatus:
    """Upsert the latest outcome of (dag_id, task_id); a success clears the error."""
    if state not in TASK_STATES:
        raise ValueError(f"task state {state!r} is not one of {', '.join(TASK_STATES)}")
    at = at or dt.datetime.now(dt.UTC)
    row = session.get(PipelineStatus, (dag_id, task_id))
    if row is None:
        row = PipelineStatus(dag_id=dag_id, task_id=task_id)
        session.add(row)
    row.state, row.run_id, row.finished_at = state, run_id, at
    if state == "success":
        row.last_success_at, row.error = at, None
    else:
        row.last_failure_at, row.error = at, (error or "")[:4000]
    return row


def task_statuses(session: Session) -> list[PipelineStatus]:
    return list(session.scalars(select(PipelineStatus).order_by("dag_id", "task_id")))


def results_freshness(session: Session, today: dt.date | None = None) -> dict[str, Any]:
    """`last_result`: date of the latest race with results; `overdue_days`: days since the
    first race held after it (date before `today`) whose results are still missing, 0 when
    every held race has them. Alerting on overdue_days > 8 means: a race weekend ended more
    than 8 days ago and ingest has not brought its results."""
    today = today or dt.datetime.now(dt.UTC).date()
    last = session.scalar(
        select(func.max(Race.date)).where(Race.id.in_(select(RaceResult.race_id)))
    )
    missing = select(func.min(Race.date)).where(
        Race.date < today, ~Race.id.in_(select(RaceResult.race_id))
    )
    if last is not None:
        missing = missing.where(Race.date > last)
    first_missing = session.scalar(missing)
    overdue = 0 if first_missing is None else (today - first_missing).days
    return {"last_result": last, "overdue_days": overdue}


def live_accuracy(
    session: Session, stage: str, name: str, version: str, races: int = 5
) -> dict[str, float | int] | None:
    """Mean log loss and top-1 of `name` v`version` over its last `races` scored races of
    `stage`, beside the stage's baseline's on the same races; None before any such race."""
    baseline_name = spec_stage(stage).baseline.model_name
    model = (
        select(PredictionAccuracy.race_id, PredictionAccuracy.log_loss, PredictionAccuracy.top1)
        .join(Race, Race.id == PredictionAccuracy.race_id)
        .where(
            PredictionAccuracy.stage == stage,
            PredictionAccuracy.model_name == name,
            PredictionAccuracy.model_version == version,
            PredictionAccuracy.race_id.in_(
                select(PredictionAccuracy.race_id).where(
                    PredictionAccuracy.stage == stage,
                    PredictionAccuracy.model_name == baseline_name,
                )
            ),
        )
        .order_by(Race.date.desc())
        .limit(races)
    )
    rows = session.execute(model).all()
    if not rows:
        return None
    baseline = session.execute(
        select(PredictionAccuracy.log_loss, PredictionAccuracy.top1).where(
            PredictionAccuracy.stage == stage,
            PredictionAccuracy.model_name == baseline_name,
            PredictionAccuracy.race_id.in_([r.race_id for r in rows]),
        )
    ).all()
    return {
        "races": len(rows),
        "log_loss": sum(r.log_loss for r in rows) / len(rows),
        "top1": sum(r.top1 for r in rows) / len(rows),
        "baseline_log_loss": sum(b.log_loss for b in baseline) / len(baseline),
        "baseline_top1": sum(b.top1 for b in baseline) / len(baseline),
    }


def latest_drift(session: Session) -> list[DriftCheck]:
    """The drift checks of the race each stage was most recently checked for (every row of
    that race, however long ago each was last written)."""
    newest = (
        select(DriftCheck.stage, func.max(DriftCheck.checked_at).label("at"))
        .group_by(DriftCheck.stage)
        .subquery()
    )
    races = (
        select(DriftCheck.stage, func.max(DriftCheck.race_id).label("race_id"))
        .join(
            newest,
            (newest.c.stage == DriftCheck.stage) & (newest.c.at == DriftCheck.checked_at),
        )
        .group_by(DriftCheck.stage)
        .subquery()
    )
    return list(
        session.scalars(
            select(DriftCheck)
            .join(
                races,
                (races.c.stage == DriftCheck.stage) & (races.c.race_id == DriftCheck.race_id),
            )
            .order_by(DriftCheck.stage, DriftCheck.subject)
        )
    )
