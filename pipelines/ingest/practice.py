"""Ingestion of a weekend's practice from OpenF1, once its sessions before qualifying are over.

OpenF1 names a driver by racing number, acronym and full name, and a team by display name. A
row is mapped to our ids through the season's entry list (every driver who has entered a race
of the season, with his latest team; in the season's first race, the previous season's): the
acronym and the surname must agree, or the permanent number and one of them (the champion
races as #1). A driver who joins a team mid-season is mapped among every driver the warehouse
knows, in the team his session teammates were mapped to. A driver known nowhere (a debutant)
is left out with a message naming him; more than MAX_UNKNOWN in a session refuses the whole
weekend (nothing written; the next run tries again).
"""

from __future__ import annotations

import datetime as dt
import logging
import unicodedata
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Engine, Table, select

from pipelines.ingest.live import IngestReport
from pipelines.ingest.openf1 import OpenF1Client, record_time, session_key
from pipelines.ingest.records import ApiDataError
from pipelines.ingest.sessions import weekends_without_results
from pipelines.weekend import as_moment
from warehouse.calendar import Weekend
from warehouse.db import transaction
from warehouse.schema import Driver, PracticeResult, QualifyingResult, Race, RaceResult
from warehouse.upsert import upsert

log = logging.getLogger(__name__)
SESSION_LENGTH = dt.timedelta(hours=1)  # a session whose end OpenF1 does not give
MAX_UNKNOWN = 2  # drivers of one session we may not know (debutants) before it is refused


@dataclass(frozen=True)
class Entry:
    """A driver of the season's entry list, as OpenF1 can be matched against it."""

    driver_id: int
    team_id: int
    number: int | None
    code: str | None
    surname: str


def ingest_practice(
    engine: Engine, client: OpenF1Client, as_of: dt.date | dt.datetime
) -> list[IngestReport]:
    """The practice sessions before qualifying of races still without results, once over by
    `as_of`, that the warehouse does not hold yet: each weekend in one transaction."""
    moment = as_moment(as_of)
    reports: dict[int, IngestReport] = {}
    for weekend in weekends_without_results(engine, moment):
        if weekend.practice_done > moment or _stored(engine, weekend):
            continue
        rows = practice_rows(engine, client, weekend, moment)
        if not rows:
            log.info("practice of %d R%d is not published yet", weekend.season, weekend.round)
            continue
        with transaction(engine) as session:
            counts = upsert(
                session,
                cast(Table, PracticeResult.__table__),
                rows,
                key=("race_id", "session", "driver_id"),
                scope=PracticeResult.race_id == weekend.race_id,
            )
        report = reports.setdefault(weekend.season, IngestReport(weekend.season))
        report.add({"practice_results": counts})
        report.rounds.append(weekend.round)
    return [r for r in reports.values() if r.rounds]


def practice_rows(
    engine: Engine, client: OpenF1Client, weekend: Weekend, moment: dt.datetime
) -> list[dict[str, Any]]:
    """The warehouse rows of the weekend's practice sessions over by `moment` (empty when none
    has a classification yet). A driver of no entry list (a debutant the warehouse has never
    seen) is left out with a message; more than MAX_UNKNOWN of them in a session is a contract
    break: ApiDataError, nothing of the weekend written."""
    entries, known = entry_list(engine, weekend), all_drivers(engine)
    rows: list[dict[str, Any]] = []
    for number, session in client.practice_sessions(weekend):
        end = session.get("date_end")
        ends = (
            record_time(session, "date_end", "sessions")
            if end
            else record_time(session, "date_start", "sessions") + SESSION_LENGTH
        )
        if ends > moment:
            continue
        key = session_key(session)
        result = client.session_result(key)
        if not result:
            continue
        drivers = {int(d["driver_number"]): d for d in client.drivers(key) if "driver_number" in d}
        where = f"session_result?session_key={key}"
        about = [_about(record, drivers, where) for record in result]
        found = [_match(entries, a) for a in about]
        teams = {a.get("team_name"): e.team_id for a, e in zip(about, found, strict=True) if e}
        unknown = []
        for record, who, entry in zip(result, about, found, strict=True):
            entry = entry or _newcomer(known, who, teams)
            if entry is None:
                unknown.append(_describe(who))
                continue
            rows.append(_row(weekend, number, entry, record, where))
        if len(unknown) > MAX_UNKNOWN:
            raise ApiDataError(
                where, ", ".join(unknown), "driver_number",
                f"match no driver we know ({len(unknown)} in one session, at most {MAX_UNKNOWN}"
                " are left out); nothing of the weekend is written",
            )  # fmt: skip
        for name in unknown:
            log.error("%s: %s matches no driver we know (a debutant?): left out of FP%d of %d R%d",
                      where, name, number, weekend.season, weekend.round)  # fmt: skip
    return rows


def entry_list(engine: Engine, weekend: Weekend) -> list[Entry]:
    """Every driver who entered a race of the weekend's season before it (qualifying or
    results), with the team of his latest entry; the previous season's when none has yet."""
    with transaction(engine) as session:
        for season in (weekend.season, weekend.season - 1):
            entered: list[Any] = []
            for table in (QualifyingResult, RaceResult):
                entered += session.execute(
                    select(table.driver_id, table.team_id, Race.date, Race.round)
                    .join(Race, Race.id == table.race_id)
                    .where(Race.season == season, Race.date < weekend.race_start.date())
                ).all()
            if entered:
                break
        latest: dict[int, int] = {}
        for driver_id, team_id, _, _ in sorted(entered, key=lambda e: (e[2], e[3])):
            latest[driver_id] = team_id
        drivers = session.scalars(select(Driver).where(Driver.id.in_(latest))).all()
        return [Entry(d.id, latest[d.id], d.number, d.code, d.surname) for d in drivers]


def all_drivers(engine: Engine) -> list[Driver]:
    """Every driver the warehouse knows (for one who joins a team mid-season)."""
    with transaction(engine) as session:
        drivers = list(session.scalars(select(Driver)))
        session.expunge_all()
        return drivers


def _about(
    record: dict[str, Any], drivers: dict[int, dict[str, Any]], where: str
) -> dict[str, Any]:
    """The session's driver record of a classification row (ApiDataError when it has none)."""
    number = record.get("driver_number")
    about = drivers.get(int(number)) if isinstance(number, int) else None
    if about is None:
        raise ApiDataError(where, f"driver_number {number!r}", "driver_number",
                           "is not among the session's drivers (GET drivers)")  # fmt: skip
    return about


def _names(about: dict[str, Any]) -> tuple[str, str]:
    return str(about.get("name_acronym") or "").upper(), _plain(str(about.get("last_name") or ""))


def _match(entries: list[Entry], about: dict[str, Any]) -> Entry | None:
    """The entry list's driver: the acronym and the surname agree; else the permanent number
    and one of them (the champion races as #1, not his own number, so the number alone
    cannot be trusted). None when not exactly one does."""
    acronym, surname = _names(about)
    number = about.get("driver_number")
    found = [
        e for e in entries if (e.code or "").upper() == acronym and _plain(e.surname) == surname
    ]
    if not found:
        found = [
            e
            for e in entries
            if e.number == number
            and ((e.code or "").upper() == acronym or _plain(e.surname) == surname)
        ]
    return found[0] if len(found) == 1 else None


def _same(code: str | None, surname: str, acronym: str, plain_surname: str) -> bool:
    return (code or "").upper() == acronym and _plain(surname) == plain_surname


def _newcomer(known: list[Driver], about: dict[str, Any], teams: dict[Any, int]) -> Entry | None:
    """A driver of no entry list this season (a mid-season replacement): one the warehouse
    knows by acronym and surname, in the team his session teammates were mapped to."""
    acronym, surname = _names(about)
    found = [d for d in known if _same(d.code, d.surname, acronym, surname)]
    team = teams.get(about.get("team_name"))
    if len(found) != 1 or team is None:
        return None
    return Entry(found[0].id, team, found[0].number, found[0].code, found[0].surname)


def _describe(about: dict[str, Any]) -> str:
    name = about.get("full_name") or about.get("name_acronym") or "?"
    return f"#{about.get('driver_number')} {name} ({about.get('team_name') or '?'})"


def _row(
    weekend: Weekend, number: int, entry: Entry, record: dict[str, Any], where: str
) -> dict[str, Any]:
    position, laps, best = (
        record.get("position"),
        record.get("number_of_laps"),
        record.get("duration"),
    )
    who = f"driver_number {record.get('driver_number')}"
    if not isinstance(position, int) or position < 1:
        raise ApiDataError(where, who, "position", f"is {position!r}, not a position")
    if best is not None and (not isinstance(best, int | float) or best <= 0):
        raise ApiDataError(where, who, "duration", f"is {best!r}, not a lap time in seconds")
    if laps is not None and (not isinstance(laps, int) or laps < 0):
        raise ApiDataError(where, who, "number_of_laps", f"is {laps!r}, not a lap count")
    milliseconds = None if best is None else round(float(best) * 1000)
    return {
        "race_id": weekend.race_id,
        "session": number,
        "driver_id": entry.driver_id,
        "team_id": entry.team_id,
        "number": record.get("driver_number"),
        "position": position,
        "time_text": None if milliseconds is None else _lap_text(milliseconds),
        "milliseconds": milliseconds,
        "laps": laps,
    }


def _lap_text(milliseconds: int) -> str:
    minutes, rest = divmod(milliseconds, 60_000)
    return f"{minutes}:{rest / 1000:06.3f}"


def _plain(name: str) -> str:
    """A name without accents or case: `Hülkenberg` and `HULKENBERG` agree."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return folded.casefold().strip()


def _stored(engine: Engine, weekend: Weekend) -> bool:
    """Whether the warehouse holds every practice session of the race that the calendar has
    before qualifying (any session, when the calendar has no practice times)."""
    with transaction(engine) as session:
        held = set(
            session.scalars(
                select(PracticeResult.session)
                .where(PracticeResult.race_id == weekend.race_id)
                .distinct()
            )
        )
    due = {int(kind[2:]) for kind in weekend.before_quali if kind.startswith("fp")}
    return bool(held) and held.issuperset(due)
