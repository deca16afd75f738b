"""The stores `bench/load.py` runs against: a SQLite warehouse and (if asked) a PostgreSQL one
with the history, the recipes and 100 users, features and quickly trained models; and a clean
sign-in count before each run."""

from __future__ import annotations

import os
import time
from pathlib import Path

import spec

PASSWORD = "load-bench-password"
USERS = 100


def prepare(home: Path, backends: list[str], postgres: str) -> dict[str, str]:
    """The stores: a SQLite warehouse and (if asked) a PostgreSQL one, features, models."""
    os.environ["F1_HOME"] = str(home)
    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{home / 'mlflow.db'}"
    from apps.recipes import seed
    from models.ensemble import Recipe
    from pipelines.features import build_features, publish_build
    from pipelines.snapshot.loader import load_snapshot
    from pipelines.train import train
    from serving.auth import create_user
    from warehouse.db import make_engine
    from warehouse.migrate import upgrade

    urls = {"sqlite": f"sqlite:///{home / 'warehouse.db'}"}
    if "postgres" in backends:
        from sqlalchemy import create_engine, text

        admin = create_engine(postgres, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text("DROP DATABASE IF EXISTS f1_load_bench WITH (FORCE)"))
            connection.execute(text("CREATE DATABASE f1_load_bench"))
        admin.dispose()
        urls["postgres"] = postgres.rsplit("/", 1)[0] + "/f1_load_bench"
    for backend, url in urls.items():
        started = time.perf_counter()
        engine = make_engine(url)
        upgrade(engine)
        load_snapshot(engine)
        seed(engine)
        create_user(engine, "analyst@example.org", PASSWORD, "analyst")
        for i in range(USERS):
            create_user(engine, f"fan{i}@example.org", PASSWORD, "viewer")
        if backend == "sqlite":
            publish_build(build_features(engine))
            quick = {"n_estimators": 10, "max_depth": 4, "n_jobs": 2, "random_state": 1}
            boost = {"num_boost_round": 20, "max_depth": 2, "eta": 0.1, "nthread": 2, "seed": 1}
            for stage in spec.STAGES.names:
                train(
                    engine, stage, start=2016, last=2024, recipe=Recipe(stage, rf=quick, xgb=boost)
                )
        engine.dispose()
        print(f"{backend}: warehouse, recipes, users (and models) ready in "
              f"{time.perf_counter() - started:.0f} s", flush=True)  # fmt: skip
    return urls


def forget_sign_ins(url: str) -> None:
    """Each run starts with no sign-in attempts counted: a run moments before would otherwise
    have spent its client addresses' 50 attempts per 15 minutes, and its sign-ins would get 429s
    (and wait out their Retry-After) instead of being measured."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM sign_in_throttles"))
    engine.dispose()
