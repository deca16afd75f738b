"""The browser's sign-in and the pages' shared plumbing.

The web app signs in the API's users: the sign-in form checks the password as `POST
/auth/login` does (same throttles) and sets the same signed token in an HttpOnly, SameSite=Lax
cookie (Secure under HTTPS); every request checks it as a bearer token is checked (still
active, same token version). The JSON API keeps bearer tokens and ignores the cookie.

Every form and every htmx request carries a CSRF token: an HMAC of a random per-browser
cookie, put in the form (or the `X-CSRF-Token` header) by the page; a post without the right
one is a 403."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.datastructures import FormData

from serving.auth import decode_token, unauthorized, verified_user
from serving.deps import platform_of

HERE = Path(__file__).resolve().parents[1]
SESSION_COOKIE = "f1_session"
CSRF_COOKIE = "f1_csrf"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"

templates = Jinja2Templates(directory=HERE / "templates")
templates.env.globals["csrf_field"] = CSRF_FIELD
templates.env.globals["stage_title"] = lambda name: _stage_titles().get(name, name)
templates.env.globals["team_name"] = lambda request, ref: team_names(request).get(ref, ref)
TEAM_NAMES_KEPT_S = 300.0
_team_names: dict[str, tuple[float, dict[str, str]]] = {}
_team_names_lock = threading.Lock()


def _stage_titles() -> dict[str, str]:
    from spec import STAGES

    return {stage.name: stage.title for stage in STAGES}


def team_names(request: Request) -> dict[str, str]:
    """Every team's name by its id (`red_bull` → Red Bull) in the service's warehouse, read
    at most every TEAM_NAMES_KEPT_S (a team added by an ingest shows its id until then)."""
    from warehouse.queries import team_names as read_team_names

    engine = platform_of(request).engine
    key = engine.url.render_as_string(hide_password=True)
    with _team_names_lock:
        kept = _team_names.get(key)
    if kept is not None and time.monotonic() - kept[0] < TEAM_NAMES_KEPT_S:
        return kept[1]
    with engine.connect() as connection:
        names = read_team_names(connection)
    with _team_names_lock:
        _team_names[key] = (time.monotonic(), names)
    return names


def secure(request: Request) -> bool:
    return request.url.scheme == "https"


async def web_claims(request: Request) -> dict[str, Any] | None:
    """The signed-in user's claims from the session cookie (None when absent, expired or
    revoked: the page is shown signed out)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    secret = platform_of(request).jwt_secret
    try:
        claims = decode_token(token, secret)
        return await run_in_threadpool(verified_user, platform_of(request).engine, claims)
    except HTTPException:
        return None


def _csrf_for(request: Request, seed: str) -> str:
    secret = platform_of(request).jwt_secret.encode()
    return hmac.new(secret, f"csrf:{seed}".encode(), hashlib.sha256).hexdigest()


def csrf_seed(request: Request) -> tuple[str, bool]:
    """This browser's CSRF seed, and whether it is new (to be set as a cookie)."""
    seed = request.cookies.get(CSRF_COOKIE)
    if seed and 16 <= len(seed) <= 64:
        return seed, False
    return secrets.token_urlsafe(24), True


def check_csrf(request: Request, sent: str | None) -> None:
    """403 unless `sent` (the form field or the htmx header) matches this browser's seed."""
    sent = sent or request.headers.get(CSRF_HEADER)
    seed = request.cookies.get(CSRF_COOKIE)
    if not seed or not sent or not hmac.compare_digest(sent, _csrf_for(request, seed)):
        raise HTTPException(403, "the form has expired or did not come from this site: reload")


async def checked_form(request: Request) -> FormData:
    """The posted form, its CSRF token checked (403 otherwise). A dependency: read on the event
    loop, so that the page itself can be a plain function run in a thread (its database work
    never holds the loop)."""
    form = await request.form()
    check_csrf(request, str(form.get(CSRF_FIELD) or "") or None)
    return form


PostedForm = Annotated[FormData, Depends(checked_form)]


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    claims: dict[str, Any] | None,
    status: int = 200,
) -> HTMLResponse:
    """A page: the template with the signed-in user, the CSRF token and the other UIs' links."""
    seed, new = csrf_seed(request)
    settings = platform_of(request).settings
    links = {
        "Airflow": settings.airflow_url,
        "MLflow": settings.mlflow_url,
        "Grafana": settings.grafana_url,
    }
    response = templates.TemplateResponse(
        request,
        template,
        {
            **context,
            "user": claims,
            "csrf": _csrf_for(request, seed),
            "links": {name: url for name, url in links.items() if url},
        },
        status_code=status,
    )
    if new:
        response.set_cookie(
            CSRF_COOKIE, seed, path="/", httponly=True, samesite="lax", secure=secure(request)
        )
    return response


def sign_in_cookie(response: Response, request: Request, token: str, minutes: int) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=minutes * 60,
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure(request),
    )


def renew_csrf(response: Response, request: Request) -> None:
    """A new CSRF seed for this browser (at sign-in: one set by someone else before does not
    carry over into the signed-in session)."""
    response.set_cookie(
        CSRF_COOKIE,
        secrets.token_urlsafe(24),
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure(request),
    )


def sign_out_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=secure(request)
    )


def need_role(claims: dict[str, Any] | None, *roles: str) -> dict[str, Any]:
    """The claims when the user holds one of `roles` (401 signed out, 403 otherwise)."""
    if claims is None:
        raise unauthorized("sign in first")
    if roles and claims.get("role") not in roles:
        raise HTTPException(403, f"this needs the {' or '.join(roles)} role")
    return claims
