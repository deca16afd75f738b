"""Engines and sessions for the warehouse (SQLite embedded, PostgreSQL in production)."""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from spec.settings import WarehouseSettings, normalise_url


def make_engine(
    url: str | None = None, statement_timeout_s: float | None = None, **kwargs: Any
) -> Engine:
    """An engine for `url` (default: the configured warehouse); SQLite gets FKs and WAL. With
    `statement_timeout_s`, a statement still running after that long is cancelled (PostgreSQL's
    `statement_timeout`; on SQLite a progress handler interrupts it): `timed_out` tells."""
    url = normalise_url(url) if url else WarehouseSettings().database_url
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        kwargs.setdefault("pool_pre_ping", True)
        if statement_timeout_s is not None:
            options = f"-c statement_timeout={round(statement_timeout_s * 1000)}"
            kwargs["connect_args"] = {**kwargs.get("connect_args", {}), "options": options}
        return create_engine(url, **kwargs)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, **kwargs)
    event.listen(engine, "connect", _sqlite_pragmas)
    if statement_timeout_s is not None:
        _interrupt_after(engine, statement_timeout_s)
    return engine


PROGRESS_STEPS = 10_000  # SQLite virtual-machine steps between two looks at the clock


def _interrupt_after(engine: Engine, seconds: float) -> None:
    """SQLite: every statement of `engine` is interrupted once it has run `seconds`."""

    def connected(dbapi_connection: Any, record: Any) -> None:
        # waiting for another writer's lock counts too (the progress handler does not run
        # then): give up after the same time ("database is locked")
        dbapi_connection.execute(f"PRAGMA busy_timeout={min(30_000, round(seconds * 1000))}")
        deadline = record.info["deadline"] = [math.inf]
        dbapi_connection.set_progress_handler(
            lambda: 1 if time.monotonic() > deadline[0] else 0, PROGRESS_STEPS
        )

    def starts(conn: Any, *_: Any) -> None:
        conn.info["deadline"][0] = time.monotonic() + seconds

    def ends(conn: Any, *_: Any) -> None:
        conn.info["deadline"][0] = math.inf

    event.listen(engine, "connect", connected)
    event.listen(engine, "before_cursor_execute", starts)
    event.listen(engine, "after_cursor_execute", ends)


def timed_out(error: BaseException) -> bool:
    """Whether a database error is a statement cancelled by its time limit (`make_engine`)."""
    original = getattr(error, "orig", None)
    if getattr(original, "sqlstate", None) == "57014":  # PostgreSQL: query_canceled
        return True
    return type(original).__name__ == "OperationalError" and "interrupted" in str(original)


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
