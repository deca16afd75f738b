"""Issue 18 (13): schemathesis over every operation of /openapi.json with all its checks (server
errors, status codes, content types, headers and bodies against the documented answers, data
the schema allows accepted and data it forbids refused, auth that is declared enforced),
positive and negative data, anonymous and as admin, on SQLite and PostgreSQL, against a
warehouse holding the bundled history and real models: 0 failures.

Issue 34: and its coverage phase too (boundary values, every undeclared method on every path,
OPTIONS included, whose `Allow` must list exactly the declared methods (ST205), malformed and
missing content types, duplicated query parameters): 0 failures.

`F1_FUZZ_EXAMPLES` sets the examples per operation, mode and caller (5 by default, so the suite
stays quick; the README's command runs 50)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import positive_data_acceptance
from schemathesis.config import GenerationConfig
from sqlalchemy import Engine

from serving.app import create_app
from serving.auth import create_user
from serving.settings import ServiceSettings
from tests.servers.base import LocalServer
from tests.servers.polymarket import Polymarket

EXAMPLES = int(os.environ.get("F1_FUZZ_EXAMPLES", "5"))
PASSWORD = "fuzz admin password"


@pytest.fixture
def service(migrated: Engine, aliases: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from apps.recipes import seed
    from pipelines.snapshot.loader import load_snapshot

    aliases(champion="2", challenger="1")
    market = LocalServer(Polymarket().route).__enter__()  # the bot's cycles trade against it
    for api in ("BOT_GAMMA_URL", "BOT_CLOB_URL"):
        monkeypatch.setenv(api, market.url)
    load_snapshot(migrated)
    seed(migrated)
    create_user(migrated, "admin@example.org", PASSWORD, "admin")
    url = migrated.url.render_as_string(hide_password=False)
    app = create_app(ServiceSettings(database_url=url, jwt_secret="fuzz-" + "s" * 40))
    with TestClient(app) as client:  # runs the lifespan: models loaded
        token = client.post(
            "/api/v1/auth/login", json={"email": "admin@example.org", "password": PASSWORD}
        ).json()["access_token"]
        yield schemathesis.openapi.from_asgi("/openapi.json", app), token
    market.__exit__(None, None, None)


def test_every_operation_passes_every_check(service: Any) -> None:
    schema, token = service
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 40  # every route of the API is exercised
    callers = {"anonymous": {}, "admin": {"Authorization": f"Bearer {token}"}}
    failures: list[str] = []
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for caller, headers in callers.items():
                try:
                    _fuzz(operation, mode, headers)
                except (
                    Exception,
                    BaseExceptionGroup,
                ) as error:  # every operation tried, all listed
                    failures.append(f"{operation.label} [{mode.value}, {caller}]: {_why(error)}")
    assert not failures, "\n\n".join(failures)
    _coverage_phase(schema, operations, callers)


def _coverage_phase(schema: Any, operations: list[Any], callers: dict[str, Any]) -> None:
    """Every case of schemathesis's coverage phase, validated with every check; each path is
    asked OPTIONS (and every other undeclared method) once."""
    modes = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
    failures: list[str] = []
    asked: set[str] = set()
    for operation in operations:
        excluded, extra = [], []
        if operation.label in CROSS_FIELD:
            excluded, extra = [positive_data_acceptance], [_only_cross_field_refusals]
        for caller, headers in callers.items():
            cases = schema.iter_coverage_cases(
                operation, generation_modes=modes, generation_config=GenerationConfig()
            )
            for case in cases:
                if case.method == "OPTIONS":
                    asked.add(operation.path)
                try:
                    case.call_and_validate(
                        headers=headers,
                        excluded_checks=excluded,
                        additional_checks=[*extra, _options_answer_allow],
                    )
                except (Exception, BaseExceptionGroup) as error:
                    failures.append(f"{operation.label} {case.method} [{caller}]: {_why(error)}")
    assert asked == {operation.path for operation in operations}  # ST205 is checked on each
    assert not failures, "\n\n".join(failures)


def _options_answer_allow(ctx: Any, response: Any, case: Any) -> bool | None:
    """ST205 compares `Allow` with the schema only when there is one: an OPTIONS answer must
    have it (a 405 that names the path's methods)."""
    if case.method == "OPTIONS":
        assert response.status_code == 405, response.status_code
        assert response.headers.get("allow"), "an OPTIONS answer without Allow"
    return None


# A grid with a slot or a driver given twice, or a driver who is not an entrant, is valid JSON
# Schema (it cannot say "unique by one field" or "an entrant of that race") and refused with a 422
# naming the item; so is an electorate CSV without an `email` header. There, the check that
# schema-valid data is accepted is replaced by one that allows exactly those refusals.
CROSS_FIELD = {
    "POST /api/v1/predictions/what-if": (
        "is given twice",
        "is on the grid twice",
        "is not an entrant",
    ),
    # a CSV body: its header and its lines are rules of the CSV, not of a JSON Schema string
    "POST /api/v1/voting/elections/{election_id}/members": (
        "the CSV needs a header line",
        "is not an email address",
        "the CSV has no members",
        "bidirectional control character",
        "the CSV must be UTF-8",
    ),
}


def _only_cross_field_refusals(ctx: Any, response: Any, case: Any) -> bool | None:
    if case.meta.generation.mode.is_positive and response.status_code == 422:
        messages = [e["msg"] for e in response.json()["detail"]]
        allowed = CROSS_FIELD[case.operation.label]
        assert all(any(a in m for a in allowed) for m in messages), messages
    return None


def _fuzz(operation: Any, mode: GenerationMode, headers: dict[str, str]) -> None:
    excluded, extra = [], []
    if operation.label in CROSS_FIELD:
        excluded, extra = [positive_data_acceptance], [_only_cross_field_refusals]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        case.call_and_validate(headers=headers, excluded_checks=excluded, additional_checks=extra)

    try:
        run()
    except Unsatisfiable:
        if mode is GenerationMode.POSITIVE:
            raise
        # nothing in this operation can be made invalid (no parameters, or free-form ones)


def _why(error: BaseException) -> str:
    """What schemathesis found: each distinct failure's title, then the answer it got."""
    found = getattr(error, "exceptions", None) or [error]
    titles = [str(getattr(f, "title", type(f).__name__)) for f in found]
    text = str(error).splitlines()
    answers = [
        f"{line.strip()} {text[i + 2].strip()[:240] if i + 2 < len(text) else ''}"
        for i, line in enumerate(text)
        if line.strip().startswith("[") and line.strip()[1:4].isdigit()
    ]
    sent = [line.strip() for line in text if line.strip().startswith("curl ")]
    return "; ".join(titles) + "".join(f" | {part}" for part in answers + sent[:1])
