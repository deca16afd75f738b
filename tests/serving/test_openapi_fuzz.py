"""Property-based run against /openapi.json (schemathesis): generated requests to every
operation, with a real warehouse and real models, never get a 5xx, and every documented
answer matches its schema."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from serving.app import create_app
from serving.settings import ServiceSettings


@pytest.fixture
def api_schema(history_copy, aliases, monkeypatch) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    aliases(champion="2", challenger="1")
    for api in ("BOT_GAMMA_URL", "BOT_CLOB_URL"):  # never an outside address, whatever runs
        monkeypatch.setenv(api, "http://127.0.0.1:9")
    settings_ = ServiceSettings(
        database_url=f"sqlite:///{history_copy}", jwt_secret="fuzz-" + "s" * 40
    )
    app = create_app(settings_)
    with TestClient(app):  # runs the lifespan: models loaded
        yield schemathesis.openapi.from_asgi("/openapi.json", app)


def test_no_server_error_and_answers_match_their_schemas(api_schema: Any) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 18  # every route of the API is exercised
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=10,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            case.call_and_validate(checks=[not_a_server_error, response_schema_conformance])

        run()
