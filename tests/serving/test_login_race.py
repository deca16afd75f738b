"""Issue 18 (1): 40 sign-ins for one account at once, through a running server, on SQLite and
PostgreSQL: at most 5 guesses are evaluated, however many arrive together."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx
import pytest
from sqlalchemy import Engine, text

from serving.auth import MAX_FAILURES, create_user
from serving.settings import ServiceSettings
from tests.serving.test_voting import LiveServer

PASSWORD = "correct horse battery"


async def _burst(base: str, passwords: list[str]) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=len(passwords))
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:
        return await asyncio.gather(
            *(
                client.post(
                    "/api/v1/auth/login", json={"email": "owner@example.org", "password": p}
                )
                for p in passwords
            )
        )


def test_a_burst_of_wrong_guesses_gets_exactly_five_evaluated(migrated: Engine) -> None:
    create_user(migrated, "owner@example.org", PASSWORD, "admin")
    passwords = [f"guess-{i:02d}-wrong" for i in range(40)]
    url = migrated.url.render_as_string(hide_password=False)
    settings = ServiceSettings(database_url=url, jwt_secret="s" * 40, load_models=False)
    with LiveServer(settings) as base:
        answers = asyncio.run(_burst(base, passwords))
    codes = Counter(a.status_code for a in answers)
    assert codes == {401: MAX_FAILURES, 423: len(passwords) - MAX_FAILURES}, codes
    with migrated.connect() as connection:
        failed, locked = connection.execute(
            text("SELECT failed_logins, locked_until FROM users WHERE email = 'owner@example.org'")
        ).one()
    assert failed == 0 and locked is not None  # five wrong guesses: locked, the count restarts


@pytest.mark.parametrize("wrong", [3])
def test_guesses_one_at_a_time_still_lock_after_five(migrated: Engine, wrong: int) -> None:
    create_user(migrated, "owner@example.org", PASSWORD, "viewer")
    url = migrated.url.render_as_string(hide_password=False)
    settings = ServiceSettings(database_url=url, jwt_secret="s" * 40, load_models=False)
    with LiveServer(settings) as base, httpx.Client(base_url=base, timeout=60) as client:

        def login(password: str) -> int:
            body = {"email": "owner@example.org", "password": password}
            return client.post("/api/v1/auth/login", json=body).status_code

        assert [login("nope-nope") for _ in range(wrong)] == [401] * wrong
        assert login(PASSWORD) == 200  # a success starts the count again
        assert [login("nope-nope") for _ in range(MAX_FAILURES)] == [401] * MAX_FAILURES
        assert login(PASSWORD) == 423
