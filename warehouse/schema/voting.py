"""The PTA voting app. Participation (who voted for which position) and choices (which
candidate got a vote) are stored apart: no table links a voter to a choice, and a ballot is
written in a release of its own, among others (apps/voting/box.py)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from warehouse.schema.base import Base, one_of

ELECTION_STATUSES = ("draft", "open", "closed")


def _now() -> Mapped[dt.datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.current_timestamp())


class Election(Base):
    __tablename__ = "elections"
    __table_args__ = (CheckConstraint(one_of("status", ELECTION_STATUSES), name="status_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(8), default="draft")
    created_at: Mapped[dt.datetime] = _now()
    opened_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class Position(Base):
    __tablename__ = "election_positions"
    __table_args__ = (UniqueConstraint("election_id", "title"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    election_id: Mapped[int] = mapped_column(
        ForeignKey("elections.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(120))
    ordering: Mapped[int] = mapped_column(default=0)


class Candidate(Base):
    __tablename__ = "election_candidates"

    id: Mapped[int] = mapped_column(primary_key=True)
    position_id: Mapped[int] = mapped_column(
        ForeignKey("election_positions.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(160))
    bio: Mapped[str] = mapped_column(Text, default="")
    photo_url: Mapped[str | None] = mapped_column(String(500))


class Member(Base):
    """One voter of the electorate."""

    __tablename__ = "election_members"
    __table_args__ = (UniqueConstraint("election_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    election_id: Mapped[int] = mapped_column(
        ForeignKey("elections.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(160), default="")


class SignInCode(Base):
    """A one-time sign-in code: only its keyed hash is kept."""

    __tablename__ = "election_sign_in_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(
        ForeignKey("election_members.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(default=0)
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = _now()


class SignInRequest(Base):
    """A sign-in code asked for, whether or not the email is on the roll (a keyed hash of the
    email, never the email): the per-email and per-address limits count these, so members and
    strangers get the same answers."""

    __tablename__ = "election_sign_in_requests"
    __table_args__ = (
        Index(None, "election_id", "email_hash", "created_at"),
        Index(
            "ix_election_sign_in_requests_client_hash", "election_id", "client_hash", "created_at"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id", ondelete="CASCADE"))
    email_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    # codes tried against this request when no member's code stands behind it: a stranger
    # is answered exactly as a member is (apps.voting.verify_code)
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    client_hash: Mapped[str | None] = mapped_column(String(64))  # the asking address, keyed


class Participation(Base):
    """That a member voted for a position (not how). The unique constraint is the
    one-vote-per-position rule."""

    __tablename__ = "election_participation"
    __table_args__ = (UniqueConstraint("member_id", "position_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    election_id: Mapped[int] = mapped_column(
        ForeignKey("elections.id", ondelete="CASCADE"), index=True
    )
    position_id: Mapped[int] = mapped_column(ForeignKey("election_positions.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("election_members.id"))
    voted_at: Mapped[dt.datetime] = _now()


class SealedBallot(Base):
    """A cast ballot waiting in the box (apps/voting/box.py): its receipt and choices sealed
    with a key the database does not hold, a random id, a keyed hash of the receipt. Released
    in shuffled batches as ballots and choices, then deleted."""

    __tablename__ = "election_sealed_ballots"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    election_id: Mapped[int] = mapped_column(
        ForeignKey("elections.id", ondelete="CASCADE"), index=True
    )
    receipt_hash: Mapped[str] = mapped_column(String(64), index=True)
    sealed: Mapped[str] = mapped_column(Text)


# Ballots are stored in the order of their random receipts, never in the order they were cast
# (which the participation rows follow): on SQLite the two ballot tables are WITHOUT ROWID (a
# B-tree ordered by key), and on PostgreSQL each cast rewrites them in key order (CLUSTER, in
# apps.voting.cast).
UNORDERED = {"sqlite_with_rowid": False}


class Ballot(Base):
    """One cast ballot, keyed by its random receipt code; no voter, no time."""

    __tablename__ = "election_ballots"
    __table_args__ = UNORDERED

    receipt: Mapped[str] = mapped_column(String(32), primary_key=True)
    election_id: Mapped[int] = mapped_column(
        ForeignKey("elections.id", ondelete="CASCADE"), index=True
    )


class BallotChoice(Base):
    """A vote for a candidate, on a ballot; carries no voter id, and no sequential id whose
    order would match the participation rows'."""

    __tablename__ = "election_choices"
    __table_args__ = UNORDERED

    ballot_receipt: Mapped[str] = mapped_column(
        ForeignKey("election_ballots.receipt", ondelete="CASCADE"), primary_key=True, index=True
    )
    position_id: Mapped[int] = mapped_column(
        ForeignKey("election_positions.id"), primary_key=True, index=True
    )
    candidate_id: Mapped[int] = mapped_column(ForeignKey("election_candidates.id"), index=True)


class AuditEntry(Base):
    """An admin action; append-only (database triggers refuse UPDATE and DELETE)."""

    __tablename__ = "election_audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    election_id: Mapped[int | None] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text, default="{}")  # JSON
    created_at: Mapped[dt.datetime] = _now()


class OutboxMessage(Base):
    """A message that would have been emailed (development, when no SMTP is configured)."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(254), index=True)
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = _now()
