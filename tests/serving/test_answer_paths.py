"""Issue 19 (speed): an answer the service can compute from memory (the published build loaded,
the names held) is computed on its event loop; any other in a thread. Through a running server
on SQLite and PostgreSQL, many clients at once: first answers and what-ifs from both paths
carry what the command line's path (`pipelines.predict`, the registry's version) computes."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import httpx
import pytest

import feature_store.online as online
from feature_store.online import Names, in_memory
from feature_store.predict import forecast_race
from feature_store.store import Manifest, store_root
from pipelines.predict import registered
from serving.settings import ServiceSettings
from tests.serving.test_voting import LiveServer

RACES = [(2023, r) for r in range(1, 23)] + [(2024, r) for r in range(1, 25)]


async def _all(base: str, requests: list[tuple[str, str, Any]]) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=16)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        return await asyncio.gather(
            *(client.request(method, path, json=body) for method, path, body in requests)
        )


def _probabilities(answer: dict[str, Any]) -> dict[str, float]:
    return {p["driver_id"]: p["probability"] for p in answer["predictions"]}


def test_answers_from_memory_and_from_threads_agree(aliases, history, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    aliases(champion="2", challenger=None)
    monkeypatch.setattr(online, "_PUBLISHED", {})  # nothing of this process's memory held
    monkeypatch.setattr(online, "NAMES", Names())
    url = history.url.render_as_string(hide_password=False)
    settings = ServiceSettings(database_url=url, jwt_secret="s" * 40, ab_share=0.0)
    champion = registered("post_quali")
    rng = random.Random(7)
    what_ifs = []
    for season, round_ in RACES[::4]:
        drivers = list(
            forecast_race(history, season, round_, "post_quali", champion).rows["driver_ref"]
        )
        rng.shuffle(drivers)
        grid = [{"driver_id": d, "position": i} for i, d in enumerate(drivers, start=1)]
        what_ifs.append(
            (
                "POST",
                "/api/v1/predictions/what-if",
                {"season": season, "round": round_, "grid": grid},
            )
        )
    with LiveServer(settings) as base:
        assert not in_memory(history, 2024, 1, ("post_quali",))
        # the first answer in a thread: it loads the build and the names
        first = httpx.get(f"{base}/api/v1/predictions/2024/1?stage=post_quali", timeout=60)
        assert first.status_code == 200, first.text
        assert in_memory(history, 2024, 2, ("post_quali",))
        gets = [
            ("GET", f"/api/v1/predictions/{s}/{r}?stage={stage}", None)
            for s, r in RACES[1:]
            for stage in ("pre_quali", "post_quali")
        ]
        answers = asyncio.run(_all(base, gets + what_ifs))
    assert [a.status_code for a in answers] == [200] * len(answers)
    built_at = Manifest.read(store_root()).built_at  # type: ignore[union-attr]
    expected = {}
    for (_, path, body), answer in zip(gets + what_ifs, answers, strict=True):
        got = answer.json()
        season, round_ = got["race"]["season"], got["race"]["round"]
        if body is None:
            stage = got["stage"]
            assert got["features_as_of"] == built_at
            model = champion if stage == "post_quali" else registered(stage)
            forecast = forecast_race(history, season, round_, stage, model)
        else:
            assert (season, round_) == (body["season"], body["round"])
            grid = {s["driver_id"]: s["position"] for s in body["grid"]}
            forecast = forecast_race(history, season, round_, "post_quali", champion, grid=grid)
        card = forecast.card(history)
        expected = _probabilities(card)
        assert _probabilities(got) == pytest.approx(expected, abs=1e-9), path
        assert [p["driver_name"] for p in got["predictions"]] == [
            p["driver_name"] for p in card["predictions"]
        ]
        assert got["race"]["name"] == card["race"]["name"]
        assert answer.headers["X-Model-Version"] == model.version if body is None else "2"
