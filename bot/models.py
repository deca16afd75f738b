"""The bot's data: Polymarket markets and order books as their APIs send them, and our trades,
positions and limits. Everything is validated on the way in: a price outside (0, 1), a negative
size or a token the market does not have is refused with an error naming it."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.fees import NO_FEES, SPORTS_RATE, FeeSchedule

Side = Literal["buy", "sell"]


def _json_list(value: Any) -> Any:
    # Gamma sends outcomes, outcomePrices and clobTokenIds as JSON text: '["Yes", "No"]'
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            raise ValueError(f"not a JSON list: {value[:60]!r}") from None
    return value


class FeeScheduleData(BaseModel):
    """Gamma's `feeSchedule` of a market: the taker rate and the curve's exponent."""

    model_config = ConfigDict(extra="ignore")

    rate: float = Field(ge=0, lt=1)
    exponent: float = Field(default=1.0, gt=0)


class MarketData(BaseModel):
    """One Gamma market (a binary question), and the race and driver it was mapped to."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    id: str
    condition_id: str = Field(alias="conditionId")
    slug: str
    question: str
    group_item_title: str | None = Field(default=None, alias="groupItemTitle")
    outcomes: list[str]
    outcome_prices: list[float] = Field(alias="outcomePrices")
    clob_token_ids: list[str] = Field(alias="clobTokenIds")
    end_date: dt.datetime | None = Field(default=None, alias="endDate")
    active: bool = True
    closed: bool = False
    best_bid: float | None = Field(default=None, alias="bestBid", ge=0, le=1)
    best_ask: float | None = Field(default=None, alias="bestAsk", ge=0, le=1)
    last_trade_price: float | None = Field(default=None, alias="lastTradePrice", ge=0, le=1)
    volume: float = Field(default=0.0, ge=0)
    liquidity: float = Field(default=0.0, ge=0)
    tick_size: float = Field(default=0.01, alias="orderPriceMinTickSize", gt=0, lt=1)
    min_size: float = Field(default=5.0, alias="orderMinSize", ge=0)
    neg_risk: bool = Field(default=False, alias="negRisk")
    fees_enabled: bool | None = Field(default=None, alias="feesEnabled")
    fee_schedule: FeeScheduleData | None = Field(default=None, alias="feeSchedule")
    race_id: int | None = None
    driver_ref: str | None = None
    market_type: str = "winner"  # what the mapping found it asks (bot/mapping.py)
    season: int | None = None  # a title market's season
    team_ref: str | None = None  # a constructors' title market's team
    priced: str = "Yes"  # the outcome our probability is about (a head-to-head's driver)

    @property
    def subject(self) -> str | None:
        """Whom the market is about: the driver, or the team of a constructors' title."""
        return self.driver_ref or self.team_ref

    _lists = field_validator("outcomes", "outcome_prices", "clob_token_ids", mode="before")(
        _json_list
    )

    @field_validator("outcome_prices")
    @classmethod
    def _prices(cls, prices: list[float]) -> list[float]:
        for price in prices:
            if not 0 <= price <= 1:
                raise ValueError(f"outcome price {price} is outside [0, 1]")
        return prices

    @model_validator(mode="after")
    def _same_lengths(self) -> MarketData:
        if not len(self.outcomes) == len(self.outcome_prices) == len(self.clob_token_ids):
            raise ValueError(
                f"market {self.id}: {len(self.outcomes)} outcomes, "
                f"{len(self.outcome_prices)} prices, {len(self.clob_token_ids)} token ids"
            )
        return self

    def token(self, outcome: str = "Yes") -> str:
        """The CLOB token id of `outcome`."""
        try:
            return self.clob_token_ids[self.outcomes.index(outcome)]
        except ValueError:
            raise ValueError(f"market {self.id} has no outcome {outcome!r}") from None

    def has_token(self, token: str) -> bool:
        return token in self.clob_token_ids

    def fees(self, default_rate: float) -> FeeSchedule:
        """The market's taker fees: its own schedule, none when fees are off, else
        `default_rate` (Polymarket's sports rate unless configured otherwise)."""
        if self.fees_enabled is False:
            return NO_FEES
        if self.fee_schedule is not None:
            return FeeSchedule(self.fee_schedule.rate, self.fee_schedule.exponent)
        return FeeSchedule(default_rate)


class Level(BaseModel):
    """One price level of a CLOB order book (the API sends strings)."""

    price: float = Field(gt=0, lt=1)
    size: float = Field(gt=0)


class OrderBook(BaseModel):
    """`GET /book?token_id=`: bids best (highest) first, asks best (lowest) first."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    asset_id: str
    market: str | None = None
    bids: list[Level] = Field(default_factory=list)
    asks: list[Level] = Field(default_factory=list)
    tick_size: float | None = None
    min_order_size: float | None = None
    timestamp: str | None = None

    @model_validator(mode="after")
    def _sorted(self) -> OrderBook:
        # the CLOB lists levels from the far side in; we want the best price first
        self.bids = sorted(self.bids, key=lambda level: -level.price)
        self.asks = sorted(self.asks, key=lambda level: level.price)
        return self

    @property
    def best_ask(self) -> float | None:
        return self.asks[0].price if self.asks else None

    @property
    def best_bid(self) -> float | None:
        return self.bids[0].price if self.bids else None


class Order(BaseModel):
    """An order the strategy wants: buy `size` shares of `token` at no more than `price`."""

    market_id: str
    token: str
    side: Side = "buy"
    price: float = Field(gt=0, lt=1)
    size: float = Field(gt=0)


class Trade(BaseModel):
    """An order as placed and (partly) filled."""

    order_id: str
    market_id: str
    token: str
    side: Side
    price: float = Field(gt=0, lt=1, description="average fill price (the limit when unfilled)")
    size: float = Field(ge=0)
    filled: float = Field(ge=0)
    status: Literal["filled", "partial", "unfilled", "rejected", "open"]  # open: resting (live)
    fee: float = Field(ge=0)
    paper: bool = True
    at: dt.datetime

    @model_validator(mode="after")
    def _filled_within_size(self) -> Trade:
        if self.filled > self.size + 1e-9:
            raise ValueError(f"filled {self.filled} is more than the order's size {self.size}")
        return self


class Position(BaseModel):
    """Shares held of one outcome token."""

    market_id: str
    token: str
    outcome: str = "Yes"
    size: float = Field(ge=0)
    average_price: float = Field(ge=0, le=1)
    mark: float = Field(ge=0, le=1)
    realised_pnl: float = 0.0
    opened_at: dt.datetime
    closed_at: dt.datetime | None = None

    @property
    def cost(self) -> float:
        return self.size * self.average_price

    @property
    def unrealised_pnl(self) -> float:
        return self.size * (self.mark - self.average_price)


class Limits(BaseModel):
    """Hard risk limits, in dollars (USDC) unless said."""

    model_config = ConfigDict(frozen=True)

    min_edge: float = Field(default=0.05, ge=0, lt=1)
    kelly_fraction: float = Field(default=0.25, gt=0, le=1)
    per_order: float = Field(default=50.0, gt=0)
    per_market: float = Field(default=100.0, gt=0)
    total_exposure: float = Field(default=500.0, gt=0)
    daily_loss: float = Field(default=100.0, gt=0)
    max_drawdown: float = Field(default=0.25, gt=0, lt=1, description="from peak equity; halts")
    min_liquidity: float = Field(default=1000.0, ge=0)
    fee_rate: float = Field(
        default=SPORTS_RATE,
        ge=0,
        lt=1,
        description="taker rate in fee = shares × rate × p(1 − p), for a market without its own "
        "feeSchedule (bot/fees.py)",
    )
