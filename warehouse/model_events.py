"""The record of alias moves (`model_events`): append, read back, and the line of champions."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import Connection, Engine, select

from warehouse.db import session_factory, transaction
from warehouse.schema import ModelEvent


def record(
    engine: Engine | Connection,
    name: str,
    version: str,
    previous: str | None,
    action: str,
    reason: str,
    evidence: dict[str, Any],
    actor: str,
    when: dt.datetime,
    alias: str = "champion",
) -> ModelEvent:
    """Append one alias move (its own transaction); the stored row, detached."""
    event = ModelEvent(
        model_name=name,
        alias=alias,
        version=str(version),
        previous_version=previous,
        action=action,
        reason=reason,
        evidence=json.dumps(evidence, default=str),
        actor=actor,
        created_at=when,
    )
    with transaction(engine) as session:  # type: ignore[arg-type]  # a Connection binds too
        session.add(event)
    return event


def history(engine: Engine | Connection, name: str) -> list[ModelEvent]:
    """The alias moves of `name`, oldest first."""
    with session_factory(engine)() as session:  # type: ignore[arg-type]
        events = session.scalars(
            select(ModelEvent).where(ModelEvent.model_name == name).order_by(ModelEvent.id)
        ).all()
        for event in events:
            session.expunge(event)
        return list(events)


def champion_line(events: list[ModelEvent]) -> list[str]:
    """The champions in the order they took over, as a stack: each promotion pushes its
    version (after the version it replaced, for the first event), each rollback pops one."""
    line: list[str] = []
    for event in events:
        if event.action == "rollback":
            if line:
                line.pop()
            continue
        if not line and event.previous_version:
            line.append(event.previous_version)
        line.append(event.version)
    return line


def previous_champion(events: list[ModelEvent], current: str | None) -> str | None:
    """The version a rollback restores: the champion before `current`, if the record shows
    one (None when `current` is not the record's latest champion or nothing came before)."""
    line = champion_line(events)
    return line[-2] if current is not None and len(line) >= 2 and line[-1] == current else None
