"""Online evidence: store what champion and challenger predicted for the next race, and score
every stored prediction once the race's result is in (`prediction_accuracy`)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, delete, func, select

import spec
from feature_store.online import NoEntrants, RaceRef
from feature_store.predict import forecast_race
from feature_store.store import read_offline
from models.baselines import HISTORY, baselines
from models.pyfunc import LoadedModel
from models.registry import CHALLENGER, CHAMPION, alias_version, load_version, model_name
from pipelines.championship import FIRST
from pipelines.drift import check_drift
from pipelines.markets import (
    odds_due,
    score_markets,
    season_story,
    store_markets,
    update_championship,
)
from pipelines.predict import NoModel, registered
from spec import STAGES
from warehouse.calendar import weekend_of, weekends
from warehouse.db import session_factory, transaction
from warehouse.queries import unscored
from warehouse.schema import Prediction, PredictionAccuracy, Race, RaceResult

log = logging.getLogger(__name__)


def next_race(engine: Engine, as_of: dt.datetime) -> RaceRef | None:
    """The first stored race that has not started by `as_of`."""
    weekend = next((w for w in weekends(engine, since=as_of.date()) if w.race_start > as_of), None)
    if weekend is None:
        return None
    return RaceRef(weekend.race_id, weekend.season, weekend.round, weekend.name)


def open_stages(engine: Engine, race: RaceRef, as_of: dt.datetime | None) -> list[str]:
    """The stages whose prediction of `race` may still be stored at `as_of` (before each
    stage's cut-off: the first session, lights out); every stage when `as_of` is None."""
    if as_of is None:
        return list(STAGES.names)
    with session_factory(engine)() as session:
        weekend = weekend_of(session.get_one(Race, race.race_id))
    return [stage for stage in STAGES.names if as_of < weekend.cutoff(stage)]


def store_predictions(
    engine: Engine, race: RaceRef, as_of: dt.datetime | None = None
) -> dict[str, int]:
    """Predictions of champion and challenger for `race`, for each stage still open at
    `as_of` (rows per model), stored with that time and the alias.

    A stage whose features are not available yet (post_quali before qualifying) is skipped.
    Re-running replaces a version's rows for the race while its stage is open."""
    stored: dict[str, int] = {}
    when = as_of or dt.datetime.now(dt.UTC)
    for stage in open_stages(engine, race, as_of):
        name = model_name(stage)
        champion = alias_version(name, CHAMPION)
        challenger = alias_version(name, CHALLENGER)
        for version in sorted({v for v in (champion, challenger) if v}):
            alias = CHAMPION if version == champion else CHALLENGER
            model = LoadedModel(name, version, alias, load_version(name, version))
            try:
                rows = forecast_race(engine, race.season, race.round, stage, model).rows
            except NoEntrants as error:
                log.info("%s v%s: %s", name, version, error)
                continue
            with transaction(engine) as session:
                session.execute(
                    delete(Prediction).where(
                        Prediction.race_id == race.race_id,
                        Prediction.stage == stage,
                        Prediction.model_name == name,
                        Prediction.model_version == version,
                    )
                )
                session.add_all(
                    Prediction(
                        race_id=race.race_id,
                        driver_id=int(driver),
                        stage=stage,
                        model_name=name,
                        model_version=version,
                        probability=float(p),
                        created_at=when,
                        alias=alias,
                    )
                    for driver, p in zip(rows["driver_id"], rows["probability"], strict=True)
                )
            stored[f"{name} v{version}"] = len(rows)
        stored |= _store_stage_markets(engine, race, stage, when)
    return stored


def _store_stage_markets(
    engine: Engine, race: RaceRef, stage: str, when: dt.datetime
) -> dict[str, int]:
    """The markets of the stage's finishing-order champion and challenger, each from the
    P(win) of the stage's winner champion (nothing when either has no version yet)."""
    order_name = model_name(stage, "order")
    if alias_version(model_name(stage), CHAMPION) is None:
        return {}
    versions = {alias: alias_version(order_name, alias) for alias in (CHAMPION, CHALLENGER)}
    if versions[CHAMPION] is None:
        return {}
    winner = registered(stage)
    stored: dict[str, int] = {}
    for alias, version in versions.items():
        if version is None or (alias == CHALLENGER and version == versions[CHAMPION]):
            continue  # no challenger, or the champion itself
        order = registered(stage, alias, "order")
        try:
            forecast = forecast_race(engine, race.season, race.round, stage, winner, markets=order)
        except NoEntrants as error:
            log.info("%s v%s: %s", order_name, version, error)
            continue
        stored[f"{order_name} v{version}"] = store_markets(
            engine, race.race_id, forecast, when, alias
        )
    return stored


def update_championship_odds(engine: Engine, race: RaceRef) -> dict[str, Any] | None:
    """The odds of `race`'s season after its last round with results, stored when new (with
    the pre_quali champions of both targets; None without them, or when already stored)."""
    if not odds_due(engine, race.season):
        return None  # nothing new to compute: no model loaded
    try:
        winner, order = registered(FIRST), registered(FIRST, CHAMPION, "order")
    except NoModel:
        return None
    return update_championship(engine, race.season, winner, order)


def latest_season_story(engine: Engine) -> dict[str, Any] | None:
    """With no race next: the title odds after each round of the latest season with results
    (stored once), with the pre_quali champions of both targets; None without them."""
    with session_factory(engine)() as session:
        season = session.scalar(
            select(func.max(Race.season)).join(RaceResult, RaceResult.race_id == Race.id)
        )
    if season is None:
        return None
    try:
        winner, order = registered(FIRST), registered(FIRST, CHAMPION, "order")
    except NoModel:
        return None
    return season_story(engine, int(season), winner, order)


def score_predictions(engine: Engine) -> int:
    """Score every stored (race, stage, model version) whose race now has a result and that was
    not scored yet; returns how many were scored."""
    winners = select(RaceResult.race_id, RaceResult.driver_id).where(RaceResult.position == 1)
    with session_factory(engine)() as session:
        pending = session.execute(
            unscored(
                Prediction,
                PredictionAccuracy,
                Prediction.race_id,
                Prediction.stage,
                Prediction.model_name,
                Prediction.model_version,
                Prediction.driver_id,
                Prediction.probability,
            ).order_by(Prediction.race_id)
        ).all()
        won = set(session.execute(winners).tuples().all())
    if not pending:
        return 0
    frame = pd.DataFrame(
        pending, columns=["race_id", "stage", "name", "version", "driver_id", "probability"]
    )
    keys = zip(frame["race_id"], frame["driver_id"], strict=True)
    frame["won"] = [key in won for key in keys]
    records = []
    for (race_id, stage, name, version), group in frame.groupby(
        ["race_id", "stage", "name", "version"]
    ):
        records.append(
            PredictionAccuracy(
                race_id=int(race_id),  # type: ignore[call-overload]
                stage=str(stage),
                model_name=str(name),
                model_version=str(version),
                **accuracy(group["probability"].to_numpy(), group["won"].to_numpy()),
            )
        )
    with transaction(engine) as session:
        session.add_all(records)
    return len(records)


def _with_features(results: pd.DataFrame, stage: str, since: int) -> pd.DataFrame:
    """The results with the stage's published feature rows of those races (a baseline may read
    one: the fastest in the final practice), as the offline backtest has them; the results
    alone when nothing is published."""
    try:
        rows = read_offline(stage, since=since)
    except FileNotFoundError:
        return results
    extra = [c for c in rows.columns if c not in results.columns]
    return results.merge(rows[["race_id", "driver_id", *extra]], on=["race_id", "driver_id"],
                         how="left")  # fmt: skip


def score_baselines(engine: Engine) -> int:
    """Score each stage's baseline (models/baselines.py, fitted on the 10 seasons before, as in
    the offline backtest; it knows only what its stage knows) on every (race, stage) a model was
    scored on and it was not yet; how many were scored. It is what the live-accuracy alert
    compares the champion with."""
    names = {s.baseline.model_name for s in spec.STAGES}
    with session_factory(engine)() as session:
        scored = set(
            session.execute(
                select(PredictionAccuracy.race_id, PredictionAccuracy.stage).where(
                    PredictionAccuracy.model_name.in_(names)
                )
            ).all()
        )
        pending = [
            (int(race_id), str(stage), int(season))
            for race_id, stage, season in session.execute(
                select(PredictionAccuracy.race_id, PredictionAccuracy.stage, Race.season)
                .join(Race, Race.id == PredictionAccuracy.race_id)
                .where(PredictionAccuracy.model_name.not_in(names))
                .distinct()
            ).all()
            if (race_id, stage) not in scored
        ]
        if not pending:
            return 0
        seasons = {season for _, _, season in pending}
        results = pd.DataFrame(
            session.execute(
                select(
                    Race.season,
                    Race.round,
                    RaceResult.race_id,
                    RaceResult.driver_id,
                    RaceResult.grid,
                    RaceResult.position,
                )
                .join(Race, Race.id == RaceResult.race_id)
                .where(Race.season >= min(seasons) - HISTORY - 1, Race.season <= max(seasons))
            ).all(),
            columns=["season", "round", "race_id", "driver_id", "result_grid", "position"],
        )
    results["won"] = (results["position"] == 1).astype(int)
    known = {
        stage: _with_features(results, stage, min(seasons) - HISTORY - 1)
        for stage in {stage for _, stage, _ in pending}
    }
    records = []
    for race_id, stage, _ in pending:
        race = known[stage][known[stage]["race_id"] == race_id]
        baseline = spec.stage(stage).baseline
        name, which = baseline.model_name, baseline.rule
        probs = baselines(known[stage], race, stage, only=(which,))[which]
        records.append(
            PredictionAccuracy(
                race_id=race_id,
                stage=stage,
                model_name=name,
                model_version=which,
                **accuracy(probs, race["won"].to_numpy()),
            )
        )
    with transaction(engine) as session:
        session.add_all(records)
    return len(records)


def accuracy(probs: np.ndarray, won: np.ndarray) -> dict[str, Any]:
    """log loss of the winner's probability (1e-6 when the winner was not forecast), mean
    per-entry Brier, whether the winner was the favourite / among the three favourites."""
    probs, won = np.asarray(probs, dtype=float), np.asarray(won, dtype=bool)
    order = np.argsort(-probs, kind="stable")
    rank = np.empty(len(probs), dtype=int)
    rank[order] = np.arange(1, len(probs) + 1)
    winner_p = float(probs[won].sum()) if won.any() else 0.0
    return {
        "log_loss": float(-np.log(max(winner_p, 1e-6))),
        "brier": float(((probs - won) ** 2).mean()),
        "top1": bool(won.any() and rank[won].min() == 1),
        "top3": bool(won.any() and rank[won].min() <= 3),
        "entrants": len(probs),
    }


def scoring_cycle(engine: Engine, as_of: dt.datetime | None = None) -> dict[str, Any]:
    """What `f1_score` does after new features or models: score what can be scored, run the
    online gate of both stages, then store the predictions for the next race at `as_of`
    (default: now)."""
    from pipelines.promote import decision_dict, online_gate

    as_of = as_of or dt.datetime.now(dt.UTC)
    summary: dict[str, Any] = {"as_of": as_of.isoformat(), "scored": score_predictions(engine)}
    summary["baseline_scored"] = score_baselines(engine)
    summary["markets_scored"] = score_markets(engine)
    summary["gates"] = {stage: decision_dict(online_gate(engine, stage)) for stage in STAGES.names}
    summary["order_gates"] = {
        stage: decision_dict(online_gate(engine, stage, "order")) for stage in STAGES.names
    }
    race = next_race(engine, as_of)
    summary["next_race"] = None if race is None else f"{race.season} R{race.round} {race.name}"
    summary["stored"] = store_predictions(engine, race, as_of) if race else {}
    summary["drift"] = check_drift(engine, race, as_of) if race else {}
    summary["championship"] = (
        update_championship_odds(engine, race) if race else latest_season_story(engine)
    )
    for stage, found in summary["drift"].items():
        log.info(
            "drift %s: %d checks, alerts: %s", stage, found["checked"], found["alerts"] or "none"
        )
    with session_factory(engine)() as session:
        summary["accuracy_rows"] = session.scalar(select(func.count(PredictionAccuracy.id)))
    return summary


def scoring_task(as_of: dt.datetime | None = None) -> dict[str, Any]:
    """The `f1_score` DAG's task, on the configured stores, at the run's time."""
    from warehouse.db import make_engine

    engine = make_engine()
    try:
        return scoring_cycle(engine, as_of)
    finally:
        engine.dispose()
