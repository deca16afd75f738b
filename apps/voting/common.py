"""What the voting app's parts share: its limits, errors, the mailer, the clock, the audit
log and loading an election."""

from __future__ import annotations

import datetime as dt
import json
import logging
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from warehouse.schema import (
    AuditEntry,
    Election,
    OutboxMessage,
)

log = logging.getLogger(__name__)
CODE_MINUTES = 10
MAX_ATTEMPTS = 5
CODES_PER_WINDOW = 3  # sign-in codes one email may ask for per window
CODES_PER_ADDRESS = 100  # codes one client address may ask for per window (a school's NAT)
CODE_WINDOW = dt.timedelta(minutes=15)
SESSION_MINUTES = 30
TITLE_MAX, POSITION_MAX, NAME_MAX = 200, 120, 160  # the columns' lengths


class VotingError(Exception):
    """A refusal with its HTTP status; the message is safe to show."""

    status = 400

    def __init__(self, message: str, field: tuple[str | int, ...] | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotFound(VotingError):
    status = 404


class Conflict(VotingError):
    status = 409


class Invalid(VotingError):
    status = 422


class RateLimited(VotingError):
    status = 429


class BadCode(VotingError):
    status = 401


class Unavailable(VotingError):
    status = 503


@dataclass(frozen=True)
class Mailer:
    """SMTP when a host is configured, else the outbox table."""

    host: str | None = None
    port: int = 587
    user: str | None = None
    password: str | None = None
    starttls: bool = True
    sender: str = "pta-elections@localhost"

    def send(self, session: Session, to: str, subject: str, body: str) -> None:
        if self.host is None:
            session.add(OutboxMessage(recipient=to, subject=subject, body=body))
            return
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, to, subject
        message.set_content(body)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=10) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.user:
                    smtp.login(self.user, self.password or "")
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as error:
            log.error("mail to %s via %s:%s failed: %s", to, self.host, self.port, error)
            # raised inside the code's transaction: no code is stored that nobody received
            raise Unavailable("the code could not be sent: try again in a minute") from None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _audit(
    session: Session, election_id: int | None, actor: str, action: str, **detail: Any
) -> None:
    session.add(
        AuditEntry(
            election_id=election_id,
            actor=actor,
            action=action,
            detail=json.dumps(detail, sort_keys=True, default=str),
        )
    )


def _election(session: Session, election_id: int, *, lock: bool = False) -> Election:
    query = select(Election).where(Election.id == election_id)
    if lock:
        query = query.with_for_update()
    election = session.scalar(query)
    if election is None:
        raise NotFound(f"no election {election_id}")
    return election


def _draft(election: Election) -> None:
    if election.status != "draft":
        raise Conflict(f"election {election.id} is {election.status}: only a draft can be edited")
