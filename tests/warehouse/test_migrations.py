"""Migrations build exactly the schema the models declare, and come down cleanly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from warehouse.migrate import current_revision, downgrade, head_revision, upgrade
from warehouse.schema import Base


def test_upgrade_creates_every_table_then_downgrade_to_base_drops_them(engine) -> None:
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    assert set(inspect(engine).get_table_names()) == set(Base.metadata.tables) | {"alembic_version"}

    downgrade(engine, "base")
    assert current_revision(engine) is None
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}

    upgrade(engine)  # and back up again
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())


def test_migrated_schema_matches_the_models(migrated) -> None:
    with migrated.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_upgrade_twice_is_a_no_op(migrated) -> None:
    upgrade(migrated)
    assert current_revision(migrated) == head_revision()
