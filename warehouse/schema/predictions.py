"""What the models said before a race, and how right they were once it was run."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, DateTime, Float, ForeignKey, String, UniqueConstraint, func
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
