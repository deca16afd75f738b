"""Reading elections: what one holds, the list, turnout, results (once closed), the audit
log and the outbox."""

from __future__ import annotations

import io
import json
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from apps.voting.common import (
    Conflict,
    _audit,
    _election,
)
from warehouse import csvsafe
from warehouse.db import as_utc, session_factory, transaction
from warehouse.schema import (
    AuditEntry,
    Ballot,
    BallotChoice,
    Candidate,
    Election,
    Member,
    OutboxMessage,
    Participation,
    Position,
)


def describe(engine: Engine, election_id: int) -> dict[str, Any]:
    """The election, its positions and candidates (no electorate)."""
    with session_factory(engine)() as session:
        election = _election(session, election_id)
        return _describe(session, election)


def _describe(session: Session, election: Election) -> dict[str, Any]:
    positions = session.scalars(
        select(Position).where(Position.election_id == election.id).order_by(Position.ordering)
    ).all()
    candidates = session.scalars(
        select(Candidate)
        .where(Candidate.position_id.in_([p.id for p in positions]))
        .order_by(Candidate.id)
    ).all()
    return {
        "id": election.id,
        "title": election.title,
        "description": election.description,
        "status": election.status,
        "opened_at": election.opened_at and as_utc(election.opened_at),
        "closed_at": election.closed_at and as_utc(election.closed_at),
        "positions": [
            {
                "id": p.id,
                "title": p.title,
                "candidates": [
                    {"id": c.id, "name": c.name, "bio": c.bio, "photo_url": c.photo_url}
                    for c in candidates
                    if c.position_id == p.id
                ],
            }
            for p in positions
        ],
    }


def list_elections(engine: Engine) -> list[dict[str, Any]]:
    with session_factory(engine)() as session:
        rows = session.scalars(select(Election).order_by(Election.id.desc())).all()
        return [{"id": e.id, "title": e.title, "status": e.status} for e in rows]


def turnout(engine: Engine, election_id: int) -> dict[str, Any]:
    """Live turnout: members, members who voted, and votes per position."""
    with session_factory(engine)() as session:
        election = _election(session, election_id)
        members = session.scalar(select(func.count()).where(Member.election_id == election_id)) or 0
        voted = (
            session.scalar(
                select(func.count(func.distinct(Participation.member_id))).where(
                    Participation.election_id == election_id
                )
            )
            or 0
        )
        per_position: dict[str, int] = dict(
            session.execute(
                select(Position.title, func.count(Participation.id))
                .outerjoin(Participation, Participation.position_id == Position.id)
                .where(Position.election_id == election_id)
                .group_by(Position.id, Position.title)
            )
            .tuples()
            .all()
        )
    return {
        "election_id": election_id,
        "status": election.status,
        "members": members,
        "voted": voted,
        "turnout": round(voted / members, 4) if members else 0.0,
        "by_position": per_position,
    }


def results(engine: Engine, actor: str, election_id: int) -> dict[str, Any]:
    """Votes per candidate, the winner of each position and ties; only once closed."""
    with transaction(engine) as session:
        election = _election(session, election_id)
        if election.status != "closed":
            raise Conflict(f"election {election_id} is {election.status}: results come after close")
        counts = dict(
            session.execute(
                select(BallotChoice.candidate_id, func.count())
                .join(Ballot, Ballot.receipt == BallotChoice.ballot_receipt)
                .where(Ballot.election_id == election_id)
                .group_by(BallotChoice.candidate_id)
            )
            .tuples()
            .all()
        )
        ballots = session.scalar(select(func.count()).where(Ballot.election_id == election_id))
        described = _describe(session, election)
        seen = select(AuditEntry.id).where(
            AuditEntry.election_id == election_id,
            AuditEntry.actor == actor,
            AuditEntry.action == "results",
        )
        if session.scalar(seen.limit(1)) is None:  # who read them is recorded once, not per view
            _audit(session, election_id, actor, "results")
    positions = []
    for position in described["positions"]:
        tally = [
            {"candidate_id": c["id"], "name": c["name"], "votes": counts.get(c["id"], 0)}
            for c in position["candidates"]
        ]
        tally.sort(key=lambda t: (-t["votes"], t["name"]))
        top = tally[0]["votes"] if tally else 0
        leaders = [t for t in tally if t["votes"] == top and top > 0]
        positions.append(
            {
                "position_id": position["id"],
                "position": position["title"],
                "votes": sum(t["votes"] for t in tally),
                "candidates": tally,
                "winner": leaders[0]["name"] if len(leaders) == 1 else None,
                "tie": len(leaders) > 1,
                "tied": [t["name"] for t in leaders] if len(leaders) > 1 else [],
            }
        )
    return {
        "election_id": election_id,
        "title": described["title"],
        "ballots": ballots,
        "positions": positions,
    }


def results_csv(result: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csvsafe.writer(out)
    writer.writerow(["position", "candidate", "votes", "winner", "tie"])
    for position in result["positions"]:
        for tally in position["candidates"]:
            writer.writerow(
                [
                    position["position"],
                    tally["name"],
                    tally["votes"],
                    "yes" if position["winner"] == tally["name"] else "",
                    "yes" if tally["name"] in position["tied"] else "",
                ]
            )
    return out.getvalue()


def audit_log(engine: Engine, election_id: int | None = None) -> list[dict[str, Any]]:
    with session_factory(engine)() as session:
        query = select(AuditEntry).order_by(AuditEntry.id)
        if election_id is not None:
            query = query.where(AuditEntry.election_id == election_id)
        return [
            {
                "id": e.id,
                "election_id": e.election_id,
                "actor": e.actor,
                "action": e.action,
                "detail": json.loads(e.detail),
                "at": as_utc(e.created_at),
            }
            for e in session.scalars(query)
        ]


def outbox(engine: Engine, actor: str, recipient: str | None = None) -> list[dict[str, Any]]:
    with transaction(engine) as session:
        query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(100)
        if recipient:
            query = query.where(OutboxMessage.recipient == recipient.strip().lower())
        rows = [
            {
                "id": m.id,
                "to": m.recipient,
                "subject": m.subject,
                "body": m.body,
                "at": as_utc(m.created_at),
            }
            for m in session.scalars(query)
        ]
        _audit(session, None, actor, "read_outbox", recipient=recipient)
    return rows
