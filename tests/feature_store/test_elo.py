"""The multi-competitor ELO rater."""

from __future__ import annotations

import numpy as np
import pytest

from feature_store.elo import EloConfig, Rater, carried, rate, update


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


def test_a_new_era_restarts_every_rating_when_its_carry_is_zero() -> None:
    config = EloConfig(carry=0.5, era_carry=0.0, era_starts=frozenset({2022}))
    assert carried(1700, 2020, 2021, config) == 1600  # an ordinary winter
    assert carried(1700, 2021, 2022, config) == 1500  # into an era's first season: level
    assert carried(1700, 2020, 2023, config) == 1500  # 2021: 1600, 2022: 1500, 2023: 1500
    assert carried(1700, 2022, 2023, config) == 1600


def test_newcomers_start_where_earlier_newcomers_stood_after_their_first_season() -> None:
    """Two teams debut in 2019, three more in 2020 and lose to one of the first; a team new in
    2021 starts at the mean of the five first-season end ratings, not at 1500."""
    config = EloConfig(k=32, newcomer_prior=True)
    rater = Rater(config)
    rater.race(0, 2019, ["old", "older"])
    first_seasons = [rater.state["old"][0], rater.state["older"][0]]
    for index in (1, 2, 3):
        rater.race(index, 2020, ["old", "a", "b", "c"])
    # two newcomers have finished a first season: fewer than the three needed
    assert rater.newcomers.start_for(2020) == 1500
    first_seasons += [rater.state[c][0] for c in ("a", "b", "c")]
    prior = float(np.mean(first_seasons))
    assert prior < 1500  # most of them lost
    old = carried(*rater.state["old"], 2021, config)
    rater.race(4, 2021, ["new", "old"])
    assert rater.newcomers.start_for(2021) == pytest.approx(prior)
    after = {c: r for i, c, r in rater.log if i == 4}
    expected = update(np.array([prior, old]), config)
    assert [after["new"], after["old"]] == pytest.approx(expected.tolist())
    # without the prior, a newcomer starts level
    plain = Rater(EloConfig(k=32))
    plain.race(0, 2019, ["x", "y"])
    y = carried(*plain.state["y"], 2020, plain.config)
    plain.race(1, 2020, ["y", "z"])
    assert plain.newcomers.start_for(2020) == 1500
    assert plain.state["z"][0] == pytest.approx(update(np.array([y, 1500.0]), plain.config)[1])
