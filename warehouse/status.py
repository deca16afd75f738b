"""What the warehouse holds: row counts per table and the last race with results."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from warehouse.schema import Base, Race, RaceResult


def warehouse_status(session: Session) -> dict[str, Any]:
    """`{"tables": {name: rows}, "last_race": {season, round, name} | None}`."""
    tables = {
        name: session.scalar(select(func.count()).select_from(table)) or 0
        for name, table in sorted(Base.metadata.tables.items())
    }
    last = session.execute(
        select(Race.season, Race.round, Race.name)
        .where(Race.id.in_(select(RaceResult.race_id)))
        .order_by(Race.season.desc(), Race.round.desc())
        .limit(1)
    ).first()
    last_race = None if last is None else {"season": last[0], "round": last[1], "name": last[2]}
    return {"tables": tables, "last_race": last_race}
