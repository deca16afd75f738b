"""Issue 34 (7): no stranger can lock an owner out. The web sign-in honours the browser's device
cookie as the API does (the owner's browser is counted on its own), a password change asks for
the current password on a count of its own (never the account's sign-ins), the CSRF seed is new
after a sign-in, and expired counts are purged. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, insert, select

from serving.app import create_app
from serving.auth import ACCOUNT_LIMIT, WINDOW, create_user, purge_throttles
from serving.settings import ServiceSettings
from warehouse.schema import SignInThrottle

OWNER, PASSWORD = "owner@example.org", "correct horse battery"


def _client(engine: Engine) -> TestClient:
    url = engine.url.render_as_string(hide_password=False)
    return TestClient(
        create_app(ServiceSettings(database_url=url, jwt_secret="s" * 40, load_models=False))
    )


def _csrf(browser: TestClient, page: str) -> str:
    token = re.search(r'name="csrf" value="([0-9a-f]+)"', browser.get(page).text)
    assert token is not None
    return token.group(1)


def _web_sign_in(browser: TestClient, password: str) -> Any:
    body = {"email": OWNER, "password": password, "csrf": _csrf(browser, "/signin")}
    return browser.post("/signin", data=body, follow_redirects=False)


def test_a_stranger_cannot_lock_the_owners_browser_out(migrated: Engine) -> None:
    create_user(migrated, OWNER, PASSWORD, "viewer")
    with _client(migrated) as owner, _client(migrated) as stranger:
        first = _web_sign_in(owner, PASSWORD)
        assert first.status_code == 303 and owner.cookies.get("f1_device")
        seed = owner.cookies.get("f1_csrf")
        owner.post("/signout", data={"csrf": re.search(  # type: ignore[union-attr]
            r'name="csrf" value="([0-9a-f]+)"', owner.get("/").text).group(1)})  # fmt: skip
        answers = [
            _web_sign_in(stranger, "wrong guess").status_code for _ in range(ACCOUNT_LIMIT + 1)
        ]
        assert answers == [401] * ACCOUNT_LIMIT + [429]  # the account is closed to strangers
        again = _web_sign_in(owner, PASSWORD)  # the owner's browser is counted on its own
        assert again.status_code == 303, again.text
        assert owner.cookies.get("f1_csrf") != seed  # a new CSRF seed after the sign-in


def test_a_password_change_does_not_count_against_sign_ins(migrated: Engine) -> None:
    create_user(migrated, OWNER, PASSWORD, "viewer")
    with _client(migrated) as api:
        login = api.post("/api/v1/auth/login", json={"email": OWNER, "password": PASSWORD})
        bearer = {"Authorization": f"Bearer {login.json()['access_token']}"}
        api.cookies.clear()  # no device cookie: the strictest case
        wrong = {"current": "not it", "new": "another good password"}
        codes = [
            api.post("/api/v1/auth/password", json=wrong, headers=bearer).status_code
            for _ in range(ACCOUNT_LIMIT + 1)
        ]
        assert codes == [401] * ACCOUNT_LIMIT + [429]  # its own limit
    with _client(migrated) as elsewhere:  # a new client: the account's count is untouched
        fresh = elsewhere.post("/api/v1/auth/login", json={"email": OWNER, "password": PASSWORD})
        assert fresh.status_code == 200


def test_expired_counts_are_purged(migrated: Engine) -> None:
    now = dt.datetime.now(dt.UTC)
    with migrated.begin() as connection:
        connection.execute(
            insert(SignInThrottle),
            [
                {"key": "c:old", "attempts": 3, "window_start": now - WINDOW - dt.timedelta(1)},
                {"key": "c:ending", "attempts": 3, "window_start": now - WINDOW},
                {"key": "c:live", "attempts": 3, "window_start": now - dt.timedelta(minutes=1)},
            ],
        )
    assert purge_throttles(migrated, now) == 2
    with migrated.connect() as connection:
        assert list(connection.scalars(select(SignInThrottle.key))) == ["c:live"]
        assert connection.scalar(select(func.count()).select_from(SignInThrottle)) == 1
