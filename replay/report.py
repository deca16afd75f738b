"""The replay's report: for every replayed race and stage, the champion's prediction as stored
(when, by which version), how it scored, its stage's baseline beside it, and whether it was
stored inside its window; every training, promotion and rollback with its evidence."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine, select

from spec import STAGES
from spec import stage as spec_stage
from warehouse.calendar import Weekend, weekends
from warehouse.db import as_utc, session_factory
from warehouse.schema import (
    Driver,
    ModelEvent,
    Prediction,
    PredictionAccuracy,
    RaceResult,
)

SCORES = ("log_loss", "brier", "top1")


@dataclass(frozen=True)
class Run:
    """A DAG run as the report tells it (simulated time; real start and end)."""

    dag_id: str
    at: dt.datetime
    trigger: str
    state: str
    seconds: float
    started: dt.datetime
    ended: dt.datetime


def window(
    weekend: Weekend, previous: Weekend | None, stage: str, start: dt.datetime
) -> tuple[dt.datetime, dt.datetime]:
    """When a stage's prediction of the race must be stored: pre_quali after the previous race
    started (or the replay did) and before the first session; post_practice once the last
    session before qualifying is published, before qualifying; post_quali from qualifying to
    lights out."""
    kind = spec_stage(stage).opens
    if kind == "previous_race":
        opens = max(start, previous.race_start) if previous else start
    elif kind == "practice":
        opens = weekend.practice_done
    else:
        opens = weekend.start("quali") or weekend.first_session
    return opens, weekend.cutoff(stage)


def _stored(engine: Engine, race_id: int, stage: str) -> dict[str, Any] | None:
    """The champion's prediction of a race and stage as last stored, with its scores."""
    with session_factory(engine)() as session:
        rows = session.execute(
            select(
                Prediction.model_name,
                Prediction.model_version,
                Prediction.created_at,
                Driver.ref,
                Prediction.probability,
            )
            .join(Driver, Driver.id == Prediction.driver_id)
            .where(
                Prediction.race_id == race_id,
                Prediction.stage == stage,
                Prediction.alias == "champion",
            )
        ).all()
        if not rows:
            return None
        name, version, stored_at = max(
            {(r.model_name, r.model_version, as_utc(r.created_at)) for r in rows},
            key=lambda r: r[2],
        )
        winner = session.scalar(
            select(Driver.ref)
            .join(RaceResult, RaceResult.driver_id == Driver.id)
            .where(RaceResult.race_id == race_id, RaceResult.position == 1)
        )
        scores: dict[str, Any] = {}
        for key, (model, model_version) in (
            ("model", (name, version)),
            ("baseline", (spec_stage(stage).baseline.model_name, spec_stage(stage).baseline.rule)),
        ):
            scored = session.execute(
                select(PredictionAccuracy).where(
                    PredictionAccuracy.race_id == race_id,
                    PredictionAccuracy.stage == stage,
                    PredictionAccuracy.model_name == model,
                    PredictionAccuracy.model_version == model_version,
                )
            ).scalar_one_or_none()
            scores[key] = {s: getattr(scored, s) for s in SCORES} if scored is not None else None
    probabilities = {
        r.ref: r.probability for r in rows if (r.model_name, r.model_version) == (name, version)
    }
    favourite = max(probabilities, key=lambda d: probabilities[d])
    return {
        "stored_at": stored_at.isoformat(),
        "model": name,
        "version": version,
        "alias": "champion",
        "favourite": favourite,
        "favourite_probability": round(probabilities[favourite], 4),
        "winner": winner,
        "winner_probability": round(probabilities.get(winner, 0.0), 4) if winner else None,
        "scores": scores["model"],
        "baseline": {"name": spec_stage(stage).baseline.rule, **scores["baseline"]}
        if scores["baseline"]
        else None,
    }


def race_reports(
    engine: Engine, season: int, rounds: tuple[int, int], start: dt.datetime
) -> list[dict[str, Any]]:
    """One entry per replayed race: per stage, the stored prediction, its window and scores."""
    calendar = [w for w in weekends(engine) if w.season == season]
    out = []
    for i, weekend in enumerate(calendar):
        if not rounds[0] <= weekend.round <= rounds[1]:
            continue
        previous = calendar[i - 1] if i else None
        entry: dict[str, Any] = {
            "round": weekend.round,
            "name": weekend.name,
            "first_session": weekend.first_session.isoformat(),
            "race_start": weekend.race_start.isoformat(),
            "stages": {},
        }
        for stage in STAGES.names:
            opens, closes = window(weekend, previous, stage, start)
            stored = _stored(engine, weekend.race_id, stage)
            inside = (
                stored is not None
                and opens <= dt.datetime.fromisoformat(stored["stored_at"]) < closes
            )
            entry["stages"][stage] = {
                "window": [opens.isoformat(), closes.isoformat()],
                "in_window": inside,
                **(stored or {}),
            }
        out.append(entry)
    return out


def summary(races: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean scores per stage over the scored races, the model's beside the stage baseline's."""
    out: dict[str, Any] = {}
    for stage in STAGES.names:
        scored = [r["stages"][stage] for r in races if r["stages"][stage].get("scores")]
        row: dict[str, Any] = {"races": len(scored)}
        for who in ("scores", "baseline"):
            prefix = "" if who == "scores" else "baseline_"
            values = [s[who] for s in scored if s.get(who)]
            for score in SCORES:
                row[prefix + score] = (
                    round(float(np.mean([v[score] for v in values])), 4) if values else None
                )
        out[stage] = row
    return out


def model_moves(engine: Engine, runs: list[Run]) -> list[dict[str, Any]]:
    """Every alias move with its reason and evidence, at the simulated time of the run that
    made it."""
    with session_factory(engine)() as session:
        events = session.scalars(select(ModelEvent).order_by(ModelEvent.id)).all()
    out = []
    for event in events:
        made = as_utc(event.created_at)
        run = next((r for r in runs if r.started <= made <= r.ended), None)
        out.append(
            {
                "at": run.at.isoformat() if run else None,
                "dag": run.dag_id if run else None,
                "model": event.model_name,
                "action": event.action,
                "version": event.version,
                "previous": event.previous_version,
                "reason": event.reason,
                "evidence": json.loads(event.evidence or "{}"),
            }
        )
    return out


def missing(races: list[dict[str, Any]], season: int) -> list[str]:
    """The races lacking a stage's prediction inside its window, each said plainly."""
    out = []
    for race in races:
        for stage, found in race["stages"].items():
            if found["in_window"]:
                continue
            opens, closes = found["window"]
            what = f"stored at {found['stored_at']}" if found.get("stored_at") else "none stored"
            out.append(
                f"{season} R{race['round']} {race['name']}: no {stage} prediction stored "
                f"between {opens} and {closes} ({what})"
            )
    return out


def plot(races: list[dict[str, Any]], season: int, folder: Path) -> list[Path]:
    """Per race, each stage's log loss beside its baseline's, and the winner's
    probability; PNG files in `folder`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    labels = [f"R{r['round']}" for r in races]
    x = np.arange(len(races))
    figure, axes = plt.subplots(1, len(STAGES), figsize=(6 * len(STAGES), 4.2), sharey=True)
    for axis, stage in zip(axes, STAGES.names, strict=True):
        found = [r["stages"][stage] for r in races]
        model = [f["scores"]["log_loss"] if f.get("scores") else np.nan for f in found]
        axis.bar(x - 0.2, model, 0.4, label="champion")
        baseline = [f["baseline"]["log_loss"] if f.get("baseline") else np.nan for f in found]
        label = f"{spec_stage(stage).baseline.label} (baseline)"
        axis.bar(x + 0.2, baseline, 0.4, label=label, color="#bbbbbb")
        axis.set_xticks(x, labels)
        axis.set_title(f"{spec_stage(stage).title}: log loss of the winner (lower is better)")
        axis.legend()
    figure.suptitle(f"Replay of {season}")
    figure.tight_layout()
    losses = folder / "replay_log_loss.png"
    figure.savefig(losses, dpi=110)
    plt.close(figure)
    figure, axis = plt.subplots(figsize=(10, 4))
    width = 0.8 / len(STAGES)
    for i, stage in enumerate(STAGES.names):
        values = [r["stages"][stage].get("winner_probability") or 0.0 for r in races]
        axis.bar(x + (i - (len(STAGES) - 1) / 2) * width, values, width, label=stage)
    last = STAGES[-1].name  # the winner, as the latest stage's scoring names it
    axis.set_xticks(x, [f"R{r['round']}\n{r['stages'][last].get('winner') or ''}" for r in races])
    axis.set_ylabel("probability given to the winner")
    axis.set_ylim(0, 1)
    axis.legend()
    figure.tight_layout()
    winners = folder / "replay_winner_probability.png"
    figure.savefig(winners, dpi=110)
    plt.close(figure)
    return [losses, winners]
