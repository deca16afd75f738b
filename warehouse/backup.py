"""A consistent backup of the warehouse, and a restore that proves it brought back every row.

A backup is two files: the dump and its manifest (`<dump>.manifest.json`: the backend, the
Alembic revision, the row count of every table as of the dump, its size and SHA-256).
- PostgreSQL: `pg_dump --format=custom`, run on a snapshot exported by a repeatable-read
  transaction that also counted the rows, so the counts are exactly the dump's, while
  everything else keeps writing.
- SQLite: the SQLite online backup API (`sqlite3.Connection.backup`), a page-by-page copy that is
  consistent even while others write; the counts are read from the copy.

Either may go to a folder or to `s3://bucket/key` (boto3; MinIO through AWS_ENDPOINT_URL_S3).

A restore checks the manifest first: the backend must match, the SHA-256 must match, and a
warehouse that holds rows is replaced only when asked (`force`). PostgreSQL restores with
`pg_restore --clean --if-exists --single-transaction` (all or nothing); SQLite copies the backup
into the live file with the backup API. Then every table is counted again and compared with the
manifest: a restore that did not bring back every row raises, naming the tables."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import time
from contextlib import closing
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, inspect, text

from warehouse.migrate import current_revision


class BackupError(RuntimeError):
    """A backup or restore that cannot go ahead, and why."""


@dataclass(frozen=True)
class Manifest:
    backend: str  # "postgresql" or "sqlite"
    revision: str | None
    tables: dict[str, int]
    created_at: str
    bytes: int
    sha256: str
    tool: str  # what wrote the dump (pg_dump's version, or sqlite3's)

    @property
    def rows(self) -> int:
        return sum(self.tables.values())

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, raw: str, where: str) -> Manifest:
        try:
            return cls(**json.loads(raw))
        except (json.JSONDecodeError, TypeError) as error:
            raise BackupError(f"{where}: not a backup manifest ({error})") from None


@dataclass(frozen=True)
class Report:
    location: str
    manifest: Manifest
    seconds: float


def manifest_location(location: str) -> str:
    return f"{location}.manifest.json"


# -- counting


def row_counts(connection: Connection) -> dict[str, int]:
    """Every table's row count (ours and alembic_version), as `connection` sees them."""
    names = sorted(inspect(connection).get_table_names())
    quote = connection.dialect.identifier_preparer.quote
    counts = {}
    for name in names:
        counted = connection.execute(text(f"SELECT count(*) FROM {quote(name)}")).scalar_one()
        counts[name] = int(counted)
    return counts


# -- backup


def backup(engine: Engine, location: str) -> Report:
    """Back the warehouse up to `location` (a file path or s3://bucket/key)."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="f1-backup-") as scratch:
        dump = Path(scratch) / "warehouse.dump"
        if engine.dialect.name == "postgresql":
            counts, tool = _pg_dump(engine, dump)
        elif engine.dialect.name == "sqlite":
            counts, tool = _sqlite_backup(engine, dump)
        else:
            raise BackupError(f"no backup for a {engine.dialect.name} warehouse")
        manifest = Manifest(
            backend=engine.dialect.name,
            revision=current_revision(engine),
            tables=counts,
            created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            bytes=dump.stat().st_size,
            sha256=_sha256(dump),
            tool=tool,
        )
        _put(dump, location)
        _put_text(manifest.to_json(), manifest_location(location))
    return Report(location, manifest, time.perf_counter() - started)


def _pg_dump(engine: Engine, dump: Path) -> tuple[dict[str, int], str]:
    tool, version = _pg_tool("pg_dump", engine)
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as connection:
        snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
        counts = row_counts(connection)
        _run(
            [tool, "--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot}",
             f"--file={dump}", *_libpq(engine)],
            engine,
        )  # fmt: skip
        connection.rollback()
    return counts, version


def _sqlite_backup(engine: Engine, dump: Path) -> tuple[dict[str, int], str]:
    with closing(sqlite3.connect(_sqlite_path(engine))) as live:
        with closing(sqlite3.connect(dump)) as copy:
            live.backup(copy)
    return _sqlite_counts(dump), f"sqlite3 {sqlite3.sqlite_version}"


def _sqlite_counts(path: Path) -> dict[str, int]:
    """Every table's rows in the SQLite file at `path` (raises on a file that is not sound)."""
    copied = create_engine(f"sqlite:///{path}")
    try:
        with copied.connect() as connection:
            if connection.exec_driver_sql("PRAGMA quick_check").scalar_one() != "ok":
                raise BackupError(f"{path} fails SQLite's quick_check")
            return row_counts(connection)
    finally:
        copied.dispose()


# -- restore


def read_manifest(location: str) -> Manifest:
    where = manifest_location(location)
    return Manifest.from_json(_get_text(where), where)


def restore(engine: Engine, location: str, force: bool = False) -> Report:
    """Restore the backup at `location` into the warehouse of `engine`, all or nothing, and
    check that every table holds the rows the manifest lists."""
    started = time.perf_counter()
    manifest = read_manifest(location)
    if manifest.backend != engine.dialect.name:
        raise BackupError(
            f"{location} is a {manifest.backend} backup; the warehouse is {engine.dialect.name}"
        )
    with engine.connect() as connection:
        counts = row_counts(connection)
        held = sum(rows for name, rows in counts.items() if name != "alembic_version")
    if held and not force:
        raise BackupError(
            f"the warehouse {_safe(engine)} holds {held:,} rows: pass --force to replace them "
            "with the backup"
        )
    at = current_revision(engine) if counts else None
    if manifest.backend == "postgresql" and at is not None and at != manifest.revision:
        # pg_restore replaces the dump's tables only: a newer revision's own would stay behind
        raise BackupError(
            f"the warehouse is at revision {at}, the backup at {manifest.revision}: restore "
            f"into an empty database, or `f1 db downgrade {manifest.revision}` first"
        )
    with tempfile.TemporaryDirectory(prefix="f1-restore-") as scratch:
        dump = Path(scratch) / "warehouse.dump"
        _get(location, dump)
        if _sha256(dump) != manifest.sha256:
            raise BackupError(f"{location} does not match its manifest's SHA-256: not restoring")
        engine.dispose()  # no pooled connection holds a table the restore drops
        if manifest.backend == "postgresql":
            _run(
                [_pg_tool("pg_restore", engine)[0], "--clean", "--if-exists", "--no-owner",
                 "--no-privileges", "--single-transaction", "--exit-on-error",
                 *_libpq(engine), str(dump)],
                engine,
            )  # fmt: skip
        else:
            _check_sqlite_dump(dump, manifest, location)  # before the live file is touched
            with closing(sqlite3.connect(dump)) as copy:
                with closing(sqlite3.connect(_sqlite_path(engine))) as live:
                    copy.backup(live)
    with engine.connect() as connection:
        found = row_counts(connection)
    wrong = {
        name: (rows, found.get(name))
        for name, rows in manifest.tables.items()
        if found.get(name) != rows
    }
    if wrong:
        listed = ", ".join(f"{n}: {want} expected, {got} found" for n, (want, got) in wrong.items())
        raise BackupError(f"the restore did not bring back every row ({listed})")
    return Report(location, manifest, time.perf_counter() - started)


def _check_sqlite_dump(dump: Path, manifest: Manifest, location: str) -> None:
    """The copy is a sound SQLite file holding the rows its manifest lists."""
    try:
        counts = _sqlite_counts(dump)
    except Exception as error:  # sqlite3 says "file is not a database", "malformed", …
        why = f"{location} is damaged ({error.__class__.__name__}): not restoring"
        raise BackupError(why) from None
    if counts != manifest.tables:
        raise BackupError(f"{location} is damaged or not its manifest's dump: not restoring")


# -- PostgreSQL tools


def _libpq(engine: Engine) -> list[str]:
    """pg_dump/pg_restore connection arguments; the password goes by PGPASSWORD, not argv."""
    url = engine.url
    args = [f"--host={url.host or '127.0.0.1'}", f"--port={url.port or 5432}"]
    if url.username:
        args.append(f"--username={url.username}")
    return [*args, f"--dbname={url.database}"]


def _pg_tool(name: str, engine: Engine) -> tuple[str, str]:
    """`name` on PATH, at least as new as the server (pg_dump refuses an older one), and its
    version line."""
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed (Debian: apt-get install postgresql-client)")
    with engine.connect() as connection:
        server = int(connection.execute(text("SHOW server_version_num")).scalar_one()) // 10000
    version = subprocess.run(
        [found, "--version"], capture_output=True, text=True, check=True
    ).stdout.strip()
    client = int(re.search(r"(\d+)", version.split()[-1])[1])  # type: ignore[index]
    if client < server:
        raise BackupError(
            f"{name} {client} cannot work with a PostgreSQL {server} server: install "
            f"postgresql-client-{server} or newer"
        )
    return found, version


def _run(command: list[str], engine: Engine) -> None:
    env = dict(os.environ)
    if engine.url.password:
        env["PGPASSWORD"] = str(engine.url.password)
    answer = subprocess.run(command, capture_output=True, text=True, env=env)
    if answer.returncode != 0:
        tool = Path(command[0]).name
        raise BackupError(f"{tool} failed: {answer.stderr.strip()[-2000:]}")


def _sqlite_path(engine: Engine) -> str:
    database = engine.url.database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite warehouse has nothing to back up")
    return database


def _safe(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# -- where backups live: a path, or s3://bucket/key


def _s3() -> Any:
    from warehouse.artifacts import s3_client

    return s3_client()


def _put(local: Path, location: str) -> None:
    if location.startswith("s3://"):
        from warehouse.artifacts import split_s3

        bucket, key = split_s3(location)
        _s3().upload_file(str(local), bucket, key)
        return
    target = Path(location)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(local, target)


def _put_text(content: str, location: str) -> None:
    if location.startswith("s3://"):
        from warehouse.artifacts import split_s3

        bucket, key = split_s3(location)
        _s3().put_object(Bucket=bucket, Key=key, Body=content.encode())
        return
    Path(location).write_text(content)


def _get(location: str, local: Path) -> None:
    if location.startswith("s3://"):
        from warehouse.artifacts import split_s3

        bucket, key = split_s3(location)
        _s3().download_file(bucket, key, str(local))
        return
    if not Path(location).is_file():
        raise BackupError(f"no backup at {location}")
    shutil.copyfile(location, local)


def _get_text(location: str) -> str:
    if location.startswith("s3://"):
        from botocore.exceptions import ClientError

        from warehouse.artifacts import split_s3

        bucket, key = split_s3(location)
        try:
            body = _s3().get_object(Bucket=bucket, Key=key)["Body"].read()
        except ClientError as error:
            raise BackupError(f"no backup manifest at {location} ({error})") from None
        return str(body.decode())
    path = Path(location)
    if not path.is_file():
        raise BackupError(f"no backup manifest at {location}")
    return path.read_text()
