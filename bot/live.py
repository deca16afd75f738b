"""The live broker: signed orders on Polymarket's CLOB through `py-clob-client` (the optional
`live` extra). It exists only when BOT_LIVE_TRADING=true and the keys are set; it never logs
or returns a secret. No test talks to a live service: the tests check that it refuses to start
without the switch and the keys, and that the keys never show."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Literal

from bot.models import Level, MarketData, Order, OrderBook, Trade
from bot.paper import PaperBroker
from bot.settings import BotSettings

log = logging.getLogger(__name__)


class LiveTradingDisabled(RuntimeError):
    """Live trading was asked for without BOT_LIVE_TRADING=true and keys."""


class LiveBroker(PaperBroker):
    """Keeps the same books as the paper broker; orders go to the exchange. A matched order is
    booked at its limit price (the exchange fills at that price or better); a resting one is
    recorded as `open` and not booked (reconciling resting orders with later fills is not
    built yet: live trading is for someone who watches the exchange too)."""

    def __init__(self, settings: BotSettings, bankroll: float, fee_rate: float) -> None:
        if not settings.live_trading:
            raise LiveTradingDisabled("live trading is off (set BOT_LIVE_TRADING=true)")
        if settings.private_key is None or not settings.funder:
            raise LiveTradingDisabled("live trading needs BOT_PRIVATE_KEY and BOT_FUNDER")
        super().__init__(bankroll, fee_rate)
        try:
            from py_clob_client.client import ClobClient as SignedClient
        except ImportError:
            raise LiveTradingDisabled(
                "live trading needs the `live` extra: uv sync --extra live"
            ) from None
        self._client: Any = SignedClient(
            settings.clob_url,
            key=settings.private_key.get_secret_value(),
            chain_id=settings.chain_id,
            signature_type=settings.signature_type,
            funder=settings.funder,
        )
        self._client.set_api_creds(self._client.create_or_derive_api_creds())

    def __repr__(self) -> str:
        return f"LiveBroker(cash={self.cash:.2f}, positions={len(self.open_positions())})"

    def place(self, order: Order, book: OrderBook, market: MarketData, now: dt.datetime) -> Trade:
        from py_clob_client.clob_types import OrderArgs, OrderType
        from py_clob_client.order_builder.constants import BUY

        if not market.has_token(order.token):
            raise ValueError(f"token {order.token} is not one of market {market.id}'s tokens")
        signed = self._client.create_order(
            OrderArgs(token_id=order.token, price=order.price, size=order.size, side=BUY)
        )
        answer = self._client.post_order(signed, OrderType.GTC)
        if not answer.get("success"):
            log.warning("order on %s refused: %s", market.id, answer.get("errorMsg"))
            order_id = str(answer.get("orderID") or f"refused-{now.timestamp():.0f}")
            return self._unfilled(order, market, order_id, "rejected", now)
        matched = answer.get("status") == "matched"
        if matched:
            # book the fill with the paper broker's arithmetic, against a one-level book
            at_limit = OrderBook(
                asset_id=order.token, asks=[Level(price=order.price, size=order.size)]
            )
            trade = super().place(order, at_limit, market, now)
            trade = trade.model_copy(update={"order_id": str(answer["orderID"]), "paper": False})
            self.trades[-1] = trade
            return trade
        return self._unfilled(order, market, str(answer["orderID"]), "open", now)

    def _unfilled(
        self,
        order: Order,
        market: MarketData,
        order_id: str,
        status: Literal["rejected", "open"],
        now: dt.datetime,
    ) -> Trade:
        """An order the exchange refused, or one resting on the book: nothing filled yet."""
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
