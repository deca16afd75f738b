"""Polymarket's taker fee (bot/fees.py) on the documented examples, and a market's own
schedule from Gamma over the default."""

from __future__ import annotations

import pytest

from bot.fees import SPORTS_RATE, FeeSchedule
from bot.models import MarketData

GAMMA = {
    "id": "1",
    "conditionId": "0xabc",
    "slug": "verstappen-wins",
    "question": "Will Max Verstappen win the 2026 Abu Dhabi Grand Prix?",
    "outcomes": '["Yes", "No"]',
    "outcomePrices": '["0.4", "0.6"]',
    "clobTokenIds": '["y", "n"]',
}


@pytest.mark.parametrize(
    ("shares", "price", "fee"),
    [
        (100, 0.50, 0.75),  # the peak: 0.75 ¢ a share at 50 ¢
        (100, 0.10, 0.27),
        (100, 0.90, 0.27),  # symmetric
        (1, 0.01, 0.0003),
        (3, 0.333, 0.01999),  # 3 × 0.03 × 0.333 × 0.667 = 0.0199899, to 5 decimals
    ],
)
def test_the_sports_fee_on_the_documented_curve(shares: float, price: float, fee: float) -> None:
    assert FeeSchedule().fee(shares, price) == pytest.approx(fee, abs=1e-12)
    assert SPORTS_RATE == 0.03


def test_a_fill_costs_more_the_higher_its_price_and_bad_input_is_named() -> None:
    fees = FeeSchedule(0.03)
    costs = [fees.cost(p / 100) for p in range(1, 100)]
    assert costs == sorted(costs) and len(set(costs)) == len(costs)
    assert FeeSchedule(0.03, exponent=2).fee(100, 0.5) == pytest.approx(0.1875)
    with pytest.raises(ValueError, match="price 1.0 is outside"):
        fees.per_share(1.0)
    with pytest.raises(ValueError, match="fee rate 1.5"):
        FeeSchedule(1.5)


def test_a_markets_own_schedule_wins_and_fees_can_be_off() -> None:
    plain = MarketData.model_validate(GAMMA)
    assert plain.fees(SPORTS_RATE) == FeeSchedule(0.03)
    own = MarketData.model_validate({**GAMMA, "feeSchedule": {"rate": 0.05, "exponent": 2}})
    assert own.fees(SPORTS_RATE) == FeeSchedule(0.05, 2)
    off = MarketData.model_validate({**GAMMA, "feesEnabled": False})
    assert off.fees(SPORTS_RATE).fee(100, 0.5) == 0
    with pytest.raises(ValueError, match="rate"):
        MarketData.model_validate({**GAMMA, "feeSchedule": {"rate": 2}})
