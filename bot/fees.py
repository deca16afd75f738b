"""Polymarket's trading fees as its fee documentation gives them since the CLOB V2 exchange
(2026-04-28): the operator sets them at match time (an order no longer signs a `feeRateBps`), a
taker pays

    fee = shares × rate × (price × (1 − price)) ** exponent

in pUSD, rounded to 5 decimals, and a maker pays nothing. Sports markets, the bot's, take rate
0.03 with exponent 1: at most 0.75 ¢ a share, at 50 ¢, and less towards either end. A market's
own `feeSchedule` (Gamma) wins over that default; `feesEnabled: false` means no fee.

The bot buys against the asks, so it is always the taker: the paper broker, the edge and the
backtest all price a fill with `FeeSchedule.fee` / `per_share`.
"""

from __future__ import annotations

from dataclasses import dataclass

SPORTS_RATE = 0.03


@dataclass(frozen=True)
class FeeSchedule:
    """A market's taker fee curve."""

    rate: float = SPORTS_RATE
    exponent: float = 1.0

    def __post_init__(self) -> None:
        if not 0 <= self.rate < 1:
            raise ValueError(f"fee rate {self.rate} is outside [0, 1)")
        if self.exponent <= 0:
            raise ValueError(f"fee exponent {self.exponent} is not positive")

    def per_share(self, price: float) -> float:
        """The fee of one share bought at `price` (unrounded)."""
        if not 0 < price < 1:
            raise ValueError(f"price {price} is outside (0, 1)")
        return float(self.rate * (price * (1 - price)) ** self.exponent)

    def fee(self, shares: float, price: float) -> float:
        """The fee a taker pays for `shares` at `price`, rounded as the exchange charges it."""
        return round(shares * self.per_share(price), 5)

    def cost(self, price: float) -> float:
        """What one share bought at `price` costs with its fee."""
        return price + self.per_share(price)


NO_FEES = FeeSchedule(rate=0.0)
