"""Podium markets priced by the finishing-order distribution: mapped with their type, traded on
the order champion's stored probability, kept for the benchmark and scored there as yes/no
questions; a market the model cannot price (pole) is never traded."""

from __future__ import annotations

import math
from typing import Any

import pytest
from sqlalchemy import Engine, select

from bot.benchmark import from_warehouse
from bot.fees import FeeSchedule
from tests.bot.conftest import (
    add_book,
    constructors_title_event,
    drivers_title_event,
    duel_event,
    event_with,
    order_champions,
    podium_event,
    rows,
    run_abu_dhabi,
    running_bot,
    store_order_markets,
)
from tests.servers.base import LocalServer
from tests.servers.polymarket import BEFORE_RACE, Polymarket
from warehouse.db import transaction
from warehouse.schema import (
    BotDecision,
    BotQuote,
    BotTrade,
    ChampionshipOdds,
    ConstructorStanding,
    Driver,
    DriverStanding,
    Race,
    Team,
)


@pytest.fixture
def podium_market() -> Any:
    data = Polymarket()
    pole = event_with("Abu Dhabi Grand Prix Pole Position",
                      "Will Lando Norris take pole at the Abu Dhabi Grand Prix?",
                      "580102", "8120000000000000004")  # fmt: skip
    data.events = [podium_event(), pole, duel_event()]
    for token, bid, ask in (("8110000000000000004", "0.58", "0.62"),
                            ("8150000000000000004", "0.53", "0.55")):  # fmt: skip
        add_book(data, token, bid, ask)
    with LocalServer(data.route) as server:
        yield data, server


def test_a_podium_market_is_traded_on_the_order_champion_and_scored_as_yes_or_no(
    warehouse: Engine, podium_market: tuple[Polymarket, LocalServer]
) -> None:
    store_order_markets(warehouse)
    _, server = podium_market
    report = running_bot(warehouse, server, order_champions).cycle(BEFORE_RACE)

    assert (report.markets, report.mapped, report.orders) == (3, 2, 2)
    decisions = {d.market_id: d for d in rows(warehouse, BotDecision)}
    duel = decisions["610102"]  # P(Norris ahead of Piastri) 0.70 against an ask of 0.55
    assert duel.action == "buy" and duel.probability == 0.70
    (bought,) = [t for t in rows(warehouse, BotTrade) if t.market_id == "610102"]
    assert bought.token == "8150000000000000004"  # Norris's outcome, not a Yes token
    podium = decisions["570102"]
    assert podium.action == "buy" and podium.model == "f1_order_post_quali v3"
    assert podium.probability == 0.80
    assert podium.edge == pytest.approx(0.80 - FeeSchedule().cost(0.62))
    pole = decisions["580102"]
    assert pole.action == "skip" and pole.reason == "market is not mapped to a race and driver"
    quotes = {q.market_id: q for q in rows(warehouse, BotQuote)}
    assert quotes["570102"].market_type == "podium" and quotes["570102"].mid == pytest.approx(0.60)
    assert quotes["580102"].market_type == "unmapped"

    run_abu_dhabi(warehouse, ["norris", "max_verstappen", "leclerc", "piastri"])  # a podium
    by_type = {b.market_type: b for b in from_warehouse(warehouse)}
    ahead = by_type["h2h"]  # Norris finished ahead of his teammates
    assert ahead.moments == 1 and ahead.model_log_loss == pytest.approx(-math.log(0.70))
    assert ahead.market_log_loss == pytest.approx(-math.log(0.54))  # the mid
    scored = by_type["podium"]
    assert (scored.market_type, scored.moments) == ("podium", 1)
    assert scored.market_log_loss == pytest.approx(-math.log(0.60))
    assert scored.model_log_loss == pytest.approx(-math.log(0.80))
    assert scored.market_brier == pytest.approx(0.40**2)
    assert scored.model_brier == pytest.approx(0.20**2)


@pytest.fixture
def title_markets() -> Any:
    data = Polymarket()
    drivers, teams = drivers_title_event(), constructors_title_event()
    verstappen = event_with("2024 F1 Drivers' Championship Winner",
                            "Will Max Verstappen win the 2024 F1 Drivers' Championship?",
                            "590101", "8130000000000000002")["markets"][0]  # fmt: skip
    verstappen["groupItemTitle"] = "Max Verstappen"
    drivers["markets"].append(verstappen)
    data.events = [drivers, teams]
    for token, ask in (("8130000000000000004", "0.10"), ("8130000000000000002", "0.85"),
                       ("8140000000000000004", "0.50")):  # fmt: skip
        add_book(data, token, f"{float(ask) - 0.02:.2f}", ask)
    with LocalServer(data.route) as server:
        yield data, server


def test_title_markets_are_traded_on_the_championship_odds_and_scored_once_decided(
    warehouse: Engine, title_markets: tuple[Polymarket, LocalServer]
) -> None:
    with transaction(warehouse) as session:  # the odds after R23 (f1_score stores them)
        for kind, ref, p_title in (("driver", "norris", 0.25), ("driver", "max_verstappen", 0.75),
                                   ("constructor", "mclaren", 0.70)):  # fmt: skip
            session.add(
                ChampionshipOdds(season=2024, after_round=23, kind=kind, ref=ref, p_title=p_title,
                                 expected_points=300.0, points=250.0, seasons=10000,
                                 winner_model="f1_winner_post_quali@7",
                                 order_model="f1_order_post_quali@3", computed_at=BEFORE_RACE)
            )  # fmt: skip
    _, server = title_markets
    report = running_bot(warehouse, server, order_champions).cycle(BEFORE_RACE)

    assert (report.markets, report.mapped, report.orders) == (3, 3, 2)
    decisions = {d.market_id: d for d in rows(warehouse, BotDecision)}
    norris, mclaren = decisions["590102"], decisions["600102"]
    assert norris.action == "buy" and norris.probability == 0.25
    assert norris.model == "championship odds 2024 after R23"
    assert mclaren.action == "buy" and mclaren.probability == 0.70
    assert mclaren.edge == pytest.approx(0.70 - FeeSchedule().cost(0.50))
    quotes = {q.market_id: q for q in rows(warehouse, BotQuote)}
    assert (quotes["590102"].market_type, quotes["590102"].season) == ("drivers_title", 2024)
    assert quotes["590102"].driver_ref == "norris" and quotes["590102"].race_id is None
    assert (quotes["600102"].market_type, quotes["600102"].team_ref) == (
        "constructors_title",
        "mclaren",
    )
    assert from_warehouse(warehouse) == []  # the season is not decided

    with transaction(warehouse) as session:  # the final standings: Verstappen, McLaren
        race = session.scalar(select(Race.id).where(Race.round == 24))
        team = session.scalar(select(Team.id).where(Team.ref == "mclaren"))
        drivers = dict(session.execute(select(Driver.ref, Driver.id)).tuples().all())
        for place, ref in enumerate(["max_verstappen", "norris"], 1):
            session.add(
                DriverStanding(race_id=race, driver_id=drivers[ref], points=400 - place,
                               position=place, position_text=str(place), wins=9)
            )  # fmt: skip
        session.add(
            ConstructorStanding(race_id=race, team_id=team, points=666, position=1,
                                position_text="1", wins=6)
        )  # fmt: skip
    by_type = {b.market_type: b for b in from_warehouse(warehouse)}
    titles = by_type["drivers_title"]
    assert (titles.race, titles.moments) == ("2024 drivers' title", 1)
    # Verstappen is champion: the market's mids 0.84 / (0.84 + 0.09), ours 0.75 / (0.75 + 0.25)
    assert titles.market_log_loss == pytest.approx(-math.log(0.84 / 0.93))
    assert titles.model_log_loss == pytest.approx(-math.log(0.75))
    constructors = by_type["constructors_title"]
    assert constructors.race == "2024 constructors' title" and constructors.moments == 1
    assert constructors.model_log_loss == pytest.approx(0.0)  # one team quoted: the field
