"""Issue 34 (3): a secret ballot whose secrecy does not depend on how the database stores rows.
Thirty voters cast known ballots; then an administrator with SQL access tries every join they
could make between who voted (participation) and how (ballots, choices): transaction ids
(PostgreSQL's xmin), their order, physical order (ctid, SQLite's table scan), sequences and
times. None links a voter to a ballot better than the release batch does. And many voters at
once are each counted once. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import DateTime, Engine, Integer, inspect, select, text

from apps.tokens import sign
from apps.voting import audience
from apps.voting.box import BATCH
from tests.serving.test_voting import (
    SECRET,
    LiveServer,
    V,
    _election,
    _settings,
    _sign_in,
    voting_client,
)
from warehouse.schema import Member, SealedBallot
from warehouse.schema.voting import Ballot, BallotChoice

VOTERS = 30  # three releases of BATCH


@pytest.fixture
def api(migrated: Engine) -> Iterator[Any]:
    with voting_client(migrated) as client:
        yield client


def _cast_known_ballots(api: Any) -> tuple[dict[str, Any], dict[int, tuple[str, set[int]]]]:
    """Each voter's member id -> (receipt, the candidates chosen)."""
    e = _election(api, voters=VOTERS)
    president, people = e["positions"]["President"]
    treasurer, money = e["positions"]["Treasurer"]
    chooser = random.Random(34)
    known: dict[int, tuple[str, set[int]]] = {}
    with api.engine.connect() as connection:
        members = dict(
            connection.execute(select(Member.email, Member.id).where(Member.election_id == e["id"]))
            .tuples()
            .all()
        )
    for i in range(VOTERS):
        email = f"parent{i}@example.org"
        token = _sign_in(api, e["id"], email)
        chosen = {chooser.choice(list(people.values())), chooser.choice(list(money.values()))}
        president_pick = next(c for c in chosen if c in people.values())
        treasurer_pick = next(c for c in chosen if c in money.values())
        body = {
            "choices": [
                {"position_id": president, "candidate_id": president_pick},
                {"position_id": treasurer, "candidate_id": treasurer_pick},
            ]
        }
        cast = api.post(f"{V}/elections/{e['id']}/ballot", json=body, headers=token)
        assert cast.status_code == 201, cast.text
        known[members[email]] = (cast.json()["receipt"], chosen)
        if i == VOTERS - 5:  # the box holds what has not reached a batch, sealed
            with api.engine.connect() as connection:
                sealed = connection.execute(
                    select(SealedBallot.sealed, SealedBallot.receipt_hash)
                ).all()
            assert len(sealed) == (VOTERS - 4) % BATCH
            for opaque, hashed in sealed:  # no receipt in clear, in the seal or its hash
                assert all(r not in opaque and r.lower() not in hashed for r, _ in known.values())
    return e, known


def _matched(voters: list[int], ballots: list[str], known: dict[int, tuple[str, set[int]]]) -> int:
    """Voters whose ballot is at the same rank in the two orders."""
    return sum(known[v][0] == b for v, b in zip(voters, ballots, strict=True))


def test_no_join_links_a_voter_to_their_ballot(api: Any) -> None:
    e, known = _cast_known_ballots(api)
    assert api.post(f"{V}/elections/{e['id']}/close", headers=api.admin).status_code == 200
    engine: Engine = api.engine
    postgres = engine.dialect.name == "postgresql"
    # nothing in the ballot tables counts up or tells a time
    for table in (Ballot.__table__, BallotChoice.__table__):
        columns = inspect(engine).get_columns(table.name)
        assert not [c["name"] for c in columns if isinstance(c["type"], DateTime)], table.name
        assert not [
            c["name"]
            for c in columns
            if c.get("autoincrement") is True and isinstance(c["type"], Integer)
        ]
    with engine.connect() as connection:
        assert connection.scalar(select(SealedBallot.id)) is None  # the box is empty
        voters = list(
            connection.scalars(text("SELECT member_id FROM election_participation ORDER BY id"))
        )[::2]  # two positions each: one row per voter
        stored = list(connection.scalars(text("SELECT receipt FROM election_ballots")))
        assert sorted(stored) == sorted(r for r, _ in known.values())
        if postgres:
            by_xid = connection.execute(
                text("SELECT receipt, xmin::text::bigint FROM election_ballots ORDER BY ctid")
            ).all()
            voted_xids = set(
                connection.scalars(text("SELECT xmin::text::bigint FROM election_participation"))
            )
            choice_xids = set(
                connection.scalars(text("SELECT xmin::text::bigint FROM election_choices"))
            )
            ballot_xids = [x for _, x in by_xid]
            # no ballot or choice was written in a voter's transaction …
            assert not voted_xids & set(ballot_xids) and not voted_xids & choice_xids
            # … each release wrote BATCH ballots at once, and their choices with them
            releases = sorted(set(ballot_xids))
            assert [ballot_xids.count(x) for x in releases] == [BATCH] * (VOTERS // BATCH)
            assert choice_xids == set(releases)
            # ranking voters and ballots by transaction id, then by physical place in it
            ordered = [r for r, _ in sorted(by_xid, key=lambda row: row[1])]
            voters_by_xid = list(
                connection.scalars(
                    text(
                        "SELECT member_id FROM election_participation "
                        "GROUP BY member_id ORDER BY min(xmin::text::bigint)"
                    )
                )
            )
            assert _matched(voters_by_xid, ordered, known) < VOTERS // 2
            physical = [r for r, _ in by_xid]
        else:
            physical = list(
                connection.scalars(text("SELECT receipt FROM election_ballots NOT INDEXED"))
            )
        # physical order (PostgreSQL's ctid, SQLite's table scan) against the voters' order
        assert _matched(voters, physical, known) < VOTERS // 2
        choices = list(
            connection.scalars(text("SELECT ballot_receipt FROM election_choices NOT INDEXED"))
            if not postgres
            else connection.scalars(
                text("SELECT ballot_receipt FROM election_choices ORDER BY ctid")
            )
        )[::2]
        assert _matched(voters, choices, known) < VOTERS // 2
    # and the count is right: every voter's choices, once
    results = api.get(f"{V}/elections/{e['id']}/results", headers=api.admin).json()
    votes = {c["candidate_id"]: c["votes"] for p in results["positions"] for c in p["candidates"]}
    expected: dict[int, int] = {}
    for _, chosen in known.values():
        for candidate in chosen:
            expected[candidate] = expected.get(candidate, 0) + 1
    assert {k: v for k, v in votes.items() if v} == expected and results["ballots"] == VOTERS


def test_many_voters_at_once_are_each_counted_once(api: Any) -> None:
    """Every voter of a 300-strong roll casts at the same moment (two positions each) through a
    running server; every ballot is counted once, none is lost in the box."""
    voters = 300
    e = _election(api, voters=voters)
    president, people = e["positions"]["President"]
    treasurer, money = e["positions"]["Treasurer"]
    with api.engine.connect() as connection:
        members = list(connection.scalars(select(Member.id).where(Member.election_id == e["id"])))
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=30)
    chooser = random.Random(3)
    requests, cast = [], {}
    for member in members:
        claims = {"sub": str(member), "aud": audience(e["id"]), "scope": "ballot", "exp": expires}
        picks = (chooser.choice(list(people.values())), chooser.choice(list(money.values())))
        for pick in picks:
            cast[pick] = cast.get(pick, 0) + 1
        body = {
            "choices": [
                {"position_id": president, "candidate_id": picks[0]},
                {"position_id": treasurer, "candidate_id": picks[1]},
            ]
        }
        requests.append((body, {"Authorization": f"Bearer {sign(claims, SECRET)}"}))

    async def everyone(base: str) -> list[int]:
        limits = httpx.Limits(max_connections=100)
        async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:
            url = f"{V}/elections/{e['id']}/ballot"
            answers = await asyncio.gather(
                *(client.post(url, json=body, headers=h) for body, h in requests)
            )
        return [a.status_code for a in answers]

    with LiveServer(_settings(api.engine, max_inflight=400)) as base:
        codes = asyncio.run(everyone(base))
    assert codes == [201] * voters
    assert api.post(f"{V}/elections/{e['id']}/close", headers=api.admin).status_code == 200
    results = api.get(f"{V}/elections/{e['id']}/results", headers=api.admin).json()
    votes = {c["candidate_id"]: c["votes"] for p in results["positions"] for c in p["candidates"]}
    assert votes == cast and results["ballots"] == voters
