"""The PTA voting app end to end on SQLite and PostgreSQL: real tokens, real mail (the outbox,
and a real SMTP server on 127.0.0.1), real concurrency on PostgreSQL through a real server."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import random
import re
import socket
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, inspect, select, text, update
from sqlalchemy.exc import DBAPIError

from apps.voting import CODES_PER_ADDRESS, CODES_PER_WINDOW, MAX_ATTEMPTS
from serving.app import create_app
from serving.auth import create_user
from serving.settings import ServiceSettings
from tests.servers.asgi import AsgiServer
from warehouse.schema import (
    Ballot,
    BallotChoice,
    Participation,
    SealedBallot,
    SignInCode,
    SignInRequest,
)

SECRET = "v" * 48
ADMIN_EMAIL, PASSWORD = "chair@school.example", "correct horse battery"
V = "/api/v1/voting"


def _settings(engine: Any, **extra: Any) -> ServiceSettings:
    url = engine.url.render_as_string(hide_password=False)
    return ServiceSettings(database_url=url, jwt_secret=SECRET, load_models=False, **extra)


@contextmanager
def voting_client(migrated: Any) -> Iterator[TestClient]:
    """The service on `migrated`, with an admin signed in (`client.admin`: their headers)."""
    create_user(migrated, ADMIN_EMAIL, PASSWORD, "admin")
    with TestClient(create_app(_settings(migrated))) as client:
        login = {"email": ADMIN_EMAIL, "password": PASSWORD}
        token = client.post("/api/v1/auth/login", json=login).json()["access_token"]
        client.admin = {"Authorization": f"Bearer {token}"}  # type: ignore[attr-defined]
        client.engine = migrated  # type: ignore[attr-defined]
        yield client


@pytest.fixture
def api(migrated) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with voting_client(migrated) as client:
        yield client


def _election(api: Any, voters: int = 3, open_it: bool = True) -> dict[str, Any]:
    body = {
        "title": "PTA officers 2026",
        "positions": [
            {"title": "President", "candidates": [{"name": "Ana Lima"}, {"name": "Bruno Costa"}]},
            {"title": "Treasurer", "candidates": [{"name": "Carla Dias"}, {"name": "Dan Reis"}]},
        ],
    }
    created = api.post(f"{V}/elections", json=body, headers=api.admin)
    assert created.status_code == 201, created.text
    election_id = created.json()["id"]
    roll = "email,name\n" + "".join(f"Parent{i}@Example.org,Parent {i}\n" for i in range(voters))
    imported = api.post(
        f"{V}/elections/{election_id}/members",
        content=roll,
        headers={**api.admin, "Content-Type": "text/csv"},
    )
    assert imported.json() == {"added": voters, "already": 0}
    if open_it:
        assert api.post(f"{V}/elections/{election_id}/open", headers=api.admin).status_code == 200
    detail = api.get(f"{V}/elections/{election_id}").json()
    ids = {
        p["title"]: (p["id"], {c["name"]: c["id"] for c in p["candidates"]})
        for p in detail["positions"]
    }
    return {"id": election_id, "positions": ids}


def _code(api: Any, email: str) -> str:
    mail = api.get(f"{V}/outbox", params={"to": email}, headers=api.admin).json()
    return re.search(r"\b(\d{6})\b", mail[0]["body"]).group(1)  # type: ignore[union-attr]


def _sign_in(api: Any, election_id: int, email: str) -> dict[str, str]:
    asked = api.post(f"{V}/elections/{election_id}/sign-in/request", json={"email": email})
    assert asked.status_code == 202, asked.text
    check = {"email": email, "code": _code(api, email.lower())}
    answer = api.post(f"{V}/elections/{election_id}/sign-in/verify", json=check)
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def test_lifecycle_and_draft_only_edits(api: Any) -> None:
    e = _election(api, open_it=False)
    path = f"{V}/elections/{e['id']}"
    bad_roll = "email,name\nok@example.org,Ok\nnot-an-email,Bad\n,Empty\n"
    refused = api.post(
        f"{path}/members", content=bad_roll, headers={**api.admin, "Content-Type": "text/csv"}
    )
    assert refused.status_code == 422
    assert (
        "line 3" in refused.json()["detail"][0]["msg"]
        and "line 4" in refused.json()["detail"][0]["msg"]
    )
    again = api.post(
        f"{path}/members",
        content="email\nparent0@example.org\nnew@example.org\n",
        headers={**api.admin, "Content-Type": "text/csv"},
    )
    assert again.json() == {"added": 1, "already": 1}  # the bad file added nothing
    assert (
        api.patch(path, json={"title": "PTA officers 2026/27"}, headers=api.admin).json()["title"]
        == "PTA officers 2026/27"
    )
    secretary = api.post(
        f"{path}/positions",
        json={"title": "Secretary", "candidates": [{"name": "Eva"}]},
        headers=api.admin,
    )
    assert secretary.status_code == 201
    assert (
        api.post(f"{path}/positions", json={"title": "Secretary"}, headers=api.admin).status_code
        == 409
    )
    assert api.get(f"{path}/results", headers=api.admin).status_code == 409  # not closed
    assert api.post(f"{path}/close", headers=api.admin).status_code == 409  # draft → closed
    assert api.post(f"{path}/open", headers=api.admin).json()["status"] == "open"
    for method, url, body in [
        ("patch", path, {"title": "x"}),
        ("post", f"{path}/positions", {"title": "Chair"}),
        ("post", f"{path}/positions/{secretary.json()['id']}/candidates", {"name": "Late"}),
    ]:
        answer = getattr(api, method)(url, json=body, headers=api.admin)
        assert answer.status_code == 409 and "only a draft" in answer.json()["detail"]
    assert api.post(f"{path}/open", headers=api.admin).status_code == 409
    assert api.get(f"{path}/results", headers=api.admin).status_code == 409  # open
    assert api.post(f"{path}/close", headers=api.admin).json()["status"] == "closed"
    assert api.get(f"{path}/results", headers=api.admin).status_code == 200
    assert api.post(f"{V}/elections", json={"title": "x"}).status_code == 401
    actions = [a["action"] for a in api.get(f"{path}/audit", headers=api.admin).json()]
    assert actions == [
        "create",
        "import_members",
        "import_members",
        "edit",
        "add_position",
        "add_candidate",
        "open",
        "closed",
        "results",
    ]


def test_audit_log_is_append_only(api: Any) -> None:
    _election(api)
    for statement in (
        "UPDATE election_audit_log SET actor = 'someone else'",
        "DELETE FROM election_audit_log",
    ):
        with pytest.raises(DBAPIError, match="append-only"), api.engine.begin() as connection:
            connection.execute(text(statement))
    with api.engine.connect() as connection:
        assert (
            connection.scalar(
                text("SELECT count(*) FROM election_audit_log WHERE actor = :a"), {"a": ADMIN_EMAIL}
            )
            == 3
        )


def test_sign_in_codes(api: Any) -> None:
    e = _election(api)
    request = f"{V}/elections/{e['id']}/sign-in/request"
    verify = f"{V}/elections/{e['id']}/sign-in/verify"
    email = "parent0@example.org"
    assert api.post(request, json={"email": "stranger@example.org"}).status_code == 202
    assert (
        api.get(f"{V}/outbox", params={"to": "stranger@example.org"}, headers=api.admin).json()
        == []
    )
    assert api.post(request, json={"email": email}).status_code == 202
    code = _code(api, email)
    with api.engine.connect() as connection:
        stored = connection.execute(select(SignInCode.code_hash, SignInCode.expires_at)).one()
    assert code not in stored[0] and len(stored[0]) == 64  # only a keyed hash is kept
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for left in (4, 3, 2, 1, 0):
        answer = api.post(verify, json={"email": email, "code": wrong})
        assert answer.status_code == 401 and f"{left} attempt" in answer.json()["detail"]
    refused = api.post(verify, json={"email": email, "code": code})
    assert refused.status_code == 401 and "5 wrong attempts" in refused.json()["detail"]
    assert api.post(request, json={"email": email}).status_code == 202  # second code
    fresh = _code(api, email)
    assert api.post(verify, json={"email": email, "code": fresh}).status_code == 200
    # a used code is answered as any wrong one: "used" would tell a member from a stranger
    reused = api.post(verify, json={"email": email, "code": fresh})
    assert reused.status_code == 401 and "wrong code (4 attempts left)" in reused.json()["detail"]
    assert api.post(request, json={"email": email}).status_code == 202  # third in 15 minutes
    limited = api.post(request, json={"email": email})
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "900"
    with api.engine.begin() as connection:  # the third code, ten minutes on
        connection.execute(
            update(SignInCode).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )
    expired = api.post(verify, json={"email": email, "code": _code(api, email)})
    assert expired.status_code == 401 and "expired" in expired.json()["detail"]
    bad = api.post(verify, json={"email": email, "code": "12345"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "code"]


def test_voting_rules_receipts_and_secret_ballot(api: Any) -> None:
    e = _election(api)
    other = _election(api)
    president, people = e["positions"]["President"]
    treasurer, money = e["positions"]["Treasurer"]
    ballot = f"{V}/elections/{e['id']}/ballot"
    voter = _sign_in(api, e["id"], "Parent0@example.org")
    assert api.get(ballot).status_code == 401
    assert (
        api.get(f"{V}/elections/{other['id']}/ballot", headers=voter).status_code == 401
    )  # scoped
    assert api.get(ballot, headers=api.admin).status_code == 401  # a user token is no ballot
    assert api.get(f"{V}/elections/{e['id']}/turnout", headers=voter).status_code == 401
    shown = api.get(ballot, headers=voter).json()
    assert [(p["title"], p["voted"]) for p in shown["positions"]] == [
        ("President", False),
        ("Treasurer", False),
    ]

    wrong_position = {"choices": [{"position_id": president, "candidate_id": money["Carla Dias"]}]}
    answer = api.post(ballot, json=wrong_position, headers=voter)
    assert answer.status_code == 422 and answer.json()["detail"][0]["loc"] == [
        "body",
        "choices",
        0,
        "candidate_id",
    ]
    other_president, other_people = other["positions"]["President"]
    foreign = {
        "choices": [{"position_id": other_president, "candidate_id": other_people["Ana Lima"]}]
    }
    answer = api.post(ballot, json=foreign, headers=voter)
    assert answer.status_code == 422 and answer.json()["detail"][0]["loc"] == [
        "body",
        "choices",
        0,
        "position_id",
    ]

    cast = api.post(
        ballot,
        json={"choices": [{"position_id": president, "candidate_id": people["Ana Lima"]}]},
        headers=voter,
    )
    assert cast.status_code == 201 and cast.json()["positions"] == 1
    receipt = cast.json()["receipt"]
    again = api.post(
        ballot,
        json={"choices": [{"position_id": president, "candidate_id": people["Bruno Costa"]}]},
        headers=voter,
    )
    assert again.status_code == 409 and "President" in again.json()["detail"]
    later = api.post(
        ballot,
        json={"choices": [{"position_id": treasurer, "candidate_id": money["Dan Reis"]}]},
        headers=voter,
    )
    assert later.status_code == 201  # another position, later: allowed
    assert [p["voted"] for p in api.get(ballot, headers=voter).json()["positions"]] == [True, True]
    # sealed in the box until nine more ballots arrive or the election closes
    checked = api.get(f"{V}/elections/{e['id']}/receipts/{receipt.lower()}").json()
    assert checked == {"receipt": receipt, "counted": False, "sealed": True, "positions": []}
    nope = api.get(f"{V}/elections/{e['id']}/receipts/NOPE").json()
    assert nope["counted"] is False and nope["sealed"] is False
    foreign_check = api.get(f"{V}/elections/{other['id']}/receipts/{receipt}").json()
    assert foreign_check["counted"] is False and foreign_check["sealed"] is False

    columns = {
        t: {c["name"] for c in inspect(api.engine).get_columns(t)}
        for t in ("election_choices", "election_ballots")
    }
    assert columns == {
        "election_choices": {"ballot_receipt", "position_id", "candidate_id"},
        "election_ballots": {"receipt", "election_id"},
    }
    with api.engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(Participation)) == 2
        assert connection.scalar(select(func.count()).select_from(BallotChoice)) == 0
        assert connection.scalar(select(func.count()).select_from(SealedBallot)) == 2

    second = _sign_in(api, e["id"], "parent1@example.org")
    api.post(
        ballot,
        json={"choices": [{"position_id": president, "candidate_id": people["Bruno Costa"]}]},
        headers=second,
    )
    turnout = api.get(f"{V}/elections/{e['id']}/turnout", headers=api.admin).json()
    assert (turnout["members"], turnout["voted"], turnout["by_position"]) == (
        3,
        2,
        {"President": 2, "Treasurer": 1},
    )
    api.post(f"{V}/elections/{e['id']}/close", headers=api.admin)
    third = {"choices": [{"position_id": treasurer, "candidate_id": money["Carla Dias"]}]}
    closed = api.post(ballot, json=third, headers=second)
    assert closed.status_code == 409 and "not open" in closed.json()["detail"]
    assert (
        api.post(
            f"{V}/elections/{e['id']}/sign-in/request", json={"email": "parent2@example.org"}
        ).status_code
        == 409
    )

    # the close released the sealed ballots: counted, the box empty
    checked = api.get(f"{V}/elections/{e['id']}/receipts/{receipt}").json()
    assert checked == {
        "receipt": receipt,
        "counted": True,
        "sealed": False,
        "positions": ["President"],
    }
    with api.engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(SealedBallot)) == 0
        assert connection.scalar(select(func.count()).select_from(BallotChoice)) == 3
    results = api.get(f"{V}/elections/{e['id']}/results", headers=api.admin).json()
    by_title = {p["position"]: p for p in results["positions"]}
    assert results["ballots"] == 3
    assert by_title["President"]["tie"] and by_title["President"]["winner"] is None
    assert sorted(by_title["President"]["tied"]) == ["Ana Lima", "Bruno Costa"]
    assert by_title["Treasurer"]["winner"] == "Dan Reis" and not by_title["Treasurer"]["tie"]
    exported = api.get(f"{V}/elections/{e['id']}/results.csv", headers=api.admin)
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert {(r["position"], r["candidate"], int(r["votes"])) for r in rows} == {
        (p["position"], c["name"], c["votes"])
        for p in results["positions"]
        for c in p["candidates"]
    }
    assert [r["candidate"] for r in rows if r["winner"] == "yes"] == ["Dan Reis"]


def test_the_results_csv_cannot_run_in_a_spreadsheet(api: Any) -> None:
    names = ['=HYPERLINK("http://x","y")', "@SUM(1)"]
    body = {
        "title": "Formula check",
        "positions": [{"title": "Chair", "candidates": [{"name": n} for n in names]}],
    }
    created = api.post(f"{V}/elections", json=body, headers=api.admin)
    assert created.status_code == 201, created.text
    election = f"{V}/elections/{created.json()['id']}"
    roll = {**api.admin, "Content-Type": "text/csv"}
    api.post(f"{election}/members", content="email,name\na@example.org,A\n", headers=roll)
    for step in ("open", "close"):
        assert api.post(f"{election}/{step}", headers=api.admin).status_code == 200
    exported = api.get(f"{election}/results.csv", headers=api.admin)
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert sorted(r["candidate"] for r in rows) == sorted("'" + n for n in names)


def test_codes_go_out_by_smtp_when_configured(migrated) -> None:  # type: ignore[no-untyped-def]
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    received: list[Any] = []

    class Keep(Message):  # type: ignore[misc]
        def handle_message(self, message: Any) -> None:
            received.append(message)

    controller = Controller(Keep(), hostname="127.0.0.1", port=_free_port())
    controller.start()
    running = True
    try:
        create_user(migrated, ADMIN_EMAIL, PASSWORD, "admin")
        settings = _settings(
            migrated,
            smtp_host="127.0.0.1",
            smtp_port=controller.port,
            smtp_starttls=False,
            mail_from="pta@school.example",
        )
        with TestClient(create_app(settings)) as api:
            token = api.post(
                "/api/v1/auth/login", json={"email": ADMIN_EMAIL, "password": PASSWORD}
            ).json()["access_token"]
            api.admin = {"Authorization": f"Bearer {token}"}  # type: ignore[attr-defined]
            e = _election(api, voters=1)
            asked = api.post(
                f"{V}/elections/{e['id']}/sign-in/request", json={"email": "parent0@example.org"}
            )
            assert asked.status_code == 202
            assert api.get(f"{V}/outbox", headers=api.admin).status_code == 404
            assert len(received) == 1 and received[0]["To"] == "parent0@example.org"
            assert received[0]["From"] == "pta@school.example"
            code = re.search(r"\b(\d{6})\b", received[0].get_payload()).group(1)  # type: ignore[union-attr]
            verified = api.post(
                f"{V}/elections/{e['id']}/sign-in/verify",
                json={"email": "parent0@example.org", "code": code},
            )
            assert verified.status_code == 200
            controller.stop()  # the mail server goes away: no code is kept that was not sent
            running = False
            down = api.post(
                f"{V}/elections/{e['id']}/sign-in/request", json={"email": "parent0@example.org"}
            )
            assert down.status_code == 503 and "could not be sent" in down.json()["detail"]
            with migrated.connect() as connection:
                assert connection.scalar(select(func.count()).select_from(SignInCode)) == 1
    finally:
        if running:
            controller.stop()


# ---------------------------------------------------------------- PostgreSQL concurrency


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer(AsgiServer):
    """The service under uvicorn in a thread, on a free port."""

    def __init__(self, settings: ServiceSettings) -> None:
        super().__init__(create_app(settings))


async def _post_all(
    base: str, requests: list[tuple[str, dict[str, str], dict[str, Any]]]
) -> list[int]:
    limits = httpx.Limits(max_connections=len(requests))
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        answers = await asyncio.gather(
            *(client.post(url, headers=h, json=b) for url, h, b in requests)
        )
    return [a.status_code for a in answers]


@pytest.mark.parametrize("backend", [pytest.param("postgres", marks=pytest.mark.postgres)])
def test_postgres_one_voter_racing_100_times_counts_once(api: Any) -> None:
    e = _election(api)
    president, people = e["positions"]["President"]
    treasurer, money = e["positions"]["Treasurer"]
    voter = _sign_in(api, e["id"], "parent0@example.org")
    url = f"{V}/elections/{e['id']}/ballot"
    body = {
        "choices": [
            {"position_id": president, "candidate_id": people["Ana Lima"]},
            {"position_id": treasurer, "candidate_id": money["Dan Reis"]},
        ]
    }
    # admission set above the burst: this is about the database race, not back-pressure
    with LiveServer(_settings(api.engine, max_inflight=200)) as base:
        codes = asyncio.run(_post_all(base, [(url, voter, body)] * 100))
    assert Counter(codes) == {201: 1, 409: 99}
    with api.engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(Participation)) == 2
        assert connection.scalar(select(func.count()).select_from(SealedBallot)) == 1
    api.post(f"{V}/elections/{e['id']}/close", headers=api.admin)  # releases it
    with api.engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(Ballot)) == 1
        assert connection.scalar(select(func.count()).select_from(BallotChoice)) == 2


@pytest.mark.parametrize("backend", [pytest.param("postgres", marks=pytest.mark.postgres)])
def test_postgres_fifty_voters_at_once(api: Any) -> None:
    e = _election(api, voters=50)
    president, people = e["positions"]["President"]
    treasurer, money = e["positions"]["Treasurer"]
    chooser = random.Random(7)
    ballots = []
    cast: Counter[str] = Counter()
    for i in range(50):
        token = _sign_in(api, e["id"], f"parent{i}@example.org")
        pick_p, pick_t = chooser.choice(list(people)), chooser.choice(list(money))
        cast[pick_p] += 1
        cast[pick_t] += 1
        body = {
            "choices": [
                {"position_id": president, "candidate_id": people[pick_p]},
                {"position_id": treasurer, "candidate_id": money[pick_t]},
            ]
        }
        ballots.append((f"{V}/elections/{e['id']}/ballot", token, body))
    with LiveServer(_settings(api.engine, max_inflight=200)) as base:
        codes = asyncio.run(_post_all(base, ballots))
        turnout = httpx.get(f"{base}{V}/elections/{e['id']}/turnout", headers=api.admin).json()
    assert codes == [201] * 50
    assert (turnout["voted"], turnout["turnout"]) == (50, 1.0)
    api.post(f"{V}/elections/{e['id']}/close", headers=api.admin)
    results = api.get(f"{V}/elections/{e['id']}/results", headers=api.admin).json()
    counted = {c["name"]: c["votes"] for p in results["positions"] for c in p["candidates"]}
    assert counted == dict(cast) and results["ballots"] == 50
    for position in results["positions"]:
        top = max(c["votes"] for c in position["candidates"])
        leaders = [c["name"] for c in position["candidates"] if c["votes"] == top]
        assert position["winner"] == (leaders[0] if len(leaders) == 1 else None)


def test_forty_code_guesses_at_once_get_at_most_five_compared(api: Any) -> None:
    """Issue 18 (4), on SQLite and PostgreSQL: the attempts are counted atomically."""
    e = _election(api)
    url = f"{V}/elections/{e['id']}/sign-in"
    email = "parent1@example.org"
    assert api.post(f"{url}/request", json={"email": email}).status_code == 202
    right = _code(api, email)
    guesses = [f"{(int(right) + i) % 1_000_000:06d}" for i in range(1, 41)]  # all wrong

    async def burst(base: str) -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=len(guesses))
        async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:
            return await asyncio.gather(
                *(client.post(f"{url}/verify", json={"email": email, "code": g}) for g in guesses)
            )

    with LiveServer(_settings(api.engine, max_inflight=200)) as base:
        answers = asyncio.run(burst(base))
    details = [a.json()["detail"] for a in answers]
    assert {a.status_code for a in answers} == {401}
    compared = [d for d in details if d.startswith("wrong code")]
    assert len(compared) == MAX_ATTEMPTS, details
    assert sorted(compared) == sorted(
        f"wrong code ({n} attempt{'s' if n != 1 else ''} left)" for n in range(MAX_ATTEMPTS)
    )
    # the right code is refused too now: its attempts are spent
    late = api.post(f"{url}/verify", json={"email": email, "code": right})
    assert late.status_code == 401 and "5 wrong attempts" in late.json()["detail"]


def test_the_roll_cannot_be_told_from_the_code_check(api: Any) -> None:
    """Issue 34 (6): after asking for a code, a member and a stranger trying codes get the same
    answers, attempt by attempt, and the same when they never asked."""
    e = _election(api)
    url = f"{V}/elections/{e['id']}/sign-in"

    def tries(email: str) -> list[tuple[int, str]]:
        out = []
        for code in ("000000", "111111"):  # never asked yet
            answer = api.post(f"{url}/verify", json={"email": email, "code": code})
            out.append((answer.status_code, answer.json()["detail"]))
        assert api.post(f"{url}/request", json={"email": email}).status_code == 202
        for n in range(MAX_ATTEMPTS + 1):
            answer = api.post(f"{url}/verify", json={"email": email, "code": f"{n:06d}"})
            out.append((answer.status_code, answer.json()["detail"]))
        return out

    member, stranger = tries("parent1@example.org"), tries("nobody@example.org")
    assert member == stranger
    assert member[0] == (401, "no code is waiting for this email: ask for one")
    assert member[2] == (401, "wrong code (4 attempts left)")
    assert member[-1][1].startswith(f"{MAX_ATTEMPTS} wrong attempts")


def test_codes_asked_from_one_address_are_limited(api: Any) -> None:
    """Issue 34 (6): one client address may ask for CODES_PER_ADDRESS codes a window,
    whatever emails it names (members or not): no one mails the whole roll."""
    e = _election(api, voters=2)
    url = f"{V}/elections/{e['id']}/sign-in/request"
    answers = [
        api.post(url, json={"email": f"someone{i}@example.org"}).status_code
        for i in range(CODES_PER_ADDRESS + 1)
    ]
    assert answers == [202] * CODES_PER_ADDRESS + [429]
    member = api.post(url, json={"email": "parent0@example.org"})
    assert member.status_code == 429 and "from this address" in member.json()["detail"]


def test_the_roll_cannot_be_told_from_the_code_limit(api: Any) -> None:
    """Issue 18 (5): a member and a stranger asking for codes get the same answers, the limit
    included (counted by a keyed hash of the email, never the email)."""
    e = _election(api)
    url = f"{V}/elections/{e['id']}/sign-in/request"

    def answers(email: str) -> list[tuple[int, str, str | None]]:
        out = []
        for _ in range(CODES_PER_WINDOW + 2):
            answer = api.post(url, json={"email": email})
            out.append((answer.status_code, answer.text, answer.headers.get("Retry-After")))
        return out

    member, stranger = answers("parent0@example.org"), answers("nobody@example.org")
    assert member == stranger
    assert [code for code, *_ in member] == [202] * CODES_PER_WINDOW + [429, 429]
    with api.engine.connect() as connection:
        hashes = connection.execute(select(SignInRequest.email_hash)).scalars().all()
    assert len(hashes) == 2 * CODES_PER_WINDOW and not any("@" in h for h in hashes)
