"""Users, passwords (argon2) and tokens (JWT, HS256) of the HTTP API.

Sign-in reveals nothing about which accounts exist, and strangers cannot lock an owner out
(docs/SECURITY.md):
- an unknown email and a wrong password get the same 401, after the same password-hash work;
- attempts are counted before the password is checked, by one atomic upsert per key, in fixed
  15-minute windows: 5 per account from clients it does not trust (known and unknown emails
  alike), 5 per trusted device, 50 per client address across accounts. Past a limit the answer is
  429 with Retry-After, the same for every email;
- a successful sign-in sets a device cookie (HttpOnly, a year): that browser or client is then
  counted on its own, so guesses from elsewhere never lock its owner out;
- registering answers 202 with the same body whether or not the email was taken (an existing
  account is left as it was), at most 10 per client address per window.

A token carries its user's token version, checked on every request: deleting or deactivating a
user, changing their role or password ends every token issued before.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
import secrets
from typing import Annotated, Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Depends, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine, case, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from apps.tokens import ALGORITHM, sign
from serving.deps import platform_of
from warehouse.db import as_utc, insert_if_absent, transaction
from warehouse.schema import ROLES, RevokedToken, SignInThrottle, User

WINDOW = dt.timedelta(minutes=15)
ACCOUNT_LIMIT = 5  # attempts per account per window from clients it does not trust
DEVICE_LIMIT = 5  # attempts per trusted device per window
CLIENT_LIMIT = 50  # sign-in attempts per client address per window, across accounts
REGISTER_LIMIT = 10  # registrations per client address per window
DEVICE_COOKIE = "f1_device"
DEVICE_DAYS = 365
DEVICE_AUDIENCE = "f1-device"
# OWASP's argon2id parameters (19 MiB, 2 passes, 1 lane): 22 ms of one core per hash here,
# where argon2-cffi's defaults (64 MiB, 3 passes, 4 lanes) took 165 ms of CPU across both cores
# and starved everything else under a burst of sign-ins. Older hashes are redone at sign-in.
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
_bearer = HTTPBearer(auto_error=False)
_DUMMY = _hasher.hash(secrets.token_urlsafe(16))  # verified against for unknown emails


class AuthError(ValueError):
    """A sign-in or sign-up that cannot be accepted (the message is safe to show)."""


class EmailTaken(AuthError):
    """The email is registered already (said to admins, never to anonymous callers)."""


class Throttled(AuthError):
    """Too many attempts under one key; `retry_after` seconds until its window ends."""

    def __init__(self, retry_after: int) -> None:
        minutes = max(1, math.ceil(retry_after / 60))
        super().__init__(f"too many sign-in attempts: try again in {minutes} min")
        self.retry_after = retry_after


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def normal_email(email: str) -> str:
    return email.strip().lower()


def create_user(engine: Engine, email: str, password: str, role: str = "viewer") -> User:
    """A new user; EmailTaken when the email is taken, AuthError when the role is unknown or
    the password short. The password is hashed first, so a taken email costs the same."""
    email = normal_email(email)
    if role not in ROLES:
        raise AuthError(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
    if len(password) < 8:
        raise AuthError("password must have at least 8 characters")
    if "@" not in email or len(email) > 254:
        raise AuthError(f"{email!r} is not an email address")
    user = User(email=email, password_hash=hash_password(password), role=role)
    try:
        with transaction(engine) as session:
            session.add(user)
    except IntegrityError:
        raise EmailTaken(f"{email} is already registered") from None
    return user


def change_user(
    engine: Engine,
    email: str,
    *,
    role: str | None = None,
    active: bool | None = None,
    password: str | None = None,
) -> User:
    """Change a user's role, activity or password, ending every token issued before (the
    token version goes up). AuthError names what is wrong (unknown user or role, short
    password)."""
    if role is not None and role not in ROLES:
        raise AuthError(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
    if password is not None and len(password) < 8:
        raise AuthError("password must have at least 8 characters")
    changes: dict[str, Any] = {"token_version": User.token_version + 1}
    if role is not None:
        changes["role"] = role
    if active is not None:
        changes["is_active"] = active
    if password is not None:
        changes["password_hash"] = hash_password(password)
    with transaction(engine) as session:
        done = session.execute(
            update(User).where(User.email == normal_email(email)).values(**changes)
        )
        if done.rowcount == 0:  # type: ignore[attr-defined]
            raise AuthError(f"no user {normal_email(email)}")
        user = session.scalars(select(User).where(User.email == normal_email(email))).one()
        session.expunge(user)
    return user


def delete_user(engine: Engine, email: str) -> None:
    """Delete a user (their tokens stop working at their next request)."""
    with transaction(engine) as session:
        done = session.execute(delete(User).where(User.email == normal_email(email)))
        if done.rowcount == 0:  # type: ignore[attr-defined]
            raise AuthError(f"no user {normal_email(email)}")


def _key(secret: str, kind: str, value: str) -> str:
    """A throttle key: the kind and a keyed hash (no email or address is stored)."""
    digest = hmac.new(secret.encode(), f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()
    return f"{kind}:{digest}"


def _count(session: Session, key: str, now: dt.datetime) -> tuple[int, dt.datetime]:
    """One more attempt under `key`, atomically (INSERT … ON CONFLICT DO UPDATE … RETURNING
    on SQLite and PostgreSQL): the attempts in the current window, and when it started."""
    from sqlalchemy.dialects import postgresql, sqlite

    table = SignInThrottle.__table__
    dialect: Any = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    expired = table.c.window_start <= now - WINDOW
    statement = (
        dialect.insert(table)
        .values(key=key, attempts=1, window_start=now)
        .on_conflict_do_update(
            index_elements=["key"],
            set_={
                "attempts": case((expired, 1), else_=table.c.attempts + 1),
                "window_start": case((expired, now), else_=table.c.window_start),
            },
        )
        .returning(table.c.attempts, table.c.window_start)
    )
    attempts, start = session.execute(statement).one()
    return attempts, as_utc(start)


def _admit(session: Session, key: str, limit: int, now: dt.datetime) -> None:
    attempts, start = _count(session, key, now)
    if attempts > limit:
        raise Throttled(max(1, math.ceil((start + WINDOW - now).total_seconds())))


def issue_device(email: str, secret: str) -> str:
    """A device token for the client that just signed in to `email`'s account."""
    now = dt.datetime.now(dt.UTC)
    claims = {
        "aud": DEVICE_AUDIENCE,
        "sub": _key(secret, "a", normal_email(email)),
        "jti": secrets.token_urlsafe(12),
        "exp": now + dt.timedelta(days=DEVICE_DAYS),
    }
    return sign(claims, secret)


def _device_key(device: str | None, account: str, secret: str) -> str | None:
    """The throttle key of a trusted device, when `device` is a valid device token of this
    account; None otherwise (the attempt then counts as a stranger's)."""
    if not device:
        return None
    try:
        claims = jwt.decode(device, secret, algorithms=[ALGORITHM], audience=DEVICE_AUDIENCE)
    except jwt.InvalidTokenError:
        return None
    if claims.get("sub") != account or not isinstance(claims.get("jti"), str):
        return None
    return _key(secret, "d", claims["jti"])


def authenticate(
    engine: Engine,
    email: str,
    password: str,
    secret: str,
    client: str = "local",
    device: str | None = None,
    signed_in: bool = False,
) -> User:
    """The user for these credentials. Throttled (before any password is checked) when the
    client address, or the account from untrusted clients, or this trusted device, is past
    its limit; AuthError "wrong email or password" for an unknown email and a wrong password
    alike. The slow password hash runs outside any transaction. `signed_in`: the current
    password asked again of a signed-in user (a password change), counted on its own key, so
    that it never counts against the account's sign-ins."""
    now = dt.datetime.now(dt.UTC)
    account = _key(secret, "a", normal_email(email))
    own = _key(secret, "p", normal_email(email)) if signed_in else account
    guard = _device_key(device, account, secret) or own
    with transaction(engine) as session:  # client first, then account: one lock order
        _admit(session, _key(secret, "c", client), CLIENT_LIMIT, now)
        _admit(session, guard, DEVICE_LIMIT if guard not in (account, own) else ACCOUNT_LIMIT, now)
    with Session(engine) as session:
        user = session.scalar(select(User).where(User.email == normal_email(email)))
        if user is not None:
            session.expunge(user)
    if user is None or not user.is_active:
        verify_password(_DUMMY, password)  # the same work whether or not the email exists
        raise AuthError("wrong email or password")
    if not verify_password(user.password_hash, password):
        raise AuthError("wrong email or password")
    # a hash made with older parameters is redone (before the transaction: it takes 22 ms)
    redone = hash_password(password) if _hasher.check_needs_rehash(user.password_hash) else None
    with transaction(engine) as session:  # a success starts this key's count again
        session.execute(delete(SignInThrottle).where(SignInThrottle.key == guard))
        if redone is not None:
            session.execute(update(User).where(User.id == user.id).values(password_hash=redone))
    return user


def purge_throttles(engine: Engine, now: dt.datetime | None = None) -> int:
    """Delete the counts whose window is over (a new attempt would start them again anyway)
    and the revocations of tokens expired since; how many. The service runs it every minute:
    guesses at many emails leave many rows."""
    now = now or dt.datetime.now(dt.UTC)
    with transaction(engine) as session:
        done = session.execute(
            delete(SignInThrottle).where(SignInThrottle.window_start <= now - WINDOW)
        )
        gone = session.execute(delete(RevokedToken).where(RevokedToken.expires_at <= now))
    return int(done.rowcount) + int(gone.rowcount)  # type: ignore[attr-defined]


def set_device_cookie(response: Any, request: Request, email: str, secret: str) -> None:
    """The device cookie of a client that just signed in to `email`'s account (HttpOnly, a
    year): its later sign-ins are counted on their own (docs/SECURITY.md)."""
    response.set_cookie(
        DEVICE_COOKIE,
        issue_device(email, secret),
        max_age=DEVICE_DAYS * 86400,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def admit_registration(engine: Engine, secret: str, client: str) -> None:
    """Count a registration from `client`; Throttled past REGISTER_LIMIT in a window."""
    with transaction(engine) as session:
        _admit(session, _key(secret, "r", client), REGISTER_LIMIT, dt.datetime.now(dt.UTC))


def issue_token(user: User, secret: str, minutes: int) -> str:
    now = dt.datetime.now(dt.UTC)
    claims = {
        "sub": str(user.id),
        "email": user.email,
        "role": user.role,
        "ver": user.token_version,
        "jti": secrets.token_hex(12),  # this session's own id: a sign-out revokes it
        "iat": now,
        "exp": now + dt.timedelta(minutes=minutes),
    }
    return sign(claims, secret)


def revoke(engine: Engine, claims: dict[str, Any]) -> None:
    """End the session of a token at once (a sign-out): its id is refused until it expires."""
    jti, expires = claims.get("jti"), claims.get("exp")
    if not isinstance(jti, str) or not isinstance(expires, int | float):
        return  # a token of before: it ends with its expiry
    moment = dt.datetime.fromtimestamp(expires, dt.UTC)
    with transaction(engine) as session:
        insert_if_absent(
            session, RevokedToken.__table__, {"jti": jti, "expires_at": moment}, ["jti"]
        )


def decode_token(token: str, secret: str, audience: str | None = None) -> dict[str, Any]:
    """The token's claims; HTTP 401 when it is forged, malformed or expired, or when its
    audience is not `audience` (a token with an audience is refused where none is asked)."""
    required = ["exp", "aud", "sub"] if audience else ["exp"]
    try:
        return jwt.decode(
            token, secret, algorithms=[ALGORITHM], audience=audience, options={"require": required}
        )
    except jwt.ExpiredSignatureError:
        raise unauthorized("token expired") from None
    except jwt.InvalidTokenError:
        raise unauthorized("invalid token") from None


def unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": "Bearer"}
    )


async def optional_claims(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> dict[str, Any] | None:
    """The caller's claims when a token is sent (and valid, and not revoked), else None.

    Revocation is checked on every request: the user must still exist, be active and hold
    the token version the token was issued under (one primary-key read, in the thread pool).
    An anonymous request is answered on the event loop: no thread-pool hop for nothing."""
    if credentials is None:
        return None
    return await run_in_threadpool(_verified_claims, request, credentials)


def _verified_claims(request: Request, credentials: HTTPAuthorizationCredentials) -> dict[str, Any]:
    claims = decode_token(credentials.credentials, platform_of(request).jwt_secret)
    return verified_user(platform_of(request).engine, claims)


def verified_user(engine: Engine, claims: dict[str, Any]) -> dict[str, Any]:
    """`claims` when their user still exists, is active and holds the token's version (401
    otherwise): a bearer token and the web app's session cookie alike."""
    try:
        user_id = int(claims.get("sub", ""))
    except ValueError:
        raise unauthorized("invalid token") from None
    revoked = select(RevokedToken.jti).where(RevokedToken.jti == str(claims.get("jti")))
    with Session(engine) as session:
        found = session.execute(
            select(User.is_active, User.token_version, User.role, revoked.exists()).where(
                User.id == user_id
            )
        ).one_or_none()
    if found is None or not found.is_active or found.token_version != claims.get("ver"):
        raise unauthorized("token revoked: sign in again")
    if found[3]:
        raise unauthorized("signed out: sign in again")
    # the role as the user row has it now (a change made in the database counts at once)
    return {**claims, "role": found.role}


async def current_claims(
    claims: Annotated[dict[str, Any] | None, Depends(optional_claims)],
) -> dict[str, Any]:
    """The signed-in caller's claims; 401 without a token."""
    if claims is None:
        raise unauthorized("sign in: send Authorization: Bearer <token>")
    return claims


def require(*roles: str) -> Any:
    """A dependency admitting only callers whose role is one of `roles` (403 otherwise)."""

    async def check(
        claims: Annotated[dict[str, Any], Depends(current_claims)],
    ) -> dict[str, Any]:
        if claims.get("role") not in roles:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail=f"needs the role {' or '.join(roles)}; you are {claims.get('role')}",
            )
        return claims

    check.roles = roles  # type: ignore[attr-defined]  # read by serving.openapi (403)
    return Depends(check)
