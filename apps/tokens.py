"""Signed tokens (JWT, HS256): what the service's sign-in and the voting app's voter sessions
carry."""

from __future__ import annotations

from typing import Any

import jwt

ALGORITHM = "HS256"


def sign(claims: dict[str, Any], secret: str) -> str:
    """A signed token carrying `claims` (which must hold `exp`)."""
    return jwt.encode(claims, secret, algorithm=ALGORITHM)
