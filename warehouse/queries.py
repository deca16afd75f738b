"""Reads of the warehouse shared by the API and the web pages (no FastAPI here): the team
names, a team's points per season, the latest season with title odds, races by id, the models'
track record and calibration rows, model events, users, whether qualifying is stored. The
racing resources the API serves are read in serving/racing.py."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, Select, exists, func, select
from sqlalchemy.orm import Session

from warehouse.schema import (
    ChampionshipOdds,
    ModelEvent,
    PracticeResult,
    Prediction,
    PredictionAccuracy,
    QualifyingResult,
    Race,
    RaceResult,
    SprintResult,
    Team,
    User,
)


def team_names(connection: Connection | Session) -> dict[str, str]:
    """Every team's name by its id: `red_bull` → Red Bull."""
    return {str(r.ref): str(r.name) for r in connection.execute(select(Team.ref, Team.name))}


def sprint_points(session: Session, team_id: int) -> dict[int, float]:
    """The team's sprint points per season (a season's points are its races' and these, as
    the standings count them)."""
    rows = session.execute(
        select(Race.season, func.sum(SprintResult.points).label("points"))
        .select_from(SprintResult)
        .join(Race, Race.id == SprintResult.race_id)
        .where(SprintResult.team_id == team_id)
        .group_by(Race.season)
    )
    return {int(r.season): float(r.points or 0) for r in rows}


def latest_odds_season(session: Session) -> int | None:
    """The latest season with stored championship odds, else the latest season held."""
    season = session.scalar(select(func.max(ChampionshipOdds.season)))
    return season if season is not None else session.scalar(select(func.max(Race.season)))


def races_by_id(session: Session, ids: list[int]) -> dict[int, tuple[str, dt.date]]:
    """(name, date) of each race in `ids`."""
    rows = session.execute(select(Race.id, Race.name, Race.date).where(Race.id.in_(ids)))
    return {int(race_id): (name, date) for race_id, name, date in rows}


def track_record(session: Session, stage: str, names: tuple[str, ...]) -> list[Any]:
    """(season, round, race, date, model, version, log loss) of every scored race of the
    models `names` at `stage`, in race order."""
    return list(
        session.execute(
            select(Race.season, Race.round, Race.name, Race.date, PredictionAccuracy.model_name,
                   PredictionAccuracy.model_version, PredictionAccuracy.log_loss)
            .join(Race, Race.id == PredictionAccuracy.race_id)
            .where(PredictionAccuracy.stage == stage, PredictionAccuracy.model_name.in_(names))
            .order_by(Race.season, Race.round)
        ).all()
    )  # fmt: skip


def forecasts_with_results(session: Session, name: str, stage: str) -> list[tuple[float, int]]:
    """(P(win), finishing position) of every stored prediction of `name` at `stage` whose
    race has a result."""
    rows = session.execute(
        select(Prediction.probability, RaceResult.position)
        .join(RaceResult, (RaceResult.race_id == Prediction.race_id)
              & (RaceResult.driver_id == Prediction.driver_id))
        .where(Prediction.model_name == name, Prediction.stage == stage)
    ).all()  # fmt: skip
    return [(float(p), position) for p, position in rows]


def model_events(session: Session, limit: int = 50) -> list[ModelEvent]:
    """The latest promotions, rollbacks and refusals, newest first."""
    return list(
        session.scalars(
            select(ModelEvent)
            .order_by(ModelEvent.created_at.desc(), ModelEvent.id.desc())
            .limit(limit)
        )
    )


def accuracy_rows(
    session: Session, season: int | None = None, model: str | None = None
) -> list[tuple[PredictionAccuracy, Race]]:
    """Every scored (race, stage, model version), in race order (of `season`, of `model`)."""
    query = (
        select(PredictionAccuracy, Race)
        .join(Race, Race.id == PredictionAccuracy.race_id)
        .order_by(Race.season, Race.round, PredictionAccuracy.model_name)
    )
    if season is not None:
        query = query.where(Race.season == season)
    if model is not None:
        query = query.where(PredictionAccuracy.model_name == model)
    return [(a, r) for a, r in session.execute(query)]


def user_email(session: Session, user_id: int) -> str | None:
    email: str | None = session.scalar(select(User.email).where(User.id == user_id))
    return email


def users(session: Session) -> list[User]:
    """Every user, oldest first."""
    return list(session.scalars(select(User).order_by(User.id)))


def sessions_stored(session: Session, season: int, round_: int) -> set[str]:
    """Which of the race's own sessions the warehouse holds: `practice`, `qualifying` (the
    evidence that opens a stage: `spec.Stage.opens`)."""
    race = select(Race.id).where(Race.season == season, Race.round == round_).scalar_subquery()
    found = {
        name
        for name, table in (("practice", PracticeResult), ("qualifying", QualifyingResult))
        if session.scalar(select(exists().where(table.race_id == race)))
    }
    return found


def unscored(stored: Any, scores: Any, *columns: Any) -> Select[Any]:
    """`columns` of the stored forecasts (`stored`: Prediction or MarketPrediction) whose race
    has a result and of which `scores` (PredictionAccuracy or MarketAccuracy) holds nothing yet
    (the same race, stage, model and version): what scoring has left to do."""
    done = (
        select(scores.id)
        .where(
            scores.race_id == stored.race_id,
            scores.stage == stored.stage,
            scores.model_name == stored.model_name,
            scores.model_version == stored.model_version,
        )
        .exists()
    )
    return select(*columns).where(~done, stored.race_id.in_(select(RaceResult.race_id)))
