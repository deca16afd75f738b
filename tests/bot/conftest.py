"""The bot tests' shared pieces: the local Polymarket server, a seeded warehouse, a bot."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, select

from bot.clients import ClobClient, GammaClient
from bot.cycle import Bot
from bot.settings import BotSettings
from tests.servers.base import LocalServer
from tests.servers.polymarket import Polymarket, champion, seed_bot_warehouse
from warehouse.db import session_factory


@pytest.fixture
def market() -> Iterator[tuple[Polymarket, LocalServer]]:
    data = Polymarket()
    with LocalServer(data.route) as server:
        yield data, server


@pytest.fixture
def warehouse(migrated: Engine) -> Engine:
    seed_bot_warehouse(migrated)
    return migrated


def make_bot(engine: Engine, server: LocalServer, **settings: Any) -> Bot:
    config = BotSettings(gamma_url=server.url, clob_url=server.url, **settings)
    return Bot(
        engine,
        config,
        GammaClient(server.url, attempts=2),
        ClobClient(server.url, attempts=2),
        champion=champion,
    )


def rows(engine: Engine, table: Any) -> list[Any]:
    with session_factory(engine)() as session:
        return list(session.scalars(select(table)))
