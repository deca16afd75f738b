"""PTA voting in the browser: elections, a voter's sign-in with the emailed code, the ballot and
the receipt check; for admins, creating an election, uploading the electorate CSV, opening and
closing it, live turnout, the results and the audit log.

A voter's session is the voting API's token for that election, kept in an HttpOnly,
SameSite=Lax cookie scoped to the election's pages."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from apps import voting
from serving.auth import decode_token
from serving.deps import BallotSecret, platform_of
from serving.web.session import PostedForm, need_role, render, secure, web_claims

router = APIRouter(include_in_schema=False, prefix="/voting")
Claims = Annotated[dict[str, Any] | None, Depends(web_claims)]
MAX_ID = 2**31 - 1
Id = Annotated[int, Path(ge=1, le=MAX_ID)]


def _voter_cookie(election_id: int) -> str:
    return f"f1_voter_{election_id}"


def _member(request: Request, election_id: int) -> int | None:
    """The signed-in voter of this election (None without a valid voting session)."""
    token = request.cookies.get(_voter_cookie(election_id))
    if not token:
        return None
    try:
        claims = decode_token(token, platform_of(request).jwt_secret, voting.audience(election_id))
    except HTTPException:
        return None
    return int(claims["sub"])


def _actor(claims: dict[str, Any]) -> str:
    return f"user:{claims['sub']}"


def _mailer(request: Request) -> voting.Mailer:
    s = platform_of(request).settings
    return voting.Mailer(
        s.smtp_host, s.smtp_port, s.smtp_user, s.smtp_password, s.smtp_starttls, s.mail_from
    )


def _is_admin(claims: dict[str, Any] | None) -> bool:
    return claims is not None and claims.get("role") == "admin"


@router.get("", response_class=HTMLResponse)
def elections(request: Request, claims: Claims) -> HTMLResponse:
    listed = voting.list_elections(platform_of(request).engine)
    return render(
        request,
        "voting.html",
        {"elections": listed, "is_admin": _is_admin(claims), "error": None, "values": {}},
        claims,
    )


@router.post("", response_class=HTMLResponse)
def create(request: Request, claims: Claims, form: PostedForm) -> Response:
    """A draft election from the admin's form: a position per line, `Title: A, B, C`."""
    claims = need_role(claims, "admin")
    title = str(form.get("title") or "").strip()
    description = str(form.get("description") or "").strip()
    lines = [x.strip() for x in str(form.get("positions") or "").splitlines() if x.strip()]
    positions, error = [], None
    for n, line in enumerate(lines, start=1):
        name, _, people = line.partition(":")
        candidates = [{"name": c.strip(), "bio": "", "photo_url": None}
                      for c in people.split(",") if c.strip()]  # fmt: skip
        if not name.strip():
            error = f"positions, line {n}: write it as 'Treasurer: Ann, Bob'"
        positions.append({"title": name.strip(), "candidates": candidates})
    if not title:
        error = "the election needs a title"
    if error is None:
        try:
            made = voting.create_election(
                platform_of(request).engine, _actor(claims), title, description, positions
            )
        except voting.VotingError as failure:
            error = str(failure)
        else:
            return RedirectResponse(f"/voting/{made}", status_code=303)
    listed = voting.list_elections(platform_of(request).engine)
    values = {"title": title, "description": description, "positions": "\n".join(lines)}
    context = {"elections": listed, "is_admin": True, "error": error, "values": values}
    return render(request, "voting.html", context, claims, status=422)


def _election_page(
    request: Request,
    claims: dict[str, Any] | None,
    election_id: int,
    notice: str | None = None,
    error: str | None = None,
    status: int = 200,
    receipt: dict[str, Any] | None = None,
    email: str = "",
) -> HTMLResponse:
    engine = platform_of(request).engine
    try:
        election = voting.describe(engine, election_id)
    except voting.NotFound as missing:
        raise HTTPException(404, str(missing)) from None
    admin = _is_admin(claims)
    context: dict[str, Any] = {
        "election": election,
        "is_admin": admin,
        "member": _member(request, election_id),
        "notice": notice,
        "error": error,
        "receipt": receipt,
        "email": email,
    }
    if admin and claims is not None:
        context["turnout"] = voting.turnout(engine, election_id)
        if election["status"] == "closed":  # reading them is audited: before the log
            context["results"] = voting.results(engine, _actor(claims), election_id)
        context["audit"] = voting.audit_log(engine, election_id)[-50:]
    return render(request, "election.html", context, claims, status=status)


@router.get("/{election_id}", response_class=HTMLResponse)
def election(request: Request, claims: Claims, election_id: Id) -> HTMLResponse:
    return _election_page(request, claims, election_id)


@router.get("/{election_id}/turnout", response_class=HTMLResponse)
def turnout(request: Request, claims: Claims, election_id: Id) -> HTMLResponse:
    """The live turnout fragment (htmx polls it on the admin's page)."""
    need_role(claims, "admin")
    counted = voting.turnout(platform_of(request).engine, election_id)
    return render(request, "_turnout.html", {"turnout": counted}, claims)


@router.get("/{election_id}/receipt", response_class=HTMLResponse)
def receipt(request: Request, claims: Claims, election_id: Id, receipt: str = "") -> HTMLResponse:
    checked = voting.check_receipt(
        platform_of(request).engine, election_id, receipt[:64], platform_of(request).jwt_secret
    )
    return _election_page(request, claims, election_id, receipt=checked)


@router.post("/{election_id}/code", response_class=HTMLResponse)
def request_code(
    request: Request, claims: Claims, form: PostedForm, election_id: Id
) -> HTMLResponse:
    email = str(form.get("email") or "").strip()
    try:
        voting.request_code(
            platform_of(request).engine, platform_of(request).jwt_secret, _mailer(request),
            election_id, email, request.client.host if request.client else "unknown",
        )  # fmt: skip
    except voting.VotingError as error:
        return _election_page(
            request, claims, election_id, error=str(error), status=error.status, email=email
        )
    notice = "If this email is on the electorate, a 6-digit code is on its way (10 minutes)."
    return _election_page(request, claims, election_id, notice=notice, email=email)


@router.post("/{election_id}/verify", response_class=HTMLResponse)
def verify(request: Request, claims: Claims, form: PostedForm, election_id: Id) -> Response:
    email = str(form.get("email") or "").strip()
    code = str(form.get("code") or "").strip()
    try:
        token = voting.verify_code(
            platform_of(request).engine, platform_of(request).jwt_secret, election_id, email, code
        )
    except voting.VotingError as error:
        return _election_page(
            request, claims, election_id, error=str(error), status=error.status, email=email
        )
    response = RedirectResponse(f"/voting/{election_id}/ballot", status_code=303)
    response.set_cookie(
        _voter_cookie(election_id), token, max_age=voting.SESSION_MINUTES * 60,
        path=f"/voting/{election_id}", httponly=True, samesite="lax", secure=secure(request),
    )  # fmt: skip
    return response


@router.get("/{election_id}/ballot", response_class=HTMLResponse)
def ballot(request: Request, claims: Claims, election_id: Id) -> Response:
    member = _member(request, election_id)
    if member is None:
        return RedirectResponse(f"/voting/{election_id}", status_code=303)
    try:
        paper = voting.ballot(platform_of(request).engine, election_id, member)
    except voting.VotingError as error:
        raise HTTPException(error.status, str(error)) from None
    return render(request, "ballot.html", {"election": paper, "error": None}, claims)


@router.post("/{election_id}/ballot", response_class=HTMLResponse)
def cast(
    request: Request, claims: Claims, form: PostedForm, election_id: Id, secret: BallotSecret
) -> Response:
    member = _member(request, election_id)
    if member is None:
        return RedirectResponse(f"/voting/{election_id}", status_code=303)
    choices = []
    for key, value in form.multi_items():
        if key.startswith("position-") and str(value):
            try:
                pair = (int(key.removeprefix("position-")), int(str(value)))
            except ValueError:
                raise HTTPException(422, f"{key}: not a candidate") from None
            if not all(1 <= n <= MAX_ID for n in pair):  # beyond any id the database holds
                raise HTTPException(422, f"{key}: no such position or candidate")
            choices.append(pair)
    engine = platform_of(request).engine
    try:
        if not choices:
            raise voting.Invalid("choose a candidate for at least one position", ("body",))
        cast_ = voting.cast(engine, election_id, member, choices, secret)
    except voting.VotingError as error:
        paper = voting.ballot(engine, election_id, member)
        context = {"election": paper, "error": str(error)}
        return render(request, "ballot.html", context, claims, status=error.status)
    return render(request, "voted.html", {"receipt": cast_, "election_id": election_id}, claims)


@router.post("/{election_id}/electorate", response_class=HTMLResponse)
def electorate(request: Request, claims: Claims, form: PostedForm, election_id: Id) -> HTMLResponse:
    claims = need_role(claims, "admin")
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        return _election_page(request, claims, election_id, error="choose a CSV file", status=422)
    try:
        text = upload.file.read().decode("utf-8")
        added = voting.import_members(
            platform_of(request).engine, _actor(claims), election_id, text
        )
    except UnicodeDecodeError:
        return _election_page(
            request, claims, election_id, error="the CSV must be UTF-8", status=422
        )
    except voting.VotingError as error:
        return _election_page(request, claims, election_id, error=str(error), status=error.status)
    notice = ", ".join(f"{k}: {v}" for k, v in added.items())
    return _election_page(request, claims, election_id, notice=f"Electorate uploaded ({notice}).")


@router.post("/{election_id}/{action}", response_class=HTMLResponse)
def open_or_close(
    request: Request, claims: Claims, form: PostedForm, election_id: Id, action: str
) -> Response:
    claims = need_role(claims, "admin")
    target = {"open": "open", "close": "closed"}.get(action)
    if target is None:
        raise HTTPException(404, f"no election action {action!r}: open or close")
    try:
        secret = platform_of(request).settings.jwt_secret
        voting.set_status(platform_of(request).engine, _actor(claims), election_id, target, secret)
    except voting.VotingError as error:
        return _election_page(request, claims, election_id, error=str(error), status=error.status)
    return RedirectResponse(f"/voting/{election_id}", status_code=303)
