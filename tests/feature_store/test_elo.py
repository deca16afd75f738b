"""The multi-competitor ELO rater."""

from __future__ import annotations

import numpy as np
import pytest

from feature_store.elo import EloConfig, carried, rate, update


def test_equal_ratings_move_by_the_finishing_order_and_sum_to_zero() -> None:
    after = update(np.full(4, 1500.0), EloConfig(k=30))
    # winner beats 3 at expectation 0.5 each: +30/3 × 1.5 = +15; last: −15
    assert after == pytest.approx([1515, 1505, 1495, 1485])
    assert after.sum() == pytest.approx(6000)


def test_an_upset_moves_more_than_an_expected_result() -> None:
    favourite_wins = update(np.array([1800.0, 1500.0]), EloConfig())
    underdog_wins = update(np.array([1500.0, 1800.0]), EloConfig())
    assert 0 < favourite_wins[0] - 1800 < underdog_wins[0] - 1500


def test_ratings_carry_into_a_new_season_pulled_toward_the_start() -> None:
    config = EloConfig(carry=0.5)
    assert carried(1700, 2020, 2021, config) == 1600
    assert carried(1700, 2020, 2022, config) == 1550
    assert carried(1700, 2021, 2021, config) == 1700


def test_rate_logs_every_competitor_after_every_race() -> None:
    log = rate([(0, 2020, ["a", "b"]), (1, 2020, ["b", "a"]), (2, 2021, ["a", "c"])])
    assert [(i, c) for i, c, _ in log] == [
        (0, "a"),
        (0, "b"),
        (1, "b"),
        (1, "a"),
        (2, "a"),
        (2, "c"),
    ]
    ratings = {(i, c): r for i, c, r in log}
    assert ratings[(0, "a")] == pytest.approx(1516) and ratings[(0, "b")] == pytest.approx(1484)
    assert ratings[(1, "a")] < ratings[(0, "a")]  # lost the rematch
    assert ratings[(2, "c")] < 1500 < ratings[(2, "a")]
