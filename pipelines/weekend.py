"""The race weekend's timeline: when the platform acts, and what each stage may be stored from.

The platform acts at five moments of a weekend (UTC, from the stored calendar):
- `pre_weekend`: a day before the first session, to store pre_quali predictions with the
  latest weather forecast;
- `after_practice`: 90 minutes after the last session before qualifying starts (FP3 on a
  normal weekend; FP1, or the sprint where the format runs it before qualifying), when
  OpenF1 has its classification, for a stage that opens after practice (post_practice, when
  the registry serves it);
- `after_quali`: two hours after qualifying starts (Jolpica publishes it by then), for the
  post_quali predictions;
- `after_sprint`: two hours after a sprint that runs after qualifying (2021–2023 formats:
  the sprint result is a post_quali feature); a sprint before qualifying is picked up with it;
- `after_race`: three hours after the race starts, for results, standings and scoring.

A stage's prediction of a race is stored only before its cut-off: pre_quali before the first
session, post_practice before qualifying, post_quali before lights out. Nothing is predicted
once the thing predicted began.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from spec import STAGES
from warehouse.calendar import Weekend

PRE_WEEKEND_LEAD = dt.timedelta(hours=24)
PUBLISHED_AFTER = {  # how long after a session starts the API has its data
    "quali": dt.timedelta(hours=2),
    "sprint": dt.timedelta(hours=2),
    "race": dt.timedelta(hours=3),
}
# the data each action waits for (the API's endpoint name), and the session it follows
# (`practice` is OpenF1's: the Jolpica API has no practice sessions)
AWAITS = {
    "after_practice": "practice",
    "after_quali": "qualifying",
    "after_sprint": "sprint",
    "after_race": "results",
}
FOLLOWS = {"after_quali": "quali", "after_sprint": "sprint", "after_race": "race"}
ACTIONS = ("pre_weekend", *AWAITS)


@dataclass(frozen=True, order=True)
class Action:
    """A moment the platform acts at, for one race."""

    at: dt.datetime
    kind: str
    season: int
    round: int

    @property
    def awaits(self) -> str | None:
        """The endpoint whose data this action waits for (None: nothing to wait for)."""
        return AWAITS.get(self.kind)

    def describe(self) -> str:
        """E.g. `after_quali 2024 R18`."""
        return f"{self.kind} {self.season} R{self.round}"


def published_at(weekend: Weekend, session: str) -> dt.datetime | None:
    """When the API has the data of `session` (quali, sprint, race), or None (no session)."""
    start = weekend.start(session)
    return None if start is None else start + PUBLISHED_AFTER[session]


def weekend_actions(weekend: Weekend) -> list[Action]:
    """The moments the platform acts at for one weekend, in time order."""

    def action(kind: str, at: dt.datetime) -> Action:
        return Action(at, kind, weekend.season, weekend.round)

    actions = [action("pre_weekend", weekend.first_session - PRE_WEEKEND_LEAD)]
    practice = any(s.opens == "practice" for s in STAGES)  # a stage waits for it
    if practice and weekend.before_quali:  # the calendar knows a session before qualifying
        actions.append(action("after_practice", weekend.practice_done))
    for kind, session in FOLLOWS.items():
        at = published_at(weekend, session)
        if at is None:
            continue
        quali = weekend.start("quali")
        if session == "sprint" and (quali is None or weekend.starts["sprint"] < quali):
            continue  # a sprint before qualifying changes no prediction on its own
        actions.append(action(kind, at))
    return sorted(actions)


def timeline(weekends: Iterable[Weekend]) -> list[Action]:
    """Every action of the weekends, in time order."""
    return sorted(a for weekend in weekends for a in weekend_actions(weekend))


def action_at(weekends: Iterable[Weekend], at: dt.datetime) -> Action | None:
    """The action scheduled exactly at `at`, if any (the timetable's runs fall on them)."""
    return next((a for a in timeline(weekends) if a.at == at), None)


def as_moment(as_of: dt.date | dt.datetime) -> dt.datetime:
    """A run's time as an aware UTC datetime (a date is its midnight)."""
    if isinstance(as_of, dt.datetime):
        return as_of if as_of.tzinfo else as_of.replace(tzinfo=dt.UTC)
    return dt.datetime.combine(as_of, dt.time(), tzinfo=dt.UTC)
