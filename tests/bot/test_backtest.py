"""The backtest replays prices through the live strategy and paper broker; figures are checked
against arithmetic done here by hand."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bot.backtest import load, run
from bot.benchmark import from_replay
from bot.fees import FeeSchedule
from cli.main import app
from tests.servers.polymarket import EVENTS

EXAMPLE = Path(__file__).resolve().parents[2] / "data" / "polymarket" / "abu_dhabi_2024_replay.json"


def replay(tmp_path: Path, **overrides: Any) -> Path:
    market = EVENTS[0]["markets"][1]  # Lando Norris
    doc = {
        "bankroll": 1000,
        "spread": 0.02,
        "depth": 500,
        "markets": [
            {
                "market": market,
                "probability": 0.6,
                "history": [{"t": 1733011200, "p": 0.40}, {"t": 1733032800, "p": 0.40}],
                "winner": "Yes",
            }
        ],
    }
    doc["markets"][0].update(overrides)
    path = tmp_path / "replay.json"
    path.write_text(json.dumps(doc))
    return path


def test_a_replay_buys_settles_and_reports(tmp_path: Path) -> None:
    report = run(load(replay(tmp_path)))
    fees = FeeSchedule(0.03)  # Polymarket's sports taker fee: 0.03 × p(1 − p) a share
    ask = 0.41  # 0.40 + half the spread
    limit = 0.54  # the highest price keeping a 0.05 edge after its fee: 0.54745 ≤ 0.55
    assert fees.cost(limit) <= 0.55 < fees.cost(0.55)
    shares = math.floor(50 / fees.cost(limit) * 100) / 100  # per-order limit 50 binds
    fee = fees.fee(shares, ask)
    cost = 2 * (shares * ask + fee)  # bought at both time points (per market 100 leaves room)
    assert report.trades == 2 and (report.settled, report.won) == (1, 1)
    assert report.fees == pytest.approx(2 * fee, abs=1e-4)
    assert report.pnl == pytest.approx(2 * shares - cost)
    # the peak: after the first buy (its fee paid, marked at 0.41); the low point: both lots
    # marked at 0.40, bought at 0.41, both fees paid
    assert report.max_drawdown == pytest.approx((2 * shares * 0.01 + fee) / (1000 - fee))
    assert report.hit_rate == 1.0
    lost = run(load(replay(tmp_path, winner="No")))
    assert lost.pnl == pytest.approx(-cost) and lost.hit_rate == 0.0
    assert lost.max_drawdown == pytest.approx((cost - fee) / (1000 - fee))  # from that peak


def test_no_edge_no_trades(tmp_path: Path) -> None:
    report = run(load(replay(tmp_path, probability=0.44)))
    assert (report.trades, report.pnl, report.settled, report.hit_rate) == (0, 0, 0, None)


def test_bad_replays_are_refused_with_the_field(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"markets\.0: .*give probability or probabilities"):
        load(replay(tmp_path, probability=None))
    with pytest.raises(ValueError, match="winner 'Maybe' is not an outcome"):
        load(replay(tmp_path, winner="Maybe"))
    with pytest.raises(ValueError, match=r"markets\.0\.history\.0\.p"):
        load(replay(tmp_path, history=[{"t": 1, "p": 1.4}]))
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    with pytest.raises(ValueError, match="broken.json"):
        load(broken)


def test_f1_bot_backtest_prints_the_figures_and_draws_the_curve(tmp_path: Path) -> None:
    png = tmp_path / "curve.png"
    result = CliRunner().invoke(
        app, ["bot", "backtest", str(EXAMPLE), "--json", "--plot", str(png)]
    )
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    expected = run(load(EXAMPLE)).as_dict()
    assert printed == expected and printed["trades"] > 0 and printed["settled"] > 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    refused = CliRunner().invoke(app, ["bot", "backtest", str(tmp_path / "none.json")])
    assert refused.exit_code == 2 and "none.json" in refused.output


def test_a_head_to_head_is_bought_and_settled_on_its_priced_driver(tmp_path: Path) -> None:
    duel = {**EVENTS[0]["markets"][1], "outcomes": json.dumps(["Lando Norris", "Oscar Piastri"]),
            "question": "Norris vs Piastri: who finishes ahead?"}  # fmt: skip
    path = replay(tmp_path, market=duel, market_type="h2h", priced="Lando Norris",
                  winner="Lando Norris")  # fmt: skip
    report = run(load(path))
    same_as_yes = run(load(replay(tmp_path)))  # the same prices and probability on a Yes
    assert report.pnl == pytest.approx(same_as_yes.pnl) and report.trades == 2
    assert report.by_type == {"h2h": {"markets": 1, "trades": 2, "pnl": pytest.approx(report.pnl)}}
    lost = run(load(replay(tmp_path, market=duel, market_type="h2h", priced="Lando Norris",
                           winner="Oscar Piastri")))  # fmt: skip
    assert lost.won == 0 and lost.pnl == pytest.approx(run(load(replay(tmp_path, winner="No"))).pnl)
    with pytest.raises(ValueError, match="priced 'Yes' is not an outcome"):
        load(replay(tmp_path, market=duel, market_type="h2h", winner="Lando Norris"))


def test_the_shipped_replay_trades_every_market_type_the_bot_trades() -> None:
    loaded = load(EXAMPLE)
    kinds = {"winner", "podium", "top6", "points", "h2h", "constructors_title"}
    assert {item.market_type for item in loaded.markets} == kinds
    report = run(loaded)
    assert set(report.by_type) == kinds and all(f["trades"] > 0 for f in report.by_type.values())
    assert sum(f["pnl"] for f in report.by_type.values()) == pytest.approx(report.pnl)
    assert sum(f["markets"] for f in report.by_type.values()) == len(loaded.markets)
    scored = {race.market_type: race for race in from_replay(loaded)}
    assert set(scored) == kinds and {r.moments for r in scored.values()} == {29}
    # the constructors' title is one field: McLaren's normalised mid against Ferrari's
    mclaren, ferrari = (i for i in loaded.markets if i.market_type == "constructors_title")
    pairs = zip(mclaren.history, ferrari.history, strict=True)
    losses = [-math.log(m.p / (m.p + f.p)) for m, f in pairs]
    assert scored["constructors_title"].market_log_loss == pytest.approx(sum(losses) / 29)
