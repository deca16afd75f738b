"""The live broker on the official SDK (`polymarket-client`) against a local CLOB V2 exchange
that checks every signature (tests/servers/clob_v2.py): a whole live cycle trades every market
type the bot prices, each order signed for the exchange its market's neg-risk flag names; EOA,
proxy and deposit wallets sign as V2 asks; what the exchange refuses, kills or delays is booked
as it happened."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine

from bot.clients import ClobClient, GammaClient
from bot.cycle import Bot, set_status
from bot.fees import FeeSchedule
from bot.live import LiveBroker
from bot.models import MarketData, Order, OrderBook
from bot.settings import BotSettings
from tests.bot.conftest import (
    add_book,
    constructors_title_event,
    drivers_title_event,
    duel_event,
    event_with,
    order_champions,
    podium_event,
    rows,
    store_order_markets,
)
from tests.servers.clob_v2 import NEG_RISK_EXCHANGE, STANDARD_EXCHANGE, ClobV2, Exchange
from tests.servers.polymarket import BEFORE_RACE, Polymarket
from warehouse.db import transaction
from warehouse.schema import BotState, BotTrade, ChampionshipOdds

KEY = "0x" + "4f" * 32
NOW = dt.datetime(2024, 12, 6, 12, 0, tzinfo=dt.UTC)


def _owner() -> str:
    from eth_account import Account

    return str(Account.from_key(KEY).address)


def _markets() -> Polymarket:
    """The recorded winner event (neg-risk); a podium, a top 6, a points finish and a teammate
    duel (none neg-risk); the drivers' and constructors' titles (neg-risk); each with a book."""
    data = Polymarket()
    podium, duel, title = podium_event(), duel_event(), drivers_title_event()
    top6 = event_with("Abu Dhabi Grand Prix Top 6 Finish",
                      "Will Max Verstappen finish in the top 6 at the Abu Dhabi Grand Prix?",
                      "570201", "8160000000000000002")  # fmt: skip
    points = event_with("Abu Dhabi Grand Prix Points Finish",
                        "Will Oscar Piastri score points at the Abu Dhabi Grand Prix?",
                        "570301", "8170000000000000008")  # fmt: skip
    teams = constructors_title_event()
    top6["markets"][0]["groupItemTitle"] = "Max Verstappen"
    points["markets"][0]["groupItemTitle"] = "Oscar Piastri"
    events = (podium, duel, title, top6, points, teams)
    for event, condition in zip(events, ("57", "61", "59", "58", "56", "60"), strict=True):
        event["markets"][0]["conditionId"] = "0x" + condition * 32
    for event in (podium, duel, top6, points):
        event["markets"][0]["negRisk"] = False
    data.events += list(events)
    for token, bid, ask in (("8110000000000000004", "0.58", "0.62"),
                            ("8150000000000000004", "0.53", "0.55"),
                            ("8130000000000000004", "0.08", "0.10"),
                            ("8160000000000000002", "0.48", "0.50"),
                            ("8170000000000000008", "0.28", "0.30"),
                            ("8140000000000000004", "0.48", "0.50")):  # fmt: skip
        add_book(data, token, bid, ask)
    return data


@pytest.fixture
def exchange() -> Iterator[tuple[ClobV2, str]]:
    clob = ClobV2(_markets())
    with Exchange(clob) as url:
        yield clob, url


def _settings(url: str, **overrides: Any) -> BotSettings:
    values: dict[str, Any] = {
        "gamma_url": url,
        "clob_url": url,
        "relayer_url": url,
        "live_trading": True,
        "private_key": SecretStr(KEY),
        "funder": _owner(),
    }
    return BotSettings(**(values | overrides))


def _market(clob: ClobV2, market_id: str) -> MarketData:
    for event in clob.data.events:
        for market in event["markets"]:
            if market["id"] == market_id:
                return MarketData.model_validate(market)
    raise KeyError(market_id)


def _book(clob: ClobV2, token: str) -> OrderBook:
    return OrderBook.model_validate(copy.deepcopy(clob.data.books[token]))


def test_a_live_cycle_trades_every_market_type_signed_for_its_exchange(
    warehouse: Engine, exchange: tuple[ClobV2, str], caplog: pytest.LogCaptureFixture
) -> None:
    clob, url = exchange
    store_order_markets(warehouse)
    with transaction(warehouse) as session:
        for kind, ref, p_title in (("driver", "norris", 0.25), ("constructor", "mclaren", 0.70)):
            session.add(
                ChampionshipOdds(season=2024, after_round=23, kind=kind, ref=ref, p_title=p_title,
                                 expected_points=300.0, points=250.0, seasons=10000,
                                 winner_model="f1_winner_post_quali@7",
                                 order_model="f1_order_post_quali@3", computed_at=BEFORE_RACE)
            )  # fmt: skip
    asks_before = {t: sum(float(a["size"]) for a in b["asks"]) for t, b in clob.data.books.items()}
    settings = _settings(url)
    bot = Bot(warehouse, settings, GammaClient(url, attempts=2), ClobClient(url, attempts=2),
              champion=order_champions)  # fmt: skip
    set_status(warehouse, "running", settings)
    caplog.set_level(logging.DEBUG)

    report = bot.cycle(BEFORE_RACE)

    trades = rows(warehouse, BotTrade)
    assert report.orders == len(trades) >= 7 and clob.refusals == []
    traded = {t.market_id for t in trades}
    # podium, duel, drivers' title, top 6, points, constructors' title
    assert {"570102", "610102", "590102", "570201", "570301", "600102"} <= traded
    assert any(m.startswith("5601") for m in traded)  # a race winner market
    spent = 0.0
    for trade in trades:
        placed = clob.orders[trade.order_id]  # the exchange has the order the bot booked
        assert not trade.paper and trade.status in ("filled", "partial")
        assert trade.filled == pytest.approx(placed["matched"])
        assert trade.price * trade.filled == pytest.approx(placed["spent"])
        assert trade.fee == pytest.approx(FeeSchedule().fee(trade.filled, trade.price))
        neg_risk = trade.market_id.startswith("5601") or trade.market_id in ("590102", "600102")
        assert placed["exchange"] == (NEG_RISK_EXCHANGE if neg_risk else STANDARD_EXCHANGE)
        assert (placed["signature_type"], placed["kind"]) == (0, "FAK")  # an EOA, fill-and-kill
        left = sum(float(a["size"]) for a in clob.data.books[trade.token]["asks"])
        assert left == pytest.approx(asks_before[trade.token] - trade.filled)
        spent += placed["spent"] + trade.fee
    (after,) = rows(warehouse, BotState)
    assert after.live and after.cash == pytest.approx(settings.bankroll - spent)
    assert KEY not in caplog.text and KEY[2:] not in caplog.text


@pytest.mark.parametrize("wallet", ["eoa", "proxy", "deposit"])
def test_each_wallet_kind_signs_v2_orders_the_exchange_accepts(
    exchange: tuple[ClobV2, str], wallet: str
) -> None:
    from polymarket._internal.environment import PRODUCTION_CONFIG
    from polymarket._internal.wallet import (
        derive_beacon_deposit_wallet_address,
        derive_proxy_wallet_address,
    )

    clob, url = exchange
    owner, derivation = _owner(), PRODUCTION_CONFIG.wallet_derivation
    funder: str | None = owner
    if wallet == "proxy":
        funder = derive_proxy_wallet_address(owner, derivation)
    elif wallet == "deposit":  # no BOT_FUNDER: the key's deposit wallet, found via the relayer
        funder = None
    trades_for = funder or derive_beacon_deposit_wallet_address(owner, derivation)
    clob.wallets[owner.lower()] = trades_for.lower()
    clob.deployed.add(trades_for.lower())

    broker = LiveBroker(_settings(url, funder=funder), 1000, 0.03)
    assert broker.wallet.lower() == trades_for.lower()
    for market_id, token in (("560102", "7110000000000000004"), ("610102", "8150000000000000004")):
        market = _market(clob, market_id)
        order = Order(market_id=market_id, token=token, price=0.70, size=10)
        trade = broker.place(order, _book(clob, token), market, NOW)
        placed = clob.orders[trade.order_id]
        assert (trade.status, trade.filled) == ("filled", 10) and not trade.paper
        assert placed["signature_type"] == {"eoa": 0, "proxy": 1, "deposit": 3}[wallet]
        assert placed["wallet"] == trades_for.lower()
        assert placed["exchange"] == (NEG_RISK_EXCHANGE if market.neg_risk else STANDARD_EXCHANGE)
    assert clob.refusals == []


def test_refused_killed_and_delayed_orders_are_booked_as_they_happened(
    exchange: tuple[ClobV2, str], caplog: pytest.LogCaptureFixture
) -> None:
    from polymarket.errors import RequestRejectedError

    clob, url = exchange
    broker = LiveBroker(_settings(url), 1000, 0.03)
    duel = _market(clob, "610102")
    token = "8150000000000000004"  # asks: 500 at 0.55

    # the CLOB and Gamma disagree about neg-risk: nothing is signed
    clob.neg_risk_of[token] = True
    caplog.set_level(logging.WARNING)
    refused = broker.place(Order(market_id="610102", token=token, price=0.6, size=5),
                           _book(clob, token), duel, NOW)  # fmt: skip
    assert (refused.status, refused.filled) == ("rejected", 0) and clob.orders == {}
    assert "Gamma says negRisk=False, the CLOB says True" in caplog.text
    del clob.neg_risk_of[token]

    # under the best ask: the FAK order is killed, nothing is booked
    killed = broker.place(Order(market_id="610102", token=token, price=0.50, size=5),
                          _book(clob, token), duel, NOW)  # fmt: skip
    assert (killed.status, killed.filled) == ("unfilled", 0) and broker.cash == 1000

    # more than the wallet holds: refused by the exchange, booked as rejected
    clob.balances[_owner().lower()] = 1.0
    poor = broker.place(Order(market_id="610102", token=token, price=0.6, size=10),
                        _book(clob, token), duel, NOW)  # fmt: skip
    assert poor.status == "rejected" and clob.refusals == ["not enough balance / allowance"]
    del clob.balances[_owner().lower()]

    # a delayed sports order: polled until the exchange matches it
    clob.delayed.add(token)
    delayed = broker.place(Order(market_id="610102", token=token, price=0.6, size=20),
                           _book(clob, token), duel, NOW)  # fmt: skip
    placed = clob.orders[delayed.order_id]
    assert (delayed.status, delayed.filled, placed["status"]) == ("filled", 20, "MATCHED")
    assert delayed.price == pytest.approx(0.6)  # booked at its limit (fills are at or better)
    assert broker.cash == pytest.approx(1000 - 20 * 0.6 - FeeSchedule().fee(20, 0.6))
    assert len(broker.trades) == 4

    # the exchange checks signatures: an order altered after signing is refused
    signed = broker._client.create_limit_order(token_id=token, price="0.55", size="5", side="BUY")
    with pytest.raises(RequestRejectedError):
        halved = dataclasses.replace(signed, maker_amount=signed.maker_amount // 2)
        broker._client.post_order(halved)
    assert clob.refusals[-1] == "invalid signature: not signed by the API key's account"
