"""Pytest fixtures: the local F1 API and Open-Meteo servers and fast clients of them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pipelines.ingest.http import JsonClient, RateLimiter, RetryPolicy
from pipelines.ingest.jolpica import JolpicaClient
from pipelines.snapshot import BUNDLED
from replay.ergast import ErgastData, JolpicaApi
from tests.servers.base import LocalServer
from tests.servers.open_meteo import OpenMeteoApi

FAST = RetryPolicy(attempts=6, backoff_s=0.01, max_backoff_s=0.05)


@pytest.fixture(scope="session")
def ergast() -> ErgastData:
    """The bundled history as Ergast JSON objects."""
    return ErgastData.read(BUNDLED)


@pytest.fixture
def jolpica(ergast: ErgastData) -> Iterator[LocalServer]:
    """A Jolpica-compatible API on 127.0.0.1."""
    with LocalServer(JolpicaApi(ergast)) as server:
        yield server


@pytest.fixture
def meteo() -> Iterator[LocalServer]:
    """An Open-Meteo archive/forecast API on 127.0.0.1."""
    with LocalServer(OpenMeteoApi()) as server:
        yield server


def make_client(server: LocalServer, timeout_s: float = 5.0) -> JolpicaClient:
    """A client of `server` without the real service's rate limit (tests count requests)."""
    http = JsonClient(
        f"{server.url}/ergast/f1", limiter=RateLimiter(1000), policy=FAST, timeout_s=timeout_s
    )
    return JolpicaClient(http)


@pytest.fixture
def client(jolpica: LocalServer) -> Iterator[JolpicaClient]:
    c = make_client(jolpica)
    yield c
    c.http.close()
