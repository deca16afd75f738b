"""How the platform's scheduled tasks last ended, for monitoring (Prometheus alerts read it
through the service's /metrics)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, DateTime, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from warehouse.schema.base import Base, one_of

TASK_STATES = ("success", "failed")


class PipelineStatus(Base):
    """The latest outcome of one Airflow task (dag_id, task_id), written by the DAGs' success
    and failure callbacks; one row per task, upserted."""

    __tablename__ = "pipeline_status"
    __table_args__ = (CheckConstraint(one_of("state", TASK_STATES), name="state_known"),)

    dag_id: Mapped[str] = mapped_column(String(250), primary_key=True)
    task_id: Mapped[str] = mapped_column(String(250), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    run_id: Mapped[str] = mapped_column(String(250))
    finished_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    last_success_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_failure_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    error: Mapped[str | None] = mapped_column(Text)
