"""People who sign in to the HTTP API."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, DateTime, String, func
from sqlalchemy.orm import Mapped, mapped_column

from warehouse.schema.base import ROLES, Base, one_of


class User(Base):
    """An API user; only a password hash (bcrypt or argon2) is ever stored."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint(one_of("role", ROLES), name="role_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16), default="viewer")
    is_active: Mapped[bool] = mapped_column(default=True)
    # Raised by every change that must end the user's sessions (role, deactivation, password):
    # a token carries the version it was issued under and is refused once they differ.
    token_version: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.current_timestamp()
    )


class SignInThrottle(Base):
    """Sign-in attempts counted under one key in a fixed 15-minute window: a keyed hash of an
    account's email (known or not), of a trusted device, or of a client address. Counted by one
    atomic upsert, so concurrent attempts cannot slip past the limit."""

    __tablename__ = "sign_in_throttles"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    attempts: Mapped[int] = mapped_column()
    window_start: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class RevokedToken(Base):
    """A signed-in session ended before its token expired (a sign-out): the token's id, kept
    until the token would have expired anyway, and refused on every request till then."""

    __tablename__ = "revoked_tokens"

    jti: Mapped[str] = mapped_column(String(32), primary_key=True)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
