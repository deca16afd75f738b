"""The live broker: signed orders on Polymarket's CLOB V2 through the official Python SDK,
`polymarket-client` (the `live` extra). It exists only when BOT_LIVE_TRADING=true and the key
is set; it never logs or returns a secret.

How an order goes (the SDK does the signing, the broker decides and books):
- `SecureClient.create` derives (or creates) the CLOB API credentials from the key, resolves the
  wallet (BOT_FUNDER, or the key's deposit wallet) and tells an EOA, proxy, Safe or deposit
  wallet apart, which fixes the V2 signature type.
- Single-winner events are neg-risk markets: their orders are signed for the neg-risk exchange.
  The SDK picks the exchange from the CLOB's own market record; the broker first asks the CLOB
  (`GET /neg-risk`) and refuses to sign when it disagrees with Gamma's `negRisk`, the flag the
  bot mapped and normalised the event by.
- The order is a limit order posted fill-and-kill (FAK): it takes what the asks offer at or
  under the limit and nothing rests on the book, as on paper. Fees are the operator's at match
  time (no `feeRateBps` is signed); the broker books them with the same `FeeSchedule` as paper.
- A sports market may delay matching a few seconds (status `delayed`): the broker polls the
  order (`GET /data/order/{id}`) for up to BOT_DELAY_WAIT_S and books what matched.

The tests run all of it against a local exchange that speaks the V2 endpoints and checks the
EIP-712 signatures (tests/servers/clob_v2.py)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import math
import time
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from bot.clients import ClobClient, MarketApiError
from bot.models import MarketData, Order, OrderBook, Trade
from bot.paper import PaperBroker
from bot.settings import BotSettings

if TYPE_CHECKING:
    from polymarket import Environment

log = logging.getLogger(__name__)
STILL_OPEN = {"LIVE", "DELAYED"}  # a delayed FAK order is matched or killed after the delay


class LiveTradingDisabled(RuntimeError):
    """Live trading was asked for without BOT_LIVE_TRADING=true and a key."""


def environment(settings: BotSettings) -> Environment:
    """Polymarket's production environment, with the CLOB, Gamma and relayer at the URLs the
    settings name (a proxy, or the tests' local exchange). The SDK makes only PRODUCTION public;
    the copy is made with its own environment factory, contract addresses unchanged."""
    from polymarket import PRODUCTION
    from polymarket._internal.environment import PRODUCTION_CONFIG, create_environment

    clob, gamma = settings.clob_url.rstrip("/"), settings.gamma_url.rstrip("/")
    relayer = settings.relayer_url.rstrip("/")
    base = PRODUCTION_CONFIG
    if (clob, gamma, relayer) == (base.clob_url, base.gamma_url, base.relayer_url):
        return PRODUCTION
    config = dataclasses.replace(base, clob_url=clob, gamma_url=gamma, relayer_url=relayer)
    return create_environment(name=PRODUCTION.name, config=config)


def connect(settings: BotSettings) -> Any:
    """An authenticated `polymarket.SecureClient` for the settings' key and wallet."""
    if not settings.live_trading:
        raise LiveTradingDisabled("live trading is off (set BOT_LIVE_TRADING=true)")
    if settings.private_key is None:
        raise LiveTradingDisabled("live trading needs BOT_PRIVATE_KEY")
    try:
        from polymarket import SecureClient
    except ImportError:
        raise LiveTradingDisabled(
            "live trading needs the `live` extra: uv sync --extra live"
        ) from None
    return SecureClient.create(
        private_key=settings.private_key.get_secret_value(),
        wallet=settings.funder or None,
        environment=environment(settings),
    )


class LiveBroker(PaperBroker):
    """Keeps the same books as the paper broker; orders go to the exchange and what the
    exchange says matched is booked (shares and pUSD as it reports them, fees by the market's
    schedule)."""

    def __init__(
        self, settings: BotSettings, bankroll: float, fee_rate: float, client: Any = None
    ) -> None:
        client = client if client is not None else connect(settings)
        super().__init__(bankroll, fee_rate)
        self.settings = settings
        self._client = client
        self._clob = ClobClient(settings.clob_url, attempts=2)

    def __repr__(self) -> str:
        return f"LiveBroker(cash={self.cash:.2f}, positions={len(self.open_positions())})"

    @property
    def wallet(self) -> str:
        return str(self._client.wallet)

    def place(self, order: Order, book: OrderBook, market: MarketData, now: dt.datetime) -> Trade:
        from polymarket.errors import PolymarketError

        if not market.has_token(order.token):
            raise ValueError(f"token {order.token} is not one of market {market.id}'s tokens")
        if order.side != "buy":
            raise ValueError("the live broker only buys; positions are closed by settlement")
        try:
            neg_risk = self._clob.neg_risk(order.token)
        except MarketApiError as error:
            return self._refused(order, market, now, f"the CLOB's neg-risk flag: {error}")
        if neg_risk != market.neg_risk:
            return self._refused(
                order,
                market,
                now,
                f"Gamma says negRisk={market.neg_risk}, the CLOB says {neg_risk}: "
                "not signing for either exchange",
            )
        fees = market.fees(self.fee_rate)
        affordable = math.floor(self.cash / fees.cost(order.price) * 100) / 100
        size = min(order.size, affordable)
        if size <= 0:
            return self._none_filled(order, market, now, "unfunded")
        try:
            signed = self._client.create_limit_order(
                token_id=order.token,
                price=Decimal(str(order.price)),
                size=Decimal(f"{size:.2f}"),
                side="BUY",
            )
            answer = self._client.post_order(dataclasses.replace(signed, order_type="FAK"))
        except PolymarketError as error:
            return self._refused(order, market, now, f"{type(error).__name__}: {error}")
        if not answer.ok:
            if answer.code in ("fak_not_filled", "unmatched"):  # nothing at or under the limit
                return self._none_filled(order, market, now, "unmatched")
            return self._refused(order, market, now, f"{answer.code}: {answer.message}")
        if answer.status == "delayed":
            return self._after_delay(order, market, now, str(answer.order_id), fees)
        shares, spent = float(answer.taking_amount), float(answer.making_amount)
        fee = fees.fee(shares, spent / shares) if shares else 0.0
        return self.record(order, market, now, shares, spent, fee, str(answer.order_id), False)

    def _after_delay(
        self, order: Order, market: MarketData, now: dt.datetime, order_id: str, fees: Any
    ) -> Trade:
        """Poll a delayed order until the exchange has matched or killed it; book what matched
        at its limit price (fills are at that price or better)."""
        from polymarket.errors import PolymarketError

        deadline = time.monotonic() + self.settings.delay_wait_s
        while True:
            try:
                placed = self._client.get_order(order_id=order_id)
            except PolymarketError as error:
                log.warning("order %s on %s: %s; not booked", order_id, market.id, error)
                return self._unbooked(order, market, order_id, "open", now)
            status = str(placed.status).upper().removeprefix("ORDER_STATUS_")
            if status not in STILL_OPEN or time.monotonic() >= deadline:
                break
            time.sleep(0.25)
        if status in STILL_OPEN:
            log.warning(
                "order %s on %s still %s after %.0f s: not booked; watch it on the exchange",
                order_id,
                market.id,
                status.lower(),
                self.settings.delay_wait_s,
            )
            return self._unbooked(order, market, order_id, "open", now)
        shares = float(placed.size_matched)
        price = float(placed.price)
        fee = fees.fee(shares, price) if shares else 0.0
        return self.record(order, market, now, shares, shares * price, fee, order_id, False)

    def _none_filled(self, order: Order, market: MarketData, now: dt.datetime, why: str) -> Trade:
        """An order that went nowhere (no cash for it, nothing at its price): `unfilled`."""
        return self.record(order, market, now, 0, 0, 0, f"{why}-{uuid.uuid4().hex[:16]}", False)

    def _refused(self, order: Order, market: MarketData, now: dt.datetime, why: str) -> Trade:
        log.warning("order on market %s not placed: %s", market.id, why)
        return self._unbooked(order, market, f"refused-{uuid.uuid4().hex[:16]}", "rejected", now)

    def _unbooked(
        self,
        order: Order,
        market: MarketData,
        order_id: str,
        status: Literal["rejected", "open"],
        now: dt.datetime,
    ) -> Trade:
        """An order the exchange refused, or one still pending: nothing booked."""
        trade = Trade(
            order_id=order_id,
            market_id=market.id,
            token=order.token,
            side="buy",
            price=order.price,
            size=order.size,
            filled=0,
            status=status,
            fee=0,
            paper=False,
            at=now,
        )
        self.trades.append(trade)
        return trade
