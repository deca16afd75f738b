"""The voters' side: sign-in codes by email, the voting session, the ballot, casting it and
checking a receipt."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
from typing import Any

from sqlalchemy import Engine, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from apps.tokens import sign
from apps.voting import box
from apps.voting.common import (
    CODE_MINUTES,
    CODE_WINDOW,
    CODES_PER_ADDRESS,
    CODES_PER_WINDOW,
    MAX_ATTEMPTS,
    SESSION_MINUTES,
    BadCode,
    Conflict,
    Invalid,
    Mailer,
    NotFound,
    RateLimited,
    _election,
    _now,
)
from apps.voting.reading import (
    _describe,
)
from warehouse.db import as_utc, session_factory, transaction
from warehouse.schema import (
    Ballot,
    BallotChoice,
    Candidate,
    Election,
    Member,
    Participation,
    Position,
    SignInCode,
    SignInRequest,
)

log = logging.getLogger(__name__)


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
