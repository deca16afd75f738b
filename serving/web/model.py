"""The model page: what serves, its track record race by race against the stage's baseline,
its calibration, the betting market as a benchmark, every promotion with its evidence, and the
A/B split."""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from bot.benchmark import from_warehouse
from bot.benchmark import overall as market_overall
from serving.deps import platform_of
from serving.web import charts
from serving.web.session import render, web_claims
from spec import STAGES, target
from warehouse import queries
from warehouse.queries import races_by_id

router = APIRouter(include_in_schema=False)
Claims = Annotated[dict[str, Any] | None, Depends(web_claims)]
log = logging.getLogger(__name__)
BINS = np.array([0.0, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0])


def _record(
    session: Session, name: str, baseline: str, label: str, stage: str
) -> list[dict[str, Any]]:
    """Log loss per scored race of every version of `name` and of the stage's baseline."""
    rows = queries.track_record(session, stage, (name, baseline))
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
    rows = queries.forecasts_with_results(session, name, stage)
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


VALIDATION = "validation/validation.json"
PER_RACE = "validation/per_race.csv"
_backtests: dict[tuple[str, str], dict[str, Any] | None] = {}
_backtests_lock = threading.Lock()


def backtest(name: str, version: str) -> dict[str, Any] | None:
    """The walk-forward evaluation the training run of `name` `version` logged (per race
    against the stage's baseline, per season, calibration), kept per version; None when the
    run logged none (read once: a version's artifacts never change)."""
    key = (name, version)
    with _backtests_lock:
        if key in _backtests:
            return _backtests[key]
    import mlflow
    import pandas as pd

    from models.registry import client

    try:
        run_id = client().get_model_version(name, version).run_id
        report = json.loads(
            Path(mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=VALIDATION))
            .read_text()
        )  # fmt: skip
        per_race = pd.read_csv(
            mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=PER_RACE)
        )
    except Exception:  # noqa: BLE001 (a run without these artifacts: no backtest to show)
        log.warning("no walk-forward evaluation for %s v%s", name, version, exc_info=True)
        found = None
    else:
        found = {"report": report, "per_race": per_race.to_dict("records")}
    with _backtests_lock:
        _backtests[key] = found
    return found


def _backtest_record(
    session: Session, found: dict[str, Any], version: str, label: str
) -> dict[str, Any]:
    """The training run's walk-forward backtest shaped as the page's track record."""
    report = found["report"]
    ids = [int(r["race_id"]) for r in found["per_race"]]
    races = races_by_id(session, ids)
    record = []
    for row in found["per_race"]:
        name, date = races.get(int(row["race_id"]), (f"round {row['round']}", None))
        common = {
            "race": f"{row['season']} {name}",
            "when": date.isoformat() if date else f"{row['season']}-01-01",
            "season": int(row["season"]),
            "round": int(row["round"]),
        }
        record.append({**common, "forecaster": f"v{version}", "log_loss": row["log_loss"]})
        if "baseline_log_loss" in row and row["baseline_log_loss"] == row["baseline_log_loss"]:
            record.append(
                {
                    **common,
                    "forecaster": f"baseline ({label})",
                    "log_loss": row["baseline_log_loss"],
                }
            )
    baseline = report["baseline"]
    seasons = [
        {
            "season": year,
            "model": figures.get("ensemble", {}),
            "baseline": figures.get(baseline, {}),
        }
        for year, figures in sorted(report["by_season"].items())
    ]
    bins = [
        {
            "bin": f"{b['low']:.2f}–{b['high']:.2f}",
            "forecast": b["mean_p"],
            "observed": b["rate"],
            "n": b["n"],
        }
        for b in report["overall"].get("ensemble", {}).get("reliability", [])
    ]
    return {"record": record, "seasons": seasons, "bins": bins}


@router.get("/model", response_class=HTMLResponse)
def model_page(request: Request, claims: Claims) -> HTMLResponse:
    served = platform_of(request).models.describe()
    stages = []
    with Session(platform_of(request).engine) as session:
        for stage in STAGES:
            name = target("winner").model_name(stage.name)
            record = _record(
                session, name, stage.baseline.model_name, stage.baseline.label, stage.name
            )
            bins = _calibration(session, name, stage.name)
            seasons: list[dict[str, Any]] = []
            champion = served["models"].get(stage.name, {}).get("champion")
            backtested = None
            if not record and champion is not None:  # no live race scored yet
                found = backtest(name, champion)
                if found is not None:
                    years = ", ".join(sorted(found["report"]["by_season"]))
                    backtested = f"v{champion}, {years}"
                    shaped = _backtest_record(session, found, champion, stage.baseline.label)
                    record, seasons, bins = shaped["record"], shaped["seasons"], shaped["bins"]
            stages.append(
                {
                    "stage": stage.name,
                    "title": stage.title,
                    "name": name,
                    "baseline": stage.baseline.label,
                    "backtest": backtested,
                    "seasons": seasons,
                    "record": record,
                    "record_chart": charts.track_record(
                        record, f"{stage.title}: log loss per race"
                    ) if record else None,
                    "bins": bins,
                    "calibration_chart": charts.calibration(
                        bins, f"{stage.title}: calibration"
                    ) if bins else None,
                }
            )  # fmt: skip
        market = from_warehouse(session)
        events = queries.model_events(session)
    history = [
        {"event": e, "evidence": json.dumps(json.loads(e.evidence or "{}"), indent=2)}
        for e in events
    ]
    return render(
        request,
        "model.html",
        {
            "served": served,
            "stage_titles": {stage.name: stage.title for stage in STAGES},
            "stages": stages,
            "history": history,
            "ab_share": platform_of(request).settings.ab_share,
            "market": market,
            "market_overall": market_overall(market),
        },
        claims,
    )
