"""Test-wide set-up: hermetic stores, and databases on SQLite and (when given) PostgreSQL.

PostgreSQL tests run when TEST_POSTGRES_URL is set (each test gets a database of its own);
without it they skip, except under CI, where a skip would hide a missing backend: they fail.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Before anything imports Airflow or reads settings: never touch the developer's .local.
_SCRATCH = Path(tempfile.mkdtemp(prefix="f1-tests-"))
os.environ["F1_HOME"] = str(_SCRATCH / "home")
os.environ["AIRFLOW_HOME"] = str(_SCRATCH / "airflow")
os.environ["AIRFLOW_CONFIG"] = str(ROOT / "airflow.cfg")
os.environ["F1_ROOT"] = str(ROOT)
for _name in ("F1_DATABASE_URL", "MLFLOW_TRACKING_URI", "REDIS_URL"):
    os.environ.pop(_name, None)
# The CLI's rich console takes its width from COLUMNS when it is created; pytest-xdist workers
# start with COLUMNS=80, which would wrap the tables the CLI tests read.
os.environ["COLUMNS"] = "200"
# no test reaches OpenF1's public API: the practice tests start a local one and switch it on
os.environ["F1_PRACTICE"] = "false"

pytest_plugins = ["tests.servers.fixtures", "tests.servers.s3", "tests.servers.webhook"]

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Each phase's report on the item (`item.rep_call`): fixtures that keep evidence of a
    failure (the browser tests' screenshots) read it."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    shutil.rmtree(_SCRATCH, ignore_errors=True)


@pytest.fixture(autouse=True)
def _environment_as_it_was() -> Iterator[None]:
    """Whatever a test's code puts in os.environ (`f1 up` in-process sets F1_HOME and
    MLFLOW_TRACKING_URI for its children) does not leak into the next test."""
    saved = dict(os.environ)
    yield
    if os.environ != saved:
        os.environ.clear()
        os.environ.update(saved)


def postgres_base_url() -> str:
    """TEST_POSTGRES_URL, or skip (fail under CI)."""
    url = os.environ.get("TEST_POSTGRES_URL")
    if url:
        return url
    if os.environ.get("CI"):
        pytest.fail("CI is set but TEST_POSTGRES_URL is not: the PostgreSQL tests cannot run")
    pytest.skip("TEST_POSTGRES_URL is not set")


@contextmanager
def new_database(backend: str, directory: Path) -> Iterator[str]:
    """A URL of a brand-new, empty database on `backend`, dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{directory / f'{uuid.uuid4().hex[:8]}.db'}"
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from spec.settings import normalise_url

    base = make_url(normalise_url(postgres_base_url()))
    name = f"f1_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Each test using it runs once per backend."""
    return str(request.param)


@pytest.fixture
def db_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """An empty database (not migrated)."""
    with new_database(backend, tmp_path) as url:
        yield url


@pytest.fixture
def engine(db_url: str):  # type: ignore[no-untyped-def]
    """An engine on an empty database."""
    from warehouse.db import make_engine

    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def migrated(engine):  # type: ignore[no-untyped-def]
    """An engine on a database migrated to head."""
    from warehouse.migrate import upgrade

    upgrade(engine)
    return engine


@pytest.fixture(scope="session")
def _histories(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    """Warehouses holding the whole bundled history, built once per backend when first asked."""
    built: dict[str, object] = {}
    with ExitStack() as stack:
        built["_stack"] = stack
        built["_dir"] = tmp_path_factory.mktemp("history")
        yield built
        for engine in built.values():
            if hasattr(engine, "dispose"):
                engine.dispose()  # type: ignore[union-attr]


@pytest.fixture
def history(backend: str, _histories: dict[str, object]):  # type: ignore[no-untyped-def]
    """A warehouse with the whole bundled history on the test's backend (treat as read-only)."""
    if backend not in _histories:
        from pipelines.snapshot import load_snapshot
        from warehouse.db import make_engine
        from warehouse.migrate import upgrade

        stack: ExitStack = _histories["_stack"]  # type: ignore[assignment]
        url = stack.enter_context(new_database(backend, _histories["_dir"]))  # type: ignore[arg-type]
        engine = make_engine(url)
        upgrade(engine)
        load_snapshot(engine)
        _histories[backend] = engine
    return _histories[backend]


@pytest.fixture(scope="session")
def history_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite warehouse file holding the whole bundled history (copy it before writing)."""
    from pipelines.snapshot import load_snapshot
    from warehouse.db import make_engine
    from warehouse.migrate import upgrade

    path = tmp_path_factory.mktemp("history-file") / "warehouse.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    load_snapshot(engine)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")  # all of it in the file
    engine.dispose()
    return path


@pytest.fixture
def history_copy(history_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of `history_file`, set as the configured warehouse (F1_HOME in tmp)."""
    path = tmp_path / "warehouse.db"
    shutil.copy(history_file, path)
    monkeypatch.setenv("F1_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("F1_HOME", str(tmp_path / "home"))
    return path


@pytest.fixture(scope="session")
def registry(history_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """Published features (from `history_file`) and an MLflow registry of real models trained
    once for the session on 2016–2024: `f1_winner_post_quali` v1 from a deliberately crippled
    recipe (XGBoost alone: one shallow tree, one boosting round), v2 from the real recipe;
    `f1_winner_{stage}` v1 of the other stages; and the finishing-order models
    `f1_order_{stage}` v1. `env`
    points a test at these stores; `set_aliases` moves champion/challenger (tests set the
    aliases they need)."""
    from models.ensemble import Recipe
    from models.registry import client
    from pipelines.features import build_features, publish_build
    from pipelines.train import train
    from pipelines.train_order import train_order
    from spec import POST_QUALI, STAGES
    from warehouse.db import make_engine

    crippled = Recipe(
        "post_quali",
        serve="xgb",
        rf={"n_estimators": 1, "max_depth": 1, "random_state": 1},
        xgb={"num_boost_round": 1, "max_depth": 1, "eta": 0.01, "nthread": 2, "seed": 1},
    )
    root = tmp_path_factory.mktemp("registry")
    env = {
        "F1_HOME": str(root / "home"),
        "F1_DATABASE_URL": f"sqlite:///{root / 'warehouse.db'}",
        "MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlflow.db'}",
    }
    shutil.copy(history_file, root / "warehouse.db")

    def set_aliases(name: str, champion: str, challenger: str | None) -> None:
        registry_client = client()
        registry_client.set_registered_model_alias(name, "champion", champion)
        if challenger is None:
            registry_client.delete_registered_model_alias(name, "challenger")
        else:
            registry_client.set_registered_model_alias(name, "challenger", challenger)

    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        engine = make_engine()
        publish_build(build_features(engine))
        trained = [
            train(engine, "post_quali", start=2016, last=2024, recipe=crippled),
            train(engine, "post_quali", start=2016, last=2024),
            *(train(engine, s.name, start=2016, last=2024) for s in STAGES if s is not POST_QUALI),
            *(train_order(engine, s, start=2016, last=2024) for s in STAGES.names),
        ]
        engine.dispose()
    assert [t.version for t in trained] == ["1", "2", *["1"] * (2 * len(STAGES) - 1)]
    yield {"env": env, "set_aliases": set_aliases, "trained": trained}


@pytest.fixture
def aliases(registry: dict, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Point the test at the session registry's stores; returns a setter of the post_quali
    model's champion and challenger."""
    for key, value in registry["env"].items():
        monkeypatch.setenv(key, value)

    def set_aliases(champion: str, challenger: str | None) -> None:
        registry["set_aliases"]("f1_winner_post_quali", champion, challenger)

    return set_aliases
