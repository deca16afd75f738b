"""Signing in and out of the web app: the form, the session cookie, revocation."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from serving.auth import (
    DEVICE_COOKIE,
    AuthError,
    Throttled,
    authenticate,
    issue_token,
    revoke,
    set_device_cookie,
)
from serving.deps import platform_of
from serving.web.session import (
    check_csrf,
    render,
    renew_csrf,
    sign_in_cookie,
    sign_out_cookie,
    web_claims,
)

router = APIRouter(include_in_schema=False)
Claims = Annotated[dict[str, Any] | None, Depends(web_claims)]


@router.get("/signin", response_class=HTMLResponse)
def signin_form(request: Request, claims: Claims, next: str = "/") -> HTMLResponse:  # noqa: A002
    return render(request, "signin.html", {"next": _local(next), "error": None}, claims)


def _local(target: str) -> str:
    """Only a path on this site (no open redirect)."""
    # "//host" and "/\\host" are other sites to a browser
    local = target.startswith("/") and not target.startswith(("//", "/\\"))
    return target if local and "\n" not in target and "\r" not in target else "/"


@router.post("/signin", response_class=HTMLResponse)
def signin(
    request: Request,
    claims: Claims,
    email: Annotated[str, Form(max_length=254)],
    password: Annotated[str, Form(max_length=1024)],
    csrf: Annotated[str, Form(max_length=128)] = "",
    next: Annotated[str, Form(max_length=512)] = "/",  # noqa: A002
) -> Response:
    check_csrf(request, csrf or None)
    secret = platform_of(request).jwt_secret
    client = request.client.host if request.client else "unknown"
    device = request.cookies.get(DEVICE_COOKIE)  # this browser's own count, if it has one
    try:
        user = authenticate(platform_of(request).engine, email, password, secret, client, device)
    except Throttled as error:
        context = {"next": _local(next), "error": str(error), "email": email}
        return render(request, "signin.html", context, None, status=429)
    except AuthError as error:
        context = {"next": _local(next), "error": str(error), "email": email}
        return render(request, "signin.html", context, None, status=401)
    minutes = platform_of(request).settings.token_minutes
    response = RedirectResponse(_local(next), status_code=303)
    sign_in_cookie(response, request, issue_token(user, secret, minutes), minutes)
    set_device_cookie(response, request, user.email, secret)
    renew_csrf(response, request)  # a seed planted before the sign-in does not outlive it
    return response


@router.post("/signout")
def signout(
    request: Request, claims: Claims, csrf: Annotated[str, Form(max_length=128)] = ""
) -> Response:
    """Sign out: the session's token is revoked (as a bearer it stops working too)."""
    check_csrf(request, csrf or None)
    if claims is not None:
        revoke(platform_of(request).engine, claims)
    response = RedirectResponse("/", status_code=303)
    sign_out_cookie(response, request)
    return response
