"""The PTA voting app: elections, sign-in codes, secret ballots, results and the audit log.

The secret ballot: `election_participation` says who voted for which position, and
`election_choices` which candidate a ballot chose; nothing links the two. A cast writes the
participation and a sealed ballot in one transaction (the unique (member, position) constraint
on participation is what makes a second vote fail, however many arrive at once); the ballot is
released later, in a shuffled batch of others, in a transaction of its own (apps/voting/box.py).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import io
import json
import logging
import secrets
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from sqlalchemy import Engine, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from apps.text import email_problem
from apps.tokens import sign
from apps.voting import box
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
    SignInCode,
    SignInRequest,
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


# ---------------------------------------------------------------- admin: build an election


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


# ---------------------------------------------------------------- reading


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


# ---------------------------------------------------------------- voters


def _code_hash(secret: str, member_id: int, code: str) -> str:
    return hmac.new(secret.encode(), f"{member_id}:{code}".encode(), hashlib.sha256).hexdigest()


def _keyed(secret: str, kind: str, value: str) -> str:
    return hmac.new(secret.encode(), f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def request_code(
    engine: Engine,
    secret: str,
    mailer: Mailer,
    election_id: int,
    email: str,
    client: str = "local",
) -> None:
    """Send a one-time code to a member of an open election. An email not on the roll gets the
    same answers, the per-email limit included, and no mail (no one learns who is on the
    roll): every request is counted by a keyed hash of its email, and by one of the asking
    address (CODES_PER_ADDRESS a window: no one mails the whole roll codes)."""
    email = email.strip().lower()
    asked, address = _keyed(secret, "request", email), _keyed(secret, "client", client)
    with transaction(engine) as session:
        election = _election(session, election_id)
        if election.status != "open":
            raise Conflict(f"election {election_id} is {election.status}: voting is not open")
        member = session.scalar(
            select(Member)
            .where(Member.election_id == election_id, Member.email == email)
            .with_for_update()
        )
        recent = session.scalar(
            select(func.count()).where(
                SignInRequest.election_id == election_id,
                SignInRequest.email_hash == asked,
                SignInRequest.created_at > _now() - CODE_WINDOW,
            )
        )
        if (recent or 0) >= CODES_PER_WINDOW:
            raise RateLimited(
                f"{CODES_PER_WINDOW} codes were asked for this email in the last "
                f"{CODE_WINDOW.seconds // 60} minutes: use one, or wait"
            )
        from_here = session.scalar(
            select(func.count()).where(
                SignInRequest.election_id == election_id,
                SignInRequest.client_hash == address,
                SignInRequest.created_at > _now() - CODE_WINDOW,
            )
        )
        if (from_here or 0) >= CODES_PER_ADDRESS:
            raise RateLimited(
                f"{CODES_PER_ADDRESS} codes were asked from this address in the last "
                f"{CODE_WINDOW.seconds // 60} minutes: wait"
            )
        session.add(
            SignInRequest(
                election_id=election_id, email_hash=asked, client_hash=address, created_at=_now()
            )
        )
        if member is None:
            log.info("sign-in code asked for an email not on the roll of election %s", election_id)
            return
        code = f"{secrets.randbelow(1_000_000):06d}"
        session.add(
            SignInCode(
                member_id=member.id,
                code_hash=_code_hash(secret, member.id, code),
                expires_at=_now() + dt.timedelta(minutes=CODE_MINUTES),
                created_at=_now(),
            )
        )
        mailer.send(
            session,
            email,
            f"Your code for {election.title}",
            f"Your sign-in code is {code}. It is valid for {CODE_MINUTES} minutes.\n",
        )


def verify_code(engine: Engine, secret: str, election_id: int, email: str, code: str) -> str:
    """A voting session token (scoped to this election) for a right, fresh code."""
    email = email.strip().lower()
    with transaction(engine) as session:
        election = _election(session, election_id)
        if election.status != "open":
            raise Conflict(f"election {election_id} is {election.status}: voting is not open")
        member = session.scalar(
            select(Member).where(Member.election_id == election_id, Member.email == email)
        )
        latest = None
        if member is not None:
            latest = session.scalar(
                select(SignInCode)
                .where(SignInCode.member_id == member.id)
                .order_by(SignInCode.id.desc())
                .limit(1)
                .with_for_update()
            )
        failure: BadCode | None
        member_id: int | None
        if member is None or latest is None or latest.used_at is not None:
            # not on the roll (or no code of theirs waiting): answered exactly as a member
            # with a wrong code is, its attempts counted on the request (none: no code)
            failure, member_id = _stranger(session, secret, election_id, email), None
        elif as_utc(latest.expires_at) <= _now():
            raise BadCode(EXPIRED)
        else:
            failure, member_id = _check_code(session, secret, member.id, latest, code)
    if failure is not None:
        raise failure  # after the commit, so the attempt is counted
    claims = {
        "sub": str(member_id),
        "aud": audience(election_id),
        "scope": "ballot",
        "exp": _now() + dt.timedelta(minutes=SESSION_MINUTES),
    }
    return sign(claims, secret)


NO_CODE = "no code is waiting for this email: ask for one"
EXPIRED = "the code has expired: ask for a new one"
SPENT = f"{MAX_ATTEMPTS} wrong attempts (or the code was used): ask for a new one"


def _wrong(attempts: int) -> BadCode:
    left = MAX_ATTEMPTS - attempts
    return BadCode(f"wrong code ({left} attempt{'s' if left != 1 else ''} left)")


def _stranger(session: Session, secret: str, election_id: int, email: str) -> BadCode:
    """The answer to a code for an email with no member's code waiting: as a member's."""
    asked = session.scalar(
        select(SignInRequest)
        .where(
            SignInRequest.election_id == election_id,
            SignInRequest.email_hash == _keyed(secret, "request", email),
        )
        .order_by(SignInRequest.id.desc())
        .limit(1)
        .with_for_update()
    )
    if asked is None:
        return BadCode(NO_CODE)
    if as_utc(asked.created_at) + dt.timedelta(minutes=CODE_MINUTES) <= _now():
        return BadCode(EXPIRED)
    attempts = session.execute(
        update(SignInRequest)
        .where(SignInRequest.id == asked.id, SignInRequest.attempts < MAX_ATTEMPTS)
        .values(attempts=SignInRequest.attempts + 1)
        .returning(SignInRequest.attempts)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    return BadCode(SPENT) if attempts is None else _wrong(attempts)


def _check_code(
    session: Session, secret: str, member_id: int, latest: SignInCode, code: str
) -> tuple[BadCode | None, int | None]:
    """A member's code: (the refusal, None), or (None, the member) when it is right."""
    # count the attempt before comparing, atomically: however many arrive at once, at
    # most MAX_ATTEMPTS are compared (SQLite ignores FOR UPDATE; this holds on both)
    attempts = session.execute(
        update(SignInCode)
        .where(
            SignInCode.id == latest.id,
            SignInCode.attempts < MAX_ATTEMPTS,
            SignInCode.used_at.is_(None),
        )
        .values(attempts=SignInCode.attempts + 1)
        .returning(SignInCode.attempts)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    if attempts is None:
        return BadCode(SPENT), None
    if not hmac.compare_digest(latest.code_hash, _code_hash(secret, member_id, code)):
        return _wrong(attempts), None
    used = session.execute(
        update(SignInCode)
        .where(SignInCode.id == latest.id, SignInCode.used_at.is_(None))
        .values(used_at=_now())
        .returning(SignInCode.id)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    if used is None:
        return BadCode(SPENT), None
    return None, member_id


def audience(election_id: int) -> str:
    return f"pta-election:{election_id}"


def ballot(engine: Engine, election_id: int, member_id: int) -> dict[str, Any]:
    """The ballot of one voter: the positions, their candidates, and which are voted."""
    with session_factory(engine)() as session:
        election = _election(session, election_id)
        described = _describe(session, election)
        voted = set(
            session.scalars(
                select(Participation.position_id).where(Participation.member_id == member_id)
            )
        )
    for position in described["positions"]:
        position["voted"] = position["id"] in voted
    return described


def cast(
    engine: Engine,
    election_id: int,
    member_id: int,
    choices: list[tuple[int, int]],
    secret: str,
) -> dict[str, Any]:
    """Record a ballot of (position, candidate) choices; returns its receipt. The voter's
    participation and the sealed ballot are written in one transaction (a second vote for a
    position is refused, 409); the ballot is released among others later (apps.voting.box)."""
    seen: set[int] = set()
    for i, (position_id, _) in enumerate(choices):
        if position_id in seen:
            raise Invalid(f"position {position_id} is chosen twice", ("body", "choices", i))
        seen.add(position_id)
    receipt = secrets.token_hex(10).upper()
    try:
        with transaction(engine) as session:
            # a shared lock on the election: closing waits for ballots being cast
            election = session.scalar(
                select(Election).where(Election.id == election_id).with_for_update(read=True)
            )
            if election is None:
                raise NotFound(f"no election {election_id}")
            if election.status != "open":
                raise Conflict(f"election {election_id} is {election.status}: voting is not open")
            _check_choices(session, election_id, choices)
            session.add_all(
                Participation(election_id=election_id, position_id=p, member_id=member_id)
                for p, _ in choices
            )
            box.add(session, secret, election_id, receipt, choices)
            session.flush()  # a second vote for a position fails here (unique constraint)
            full = box.waiting(session, election_id) >= box.BATCH
    except IntegrityError:
        raise Conflict(_already(engine, member_id, seen)) from None
    if full:  # a transaction of its own, after the cast's
        box.release(engine, secret, election_id)
    return {"receipt": receipt, "positions": len(choices)}


def _check_choices(session: Session, election_id: int, choices: list[tuple[int, int]]) -> None:
    """Each (position, candidate) on this election's ballot (one query for them all)."""
    positions: dict[int, tuple[int, str]] = {}  # position -> (its election, its title)
    standing: set[tuple[int, int]] = set()  # (position, candidate)
    rows = session.execute(
        select(Position.id, Position.election_id, Position.title, Candidate.id)
        .outerjoin(Candidate, Candidate.position_id == Position.id)
        .where(Position.id.in_([p for p, _ in choices]))
    ).tuples()
    for position, election, title, candidate in rows:
        positions[position] = (election, title)
        standing.add((position, candidate))
    for i, (position_id, candidate_id) in enumerate(choices):
        if positions.get(position_id, (None, ""))[0] != election_id:
            raise Invalid(
                f"position {position_id} is not on this election's ballot",
                ("body", "choices", i, "position_id"),
            )
        if (position_id, candidate_id) not in standing:
            raise Invalid(
                f"candidate {candidate_id} does not stand for {positions[position_id][1]}",
                ("body", "choices", i, "candidate_id"),
            )


def _already(engine: Engine, member_id: int, positions: set[int]) -> str:
    """The refusal of a second vote, naming the positions already voted for."""
    with session_factory(engine)() as session:
        titles = session.scalars(
            select(Position.title)
            .join(Participation, Participation.position_id == Position.id)
            .where(Participation.member_id == member_id, Position.id.in_(positions))
            .order_by(Position.ordering)
        ).all()
    return f"you have already voted for {', '.join(titles) or 'one of these positions'}"


def check_receipt(engine: Engine, election_id: int, receipt: str, secret: str) -> dict[str, Any]:
    """Whether a ballot with this receipt was counted, and for which positions (not how); or
    received and sealed, to be counted at the next release or the close (`sealed`)."""
    receipt = receipt.strip().upper()
    with session_factory(engine)() as session:
        found = session.get(Ballot, receipt)
        if found is None or found.election_id != election_id:
            sealed = box.is_sealed(session, secret, election_id, receipt)
            return {"receipt": receipt, "counted": False, "sealed": sealed, "positions": []}
        positions = session.scalars(
            select(Position.title)
            .join(BallotChoice, BallotChoice.position_id == Position.id)
            .where(BallotChoice.ballot_receipt == found.receipt)
            .order_by(Position.ordering)
        ).all()
    return {
        "receipt": found.receipt,
        "counted": True,
        "sealed": False,
        "positions": list(positions),
    }
