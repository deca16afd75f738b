"""Issue 34 (8): behind the shipped proxy every user was one address (and lost the Secure
cookie). The service believes X-Forwarded-For and X-Forwarded-Proto from the configured proxies
only (F1_SERVICE_TRUSTED_PROXIES), taking the client as the last address in the chain that is
not one of them; from anyone else the headers are ignored. On SQLite and PostgreSQL."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from serving.app import create_app
from serving.auth import _key, create_user
from serving.settings import ServiceSettings
from warehouse.schema import SignInThrottle

SECRET = "s" * 40
PASSWORD = "correct horse battery"
CHAIN = {"X-Forwarded-For": "198.51.100.9, 203.0.113.7", "X-Forwarded-Proto": "https"}


def _client(engine: Engine, proxies: str) -> TestClient:
    url = engine.url.render_as_string(hide_password=False)
    settings = ServiceSettings(
        database_url=url, jwt_secret=SECRET, load_models=False, trusted_proxies=proxies
    )
    return TestClient(create_app(settings))  # its requests come from the host "testclient"


def _keys(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(connection.scalars(select(SignInThrottle.key)))


def _fail_sign_in(api: TestClient, headers: dict[str, str]) -> None:
    body = {"email": "someone@example.org", "password": "wrong password"}
    assert api.post("/api/v1/auth/login", json=body, headers=headers).status_code == 401


def test_the_client_address_comes_from_a_trusted_proxy_only(migrated: Engine) -> None:
    with _client(migrated, "testclient, 10.0.0.0/8") as api:
        _fail_sign_in(api, CHAIN)
    # the proxy's own entry (203.0.113.7) is the client: 198.51.100.9 could be anyone's claim
    assert _key(SECRET, "c", "203.0.113.7") in _keys(migrated)
    assert _key(SECRET, "c", "testclient") not in _keys(migrated)
    with _client(migrated, "") as api:  # no proxy configured: the headers are the client's
        _fail_sign_in(api, {"X-Forwarded-For": "192.0.2.1"})
    assert _key(SECRET, "c", "testclient") in _keys(migrated)
    assert _key(SECRET, "c", "192.0.2.1") not in _keys(migrated)


def _web_sign_in(api: TestClient, headers: dict[str, str]) -> Any:
    form = api.get("/signin", headers=headers)
    token = re.search(r'name="csrf" value="([0-9a-f]+)"', form.text)
    assert token is not None
    # the browser talks https to the proxy and sends the (Secure) CSRF cookie back; the test
    # client talks http to the service, so it is sent by hand
    seed = re.search(r"f1_csrf=([^;]+)", form.headers["set-cookie"])
    assert seed is not None
    body = {"email": "fan@example.org", "password": PASSWORD, "csrf": token.group(1)}
    api.cookies.clear()
    with_cookie = {**headers, "Cookie": f"f1_csrf={seed.group(1)}"}
    return api.post("/signin", data=body, headers=with_cookie, follow_redirects=False)


def test_the_session_cookie_is_secure_behind_a_trusted_https_proxy(migrated: Engine) -> None:
    create_user(migrated, "fan@example.org", PASSWORD, "viewer")
    with _client(migrated, "testclient") as api:
        signed = _web_sign_in(api, CHAIN)
        assert signed.status_code == 303
        cookies = signed.headers.get_list("set-cookie")
        assert cookies and all("secure" in c.lower() for c in cookies), cookies
    with _client(migrated, "") as api:  # the same claim from a client is not believed
        signed = _web_sign_in(api, {"X-Forwarded-Proto": "https"})
        assert signed.status_code == 303
        assert not any("secure" in c.lower() for c in signed.headers.get_list("set-cookie"))
