"""The ballot box: a ballot is sealed when it is cast and released later among others.

Secrecy must not depend on how the database stores rows. A ballot written in the same
transaction as its voter's participation shares that transaction's id (PostgreSQL's `xmin`),
its place in the write-ahead log and its time; written in a transaction of its own right after,
it still sits next to it in the order of transaction ids. So a cast writes the participation
and a *sealed* ballot: the receipt and the choices encrypted (AES-GCM under a key derived from
the service's secret, which the database never holds), under a random id, with only a keyed
hash of the receipt (for a receipt check). A separate step, `release`, opens at least BATCH
sealed ballots of an election at once, shuffles them, writes them as ballots and choices in one
transaction of its own, and deletes the sealed ones: the ballots of a release share its
transaction id and nothing else, and each may be any of its voters'. A cast that leaves BATCH
waiting releases them; closing the election releases the rest (a last, smaller batch) before
results can be read.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from warehouse.db import transaction
from warehouse.schema import Ballot, BallotChoice, SealedBallot

BATCH = 10  # sealed ballots released together: each could be any of its batch's voters'
CONTEXT = b"pta-ballot-v1"
Choices = list[tuple[int, int]]  # (position, candidate)


class Unreadable(ValueError):
    """A sealed ballot this secret cannot open (sealed under another secret)."""


def _key(secret: str) -> bytes:
    return hmac.new(secret.encode(), b"seal:" + CONTEXT, hashlib.sha256).digest()


def receipt_hash(secret: str, receipt: str) -> str:
    """The keyed hash a sealed ballot is found by (its receipt is inside the seal)."""
    return hmac.new(secret.encode(), b"receipt:" + receipt.encode(), hashlib.sha256).hexdigest()


def seal(secret: str, election_id: int, receipt: str, choices: Choices) -> str:
    """The receipt and choices, encrypted and bound to the election (a fresh nonce each time:
    two equal ballots do not look alike)."""
    nonce = os.urandom(12)
    plain = json.dumps({"receipt": receipt, "choices": choices}).encode()
    sealed = AESGCM(_key(secret)).encrypt(nonce, plain, CONTEXT + str(election_id).encode())
    return base64.b64encode(nonce + sealed).decode()


def unseal(secret: str, election_id: int, token: str) -> tuple[str, Choices]:
    """(receipt, choices) of a sealed ballot of `election_id`."""
    raw = base64.b64decode(token)
    try:
        bound = CONTEXT + str(election_id).encode()
        plain = AESGCM(_key(secret)).decrypt(raw[:12], raw[12:], bound)
    except InvalidTag:
        raise Unreadable("a sealed ballot of another secret or election") from None
    opened: dict[str, Any] = json.loads(plain)
    return str(opened["receipt"]), [(int(p), int(c)) for p, c in opened["choices"]]


def add(session: Session, secret: str, election_id: int, receipt: str, choices: Choices) -> None:
    """Put a cast ballot in the box (in the cast's transaction)."""
    session.add(
        SealedBallot(
            id=secrets.token_hex(16),
            election_id=election_id,
            receipt_hash=receipt_hash(secret, receipt),
            sealed=seal(secret, election_id, receipt, choices),
        )
    )


def waiting(session: Session, election_id: int) -> int:
    """Sealed ballots of the election not released yet."""
    count = select(func.count()).where(SealedBallot.election_id == election_id)
    return int(session.scalar(count) or 0)


def is_sealed(session: Session, secret: str, election_id: int, receipt: str) -> bool:
    """Whether a ballot with this receipt waits in the box."""
    found = select(SealedBallot.id).where(
        SealedBallot.election_id == election_id,
        SealedBallot.receipt_hash == receipt_hash(secret, receipt),
    )
    return session.scalar(found) is not None


def release_in(session: Session, secret: str, election_id: int, minimum: int = BATCH) -> int:
    """Open the waiting ballots of an election (at least `minimum` of them, else none), in a
    random order, as ballots and choices, and empty their places in the box; how many. On
    PostgreSQL two releases at once take different ballots (SKIP LOCKED)."""
    rows = session.execute(
        select(SealedBallot.id, SealedBallot.sealed)
        .where(SealedBallot.election_id == election_id)
        .with_for_update(skip_locked=True)
    ).all()
    if not rows or len(rows) < minimum:
        return 0
    opened = [unseal(secret, election_id, sealed) for _, sealed in rows]
    secrets.SystemRandom().shuffle(opened)
    for receipt, _ in opened:
        session.add(Ballot(receipt=receipt, election_id=election_id))
    session.flush()
    choices = [(r, p, c) for r, chosen in opened for p, c in chosen]
    secrets.SystemRandom().shuffle(choices)
    session.add_all(
        BallotChoice(ballot_receipt=r, position_id=p, candidate_id=c) for r, p, c in choices
    )
    session.execute(delete(SealedBallot).where(SealedBallot.id.in_([i for i, _ in rows])))
    return len(opened)


def release(engine: Engine, secret: str, election_id: int, minimum: int = BATCH) -> int:
    """`release_in` in a transaction of its own; 0 when another release took the same
    ballots first (SQLite has no SKIP LOCKED: the later one collides, or finds its snapshot
    stale, and rolls back; the ballots are the first one's to release)."""
    try:
        with transaction(engine) as session:
            return release_in(session, secret, election_id, minimum)
    except (IntegrityError, OperationalError):
        return 0
