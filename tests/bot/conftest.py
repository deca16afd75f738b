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
from warehouse.db import session_factory, transaction
from warehouse.schema import Driver, Race, RaceResult, Team


@pytest.fixture
def market() -> Iterator[tuple[Polymarket, LocalServer]]:
    data = Polymarket()
    with LocalServer(data.route) as server:
        yield data, server


@pytest.fixture
def warehouse(migrated: Engine) -> Engine:
    seed_bot_warehouse(migrated)
    return migrated


def make_bot(engine: Engine, server: LocalServer, champion: Any = champion, **settings: Any) -> Bot:
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


def run_abu_dhabi(engine: Engine, order: list[str]) -> None:
    """The seeded Abu Dhabi race is run: its result in `order` (one team, as seeded)."""
    with transaction(engine) as session:
        race = session.scalar(select(Race.id).where(Race.round == 24))
        team = session.scalar(select(Team.id))
        drivers = dict(session.execute(select(Driver.ref, Driver.id)).tuples().all())
        for place, ref in enumerate(order, 1):
            session.add(
                RaceResult(race_id=race, driver_id=drivers[ref], team_id=team, grid=place,
                           position=place, position_text=str(place), position_order=place,
                           points=0.0, laps=58, status="Finished")
            )  # fmt: skip


def running_bot(engine: Engine, server: LocalServer, champion: Any = champion) -> Bot:
    """A bot on `server`'s markets, started (it trades)."""
    from bot.cycle import set_status

    bot = make_bot(engine, server, champion=champion)
    set_status(engine, "running", bot.settings)
    return bot
