"""
### polymarket_bot

Every 15 minutes, one cycle of the Polymarket bot: fetch the open F1 markets (Gamma), map them
to our races and drivers, compare their order books with the champion's stored probabilities,
and buy where the edge is at least `BOT_MIN_EDGE`, under every hard limit. Every decision, trade
or skip, is written to the warehouse with its reason (`bot_decisions`), with the trades,
positions and state. Paper trading unless `BOT_LIVE_TRADING=true` and keys are set.

The DAG is **paused when created**; unpausing it runs cycles from the next quarter hour on
(never a catch-up cycle for a time already past), and the bot itself only places
orders once started (`f1 bot start` or `POST /api/v1/bot/start`). A stopped bot still records
the signals it would have traded.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow.sdk import dag, task

from dags.callbacks import CALLBACKS
from plugins.timetables import FutureCronTimetable


@dag(
    schedule=FutureCronTimetable("*/15 * * * *"),
    start_date=dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
    catchup=False,
    max_active_runs=1,
    is_paused_upon_creation=True,
    dagrun_timeout=dt.timedelta(minutes=10),
    tags=["polymarket", "bot"],
    doc_md=__doc__,
    default_args={"retries": 2, "retry_delay": dt.timedelta(minutes=1), **CALLBACKS},
)
def polymarket_bot() -> None:
    @task
    def cycle() -> dict[str, Any]:
        """One bot cycle; returns its summary (orders, equity, status)."""
        from bot.cycle import cycle_task

        return cycle_task()

    cycle()


polymarket_bot()
