"""A running service follows the registry by itself: a promotion or a rollback made by
`f1 models` in another process is served within 60 s, on SQLite and on PostgreSQL stores,
and no answer of the old version is served after the switch."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from spec import STAGES, WINNER
from tests.conftest import new_database

POST = "f1_winner_post_quali"
URL = "/api/v1/predictions/2024/24?stage=post_quali"
DEADLINE_S = 60.0
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _copy_registry(source_uri: str, target_uri: str) -> None:
    """A registry of its own holding the session's trained winner versions (post_quali v1
    crippled, v2 real; v1 of the other stages), champion v1 of each."""
    from mlflow.tracking import MlflowClient

    source, target = MlflowClient(tracking_uri=source_uri), MlflowClient(tracking_uri=target_uri)
    others = [WINNER.model_name(s) for s in STAGES if WINNER.model_name(s) != POST]
    for name, versions in ((POST, ("1", "2")), *((n, ("1",)) for n in others)):
        target.create_registered_model(name)
        for version in versions:
            target.create_model_version(
                name, source=source.get_model_version_download_uri(name, version)
            )
        target.set_registered_model_alias(name, "champion", "1")


@pytest.fixture
def stores(backend: str, registry: dict, history, tmp_path: Path) -> Iterator[dict[str, str]]:  # type: ignore[no-untyped-def]
    """The environment of the service and of the CLI: the backend's history warehouse, a
    fresh registry on the same backend, the session's published features."""
    with new_database(backend, tmp_path) as tracking:
        _copy_registry(registry["env"]["MLFLOW_TRACKING_URI"], tracking)
        env = {
            **os.environ,
            "F1_HOME": registry["env"]["F1_HOME"],
            "F1_DATABASE_URL": history.url.render_as_string(hide_password=False),
            "MLFLOW_TRACKING_URI": tracking,
        }
        yield env
    from warehouse.schema import ModelEvent

    with history.begin() as connection:
        connection.execute(ModelEvent.__table__.delete())


@pytest.fixture
def service(stores: dict[str, str], tmp_path: Path) -> Iterator[str]:
    """The service in its own process, looking at the registry every second."""
    port = _free_port()
    env = {
        **stores,
        "F1_MODEL_REFRESH_S": "1",
        "F1_AB_SHARE": "0",
        "F1_JWT_SECRET": "follow-" + "y" * 40,
    }
    log = (tmp_path / "service.log").open("wb")
    proc = subprocess.Popen(
        [str(BIN / "uvicorn"), "--factory", "serving.app:create_app", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert proc.poll() is None, (tmp_path / "service.log").read_text()[-3000:]
            try:
                if httpx.get(f"{base}/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        else:
            pytest.fail("the service did not get ready")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def _models(env: dict[str, str], *args: str) -> None:
    done = subprocess.run(
        [str(BIN / "f1"), "models", *args], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _served_within(base: str, version: str) -> tuple[float, dict[str, Any]]:
    """Seconds until the service answers with `version`, and that answer."""
    started = time.monotonic()
    while time.monotonic() - started < DEADLINE_S:
        answer = httpx.get(base + URL, timeout=10)
        assert answer.status_code == 200, answer.text
        if answer.headers["X-Model-Version"] == version:
            return time.monotonic() - started, answer.json()
        time.sleep(0.2)
    pytest.fail(f"version {version} was not served within {DEADLINE_S:.0f}s")


def test_a_promotion_and_a_rollback_made_elsewhere_are_served(
    service: str, stores: dict[str, str]
) -> None:
    before = httpx.get(service + URL, timeout=30)
    assert before.headers["X-Model-Version"] == "1"

    _models(stores, "promote", POST, "2", "--reason", "a test")
    _, promoted = _served_within(service, "2")  # fails past the 60 s
    assert promoted["model"] == {
        "name": POST,
        "version": "2",
        "alias": "champion",
    }
    assert promoted["predictions"] != before.json()["predictions"]
    with ThreadPoolExecutor(16) as pool:  # nothing of the old version is served any more
        answers = list(pool.map(lambda _: httpx.get(service + URL, timeout=30), range(48)))
    assert {a.headers["X-Model-Version"] for a in answers} == {"2"}
    assert all(a.json()["model"]["version"] == "2" for a in answers)

    _models(stores, "rollback", POST)
    _, rolled_back = _served_within(service, "1")
    assert rolled_back["predictions"] == before.json()["predictions"]
