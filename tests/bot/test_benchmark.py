"""The market as a benchmark: every price a cycle reads is kept with the model's probability,
and once the race has a result both are scored on the same moments (bot/benchmark.py)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from bot.backtest import load
from bot.benchmark import Moment, from_replay, from_warehouse, overall, score
from cli.main import app
from tests.bot.conftest import rows, run_abu_dhabi, running_bot
from tests.servers.base import LocalServer
from tests.servers.polymarket import BEFORE_RACE, BOOKS, PROBABILITIES, Polymarket
from warehouse.schema import BotQuote


def test_one_moment_by_hand() -> None:
    moment = Moment(
        prices={"a": 0.5, "b": 0.3, "c": 0.1, "d": 0.2},  # d: no model probability, left out
        model={"a": 0.6, "b": 0.3, "c": 0.1},
        winner="a",
    )
    scored = score(moment)
    assert scored is not None
    market = {"a": 0.5 / 0.9, "b": 0.3 / 0.9, "c": 0.1 / 0.9}
    assert scored.market_log_loss == pytest.approx(-math.log(0.5 / 0.9))
    assert scored.model_log_loss == pytest.approx(-math.log(0.6))
    assert scored.market_brier == pytest.approx(
        (market["a"] - 1) ** 2 + market["b"] ** 2 + market["c"] ** 2
    )
    assert scored.model_brier == pytest.approx(0.4**2 + 0.3**2 + 0.1**2)
    assert score(Moment({"b": 0.3}, {"b": 0.3}, "a")) is None  # the winner is not in the field


def test_a_replay_is_scored_at_each_of_its_times(tmp_path: Path) -> None:
    market = json.loads(
        (
            Path(__file__).resolve().parents[2] / "data/polymarket/abu_dhabi_2024_replay.json"
        ).read_text()
    )["markets"]
    doc = {
        "description": "Two drivers: a test",
        "markets": [
            {**market[0], "probability": 0.3, "history": [{"t": 1, "p": 0.4}, {"t": 2, "p": 0.2}],
             "probabilities": None, "winner": "No"},
            {**market[1], "probability": 0.7, "history": [{"t": 1, "p": 0.4}, {"t": 2, "p": 0.6}],
             "probabilities": None, "winner": "Yes"},
        ],
    }  # fmt: skip
    path = tmp_path / "replay.json"
    path.write_text(json.dumps(doc))
    (race,) = from_replay(load(path))
    assert (race.race, race.market_type, race.moments, race.skipped) == (
        "Two drivers",
        "winner",
        2,
        0,
    )
    # t=1: the market says 0.5 / 0.5, t=2: 0.25 / 0.75; the model 0.3 / 0.7 both times
    assert race.market_log_loss == pytest.approx((-math.log(0.5) - math.log(0.75)) / 2)
    assert race.model_log_loss == pytest.approx(-math.log(0.7))
    assert race.market_brier == pytest.approx((2 * 0.5**2 + 2 * 0.25**2) / 2)
    assert race.model_brier == pytest.approx(2 * 0.3**2)


def _best(token: str) -> tuple[float, float]:
    book = BOOKS[token]
    return max(float(b["price"]) for b in book["bids"]), min(
        float(a["price"]) for a in book["asks"]
    )


def test_a_cycle_keeps_every_price_it_read_and_the_race_is_then_scored(
    warehouse: Engine, market: tuple[Polymarket, LocalServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, server = market
    running_bot(warehouse, server).cycle(BEFORE_RACE)

    quotes = {q.driver_ref: q for q in rows(warehouse, BotQuote)}
    assert len(rows(warehouse, BotQuote)) == 5  # every market seen, the unmapped one too
    assert quotes[None].market_type == "unmapped" and quotes[None].probability is None
    for driver, probability in PROBABILITIES.items():
        quote = quotes[driver]
        assert quote.market_type == "winner" and quote.source == "book"
        assert quote.probability == probability and quote.model == "f1_winner_post_quali v7"
        assert quote.seen_at is not None
    norris = quotes["norris"]
    bid, ask = _best("7110000000000000004")  # Norris's Yes token
    assert (norris.best_bid, norris.best_ask) == (bid, ask)
    assert norris.mid == pytest.approx((bid + ask) / 2)

    assert from_warehouse(warehouse) == []  # no result yet: nothing to score
    run_abu_dhabi(warehouse, ["norris", "max_verstappen", "leclerc", "piastri"])  # Norris won

    (race,) = from_warehouse(warehouse)
    assert (race.race, race.market_type, race.moments) == (
        "2024 R24 Abu Dhabi Grand Prix",
        "winner",
        1,
    )
    mids = {d: quotes[d].mid for d in PROBABILITIES}
    assert race.market_log_loss == pytest.approx(-math.log(mids["norris"] / sum(mids.values())))
    assert race.model_log_loss == pytest.approx(-math.log(0.62))  # the four sum to 1
    assert overall([race])[0]["races"] == 1

    monkeypatch.setenv("F1_DATABASE_URL", warehouse.url.render_as_string(hide_password=False))
    shown = CliRunner().invoke(app, ["bot", "benchmark", "--json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["races"][0]["model_log_loss"] == pytest.approx(
        race.model_log_loss
    )


def test_a_replay_of_several_market_types_is_traded_and_scored_per_type(tmp_path: Path) -> None:
    from bot.backtest import run

    market = json.loads(
        (
            Path(__file__).resolve().parents[2] / "data/polymarket/abu_dhabi_2024_replay.json"
        ).read_text()
    )["markets"]
    history = [{"t": 1, "p": 0.60}, {"t": 2, "p": 0.70}]
    doc = {
        "description": "Mixed: a test",
        "markets": [
            {**market[0], "probability": 0.3, "history": [{"t": 1, "p": 0.4}], "winner": "No",
             "probabilities": None},
            {**market[1], "probability": 0.7, "history": [{"t": 1, "p": 0.4}], "winner": "Yes",
             "probabilities": None},
            {**market[2], "market": {**market[2]["market"], "id": "p3"}, "market_type": "podium",
             "probability": 0.8, "history": history, "winner": "Yes", "probabilities": None},
        ],
    }  # fmt: skip
    path = tmp_path / "replay.json"
    path.write_text(json.dumps(doc))
    replay = load(path)
    by_type = {r.market_type: r for r in from_replay(replay)}
    assert set(by_type) == {"podium", "winner"}
    podium = by_type["podium"]
    assert podium.moments == 2
    # one yes/no market that happened, priced 0.60 then 0.70; ours 0.8 both times
    assert podium.market_log_loss == pytest.approx((-math.log(0.6) - math.log(0.7)) / 2)
    assert podium.model_log_loss == pytest.approx(-math.log(0.8))
    assert podium.market_brier == pytest.approx((0.4**2 + 0.3**2) / 2)
    assert by_type["winner"].model_log_loss == pytest.approx(-math.log(0.7))
    report = run(replay)  # the podium market is traded like the others: edge 0.8 − 0.61 − fee
    assert report.trades >= 1 and report.won >= 1
