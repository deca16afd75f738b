"""What the models said before a race, and how right they were once it was run."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from warehouse.schema.base import Base

# Each stage's baseline (spec/: Stage.baseline) is scored beside the models in
# prediction_accuracy (its model_name, and its rule as the version), so live accuracy can be
# compared with it race by race. A baseline knows only what its stage knows.


class Prediction(Base):
    """One driver's win probability for one race, stage and model version."""

    __tablename__ = "predictions"
    __table_args__ = (
        UniqueConstraint("race_id", "driver_id", "stage", "model_name", "model_version"),
        CheckConstraint("probability >= 0 AND probability <= 1", name="probability_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    race_id: Mapped[int] = mapped_column(ForeignKey("races.id"), index=True)
    driver_id: Mapped[int] = mapped_column(ForeignKey("drivers.id"))
    stage: Mapped[str] = mapped_column(String(16))
    model_name: Mapped[str] = mapped_column(String(128))
    model_version: Mapped[str] = mapped_column(String(32))
    probability: Mapped[float] = mapped_column(Float)
    # when it was stored (the scoring run's time, simulated in a replay) and the alias the
    # version held then (champion or challenger)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.current_timestamp()
    )
    alias: Mapped[str | None] = mapped_column(String(16))


class PredictionAccuracy(Base):
    """How one model version's predictions for one race scored against the result."""

    __tablename__ = "prediction_accuracy"
    __table_args__ = (
        UniqueConstraint("race_id", "stage", "model_name", "model_version"),
        CheckConstraint("log_loss >= 0", name="log_loss_not_negative"),
        CheckConstraint("brier >= 0 AND brier <= 2", name="brier_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    race_id: Mapped[int] = mapped_column(ForeignKey("races.id"), index=True)
    stage: Mapped[str] = mapped_column(String(16))
    model_name: Mapped[str] = mapped_column(String(128))
    model_version: Mapped[str] = mapped_column(String(32))
    log_loss: Mapped[float] = mapped_column(Float)
    brier: Mapped[float] = mapped_column(Float)
    top1: Mapped[bool]
    top3: Mapped[bool]
    entrants: Mapped[int]
    scored_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.current_timestamp()
    )


class MarketPrediction(Base):
    """One driver's markets for one race and stage, read off the race's finishing-order
    distribution by a finishing-order model version (`f1_order_{stage}`) from the P(win) of
    the winner version `winner_version` (the stage's champion when it was stored)."""

    __tablename__ = "market_predictions"
    __table_args__ = (
        UniqueConstraint("race_id", "driver_id", "stage", "model_name", "model_version"),
        CheckConstraint(
            "win >= 0 AND win <= 1 AND podium >= 0 AND podium <= 1 AND top6 >= 0 AND top6 <= 1"
            " AND points >= 0 AND points <= 1 AND dnf >= 0 AND dnf <= 1",
            name="probabilities_range",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    race_id: Mapped[int] = mapped_column(ForeignKey("races.id"), index=True)
    driver_id: Mapped[int] = mapped_column(ForeignKey("drivers.id"))
    stage: Mapped[str] = mapped_column(String(16))
    model_name: Mapped[str] = mapped_column(String(128))
    model_version: Mapped[str] = mapped_column(String(32))
    winner_version: Mapped[str] = mapped_column(String(32))
    win: Mapped[float] = mapped_column(Float)
    podium: Mapped[float] = mapped_column(Float)
    top6: Mapped[float] = mapped_column(Float)
    points: Mapped[float] = mapped_column(Float)
    dnf: Mapped[float] = mapped_column(Float)
    expected_points: Mapped[float] = mapped_column(Float)
    teammate_ahead: Mapped[float | None] = mapped_column(Float)  # null: no single teammate
    # P(finishes k-th) for k = 1…entrants (P(DNF) is the rest)
    positions: Mapped[list[float]] = mapped_column(JSON)
    # every race market of the spec by its column (spec.race_markets: a market added to the
    # spec is stored here with no migration; null in rows stored before 0022, whose markets are
    # the typed columns above)
    markets: Mapped[dict[str, float | None] | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    alias: Mapped[str | None] = mapped_column(String(16))


class MarketAccuracy(Base):
    """How one finishing-order version's markets for one race scored against the result.

    `market`: one of spec.MARKETS (each entrant a yes/no event: mean log loss and Brier over
    the entrants), `position` (the finishing place, not classified as the last category:
    `log_loss` of the place that happened, `rps` the ranked probability score, both means over
    the entrants; `brier` the multi-category Brier) or `h2h` (teammate pairs: P(the first
    ahead of the second) against what happened)."""

    __tablename__ = "market_accuracy"
    __table_args__ = (
        UniqueConstraint("race_id", "stage", "model_name", "model_version", "market"),
        CheckConstraint("log_loss >= 0", name="log_loss_not_negative"),
        CheckConstraint("brier >= 0 AND brier <= 2", name="brier_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    race_id: Mapped[int] = mapped_column(ForeignKey("races.id"), index=True)
    stage: Mapped[str] = mapped_column(String(16))
    model_name: Mapped[str] = mapped_column(String(128))
    model_version: Mapped[str] = mapped_column(String(32))
    market: Mapped[str] = mapped_column(String(16))
    log_loss: Mapped[float] = mapped_column(Float)
    brier: Mapped[float] = mapped_column(Float)
    rps: Mapped[float | None] = mapped_column(Float)
    events: Mapped[int] = mapped_column(Integer)  # entrants, or teammate pairs for h2h
    scored_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.current_timestamp()
    )


class ChampionshipOdds(Base):
    """One driver's or constructor's title odds after a round of a season (`after_round` 0:
    before the first race): the rest of the season simulated `seasons` times from the
    pre-qualifying distribution of the winner and order versions named."""

    __tablename__ = "championship_odds"
    __table_args__ = (
        UniqueConstraint("season", "after_round", "kind", "ref"),
        CheckConstraint("kind IN ('driver', 'constructor')", name="kind_known"),
        CheckConstraint("p_title >= 0 AND p_title <= 1", name="p_title_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    season: Mapped[int] = mapped_column(Integer, index=True)
    after_round: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    ref: Mapped[str] = mapped_column(String(64))  # the driver's or team's Ergast id
    p_title: Mapped[float] = mapped_column(Float)
    expected_points: Mapped[float] = mapped_column(Float)
    points: Mapped[float] = mapped_column(Float)  # the standings after the round
    seasons: Mapped[int] = mapped_column(Integer)
    winner_model: Mapped[str] = mapped_column(String(160))  # name@version
    order_model: Mapped[str] = mapped_column(String(160))
    computed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class DriftCheck(Base):
    """One drift check made after an ingestion, for the next race and a stage.

    `kind`: `feature` (the race's entrants' values of `subject` against the training window's:
    `statistic` is the two-sample Kolmogorov–Smirnov D, `p_value` its p-value) or
    `live_log_loss` (`subject` is the champion `name@version`; `statistic` is its mean live log
    loss over its last scored races minus its validation log loss). `alert` when past
    `threshold` (p-value below it, or gap above it)."""

    __tablename__ = "drift_checks"
    __table_args__ = (
        UniqueConstraint("race_id", "stage", "kind", "subject"),
        CheckConstraint("kind IN ('feature', 'live_log_loss')", name="kind_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    race_id: Mapped[int] = mapped_column(ForeignKey("races.id"), index=True)
    stage: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(160))
    statistic: Mapped[float] = mapped_column(Float)
    p_value: Mapped[float | None] = mapped_column(Float)
    threshold: Mapped[float] = mapped_column(Float)
    alert: Mapped[bool]
    checked_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
