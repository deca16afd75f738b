"""The bot tests' shared pieces: the local Polymarket server, a seeded warehouse, a bot."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, select

from bot.clients import ClobClient, GammaClient
from bot.cycle import Bot
from bot.settings import BotSettings
from tests.servers.base import LocalServer
from tests.servers.polymarket import (
    BEFORE_RACE,
    CHAMPION,
    EVENTS,
    Polymarket,
    champion,
    seed_bot_warehouse,
)
from warehouse.db import session_factory, transaction
from warehouse.schema import Driver, MarketPrediction, Race, RaceResult, Team


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


ORDER_CHAMPION = "3"
PODIUM = {"norris": 0.80, "max_verstappen": 0.55, "leclerc": 0.35, "piastri": 0.30}
AHEAD = {"norris": 0.70, "max_verstappen": 0.50, "leclerc": 0.50, "piastri": 0.30}


def order_champions(name: str) -> str | None:
    return {"f1_winner_post_quali": CHAMPION, "f1_order_post_quali": ORDER_CHAMPION}.get(name)


def event_with(title: str, question: str, market_id: str, yes: str) -> dict[str, Any]:
    event = copy.deepcopy(EVENTS[0])
    norris = copy.deepcopy(event["markets"][1])
    norris.update(
        id=market_id,
        question=question,
        clobTokenIds=json.dumps([yes, f"{yes}9"]),
        outcomePrices='["0.6", "0.4"]',
        bestBid=0.58,
        bestAsk=0.62,
    )
    event.update(id=f"9{market_id}", title=title, markets=[norris])
    return event


def podium_event() -> dict[str, Any]:
    """Norris on the Abu Dhabi podium (market 570102, Yes token 8110000000000000004)."""
    return event_with("Abu Dhabi Grand Prix Podium Finish",
                      "Will Lando Norris finish on the podium at the Abu Dhabi Grand Prix?",
                      "570102", "8110000000000000004")  # fmt: skip


def duel_event() -> dict[str, Any]:
    """Norris against Piastri (market 610102; Norris's outcome token 8150000000000000004)."""
    duel = event_with("Abu Dhabi Grand Prix Head to Head",
                      "Norris vs Piastri: who finishes ahead at the Abu Dhabi Grand Prix?",
                      "610102", "8150000000000000004")  # fmt: skip
    duel["markets"][0]["outcomes"] = json.dumps(["Lando Norris", "Oscar Piastri"])
    return duel


def drivers_title_event() -> dict[str, Any]:
    """Norris for the 2024 drivers' title (market 590102, Yes token 8130000000000000004)."""
    return event_with("2024 F1 Drivers' Championship Winner",
                      "Will Lando Norris win the 2024 F1 Drivers' Championship?",
                      "590102", "8130000000000000004")  # fmt: skip


def constructors_title_event() -> dict[str, Any]:
    """McLaren for the 2024 constructors' title (market 600102, Yes 8140000000000000004)."""
    teams = event_with("2024 F1 Constructors' Championship Winner",
                       "Will McLaren win the 2024 F1 Constructors' Championship?",
                       "600102", "8140000000000000004")  # fmt: skip
    teams["markets"][0]["groupItemTitle"] = "McLaren"
    return teams


def add_book(data: Polymarket, token: str, bid: str, ask: str) -> None:
    """A one-level book for `token`, shaped as the recorded ones."""
    book = copy.deepcopy(data.books["7110000000000000004"])
    book.update(asset_id=token, bids=[{"price": bid, "size": "500"}],
                asks=[{"price": ask, "size": "500"}])  # fmt: skip
    data.books[token] = book


def store_order_markets(engine: Engine) -> None:
    with transaction(engine) as session:
        race = session.scalar(select(Race.id).where(Race.round == 24))
        for ref, podium in PODIUM.items():
            driver = session.scalar(select(Driver.id).where(Driver.ref == ref))
            session.add(
                MarketPrediction(race_id=race, driver_id=driver, stage="post_quali",
                                 model_name="f1_order_post_quali", model_version=ORDER_CHAMPION,
                                 winner_version=CHAMPION, win=podium / 3, podium=podium,
                                 top6=min(1.0, podium + 0.1), points=min(1.0, podium + 0.15),
                                 dnf=0.05, expected_points=10.0, teammate_ahead=AHEAD[ref],
                                 positions=[0.05] * 20, created_at=BEFORE_RACE)
            )  # fmt: skip
