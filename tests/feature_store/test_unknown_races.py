"""Issue 34 (9): a race the published build does not hold. One the warehouse does not know is
answered from one indexed read (it read the whole warehouse each time: 4.8 s on SQLite); one it
knows is built from the warehouse's frames read once per build, not once per request. On
SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, text

from feature_store.online import NoEntrants, get_entry_features
from pipelines.features import build_features, publish_build


def _recording(seen: list[str]) -> Any:
    def record(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    return record


def test_unknown_races_cost_one_read_and_known_ones_one_load_per_build(
    history: Engine, tmp_path: Path
) -> None:
    root = tmp_path / "features"
    record = None
    with history.begin() as connection:  # a race on the calendar after the published build
        circuit = connection.execute(text("SELECT id FROM circuits WHERE ref = 'bahrain'"))
        connection.execute(
            text(
                "INSERT INTO races (season, round, circuit_id, name, date) "
                "VALUES (2099, 1, :c, 'Test Grand Prix', :d)"
            ),
            {"c": circuit.scalar_one(), "d": dt.date(2099, 3, 1)},
        )
    try:
        publish_build(build_features(history, root), root)
        with history.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO races (season, round, circuit_id, name, date) SELECT 2099, 2, "
                    "circuit_id, 'Later Grand Prix', date FROM races WHERE season = 2099"
                )
            )
        seen: list[str] = []
        record = _recording(seen)
        event.listen(history, "before_cursor_execute", record)
        for round_ in (7, 8, 9):
            with pytest.raises(NoEntrants, match=f"2031 round {round_} is not in the warehouse"):
                get_entry_features(history, 2031, round_, "pre_quali", root)
        assert len(seen) == 3 and all("race_results" not in s for s in seen)  # one read each
        seen.clear()
        first = get_entry_features(history, 2099, 2, "pre_quali", root)  # not in the build
        loads = sum("FROM race_results" in s for s in seen)
        assert loads >= 1 and len(first) == 20
        seen.clear()
        again = get_entry_features(history, 2099, 2, "pre_quali", root)
        assert not any("FROM race_results" in s for s in seen)  # the build's frames, held
        assert again.equals(first)
    finally:
        if event.contains(history, "before_cursor_execute", record):
            event.remove(history, "before_cursor_execute", record)
        with history.begin() as connection:
            connection.execute(text("DELETE FROM races WHERE season = 2099"))
