"""Engines and sessions for the warehouse (SQLite embedded, PostgreSQL in production)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from warehouse.settings import WarehouseSettings, normalise_url


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """An engine for `url` (default: the configured warehouse); SQLite gets FKs and WAL."""
    url = normalise_url(url) if url else WarehouseSettings().database_url
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        kwargs.setdefault("pool_pre_ping", True)
        return create_engine(url, **kwargs)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, **kwargs)
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Foreign keys are off by default in SQLite; WAL lets the API read while a load writes.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory bound to `engine` that keeps objects readable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


def as_utc(moment: dt.datetime) -> dt.datetime:
    """A stored time as an aware UTC datetime (SQLite hands them back naive)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One session in one transaction: commit on success, roll back on any error."""
    with session_factory(engine).begin() as session:
        yield session


def insert_if_absent(session: Session, table: Any, row: dict[str, Any], key: list[str]) -> None:
    """INSERT `row` unless a row with the same `key` exists (ON CONFLICT DO NOTHING, on SQLite
    and PostgreSQL alike): first-time creation that any number of clients may race."""
    from sqlalchemy.dialects import postgresql, sqlite

    if session.get_bind().dialect.name == "postgresql":
        statement: Any = postgresql.insert(table)
    else:
        statement = sqlite.insert(table)
    session.execute(statement.values(**row).on_conflict_do_nothing(index_elements=key))
