"""The model page: what serves, its track record race by race against the stage's baseline,
its calibration, the betting market as a benchmark, every promotion with its evidence, and the
A/B split."""

from __future__ import annotations

import json
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.benchmark import from_warehouse
from bot.benchmark import overall as market_overall
from serving.web import charts
from serving.web.session import render, web_claims
from spec import STAGES, target
from warehouse.schema import ModelEvent, Prediction, PredictionAccuracy, Race, RaceResult

router = APIRouter(include_in_schema=False)
Claims = Annotated[dict[str, Any] | None, Depends(web_claims)]
BINS = np.array([0.0, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0])


def _record(
    session: Session, name: str, baseline: str, label: str, stage: str
) -> list[dict[str, Any]]:
    """Log loss per scored race of every version of `name` and of the stage's baseline."""
    rows = session.execute(
        select(Race.season, Race.round, Race.name, Race.date, PredictionAccuracy.model_name,
               PredictionAccuracy.model_version, PredictionAccuracy.log_loss)
        .join(Race, Race.id == PredictionAccuracy.race_id)
        .where(PredictionAccuracy.stage == stage,
               PredictionAccuracy.model_name.in_((name, baseline)))
        .order_by(Race.season, Race.round)
    ).all()  # fmt: skip
    return [
        {
            "race": f"{season} {race}",
            "when": date.isoformat(),
            "forecaster": f"v{version}" if model == name else f"baseline ({label})",
            "log_loss": loss,
            "season": season,
            "round": round_,
        }
        for season, round_, race, date, model, version, loss in rows
    ]


def _calibration(session: Session, name: str, stage: str) -> list[dict[str, Any]]:
    """Mean forecast and observed win rate per probability bin, over every stored prediction
    of `name` at `stage` whose race has a result."""
    rows = session.execute(
        select(Prediction.probability, RaceResult.position)
        .join(RaceResult, (RaceResult.race_id == Prediction.race_id)
              & (RaceResult.driver_id == Prediction.driver_id))
        .where(Prediction.model_name == name, Prediction.stage == stage)
    ).all()  # fmt: skip
    if not rows:
        return []
    p = np.array([r[0] for r in rows], dtype=float)
    won = np.array([r[1] == 1 for r in rows], dtype=float)
    which = np.clip(np.digitize(p, BINS) - 1, 0, len(BINS) - 2)
    out = []
    for b in range(len(BINS) - 1):
        inside = which == b
        if inside.any():
            out.append(
                {
                    "bin": f"{BINS[b]:.2f}–{BINS[b + 1]:.2f}",
                    "forecast": float(p[inside].mean()),
                    "observed": float(won[inside].mean()),
                    "n": int(inside.sum()),
                }
            )
    return out


@router.get("/model", response_class=HTMLResponse)
def model_page(request: Request, claims: Claims) -> HTMLResponse:
    served = request.app.state.models.describe()
    stages = []
    with Session(request.app.state.engine) as session:
        for stage in STAGES:
            name = target("winner").model_name(stage.name)
            record = _record(
                session, name, stage.baseline.model_name, stage.baseline.label, stage.name
            )
            bins = _calibration(session, name, stage.name)
            stages.append(
                {
                    "stage": stage.name,
                    "name": name,
                    "baseline": stage.baseline.label,
                    "record": record,
                    "record_chart": charts.track_record(
                        record, f"{stage.name}: log loss per race"
                    ) if record else None,
                    "bins": bins,
                    "calibration_chart": charts.calibration(
                        bins, f"{stage.name}: calibration"
                    ) if bins else None,
                }
            )  # fmt: skip
        market = from_warehouse(session)
        events = session.scalars(
            select(ModelEvent)
            .order_by(ModelEvent.created_at.desc(), ModelEvent.id.desc())
            .limit(50)
        ).all()
    history = [
        {"event": e, "evidence": json.dumps(json.loads(e.evidence or "{}"), indent=2)}
        for e in events
    ]
    return render(
        request,
        "model.html",
        {
            "served": served,
            "stages": stages,
            "history": history,
            "ab_share": request.app.state.settings.ab_share,
            "market": market,
            "market_overall": market_overall(market),
        },
        claims,
    )
