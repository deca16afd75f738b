"""Gamma and CLOB clients against local HTTP servers serving recorded JSON (written by us in
the documented formats), and the mapping of markets to our races and drivers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from bot.clients import ClobClient, GammaClient, MarketApiError
from bot.mapping import Mapper
from tests.servers.base import Fault, LocalServer
from tests.servers.polymarket import EVENTS, Polymarket


@pytest.fixture
def polymarket() -> Iterator[LocalServer]:
    with LocalServer(Polymarket().route) as server:
        yield server


def test_gamma_markets_parse_and_bad_ones_are_left_out(polymarket: LocalServer) -> None:
    gamma = GammaClient(polymarket.url)
    found = gamma.markets()
    assert [m.group_item_title for _, m in found] == [
        "Max Verstappen",
        "Lando Norris",
        "Charles Leclerc",
        "Oscar Piastri",
        "Other",
    ]  # "Broken" (outcome price 1.5) is left out
    norris = found[1][1]
    assert norris.outcome_prices == [0.48, 0.52] and norris.neg_risk and norris.tick_size == 0.01
    assert polymarket.requests[0].startswith("/events?tag_slug=formula1&closed=false")


def test_clob_book_history_and_retries(polymarket: LocalServer) -> None:
    clob = ClobClient(polymarket.url)
    token = json.loads(EVENTS[0]["markets"][1]["clobTokenIds"])[0]
    book = clob.book(token)
    assert book.best_ask == 0.49 and book.best_bid == 0.47 and book.asks[0].size == 250
    history = clob.price_history(token)
    assert len(history) == 8 and history[0] == (1733011200, 0.40)
    polymarket.faults.append(Fault("500", match="/book"))
    assert clob.book(token).best_ask == 0.49  # retried
    with pytest.raises(MarketApiError, match="HTTP 404"):
        clob.book("123")
    polymarket.faults.append(
        Fault(
            "mutate",
            match="/book",
            mutate=lambda b: b["asks"].append({"price": "1.2", "size": "1"}),
        )
    )
    with pytest.raises(MarketApiError, match="order book of"):
        clob.book(token)


@pytest.mark.parametrize("backend", ["sqlite"])
def test_markets_map_to_race_and_driver_or_say_why_not(
    polymarket: LocalServer, history: Any
) -> None:
    mapper = Mapper(history)
    mapped = {
        m.group_item_title: mapper.map(event, m)
        for event, m in GammaClient(polymarket.url).markets()
    }
    with history.connect() as connection:
        abu_dhabi = connection.exec_driver_sql(
            "SELECT id FROM races WHERE season = 2024 AND name = 'Abu Dhabi Grand Prix'"
        ).scalar()
    assert {k: (v.race_id, v.driver_ref) for k, v in mapped.items() if v.reason == "mapped"} == {
        "Max Verstappen": (abu_dhabi, "max_verstappen"),
        "Lando Norris": (abu_dhabi, "norris"),
        "Charles Leclerc": (abu_dhabi, "leclerc"),
        "Oscar Piastri": (abu_dhabi, "piastri"),
    }
    assert (
        mapped["Other"].driver_ref is None
        and "no driver of ours named in 'Other'" in mapped["Other"].reason
    )
    event = {**EVENTS[0], "title": "Monaco Rally Winner"}
    market = GammaClient(polymarket.url).markets()[0][1]
    assert mapper.map(event, market).reason == "no 2024 Grand Prix named in 'Monaco Rally Winner'"


@pytest.mark.parametrize("backend", ["sqlite"])
def test_markets_the_model_prices_are_mapped_with_their_type(
    polymarket: LocalServer, history: Any
) -> None:
    mapper = Mapper(history)
    market = GammaClient(polymarket.url).markets()[1][1]  # Lando Norris
    assert mapper.map(EVENTS[0], market).market_type == "winner"
    podium = {**EVENTS[0], "title": "Abu Dhabi Grand Prix Podium Finish"}
    found = mapper.map(podium, market)
    assert (found.reason, found.driver_ref, found.market_type) == ("mapped", "norris", "podium")
    vague = {**EVENTS[0], "title": "Abu Dhabi Grand Prix"}
    for question, market_type in (
        ("Will Lando Norris finish in the top 6?", "top6"),
        ("Will Lando Norris finish in the top 10?", "points"),
        ("Will Lando Norris score points?", "points"),
        ("Will Lando Norris finish in the top 3?", "podium"),
        ("Will Lando Norris win the Abu Dhabi Grand Prix?", "winner"),
    ):
        asked = market.model_copy(update={"question": question})
        assert mapper.map(vague, asked).market_type == market_type, question
        assert mapper.map(vague, asked).driver_ref == "norris", question
    duel = market.model_copy(
        update={
            "question": "Norris vs Piastri: who finishes ahead at the Abu Dhabi Grand Prix?",
            "outcomes": ["Lando Norris", "Oscar Piastri"],
        }
    )
    found = mapper.map(EVENTS[0], duel)  # teammates at McLaren: P(Norris ahead of Piastri)
    assert (found.reason, found.driver_ref, found.market_type, found.priced) == (
        "mapped", "norris", "h2h", "Lando Norris",
    )  # fmt: skip
    rivals = duel.model_copy(update={"outcomes": ["Lando Norris", "Max Verstappen"]})
    assert mapper.map(EVENTS[0], rivals).reason == (
        "not a market we price (head to head of norris and max_verstappen: not teammates)"
    )
    for question, why in (
        ("Norris vs Verstappen: who finishes ahead?",
         "not a market we price (head to head of ['Yes', 'No']: not two drivers)"),
        ("Will Lando Norris take pole?", "not a market we price (pole)"),
        ("Will Lando Norris finish in the top 5?",
         "not a market we price (top 5: we price the top 3, 6 and 10)"),
    ):  # fmt: skip
        unpriced = mapper.map(vague, market.model_copy(update={"question": question}))
        assert (unpriced.reason, unpriced.driver_ref, unpriced.market_type) == (
            why,
            None,
            "unmapped",
        )
    plain = market.model_copy(update={"question": "Will Lando Norris finish the race?"})
    assert "neither the event nor the question" in mapper.map(vague, plain).reason
