"""The PTA voting app: `/api/v1/voting`. Admins (the API's admin users) build and run
elections; voters sign in with a one-time code mailed to them and get a token scoped to one
election."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from apps import voting
from serving.auth import decode_token, require, unauthorized
from serving.deps import BallotSecret, EngineDep, SessionRoute, platform_of
from serving.voting_models import (
    AuditOut,
    BallotIn,
    CandidateIn,
    CodeCheck,
    CodeRequest,
    Created,
    ElectionIn,
    ElectionOut,
    ElectionPatch,
    ElectionSummary,
    Id,
    ImportResult,
    OutboxOut,
    PositionIn,
    Receipt,
    ReceiptCheck,
    Results,
    Turnout,
    VoterToken,
)

router = APIRouter(route_class=SessionRoute, prefix="/voting", tags=["voting"])
Admin = Annotated[dict[str, Any], require("admin")]
_bearer = HTTPBearer(auto_error=False)
ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "no such election, position or candidate"},
    409: {"description": "not allowed in the election's state, or already voted"},
}


def _refuse(error: voting.VotingError) -> Exception:
    """The HTTP form of a refusal: 422s in FastAPI's validation shape, naming the field."""
    if isinstance(error, voting.Invalid):
        loc = error.field or ("body",)
        return RequestValidationError(
            [{"type": "value_error", "loc": loc, "msg": str(error), "input": None}]
        )
    headers = {
        401: {"WWW-Authenticate": "Bearer"},
        429: {"Retry-After": str(voting.CODE_WINDOW.seconds)},
    }.get(error.status)
    return HTTPException(error.status, str(error), headers=headers)


def _call(function: Any, *args: Any) -> Any:
    try:
        return function(*args)
    except voting.VotingError as error:
        raise _refuse(error) from None


def _actor(claims: dict[str, Any]) -> str:
    return str(claims.get("email") or f"user:{claims['sub']}")


def _mailer(request: Request) -> voting.Mailer:
    s = platform_of(request).settings
    return voting.Mailer(
        s.smtp_host, s.smtp_port, s.smtp_user, s.smtp_password, s.smtp_starttls, s.mail_from
    )


def voter(
    election_id: Id,
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> int:
    """The member id of a voter signed in to this election (401 otherwise: a user token, or
    another election's voting token, has the wrong audience)."""
    if credentials is None:
        raise unauthorized("sign in with a code first")
    secret = platform_of(request).jwt_secret
    claims = decode_token(credentials.credentials, secret, voting.audience(election_id))
    return int(claims["sub"])


voter.voter = True  # type: ignore[attr-defined]  # read by serving.openapi (401)
Voter = Annotated[int, Depends(voter)]

# ---------------------------------------------------------------- public


@router.get("/elections")
def list_elections(engine: EngineDep) -> list[ElectionSummary]:
    return [ElectionSummary(**e) for e in voting.list_elections(engine)]


@router.get("/elections/{election_id}", responses=ERRORS)
def get_election(engine: EngineDep, election_id: Id) -> ElectionOut:
    """The election, its positions and candidates."""
    return ElectionOut(**_call(voting.describe, engine, election_id))


@router.get("/elections/{election_id}/receipts/{receipt}", responses=ERRORS)
def check_receipt(
    request: Request,
    engine: EngineDep,
    election_id: Id,
    receipt: Annotated[str, Path(max_length=64)],
) -> ReceiptCheck:
    """Whether the ballot with this receipt was counted (and for which positions, not how),
    or is sealed in the box until the next release or the close (`sealed`)."""
    secret = platform_of(request).jwt_secret
    return ReceiptCheck(**voting.check_receipt(engine, election_id, receipt, secret))


# ---------------------------------------------------------------- voters


@router.post(
    "/elections/{election_id}/sign-in/request",
    status_code=status.HTTP_202_ACCEPTED,
    responses={
        **ERRORS,
        429: {"description": "too many codes asked for"},
        503: {"description": "the mail server did not take the code"},
    },
)
def request_code(
    request: Request, engine: EngineDep, election_id: Id, body: CodeRequest
) -> dict[str, str]:
    """Mail a 6-digit code (valid 10 minutes) to a member of the electorate. The answer is
    the same whether or not the email is on the roll."""
    _call(
        voting.request_code,
        engine,
        platform_of(request).jwt_secret,
        _mailer(request),
        election_id,
        body.email,
        request.client.host if request.client else "unknown",
    )
    return {"detail": "if this email is on the electorate, a code is on its way"}


@router.post(
    "/elections/{election_id}/sign-in/verify",
    responses={**ERRORS, 401: {"description": "wrong, expired or used-up code"}},
)
def verify_code(
    request: Request, engine: EngineDep, election_id: Id, body: CodeCheck
) -> VoterToken:
    """A voting session for this election (at most 5 tries per code)."""
    token = _call(
        voting.verify_code,
        engine,
        platform_of(request).jwt_secret,
        election_id,
        body.email,
        body.code,
    )
    return VoterToken(
        access_token=token, expires_in=voting.SESSION_MINUTES * 60, election_id=election_id
    )


@router.get("/elections/{election_id}/ballot", responses=ERRORS)
def get_ballot(engine: EngineDep, election_id: Id, member: Voter) -> ElectionOut:
    """The ballot: positions, candidates, and which positions this voter has voted for."""
    return ElectionOut(**_call(voting.ballot, engine, election_id, member))


@router.post(
    "/elections/{election_id}/ballot", status_code=status.HTTP_201_CREATED, responses=ERRORS
)
def cast_ballot(
    engine: EngineDep, election_id: Id, member: Voter, body: BallotIn, secret: BallotSecret
) -> Receipt:
    """Vote: one candidate per position, once per position. Keep the receipt to check the
    ballot was counted (it is sealed until released among at least 9 others, or the close)."""
    choices = [(c.position_id, c.candidate_id) for c in body.choices]
    return Receipt(**_call(voting.cast, engine, election_id, member, choices, secret))


# ---------------------------------------------------------------- admins


@router.post("/elections", status_code=status.HTTP_201_CREATED)
def create_election(engine: EngineDep, claims: Admin, body: ElectionIn) -> Created:
    """A draft election, with positions and candidates if given."""
    positions = [p.model_dump(mode="json") for p in body.positions]
    return Created(
        id=_call(
            voting.create_election, engine, _actor(claims), body.title, body.description, positions
        )
    )


@router.patch("/elections/{election_id}", responses=ERRORS)
def edit_election(
    engine: EngineDep, claims: Admin, election_id: Id, body: ElectionPatch
) -> ElectionOut:
    changes = {k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None}
    _call(voting.edit_election, engine, _actor(claims), election_id, changes)
    return ElectionOut(**voting.describe(engine, election_id))


@router.post(
    "/elections/{election_id}/positions", status_code=status.HTTP_201_CREATED, responses=ERRORS
)
def add_position(engine: EngineDep, claims: Admin, election_id: Id, body: PositionIn) -> Created:
    candidates = [c.model_dump(mode="json") for c in body.candidates]
    actor = _actor(claims)
    return Created(
        id=_call(voting.add_position, engine, actor, election_id, body.title, candidates)
    )


@router.post(
    "/elections/{election_id}/positions/{position_id}/candidates",
    status_code=status.HTTP_201_CREATED,
    responses=ERRORS,
)
def add_candidate(
    engine: EngineDep, claims: Admin, election_id: Id, position_id: Id, body: CandidateIn
) -> Created:
    return Created(
        id=_call(
            voting.add_candidate,
            engine,
            _actor(claims),
            election_id,
            position_id,
            body.model_dump(mode="json"),
        )
    )


@router.delete(
    "/elections/{election_id}/candidates/{candidate_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=ERRORS,
)
def remove_candidate(
    engine: EngineDep, claims: Admin, election_id: Id, candidate_id: Id
) -> Response:
    _call(voting.remove_candidate, engine, _actor(claims), election_id, candidate_id)
    return Response(status_code=204)


@router.post(
    "/elections/{election_id}/members",
    responses={**ERRORS, 422: {"description": "a line of the CSV is not valid"}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {
                    "schema": {"type": "string"},
                    "example": "email,name\nana@example.org,Ana Lima\n",
                }
            },
        }
    },
)
async def import_members(
    request: Request, engine: EngineDep, claims: Admin, election_id: Id
) -> ImportResult:
    """Add the electorate from a CSV body (`email` column, optional `name`); all or nothing."""
    raw = await request.body()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _refuse(voting.Invalid("the CSV must be UTF-8", ("body",))) from None
    try:
        counts = await run_in_threadpool(
            voting.import_members, engine, _actor(claims), election_id, text
        )
    except voting.VotingError as error:
        raise _refuse(error) from None
    return ImportResult(**counts)


@router.post("/elections/{election_id}/open", responses=ERRORS)
def open_election(engine: EngineDep, claims: Admin, election_id: Id) -> ElectionOut:
    _call(voting.set_status, engine, _actor(claims), election_id, "open")
    return ElectionOut(**voting.describe(engine, election_id))


@router.post("/elections/{election_id}/close", responses=ERRORS)
def close_election(
    request: Request, engine: EngineDep, claims: Admin, election_id: Id
) -> ElectionOut:
    """Close voting; the ballots still sealed are released and counted."""
    secret = platform_of(request).settings.jwt_secret
    _call(voting.set_status, engine, _actor(claims), election_id, "closed", secret)
    return ElectionOut(**voting.describe(engine, election_id))


@router.get("/elections/{election_id}/turnout", responses=ERRORS)
def turnout(engine: EngineDep, claims: Admin, election_id: Id) -> Turnout:
    return Turnout(**_call(voting.turnout, engine, election_id))


@router.get("/elections/{election_id}/results", responses=ERRORS)
def results(engine: EngineDep, claims: Admin, election_id: Id) -> Results:
    """Votes per candidate, winners and ties (once the election is closed)."""
    return Results(**_call(voting.results, engine, _actor(claims), election_id))


@router.get(
    "/elections/{election_id}/results.csv", responses={**ERRORS, 200: {"content": {"text/csv": {}}}}
)
def results_csv(engine: EngineDep, claims: Admin, election_id: Id) -> Response:
    result = _call(voting.results, engine, _actor(claims), election_id)
    return Response(
        voting.results_csv(result),
        media_type="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="election-{election_id}-results.csv"'
        },
    )


@router.get("/elections/{election_id}/audit", responses=ERRORS)
def audit(engine: EngineDep, claims: Admin, election_id: Id) -> list[AuditOut]:
    """Every admin action on this election, oldest first (append-only)."""
    return [AuditOut(**e) for e in voting.audit_log(engine, election_id)]


@router.get("/outbox")
def outbox(
    request: Request, engine: EngineDep, claims: Admin, to: str | None = None
) -> list[OutboxOut]:
    """Mail that was not sent because no SMTP server is configured (development)."""
    if platform_of(request).settings.smtp_host:
        raise HTTPException(404, "mail goes out by SMTP: there is no outbox")
    return [OutboxOut(**m) for m in voting.outbox(engine, _actor(claims), to)]
