"""`f1 db backup` / `f1 db restore` on both backends: a loaded warehouse round trips with every
row, a backup taken while another client writes is consistent with its manifest, a restore is
all or nothing and refuses what it should; migrations down and up on a copy of the bundled
history keep every row of every table they do not drop."""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, inspect, select, text
from typer.testing import CliRunner

from cli.main import app
from tests.conftest import new_database
from tests.servers.s3 import S3
from warehouse.backup import BackupError, backup, read_manifest, restore, row_counts
from warehouse.db import make_engine, transaction
from warehouse.migrate import current_revision, downgrade, head_revision, upgrade
from warehouse.schema import RaceResult, User


def _fingerprint(engine: Engine, table: str) -> str:
    """A digest of every row of `table`, in primary-key order."""
    with engine.connect() as connection:
        columns = inspect(connection).get_pk_constraint(table)["constrained_columns"]
        order = ", ".join(columns)
        found = connection.execute(text(f"SELECT * FROM {table} ORDER BY {order}")).all()
    return hashlib.sha256(repr([tuple(row) for row in found]).encode()).hexdigest()


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return row_counts(connection)


def test_a_loaded_warehouse_round_trips_with_every_row(
    history: Engine, backend: str, tmp_path: Path
) -> None:
    dump = tmp_path / "warehouse.dump"
    report = backup(history, str(dump))
    manifest = read_manifest(str(dump))
    assert manifest == report.manifest and manifest.backend == history.dialect.name
    assert manifest.tables == _counts(history) and manifest.rows > 100_000
    assert manifest.revision == head_revision()
    assert manifest.sha256 == hashlib.sha256(dump.read_bytes()).hexdigest()

    with new_database(backend, tmp_path) as url:
        target = make_engine(url)
        restored = restore(target, str(dump))
        assert restored.manifest.rows == manifest.rows
        assert _counts(target) == manifest.tables
        assert current_revision(target) == head_revision()
        for table in ("races", "race_results", "drivers", "pit_stops", "qualifying_results"):
            assert _fingerprint(target, table) == _fingerprint(history, table)
        target.dispose()


def test_a_backup_taken_while_another_client_writes_matches_its_manifest(
    migrated: Engine, backend: str, tmp_path: Path
) -> None:
    """The writer commits users one by one throughout; the dump holds exactly the users its
    manifest counted, and the restore proves it."""
    stop = threading.Event()
    written: list[int] = []

    def write() -> None:
        n = 0
        while not stop.is_set():
            with transaction(migrated) as session:
                session.add(User(email=f"u{n}@example.com", password_hash="x", role="viewer"))
            n += 1
            written.append(n)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        while len(written) < 20:
            stop.wait(0.01)
        dump = tmp_path / "busy.dump"
        report = backup(migrated, str(dump))
        while len(written) < report.manifest.tables["users"] + 20:  # it kept writing after
            stop.wait(0.01)
    finally:
        stop.set()
        writer.join(30)
    counted = report.manifest.tables["users"]
    assert 20 <= counted < len(written)
    with new_database(backend, tmp_path) as url:
        target = make_engine(url)
        restore(target, str(dump))
        with target.connect() as connection:
            emails = connection.scalars(select(User.email)).all()
        assert sorted(emails) == sorted(f"u{n}@example.com" for n in range(counted))
        target.dispose()


def test_a_restore_refuses_what_it_should_and_is_all_or_nothing(
    migrated: Engine, backend: str, tmp_path: Path
) -> None:
    with transaction(migrated) as session:
        session.add(User(email="kept@example.com", password_hash="x", role="admin"))
    dump = tmp_path / "one.dump"
    backup(migrated, str(dump))
    with transaction(migrated) as session:
        session.add(User(email="later@example.com", password_hash="x", role="viewer"))
    before = _counts(migrated)

    with pytest.raises(BackupError, match="holds 2 rows: pass --force"):
        restore(migrated, str(dump))
    if migrated.dialect.name == "postgresql":  # SQLite's restore replaces the whole file
        earlier = _revisions()[-2]
        downgrade(migrated, earlier)  # a warehouse at another revision than the backup
        with pytest.raises(BackupError, match=f"at revision {earlier}, the backup at "):
            restore(migrated, str(dump), force=True)
        upgrade(migrated)
    with pytest.raises(BackupError, match="no backup manifest at"):
        restore(migrated, str(tmp_path / "none.dump"))
    ours = migrated.dialect.name
    other = "postgresql" if ours == "sqlite" else "sqlite"
    manifest_path = Path(f"{dump}.manifest.json")
    raw = json.loads(manifest_path.read_text())
    manifest_path.write_text(json.dumps(raw | {"backend": other}))
    with pytest.raises(BackupError, match=f"is a {other} backup; the warehouse is {ours}"):
        restore(migrated, str(dump), force=True)
    manifest_path.write_text(json.dumps(raw))

    damaged = bytearray(dump.read_bytes())
    damaged[len(damaged) // 2 :] = b"\0" * (len(damaged) - len(damaged) // 2)
    dump.write_bytes(bytes(damaged))
    with pytest.raises(BackupError, match="does not match its manifest's SHA-256"):
        restore(migrated, str(dump), force=True)
    # a damaged dump whose manifest was rewritten to match: the tool fails, nothing changes
    manifest_path.write_text(json.dumps(raw | {"sha256": hashlib.sha256(damaged).hexdigest()}))
    with pytest.raises(BackupError):
        restore(migrated, str(dump), force=True)
    assert _counts(migrated) == before
    with migrated.connect() as connection:
        assert set(connection.scalars(select(User.email))) == {
            "kept@example.com",
            "later@example.com",
        }


def test_backups_go_to_s3_and_come_back(migrated: Engine, backend: str, s3: S3) -> None:
    with transaction(migrated) as session:
        session.add(User(email="s3@example.com", password_hash="x", role="viewer"))
    location = f"s3://{s3.bucket}/backups/w.dump"
    backup(migrated, location)
    assert s3.keys("backups/") == ["backups/w.dump", "backups/w.dump.manifest.json"]
    assert json.loads(s3.read("backups/w.dump.manifest.json"))["tables"]["users"] == 1
    with transaction(migrated) as session:
        session.query(User).delete()
    restored = restore(migrated, location, force=True)
    assert restored.manifest.tables["users"] == 1 and _counts(migrated)["users"] == 1


def test_f1_db_backup_and_restore(
    history_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    dump = tmp_path / "cli.dump"
    made = runner.invoke(app, ["db", "backup", str(dump), "--json"])
    assert made.exit_code == 0, made.output
    figures: dict[str, Any] = json.loads(made.output.strip().splitlines()[-1])
    assert figures["rows"] > 100_000 and figures["location"] == str(dump)

    target = tmp_path / "restored.db"
    monkeypatch.setenv("F1_DATABASE_URL", f"sqlite:///{target}")
    done = runner.invoke(app, ["db", "restore", str(dump)])
    assert done.exit_code == 0, done.output
    assert f"restored {figures['rows']:,} rows" in " ".join(done.output.split())
    again = runner.invoke(app, ["db", "restore", str(dump)])
    assert again.exit_code == 1 and "pass --force" in again.output
    default = runner.invoke(app, ["db", "backup"])  # to <F1_ARTIFACTS_URL>/backups/
    assert default.exit_code == 0, default.output
    assert len(list((tmp_path / "home" / "backups").glob("warehouse-*.dump"))) == 1


def _revisions() -> list[str]:
    from alembic.script import ScriptDirectory

    from warehouse.migrate import alembic_config

    script = ScriptDirectory.from_config(alembic_config())
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def test_migrations_down_and_up_on_the_bundled_history_keep_every_row(
    history: Engine, backend: str, tmp_path: Path
) -> None:
    """Down one revision at a time to the first, then up to head: at every step each table
    that is still there holds every row it held (a downgrade only drops its own new tables)."""
    dump = tmp_path / "history.dump"
    backup(history, str(dump))
    with new_database(backend, tmp_path) as url:
        copy = make_engine(url)
        restore(copy, str(dump))  # a copy of the history to migrate
        loaded = _counts(copy)
        revisions = _revisions()
        for revision in reversed(revisions[:-1]):
            downgrade(copy, revision)
            now = _counts(copy)
            kept = {t: n for t, n in loaded.items() if t in now and t != "alembic_version"}
            assert {t: now[t] for t in kept} == kept, f"down to {revision}"
        dropped = sorted(set(loaded) - set(now))
        assert "race_results" in now and "lap_times" in dropped
        for revision in revisions[1:]:
            upgrade(copy, revision)
            now = _counts(copy)
            assert all(now[t] == loaded[t] for t in now if t in kept), f"up to {revision}"
        assert current_revision(copy) == head_revision()
        assert {t: n for t, n in _counts(copy).items() if t not in dropped} == {
            t: n for t, n in loaded.items() if t not in dropped
        }
        with copy.connect() as connection:
            results = connection.scalar(select(RaceResult.id).order_by(RaceResult.id.desc()))
        assert results is not None
        copy.dispose()
