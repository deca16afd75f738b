"""The race calendar as stored: each weekend's sessions with their start times in UTC.

A session whose date is known but not its time is taken to start at noon UTC; a weekend
without any practice time is taken to start two days before the race.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine, select

from spec import stage as spec_stage
from warehouse.db import session_factory
from warehouse.schema import Race

NOON = dt.time(12, 0)
NO_PRACTICE = dt.timedelta(days=2)  # a weekend without session times starts this before
NO_QUALI = dt.timedelta(days=1)  # a weekend without a qualifying time qualifies this before
# how long after a practice session starts OpenF1 has its classification (a sprint: the F1
# API, two hours after its start)
PRACTICE_PUBLISHED = dt.timedelta(minutes=90)
SPRINT_PUBLISHED = dt.timedelta(hours=2)
# Session kinds in the order of a weekend, with the columns that hold their start.
SESSIONS = ("fp1", "fp2", "fp3", "sprint_quali", "sprint", "quali", "race")


@dataclass(frozen=True)
class Weekend:
    """One race weekend: the race and the start of each session the calendar knows."""

    race_id: int
    season: int
    round: int
    name: str
    starts: dict[str, dt.datetime] = field(default_factory=dict)

    @property
    def race_start(self) -> dt.datetime:
        """Lights out."""
        return self.starts["race"]

    @property
    def first_session(self) -> dt.datetime:
        """The weekend's first session (two days before the race when none is known)."""
        known = [at for kind, at in self.starts.items() if kind != "race"]
        return min(known, default=self.race_start - NO_PRACTICE)

    @property
    def quali_start(self) -> dt.datetime:
        """Qualifying (a day before the race when the calendar has no time for it)."""
        return self.starts.get("quali", self.race_start - NO_QUALI)

    @property
    def before_quali(self) -> list[str]:
        """The sessions run before qualifying (practice, a sprint shootout and sprint), in
        time order; a session without a known start is not counted."""
        quali = self.quali_start
        kinds = [k for k, at in self.starts.items() if k not in ("quali", "race") and at < quali]
        return sorted(kinds, key=lambda k: self.starts[k])

    @property
    def practice_done(self) -> dt.datetime:
        """When the last session before qualifying is published: 90 minutes after a practice
        session starts, two hours after a sprint (the first session when the calendar knows
        none before qualifying)."""
        sessions = self.before_quali
        if not sessions:
            return self.first_session
        return max(
            self.starts[kind] + (SPRINT_PUBLISHED if kind == "sprint" else PRACTICE_PUBLISHED)
            for kind in sessions
        )

    def cutoff(self, stage: str) -> dt.datetime:
        """The last moment a stage's prediction of this race may be made, as the spec says:
        pre_quali before the first session, post_practice before qualifying, post_quali before
        lights out (UnknownName, a ValueError, for a stage it does not declare)."""
        cutoff = spec_stage(stage).cutoff
        if cutoff == "first_session":
            return self.first_session
        if cutoff == "qualifying":
            return self.quali_start
        return self.race_start

    def start(self, kind: str) -> dt.datetime | None:
        """When session `kind` starts, or None when the calendar has no such session."""
        return self.starts.get(kind)


def session_start(day: dt.date | None, time: dt.time | None) -> dt.datetime | None:
    """A session's start in UTC (noon when only its day is known), None without a day."""
    if day is None:
        return None
    return dt.datetime.combine(day, time or NOON, tzinfo=dt.UTC)


def weekend_of(race: Race) -> Weekend:
    """A stored race as a weekend."""
    starts: dict[str, dt.datetime] = {}
    for kind in SESSIONS:
        day, time = (
            (race.date, race.time)
            if kind == "race"
            else (getattr(race, f"{kind}_date"), getattr(race, f"{kind}_time"))
        )
        at = session_start(day, time)
        if at is not None:
            starts[kind] = at
    return Weekend(race.id, race.season, race.round, race.name, starts)


def weekends(
    engine: Engine | Connection, since: dt.date | None = None, until: dt.date | None = None
) -> list[Weekend]:
    """The stored weekends whose race is on or after `since` (and on or before `until`), in
    calendar order."""
    query = select(Race).order_by(Race.date, Race.round)
    if since is not None:
        query = query.where(Race.date >= since)
    if until is not None:
        query = query.where(Race.date <= until)
    with session_factory(engine)() as session:  # type: ignore[arg-type]  # a Connection binds too
        return [weekend_of(race) for race in session.scalars(query)]


def last_scheduled(engine: Engine | Connection) -> Weekend | None:
    """The latest race of the stored calendar, or None when none is stored."""
    with session_factory(engine)() as session:  # type: ignore[arg-type]  # a Connection binds too
        race = session.scalars(select(Race).order_by(Race.date.desc(), Race.round.desc())).first()
        return None if race is None else weekend_of(race)
