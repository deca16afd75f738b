"""`f1 bot …`: the Polymarket bot by hand, as the `polymarket_bot` DAG runs it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from cli.console import console, fail, progress_callback, warehouse_engine

app = typer.Typer(help="The Polymarket bot (paper trading unless BOT_LIVE_TRADING=true).")


def _settings() -> Any:
    from bot.settings import BotSettings

    return BotSettings()


@app.command()
def cycle(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Run one cycle: fetch markets, decide against the champion, trade, record."""
    from bot.clients import MarketApiError
    from bot.cycle import Bot
    from bot.record import ConcurrentCycle

    bot = Bot(warehouse_engine(), _settings())
    try:
        report = bot.cycle()
    except (MarketApiError, ConcurrentCycle) as error:
        fail(str(error))
    finally:
        bot.close()
    summary = report.summary()
    if as_json:
        typer.echo(json.dumps(summary))
        return
    from rich.table import Table

    table = Table(
        "market", "action", "p", "ask", "edge", "reason", title=f"cycle {report.cycle_id}"
    )
    for d in report.decisions:
        table.add_row(
            d.market_id,
            d.action,
            "" if d.probability is None else f"{d.probability:.3f}",
            "" if d.best_ask is None else f"{d.best_ask:.3f}",
            "" if d.edge is None else f"{d.edge:+.3f}",
            d.reason,
        )
    console.print(table)
    console.print(", ".join(f"{k} {v}" for k, v in summary.items()))


@app.command()
def status(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """The bot's state: status, cash, exposure, P&L, limits, heartbeat, last error."""
    from bot.cycle import ensure_state
    from bot.views import state_view

    engine = warehouse_engine()
    ensure_state(engine, _settings())
    view = state_view(engine)
    if as_json:
        typer.echo(json.dumps(view, default=str))
        return
    for key, value in view.items():
        console.print(f"[bold]{key}[/]: {value}", highlight=False)


@app.command()
def positions(
    closed: Annotated[bool, typer.Option("--closed", help="Include settled positions.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Positions held (marked to market), with their P&L."""
    from bot.views import positions_view

    rows = positions_view(warehouse_engine(), include_closed=closed)
    if as_json:
        typer.echo(json.dumps(rows, default=str))
        return
    from rich.table import Table

    table = Table("market", "driver", "outcome", "size", "avg", "mark", "unrealised", "realised")
    for p in rows:
        table.add_row(
            p["market_id"],
            p["driver_ref"] or "",
            p["outcome"],
            f"{p['size']:.2f}",
            f"{p['average_price']:.3f}",
            f"{p['mark']:.3f}",
            f"{p['unrealised_pnl']:+.2f}",
            f"{p['realised_pnl']:+.2f}",
        )
    console.print(table if rows else "no positions")


@app.command()
def start() -> None:
    """Let the bot trade (a halted bot restarts with its peak reset to today's equity)."""
    from bot.cycle import set_status

    set_status(warehouse_engine(), "running", _settings())
    console.print("bot running" + (" (LIVE)" if _settings().live else " (paper)"))


@app.command()
def stop() -> None:
    """Stop placing orders (cycles still record what the bot would have done)."""
    from bot.cycle import set_status

    set_status(warehouse_engine(), "stopped", _settings())
    console.print("bot stopped")


@app.command()
def backtest(
    file: Annotated[Path, typer.Argument(help="A replay file (see bot/backtest.py).")],
    plot: Annotated[
        Path | None, typer.Option("--plot", help="Draw the equity curve to this PNG.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Replay a price history: P&L, maximum drawdown, trades and hit rate."""
    from bot import backtest as replay

    try:
        loaded = replay.load(file)
    except ValueError as error:
        fail(str(error), code=2)
    if as_json:
        report = replay.run(loaded)
    else:
        with progress_callback() as progress:
            report = replay.run(loaded, lambda done, total: progress("replay", done, total))
    if plot is not None:
        replay.plot(report, plot, file.stem)
    figures = report.as_dict()
    if as_json:
        typer.echo(json.dumps(figures))
        return
    by_type = figures.pop("by_type")
    for key, value in figures.items():
        console.print(f"[bold]{key}[/]: {value}", highlight=False)
    from rich.table import Table

    table = Table("market type", "markets", "trades", "P&L after fees")
    for kind, row in by_type.items():
        table.add_row(kind, f"{row['markets']:g}", f"{row['trades']:g}", f"{row['pnl']:+.2f}")
    console.print(table)
    if plot is not None:
        console.print(f"equity curve: {plot}")


@app.command()
def benchmark(
    replay_file: Annotated[
        Path | None,
        typer.Option("--replay", help="Score a backtest replay file instead of the warehouse."),
    ] = None,
    season: Annotated[int | None, typer.Option(help="Only this season's races.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The market as a benchmark: its normalised prices beside our model's probabilities at
    the same moments (log loss, Brier), per race and market type, for every race with recorded
    prices and a result."""
    from rich.table import Table

    from bot import backtest as replay
    from bot.benchmark import from_replay, from_warehouse, overall

    if replay_file is not None:
        try:
            races = from_replay(replay.load(replay_file))
        except ValueError as error:
            fail(str(error), code=2)
    else:
        engine = warehouse_engine()
        try:
            races = from_warehouse(engine, season)
        finally:
            engine.dispose()
    summary = overall(races)
    if as_json:
        typer.echo(json.dumps({"races": [r.as_dict() for r in races], "overall": summary}))
        return
    if not races:
        console.print("no race with recorded prices and a result yet")
        return
    names = ("market_log_loss", "model_log_loss", "market_brier", "model_brier")
    table = Table("race", "type", "moments", *(n.replace("_", " ") for n in names))
    for r in races:
        figures = (f"{getattr(r, n):.4f}" for n in names)
        table.add_row(r.race, r.market_type, str(r.moments), *figures)
    for row in summary:
        figures = (f"{row[n]:.4f}" for n in names)
        label = f"all ({row['races']} races)"
        table.add_row(label, row["market_type"], str(row["moments"]), *figures, style="bold")
    console.print(table)
