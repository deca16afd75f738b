"""An answer's driver and race names come from memory: read once per published build (in one go,
however many threads ask first), followed when a new build is published, and a name added to
the warehouse since is still found."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import Engine, event, text

from feature_store.online import NAMES, Names, NoEntrants, get_entry_features, in_memory
from feature_store.store import publish, stage_build, store_root
from warehouse.db import make_engine


def _publish(marker: int) -> str:
    """A published build of one tiny view (its content makes the build id)."""
    root = store_root()
    row = {
        "race_id": [1],
        "driver_id": [1],
        "stage": ["pre_quali"],
        "season": [2024],
        "round": [24],
        "marker": [marker],
    }
    views = {"pre_quali": pd.DataFrame(row)}
    _, staging = stage_build(views, root)
    return publish(staging, root).build_id


class _Queries:
    """The statements an engine runs, counted."""

    def __init__(self, engine: Engine) -> None:
        self.count = 0
        self.engine = engine
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_: Any) -> None:
        self.count += 1

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)


@pytest.fixture
def queries(history: Engine) -> Iterator[_Queries]:
    counter = _Queries(history)
    yield counter
    counter.close()


def _expected(history: Engine, season: int, round_: int) -> tuple[dict[int, str], str]:
    with history.connect() as connection:
        drivers = connection.execute(
            text(
                "SELECT d.id, d.forename || ' ' || d.surname FROM drivers d JOIN race_results r"
                " ON r.driver_id = d.id JOIN races ra ON ra.id = r.race_id"
                " WHERE ra.season = :s AND ra.round = :r"
            ),
            {"s": season, "r": round_},
        ).all()
        race = connection.execute(
            text("SELECT name FROM races WHERE season = :s AND round = :r"),
            {"s": season, "r": round_},
        ).scalar_one()
    return {int(i): str(n) for i, n in drivers}, str(race)


def test_threads_asking_first_read_the_names_once(history: Engine, queries: _Queries) -> None:
    """Eight threads look names up at once on a fresh holder: one read of every name (two
    statements), each thread's answer right."""
    names = Names()
    races = [(2024, r) for r in range(1, 9)]
    expected = {race: _expected(history, *race) for race in races}
    queries.count = 0
    start = threading.Barrier(len(races))
    answers: dict[tuple[int, int], tuple[dict[int, str], str]] = {}

    def ask(season: int, round_: int) -> None:
        ids = list(expected[(season, round_)][0])
        start.wait()
        drivers, race = names.lookup(history, ids, season, round_)
        answers[(season, round_)] = ({i: drivers[i] for i in ids}, race)

    threads = [threading.Thread(target=ask, args=race) for race in races]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == expected
    assert queries.count == 2  # every driver, every race: once
    assert names.ready(history)
    names.lookup(history, list(expected[(2024, 1)][0]), 2024, 1)
    assert queries.count == 2  # from memory
    with pytest.raises(NoEntrants, match="race 2024 round 40 is not in the warehouse"):
        names.lookup(history, [], 2024, 40)


def test_names_follow_the_published_build(history_copy: Path) -> None:
    engine = make_engine(f"sqlite:///{history_copy}")
    names = Names()
    _publish(1)
    hamilton = engine.connect().execute(text("SELECT id FROM drivers WHERE ref = 'hamilton'"))
    ident = int(hamilton.scalar_one())
    assert names.lookup(engine, [ident], 2024, 24)[0][ident] == "Lewis Hamilton"
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE drivers SET forename = 'Sir Lewis' WHERE id = :i"), {"i": ident}
        )
        connection.execute(
            text(
                "INSERT INTO drivers (ref, forename, surname, nationality) "
                "VALUES ('newcomer', 'New', 'Comer', 'British')"
            )
        )
        newcomer = connection.execute(text("SELECT id FROM drivers WHERE ref = 'newcomer'"))
        added = int(newcomer.scalar_one())
    # held for the build; a driver added since is read on its own
    drivers, _ = names.lookup(engine, [ident, added], 2024, 24)
    assert (drivers[ident], drivers[added]) == ("Lewis Hamilton", "New Comer")
    _publish(2)  # a new build (each ingestion is followed by one): every name read again
    assert not names.ready(engine)
    assert names.lookup(engine, [ident], 2024, 24)[0][ident] == "Sir Lewis Hamilton"
    engine.dispose()


def test_in_memory_once_the_build_and_names_are_held(registry: dict, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """What the service answers on its event loop: only a race of the loaded build, with the
    names held."""
    import feature_store.online as online

    for key, value in registry["env"].items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(online, "_PUBLISHED", {})
    monkeypatch.setattr(online, "NAMES", Names())
    engine = make_engine()
    stages = ("post_quali",)
    assert not in_memory(engine, 2024, 24, stages)  # nothing loaded yet
    rows = get_entry_features(engine, 2024, 24, "post_quali")
    assert not in_memory(engine, 2024, 24, stages)  # the build, not yet the names
    online.NAMES.lookup(engine, [int(d) for d in rows["driver_id"]], 2024, 24)
    assert in_memory(engine, 2024, 24, stages) and in_memory(engine, 2010, 3, stages)
    assert not in_memory(engine, 2031, 1, stages)  # not in the build
    assert not in_memory(engine, 2024, 24, ("no_such_stage",))
    assert online.NAMES is not NAMES
    engine.dispose()
