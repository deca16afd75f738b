"""Upserts insert new keys, update changed rows, leave equal rows alone, and count exactly."""

from __future__ import annotations

from sqlalchemy import select

from warehouse.db import transaction
from warehouse.schema import Driver
from warehouse.upsert import UpsertCounts, upsert

TABLE = Driver.__table__

ROWS = [
    {"ref": "hamilton", "forename": "Lewis", "surname": "Hamilton", "number": 44},
    {"ref": "max_verstappen", "forename": "Max", "surname": "Verstappen", "number": 33},
]


def _drivers(engine) -> dict[str, tuple]:
    with transaction(engine) as session:
        rows = session.execute(select(Driver.ref, Driver.number, Driver.id)).all()
    return {ref: (number, id_) for ref, number, id_ in rows}


def test_insert_then_rerun_changes_nothing_then_update_keeps_ids(migrated) -> None:
    with transaction(migrated) as session:
        assert upsert(session, TABLE, ROWS, key=("ref",)) == UpsertCounts(inserted=2)
    before = _drivers(migrated)

    with transaction(migrated) as session:
        assert upsert(session, TABLE, ROWS, key=("ref",)) == UpsertCounts(unchanged=2)

    changed = [
        ROWS[0],
        {**ROWS[1], "number": 1},
        {"ref": "norris", "forename": "Lando", "surname": "Norris", "number": 4},
    ]
    with transaction(migrated) as session:
        counts = upsert(session, TABLE, changed, key=("ref",))
    assert counts == UpsertCounts(inserted=1, updated=1, unchanged=1)
    assert counts.changed == 2
    after = _drivers(migrated)
    assert after["max_verstappen"] == (1, before["max_verstappen"][1])  # same row, new value
    assert after["hamilton"] == before["hamilton"]
    assert after["norris"][0] == 4


def test_scope_limits_what_is_compared(migrated) -> None:
    with transaction(migrated) as session:
        upsert(session, TABLE, ROWS, key=("ref",))
        counts = upsert(
            session,
            TABLE,
            [{**ROWS[0], "number": 7}],
            key=("ref",),
            scope=TABLE.c.ref == "hamilton",
        )
    assert counts == UpsertCounts(updated=1)
    assert _drivers(migrated)["hamilton"][0] == 7


def test_nothing_in_nothing_out(migrated) -> None:
    with transaction(migrated) as session:
        assert upsert(session, TABLE, [], key=("ref",)) == UpsertCounts()
