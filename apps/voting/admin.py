"""Building an election: its positions and candidates, its members, its status."""

from __future__ import annotations

import csv
import io
import logging
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from apps.text import email_problem
from apps.voting import box
from apps.voting.common import (
    NAME_MAX,
    POSITION_MAX,
    TITLE_MAX,
    Conflict,
    Invalid,
    NotFound,
    Unavailable,
    _audit,
    _draft,
    _election,
    _now,
)
from warehouse.db import transaction
from warehouse.schema import (
    Candidate,
    Election,
    Member,
    Position,
)

log = logging.getLogger(__name__)


def create_election(
    engine: Engine, actor: str, title: str, description: str, positions: list[dict[str, Any]]
) -> int:
    """A draft election with its positions and candidates; returns its id. Every text within
    its column (the API's schema says so too; the web form comes here unchecked)."""
    _fits(title, TITLE_MAX, "the election's title", ("body", "title"))
    for i, spec in enumerate(positions):
        _fits(spec["title"], POSITION_MAX, "a position's title", ("body", "positions", i, "title"))
        for j, candidate in enumerate(spec.get("candidates", [])):
            where = ("body", "positions", i, "candidates", j, "name")
            _fits(candidate["name"], NAME_MAX, "a candidate's name", where)
    titles = [p["title"] for p in positions]
    for i, title_ in enumerate(titles):
        if titles.index(title_) != i:
            raise Invalid(f"position {title_!r} is given twice", ("body", "positions", i, "title"))
    with transaction(engine) as session:
        election = Election(title=title, description=description, status="draft")
        session.add(election)
        session.flush()
        for order, spec in enumerate(positions):
            _new_position(session, election.id, spec["title"], order, spec.get("candidates", []))
        _audit(session, election.id, actor, "create", title=title, positions=titles)
        return election.id


def _fits(text: str, most: int, what: str, where: tuple[str | int, ...]) -> None:
    if not text.strip():
        raise Invalid(f"{what} is empty", where)
    if len(text) > most:
        raise Invalid(f"{what} has {len(text)} characters: at most {most}", where)


def edit_election(engine: Engine, actor: str, election_id: int, changes: dict[str, Any]) -> None:
    with transaction(engine) as session:
        election = _election(session, election_id, lock=True)
        _draft(election)
        for field, value in changes.items():
            setattr(election, field, value)
        _audit(session, election_id, actor, "edit", **changes)


def _new_position(
    session: Session, election_id: int, title: str, ordering: int, candidates: list[dict[str, Any]]
) -> Position:
    position = Position(election_id=election_id, title=title, ordering=ordering)
    session.add(position)
    session.flush()
    session.add_all(Candidate(position_id=position.id, **c) for c in candidates)
    return position


def add_position(
    engine: Engine,
    actor: str,
    election_id: int,
    title: str,
    candidates: list[dict[str, Any]] | None = None,
) -> int:
    """A new position of a draft election, with its candidates, in one transaction."""
    candidates = candidates or []
    try:
        with transaction(engine) as session:
            _draft(_election(session, election_id, lock=True))
            count = session.scalar(select(func.count()).where(Position.election_id == election_id))
            position = _new_position(session, election_id, title, count or 0, candidates)
            _audit(session, election_id, actor, "add_position", position=title)
            for candidate in candidates:
                _audit(session, election_id, actor, "add_candidate", position=title, **candidate)
            return position.id
    except IntegrityError:
        raise Conflict(f"election {election_id} already has a position {title!r}") from None


def _position(session: Session, election_id: int, position_id: int) -> Position:
    position = session.get(Position, position_id)
    if position is None or position.election_id != election_id:
        raise NotFound(f"election {election_id} has no position {position_id}")
    return position


def add_candidate(
    engine: Engine, actor: str, election_id: int, position_id: int, candidate: dict[str, Any]
) -> int:
    with transaction(engine) as session:
        _draft(_election(session, election_id, lock=True))
        position = _position(session, election_id, position_id)
        row = Candidate(position_id=position.id, **candidate)
        session.add(row)
        session.flush()
        _audit(session, election_id, actor, "add_candidate", position=position.title, **candidate)
        return row.id


def remove_candidate(engine: Engine, actor: str, election_id: int, candidate_id: int) -> None:
    with transaction(engine) as session:
        _draft(_election(session, election_id, lock=True))
        candidate = session.get(Candidate, candidate_id)
        position = session.get(Position, candidate.position_id) if candidate else None
        if candidate is None or position is None or position.election_id != election_id:
            raise NotFound(f"election {election_id} has no candidate {candidate_id}")
        session.delete(candidate)
        _audit(session, election_id, actor, "remove_candidate", name=candidate.name)


def import_members(engine: Engine, actor: str, election_id: int, text: str) -> dict[str, int]:
    """Add the electorate from CSV (columns `email` and optionally `name`). Every line is
    checked before anything is written; emails already on the roll are left as they are."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    fields = [f.strip().lower() for f in reader.fieldnames or []]
    if "email" not in fields:
        raise Invalid("the CSV needs a header line with an `email` column", ("body",))
    rows: dict[str, str] = {}
    problems = []
    for line, raw in enumerate(reader, start=2):
        row = {k.strip().lower(): (v or "").strip() for k, v in raw.items() if k}
        email = row.get("email", "").lower()
        if (problem := email_problem(email)) is not None:
            problems.append(f"line {line}: {problem}")
        elif email not in rows:
            rows[email] = row.get("name", "")[:160]
    if problems:
        raise Invalid("; ".join(problems[:20]), ("body",))
    if not rows:
        raise Invalid("the CSV has no members", ("body",))
    with transaction(engine) as session:
        _draft(_election(session, election_id, lock=True))
        known = set(session.scalars(select(Member.email).where(Member.election_id == election_id)))
        new = [e for e in rows if e not in known]
        session.add_all(Member(election_id=election_id, email=e, name=rows[e]) for e in new)
        _audit(
            session,
            election_id,
            actor,
            "import_members",
            added=len(new),
            already=len(rows) - len(new),
        )
    return {"added": len(new), "already": len(rows) - len(new)}


def set_status(
    engine: Engine, actor: str, election_id: int, target: str, secret: str | None = None
) -> None:
    """draft → open → closed; opening needs positions, candidates and an electorate; closing
    releases the ballots still sealed (with `secret`, the one they were sealed with)."""
    with transaction(engine) as session:
        election = _election(session, election_id, lock=True)
        expected = {"open": "draft", "closed": "open"}[target]
        if election.status != expected:
            raise Conflict(f"election {election_id} is {election.status}: cannot make it {target}")
        if target == "open":
            positions = session.scalars(
                select(Position).where(Position.election_id == election_id)
            ).all()
            if not positions:
                raise Conflict("an election needs at least one position to open")
            empty = [
                p.title
                for p in positions
                if not session.scalar(select(func.count()).where(Candidate.position_id == p.id))
            ]
            if empty:
                raise Conflict(f"positions without candidates: {', '.join(empty)}")
            if not session.scalar(select(func.count()).where(Member.election_id == election_id)):
                raise Conflict("an election needs an electorate to open: import members")
            election.opened_at = _now()
        else:
            election.closed_at = _now()
            if box.waiting(session, election_id):
                if secret is None:
                    raise Unavailable("the sealed ballots need the secret they were sealed with")
                try:
                    released = box.release_in(session, secret, election_id, minimum=1)
                except box.Unreadable:
                    raise Unavailable(
                        "sealed ballots cannot be opened with this service's secret "
                        "(F1_JWT_SECRET changed?): close with the secret they were cast under"
                    ) from None
                log.info("closing election %s released %d sealed ballots", election_id, released)
        election.status = target
        _audit(session, election_id, actor, target)
